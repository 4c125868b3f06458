//! Bearer-token authentication of HTTP requests.

use actix_web::http::header::AUTHORIZATION;
use actix_web::HttpRequest;

use super::error::HttpError;
use crate::error::AppResult;
use crate::services::{sessions, Principal};
use crate::state::AppState;

/// The bearer token of a request, if any.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The caller of a request: `None` without a valid token.
pub async fn principal(req: &HttpRequest, state: &AppState) -> AppResult<Option<Principal>> {
    match bearer(req) {
        Some(token) => sessions::authenticate(state, token).await,
        None => Ok(None),
    }
}

/// The caller of a request that needs one: 401 without a valid token.
pub async fn required(req: &HttpRequest, state: &AppState) -> Result<Principal, HttpError> {
    principal(req, state)
        .await?
        .ok_or(HttpError::Unauthenticated)
}
