//! What every API request goes through before its handler: store lookup, token, scope,
//! read-only scopes, rate limit (headers on every response), content type, injected faults
//! (including answers lost after the handler ran), counters and the request log.

use std::time::{Duration, Instant};

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::http::Method;
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use chrono::Utc;
use rand::Rng;
use serde_json::json;

use crate::config::UnknownStore;
use crate::format::{v2_error, v3_error};
use crate::model::{scopes, LoggedRequest, SandboxState, Store};
use crate::server::Shared;

/// The verdict on a request.
pub enum Verdict {
    /// Answer this instead of calling the handler.
    Reject(HttpResponse),
    /// Call the handler, after `delay`, and add these headers to its answer; when `lose`, the
    /// handler's work stands but its answer is replaced by [`dropped_connection`].
    Pass {
        headers: Vec<(&'static str, String)>,
        delay: Duration,
        lose: bool,
    },
}

/// An answer whose body fails at once: the client sees the connection drop.
pub fn dropped_connection() -> HttpResponse {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped by the sandbox"))
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .streaming(stream)
}

/// The OAuth scope an API path needs (`None`: the default scope every account has).
pub fn scope_for(path: &str) -> Option<&'static str> {
    if path.starts_with("v2/store") || path.starts_with("v2/time") {
        Some(scopes::INFORMATION)
    } else if path.starts_with("v2/order") {
        Some(scopes::ORDERS)
    } else if path.starts_with("v3/catalog") {
        Some(scopes::PRODUCTS)
    } else if path.starts_with("v3/inventory") {
        Some(scopes::INVENTORY)
    } else {
        None
    }
}

/// `GET /v2/orders/{id}` for `/v2/orders/123`: counters group requests by endpoint.
pub fn endpoint_key(method: &Method, path: &str) -> String {
    let normalized: Vec<&str> = path
        .split('/')
        .map(|s| {
            if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
                "{id}"
            } else {
                s
            }
        })
        .collect();
    format!("{method} /{}", normalized.join("/"))
}

fn is_v2(path: &str) -> bool {
    path.starts_with("v2/")
}

fn error(path: &str, status: u16, message: &str) -> HttpResponse {
    if is_v2(path) && status != 401 && status != 403 {
        v2_error(status, message)
    } else {
        v3_error(status, message)
    }
}

/// Whether a method only reads.
fn reads_only(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// Decides on a request to `/stores/{hash}/{path}`.
pub fn check(state: &mut SandboxState, req: &ServiceRequest, hash: &str, path: &str) -> Verdict {
    let unknown = state.config.unknown_store;
    let window = state.window();
    let Some(store) = state.stores.get_mut(hash) else {
        return Verdict::Reject(unknown_store(unknown));
    };
    *store
        .counters
        .entry(endpoint_key(req.method(), path))
        .or_insert(0) += 1;
    if let Some(res) = authorize(store, req, path) {
        return Verdict::Reject(res);
    }
    let (headers, limited) = rate_limit(store, window);
    if let Some(res) = limited {
        return Verdict::Reject(res);
    }
    if let Some(res) = check_content_type(req, path, &headers) {
        return Verdict::Reject(res);
    }
    inject_faults(store, path, headers)
}

/// The answer for a store that does not exist, as the configuration asks.
fn unknown_store(unknown: UnknownStore) -> HttpResponse {
    match unknown {
        UnknownStore::Forbidden => v3_error(403, "You don't have a required scope to access the endpoint"),
        UnknownStore::NotFound => HttpResponse::NotFound()
            .content_type("text/html")
            .body("<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>openresty</center></body></html>"),
    }
}

/// The rejection, if any, of the request's token (401) or of its scopes for the path (403);
/// a read-only scope allows only reads.
fn authorize(store: &Store, req: &ServiceRequest, path: &str) -> Option<HttpResponse> {
    let token = req
        .headers()
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(account) = store.account(token) else {
        return Some(v3_error(
            401,
            "Unauthorized - the v3 Auth client ID or token in the request are not a valid combination for this store.",
        ));
    };
    if let Some(scope) = scope_for(path) {
        let full = account.scopes.contains(scope);
        let read_only = account.scopes.contains(&format!("{scope}_read_only"));
        if !(full || (read_only && reads_only(req.method()))) {
            return Some(v3_error(
                403,
                "You don't have a required scope to access the endpoint",
            ));
        }
    }
    None
}

/// Counts the request against the store's quota (a fixed window per store; every
/// authenticated request counts) and gives the rate-limit headers, with the 429 answer when
/// the quota is used up.
fn rate_limit(
    store: &mut Store,
    window: Duration,
) -> (Vec<(&'static str, String)>, Option<HttpResponse>) {
    let now = Instant::now();
    if now.duration_since(store.bucket.window_start) >= window {
        store.bucket.window_start = now;
        store.bucket.used = 0;
    }
    let reset = window.saturating_sub(now.duration_since(store.bucket.window_start));
    let limited = store.bucket.used >= store.quota;
    if !limited {
        store.bucket.used += 1;
    }
    let headers = vec![
        (
            "x-rate-limit-time-window-ms",
            window.as_millis().to_string(),
        ),
        ("x-rate-limit-time-reset-ms", reset.as_millis().to_string()),
        ("x-rate-limit-requests-quota", store.quota.to_string()),
        (
            "x-rate-limit-requests-left",
            store.quota.saturating_sub(store.bucket.used).to_string(),
        ),
    ];
    if limited {
        let retry = reset.as_secs().max(1).to_string();
        let res = with_headers(
            v3_error(429, "Too many requests"),
            &[headers.as_slice(), &[("x-retry-after", retry)]].concat(),
        );
        return (headers, Some(res));
    }
    (headers, None)
}

/// Sets these headers on an answer.
fn with_headers(mut res: HttpResponse, headers: &[(&'static str, String)]) -> HttpResponse {
    for (k, v) in headers {
        if let Ok(value) = HeaderValue::from_str(v) {
            res.headers_mut().insert(HeaderName::from_static(k), value);
        }
    }
    res
}

/// The 415 answer, if any, to a POST or PUT whose body is not declared JSON.
fn check_content_type(
    req: &ServiceRequest,
    path: &str,
    headers: &[(&'static str, String)],
) -> Option<HttpResponse> {
    if matches!(*req.method(), Method::POST | Method::PUT) {
        let json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
        if !json {
            return Some(with_headers(
                error(
                    path,
                    415,
                    "The request's Content-Type is not supported; send application/json.",
                ),
                headers,
            ));
        }
    }
    None
}

/// Applies the store's injected faults: a scheduled or random error status, a dropped
/// connection, malformed JSON, or else a pass with the configured latency (and a lost answer).
fn inject_faults(store: &mut Store, path: &str, headers: Vec<(&'static str, String)>) -> Verdict {
    let faults = &mut store.faults;
    let forced = match faults.schedule.pop_front() {
        // 0 in the schedule lets that request through.
        Some(0) => None,
        Some(status) => Some(status),
        None => (faults.error_rate > 0.0
            && rand::thread_rng().gen_bool(faults.error_rate.clamp(0.0, 1.0)))
        .then(|| faults.random_status.unwrap_or(500)),
    };
    if let Some(status) = forced {
        let mut res = error(path, status, "Injected fault");
        if status == 429 {
            res = with_headers(res, &[("x-retry-after", "1".to_string())]);
        }
        return Verdict::Reject(with_headers(res, &headers));
    }
    if faults.drop_connections > 0 {
        faults.drop_connections -= 1;
        return Verdict::Reject(dropped_connection());
    }
    if faults.malformed_json > 0 {
        faults.malformed_json -= 1;
        return Verdict::Reject(with_headers(
            HttpResponse::Ok()
                .content_type("application/json")
                .body("{\"data\": [{\"id\": 1,"),
            &headers,
        ));
    }
    let lose = faults.lose_responses > 0;
    if lose {
        faults.lose_responses -= 1;
    }
    Verdict::Pass {
        headers,
        delay: Duration::from_millis(faults.latency_ms),
        lose,
    }
}

/// Adds headers to a handler's answer.
pub fn finish(
    mut res: ServiceResponse<BoxBody>,
    headers: &[(&'static str, String)],
) -> ServiceResponse<BoxBody> {
    for (k, v) in headers {
        if let Ok(value) = HeaderValue::from_str(v) {
            res.headers_mut().insert(HeaderName::from_static(k), value);
        }
    }
    res
}

/// Records a finished request in the log.
pub fn log(shared: &Shared, hash: &str, method: &Method, path: &str, query: &str, status: u16) {
    if let Ok(mut state) = shared.lock() {
        state.log(LoggedRequest {
            at: Utc::now(),
            store: hash.to_string(),
            method: method.to_string(),
            path: format!("/{path}"),
            query: query.to_string(),
            status,
        });
    }
}

/// The JSON of an unknown API path.
pub fn not_found(path: &str) -> HttpResponse {
    if is_v2(path) {
        v2_error(404, "The requested resource was not found.")
    } else {
        HttpResponse::NotFound().json(json!({
            "status": 404, "title": "The requested resource was not found.", "type": crate::format::ERROR_TYPE
        }))
    }
}
