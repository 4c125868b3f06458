//! `POST /graphql` (JSON or multipart uploads) and `GET /graphql` (queries only).
//!
//! The body is read here with a size limit (async-graphql's own extractor has none). Every
//! document then passes the checks of `graphql::limits` before it is parsed (nesting) and
//! before it runs (size, root fields, mutations allowed once, control characters); it runs
//! within the request's time budget (its root fields taking turns with the account's other
//! requests, see `fairness`), and its errors are capped in number and length. A document
//! with `login` or `register` fields first passes the per-address sign-in limit (429).

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, HttpRequest, HttpResponse};
use async_graphql::http::MultipartOptions;
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use chrono::Utc;
use futures_util::StreamExt;
use serde_json::json;

use super::auth;
use crate::graphql::limits::{self, Refusal};
use crate::graphql::{AppSchema, RequestData};
use crate::services::sessions::{Client, USER_AGENT_MAX};
use crate::services::throttle;
use crate::state::AppState;

/// Largest JSON request body.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;
/// Largest multipart request body: a 10 MB stock count file and its envelope (a logo above
/// 2 MB or a count file above 10 MB still reaches the resolver, which answers a clear
/// `FILE_TOO_LARGE`; beyond this the request is refused with 413).
pub const MAX_MULTIPART_BYTES: usize = 11 * 1024 * 1024;

fn error_response(status: actix_web::http::StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    }))
}

/// The GraphQL-over-HTTP media type of answers, for clients that ask for it.
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json; charset=utf-8";

/// Whether the client asks for `application/graphql-response+json` (GraphQL over HTTP): its
/// answers then carry that type, and a request that fails before execution (a document that
/// does not parse or validate, or is refused by the limits) has a 4xx status. Clients that
/// accept only `application/json` get what they always got.
fn wants_graphql_response(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(actix_web::http::header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            t.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/graphql-response+json")
            })
        })
}

/// Labels an answer with the media type the client asked for.
fn in_media_type(wanted: bool, mut res: HttpResponse) -> HttpResponse {
    if wanted {
        res.headers_mut().insert(
            CONTENT_TYPE,
            actix_web::http::header::HeaderValue::from_static(GRAPHQL_RESPONSE),
        );
    }
    res
}

/// Executes a GraphQL request (JSON or a multipart upload).
pub async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    schema: web::Data<AppSchema>,
) -> HttpResponse {
    let wanted = wants_graphql_response(&req);
    in_media_type(wanted, post_request(req, payload, state, schema).await)
}

async fn post_request(
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
    let wanted = wants_graphql_response(&req);
    in_media_type(wanted, get_request(req, state, schema).await)
}

async fn get_request(
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
    if let Err(refusal) = limits::check_nesting(&request.query) {
        return refused(&refusal);
    }
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

fn refused(refusal: &Refusal) -> HttpResponse {
    error_response(
        actix_web::http::StatusCode::BAD_REQUEST,
        refusal.code(),
        &refusal.message(),
    )
}

async fn execute(
    req: &HttpRequest,
    mut request: async_graphql::Request,
    state: &AppState,
    schema: &AppSchema,
) -> HttpResponse {
    let started = tokio::time::Instant::now();
    let budget = state.settings.request_timeout;
    if let Err(refusal) = limits::check_nesting(&request.query) {
        return refused(&refusal);
    }
    // A document that does not parse goes on: `execute` answers the parser's error.
    let variables = request.variables.clone();
    if let Ok(doc) = request.parsed_query() {
        if let Err(refusal) = limits::check_document(doc, &variables) {
            return refused(&refusal);
        }
    }
    let client = client_of(req, &state.settings);
    if let Ok(doc) = request.parsed_query() {
        let sign_ins = sign_in_fields(doc);
        if let Some(response) = too_many_sign_ins(state, &client.address, sign_ins).await {
            return response;
        }
    }
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
    let deadline = started + budget;
    let request = crate::graphql::attach_loaders(
        request.data(RequestData { principal, client }),
        state,
        account_id,
    );
    match tokio::time::timeout_at(deadline, schema.execute(request)).await {
        Ok(mut response) => {
            cap_errors(&mut response.errors);
            // A request that never ran (parse or validation errors: no data, no error with a
            // path) is a 400 for GraphQL-over-HTTP clients; `application/json` keeps 200.
            let never_ran = response.data == async_graphql::Value::Null
                && !response.errors.is_empty()
                && response.errors.iter().all(|e| e.path.is_empty());
            if never_ran && wants_graphql_response(req) {
                HttpResponse::BadRequest().json(response)
            } else {
                HttpResponse::Ok().json(response)
            }
        }
        Err(_) => {
            tracing::warn!(
                budget_secs = budget.as_secs(),
                "a GraphQL request ran out of time"
            );
            error_response(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "TIMEOUT",
                &format!(
                    "The request did not finish within its time budget ({} s) and was \
                     stopped; mutations that had finished are kept. Ask for less at once.",
                    budget.as_secs()
                ),
            )
        }
    }
}

/// The client of a request: its address (the trusted proxy header's last entry when
/// `ORDERDECK_CLIENT_ADDRESS_HEADER` is set, else the peer) and its user agent.
fn client_of(req: &HttpRequest, settings: &crate::config::Settings) -> Client {
    let from_header = settings.client_address_header.as_deref().and_then(|name| {
        let value = req.headers().get(name)?.to_str().ok()?;
        let last = value.rsplit(',').next()?.trim();
        (!last.is_empty()).then(|| last.to_string())
    });
    let address = from_header
        .or_else(|| req.peer_addr().map(|a| a.ip().to_string()))
        .unwrap_or_default();
    let user_agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(USER_AGENT_MAX).collect());
    Client {
        address,
        user_agent,
    }
}

/// The `login` and `register` fields at the root of the document's mutations (aliases
/// counted one by one, fragments spread at the root followed once each).
fn sign_in_fields(doc: &ExecutableDocument) -> u64 {
    fn count<'a>(
        doc: &'a ExecutableDocument,
        set: &'a SelectionSet,
        seen: &mut Vec<&'a str>,
    ) -> u64 {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(f) => {
                    u64::from(matches!(f.node.name.node.as_str(), "login" | "register"))
                }
                Selection::InlineFragment(i) => count(doc, &i.node.selection_set.node, seen),
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if seen.contains(&name) {
                        return 0;
                    }
                    seen.push(name);
                    doc.fragments
                        .get(&spread.node.fragment_name.node)
                        .map_or(0, |f| count(doc, &f.node.selection_set.node, seen))
                }
            })
            .sum()
    }
    doc.operations
        .iter()
        .filter(|(_, op)| op.node.ty == OperationType::Mutation)
        .map(|(_, op)| count(doc, &op.node.selection_set.node, &mut Vec::new()))
        .sum()
}

/// HTTP 429 with `Retry-After` when `address` may not make `sign_ins` more sign-in attempts
/// this minute (`ORDERDECK_SIGN_IN_ATTEMPTS_PER_MINUTE`, counted across replicas).
async fn too_many_sign_ins(state: &AppState, address: &str, sign_ins: u64) -> Option<HttpResponse> {
    let limit = state.settings.sign_in_attempts_per_minute;
    let wait = match throttle::address_wait(&state.db, address, sign_ins, limit, Utc::now()).await {
        Ok(wait) => wait?,
        Err(e) => {
            tracing::error!(error = %e, "counting sign-in attempts failed");
            return Some(error_response(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "INTERNAL",
                "The server cannot check sign-in attempts right now.",
            ));
        }
    };
    tracing::warn!(
        sign_ins,
        limit,
        "sign-in attempts refused: too many from one address"
    );
    let mut response = error_response(
        actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        "TOO_MANY_ATTEMPTS",
        &format!(
            "Too many sign-in attempts from this address: at most {limit} a minute. Try again \
             in {wait} seconds."
        ),
    );
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&wait.to_string()) {
        response
            .headers_mut()
            .insert(actix_web::http::header::RETRY_AFTER, value);
    }
    Some(response)
}

/// At most [`limits::MAX_ERRORS`] errors of at most [`limits::MAX_ERROR_CHARS`] characters:
/// a hostile document must not turn into megabytes of answer.
fn cap_errors(errors: &mut Vec<async_graphql::ServerError>) {
    let total = errors.len();
    if total > limits::MAX_ERRORS {
        errors.truncate(limits::MAX_ERRORS - 1);
        errors.push(async_graphql::ServerError::new(
            format!(
                "{} more errors are not shown.",
                total - (limits::MAX_ERRORS - 1)
            ),
            None,
        ));
    }
    for e in errors.iter_mut() {
        if e.message.chars().count() > limits::MAX_ERROR_CHARS {
            e.message = e
                .message
                .chars()
                .take(limits::MAX_ERROR_CHARS)
                .chain("…".chars())
                .collect();
        }
        e.locations.truncate(5);
    }
}
