//! Per-request data and the helpers resolvers use to read it.

use async_graphql::Context;

use crate::error::AppError;
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
        .ok_or_else(|| AppError::Unauthenticated.into_graphql())
}
