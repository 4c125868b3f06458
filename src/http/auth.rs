//! Bearer-token authentication of HTTP requests.

use actix_web::http::header::AUTHORIZATION;
use actix_web::HttpRequest;

use super::error::HttpError;
use crate::domain::Permission;
use crate::error::{AppError, AppResult};
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

/// The caller of a route that needs `permission` (each route names its own): 401 without a
/// valid token, 403 when the caller's role lacks the permission.
pub async fn required(
    req: &HttpRequest,
    state: &AppState,
    permission: Permission,
) -> Result<Principal, HttpError> {
    let p = principal(req, state)
        .await?
        .ok_or(HttpError::Unauthenticated)?;
    if !p.may(permission) {
        return Err(AppError::Forbidden {
            role: p.role,
            needed: permission,
        }
        .into());
    }
    Ok(p)
}
