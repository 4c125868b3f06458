//! Per-request data and the helpers resolvers use to read it.

use async_graphql::Context;

use crate::error::AppError;
use crate::fairness::{Gate, Turn};
use crate::services::Principal;
use crate::state::AppState;

/// What the HTTP layer attaches to each GraphQL request.
pub struct RequestData {
    /// The caller, when a valid bearer token was sent.
    pub principal: Option<Principal>,
}

/// The shared application state.
pub fn state<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a AppState> {
    ctx.data::<AppState>()
}

/// The authenticated caller, or an `UNAUTHENTICATED` error.
pub fn principal(ctx: &Context<'_>) -> async_graphql::Result<Principal> {
    ctx.data_opt::<RequestData>()
        .and_then(|d| d.principal)
        .ok_or_else(|| AppError::Unauthenticated.into())
}

/// The authenticated caller with its account's turn at the database: root fields that read
/// it hold the turn while they run, so one account's aliased and parallel queries run a few
/// at a time whatever the number of requests (see `fairness`).
pub async fn principal_with_turn(
    ctx: &Context<'_>,
) -> async_graphql::Result<(Principal, Option<Turn>)> {
    let p = principal(ctx)?;
    let turn = match ctx.data_opt::<Gate>() {
        Some(gate) => Some(gate.enter(p.account_id).await),
        None => None,
    };
    Ok((p, turn))
}
