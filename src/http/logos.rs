//! `GET /integrations/{id}/logo`: the stored logo, for the caller's own integrations only.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::auth;
use super::error::HttpError;
use crate::domain::Permission;
use crate::services::logos;
use crate::state::AppState;

/// Answers the PNG, 401 without a valid token, 404 for a missing or foreign logo.
pub async fn download(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HttpError> {
    let principal = auth::required(&req, &state, Permission::Read).await?;
    let not_found = || HttpError::NotFound("not found");
    let id = path.into_inner().parse::<i64>().map_err(|_| not_found())?;
    let logo = logos::data(&state, principal.account_id, id)
        .await?
        .ok_or_else(not_found)?;
    let etag = format!("\"{}\"", logo.sha256);
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag)
    {
        return Ok(HttpResponse::NotModified().finish());
    }
    Ok(HttpResponse::Ok()
        .content_type(logo.content_type)
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
        .body(logo.data))
}
