//! `GET /integrations/{id}/logo`: the stored logo, for the caller's own integrations only.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth;
use crate::services::logos;
use crate::state::AppState;

/// Answers the PNG, 401 without a valid token, 404 for a missing or foreign logo.
pub async fn download(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let principal = match auth::principal(&req, &state).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
                .json(json!({ "error": "authentication required" }))
        }
        Err(e) => return internal(e),
    };
    let Ok(id) = path.into_inner().parse::<i64>() else {
        return not_found();
    };
    match logos::data(&state, principal.account_id, id).await {
        Ok(Some(logo)) => {
            let etag = format!("\"{}\"", logo.sha256);
            if req
                .headers()
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v == etag)
            {
                return HttpResponse::NotModified().finish();
            }
            HttpResponse::Ok()
                .content_type(logo.content_type)
                .insert_header((header::ETAG, etag))
                .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
                .body(logo.data)
        }
        Ok(None) => not_found(),
        Err(e) => internal(e),
    }
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "error": "not found" }))
}

fn internal(e: crate::error::AppError) -> HttpResponse {
    tracing::error!(error = ?e, "logo download failed");
    HttpResponse::InternalServerError().json(json!({ "error": "internal error" }))
}
