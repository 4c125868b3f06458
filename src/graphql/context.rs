//! Per-request data and the helpers resolvers use to read it.

use async_graphql::Context;

use crate::domain::Permission;
use crate::error::{AppError, AppResult};
use crate::fairness::{Gate, Turn};
use crate::services::sessions::Client;
use crate::services::Principal;
use crate::state::AppState;

/// What the HTTP layer attaches to each GraphQL request.
#[derive(Default)]
pub struct RequestData {
    /// The caller, when a valid bearer token was sent.
    pub principal: Option<Principal>,
    /// Where the request came from (for sign-in throttling and session labels).
    pub client: Client,
}

/// The client of the request (empty when unknown, as in tests that execute the schema).
pub fn client<'a>(ctx: &Context<'a>) -> &'a Client {
    static UNKNOWN: std::sync::OnceLock<Client> = std::sync::OnceLock::new();
    ctx.data_opt::<RequestData>()
        .map_or_else(|| UNKNOWN.get_or_init(Client::default), |d| &d.client)
}

/// The shared application state.
pub fn state<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a AppState> {
    ctx.data::<AppState>()
}

/// The caller of a query field that needs `permission`: an `UNAUTHENTICATED` error without a
/// valid token, a `FORBIDDEN` one (the field is null) when the caller's role lacks it. Every
/// resolver names its permission here, with [`acting`] (mutations) or [`Need`] (fields of
/// objects); `Role::may` says which roles have it.
pub fn principal(ctx: &Context<'_>, permission: Permission) -> async_graphql::Result<Principal> {
    let p = signed_in(ctx)?;
    allowed(&p, permission)?;
    Ok(p)
}

/// The caller of a mutation that needs `permission`, and whether it may: an `UNAUTHENTICATED`
/// error without a valid token; otherwise the caller, with `Err(FORBIDDEN)` when its role
/// lacks the permission. The mutation runs its use case only after that check passed
/// (`text::then(allowed, …)`), so a refusal is a `FORBIDDEN` user error in the payload and
/// changes nothing.
pub fn acting(
    ctx: &Context<'_>,
    permission: Permission,
) -> async_graphql::Result<(Principal, AppResult<()>)> {
    let p = signed_in(ctx)?;
    let allowed = allowed(&p, permission);
    Ok((p, allowed))
}

/// Whether `p` has `permission`.
fn allowed(p: &Principal, permission: Permission) -> AppResult<()> {
    if p.may(permission) {
        Ok(())
    } else {
        Err(AppError::Forbidden {
            role: p.role,
            needed: permission,
        })
    }
}

/// The caller, whatever its role.
fn signed_in(ctx: &Context<'_>) -> async_graphql::Result<Principal> {
    ctx.data_opt::<RequestData>()
        .and_then(|d| d.principal)
        .ok_or_else(|| AppError::Unauthenticated.into())
}

/// The guard of a field of an object that not every role may read:
/// `#[graphql(guard = "Need(Permission::ReadStoreSettings)")]`. A caller without it gets
/// null and a `FORBIDDEN` error.
pub struct Need(pub Permission);

impl async_graphql::Guard for Need {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        principal(ctx, self.0).map(|_| ())
    }
}

/// The caller of a query field that needs `permission` (as [`principal`]) with its account's
/// turn at the database: root fields that read it hold the turn while they run, so one
/// account's aliased and parallel queries run a few at a time whatever the number of
/// requests (see `fairness`).
pub async fn principal_with_turn(
    ctx: &Context<'_>,
    permission: Permission,
) -> async_graphql::Result<(Principal, Option<Turn>)> {
    let p = principal(ctx, permission)?;
    let turn = match ctx.data_opt::<Gate>() {
        Some(gate) => Some(gate.enter(p.account_id).await),
        None => None,
    };
    Ok((p, turn))
}
