//! `POST /graphql` (JSON or multipart uploads), `GET /graphql` (queries only) and GraphiQL.
//!
//! The body is read here with a size limit (async-graphql's own extractor has none).

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, HttpRequest, HttpResponse};
use async_graphql::http::MultipartOptions;
use async_graphql::parser::types::OperationType;
use futures_util::StreamExt;
use serde_json::json;

use super::auth;
use crate::graphql::{AppSchema, RequestData};
use crate::state::AppState;

/// Largest JSON request body.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;
/// Largest multipart request body (uploads above 2 MB still reach the resolver, which answers
/// a clear `FILE_TOO_LARGE`; beyond this the request is refused with 413).
pub const MAX_MULTIPART_BYTES: usize = 8 * 1024 * 1024;

fn error_response(status: actix_web::http::StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    }))
}

/// Executes a GraphQL request (JSON or a multipart upload).
pub async fn post(
    req: HttpRequest,
    mut payload: web::Payload,
    state: web::Data<AppState>,
    schema: web::Data<AppSchema>,
) -> HttpResponse {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let multipart = content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("multipart/form-data"));
    let limit = if multipart {
        MAX_MULTIPART_BYTES
    } else {
        MAX_JSON_BYTES
    };
    let too_large = || {
        error_response(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            &format!("The request body is larger than {} bytes.", limit),
        )
    };
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return too_large();
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return error_response(
                actix_web::http::StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "The request body could not be read.",
            );
        };
        if body.len() + chunk.len() > limit {
            return too_large();
        }
        body.extend_from_slice(&chunk);
    }
    let options = MultipartOptions::default()
        .max_file_size(MAX_MULTIPART_BYTES)
        .max_num_files(4);
    let batch = async_graphql::http::receive_batch_body(
        content_type,
        futures_util::io::Cursor::new(body.freeze()),
        options,
    )
    .await;
    let request = match batch.map(|b| b.into_single()) {
        Ok(Ok(request)) => request,
        Ok(Err(_)) => {
            return error_response(
                actix_web::http::StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "Batched requests are not supported; send one operation per request.",
            )
        }
        Err(e) => {
            return error_response(
                actix_web::http::StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("The request is not a GraphQL request: {e}"),
            )
        }
    };
    execute(&req, request, &state, &schema).await
}

/// Executes a query sent as URL parameters. Mutations are refused (GET must not change state).
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    schema: web::Data<AppSchema>,
) -> HttpResponse {
    let mut request = match async_graphql::http::parse_query_string(req.query_string()) {
        Ok(r) => r,
        Err(e) => {
            return error_response(
                actix_web::http::StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("The query string is not a GraphQL request: {e}"),
            )
        }
    };
    if let Ok(doc) = request.parsed_query() {
        if doc
            .operations
            .iter()
            .any(|(_, op)| op.node.ty != OperationType::Query)
        {
            return error_response(
                actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "Mutations must be sent with POST.",
            );
        }
    }
    execute(&req, request, &state, &schema).await
}

async fn execute(
    req: &HttpRequest,
    request: async_graphql::Request,
    state: &AppState,
    schema: &AppSchema,
) -> HttpResponse {
    let principal = match auth::principal(req, state).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = ?e, "authenticating a request failed");
            return error_response(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "INTERNAL",
                "The server cannot check credentials right now.",
            );
        }
    };
    let account_id = principal.map(|p| p.account_id).unwrap_or(0);
    let request =
        crate::graphql::attach_loaders(request.data(RequestData { principal }), state, account_id);
    let response = schema.execute(request).await;
    HttpResponse::Ok().json(response)
}

/// The GraphiQL playground.
pub async fn graphiql() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(include_str!("graphiql.html"))
}
