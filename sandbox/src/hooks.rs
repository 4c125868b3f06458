//! The Webhooks API (`/v3/hooks`) and the delivery worker (docs/bigcommerce.md §10).
//!
//! Hooks belong to the API account that created them (found through `X-Auth-Token`); other
//! accounts neither see nor touch them. The worker drains the queued events, POSTs the light
//! payload to every active hook whose scope matches, retries failures with a compressed
//! backoff (`hook_retry_base` × 1, 3, 5, 10, 15) and deactivates a hook whose event still
//! fails after the last attempt.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Map, Value};

use crate::format::{v3_error, v3_error_with, v3_page};
use crate::model::{Hook, SandboxState, Store};
use crate::request::query::{Paging, Params, MAX_LIMIT};
use crate::request::v3::resource;
use crate::server::{lock, Shared};

/// Most hooks one API account may have per scope.
pub const MAX_HOOKS_PER_SCOPE: usize = 10;
/// Delivery attempts per event before the hook is deactivated.
pub const DELIVERY_ATTEMPTS: usize = 6;
/// Wait before retry n (1-based), in multiples of `hook_retry_base` (BigCommerce waits 60,
/// 180, 300, 600, 900 s).
const RETRY_FACTORS: [u32; DELIVERY_ATTEMPTS - 1] = [1, 3, 5, 10, 15];
/// Timeout of one delivery.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The scopes a hook may subscribe to; `group/*` wildcards are accepted for each group.
pub const SCOPES: &[&str] = &[
    "store/order/created",
    "store/order/updated",
    "store/order/statusUpdated",
    "store/order/archived",
    "store/order/message/created",
    "store/order/refund/created",
    "store/order/transaction/created",
    "store/order/transaction/updated",
    "store/product/created",
    "store/product/updated",
    "store/product/deleted",
    "store/product/inventory/updated",
    "store/product/inventory/order/updated",
    "store/sku/created",
    "store/sku/updated",
    "store/sku/deleted",
    "store/sku/inventory/updated",
    "store/sku/inventory/order/updated",
    "store/shipment/created",
    "store/shipment/updated",
    "store/shipment/deleted",
    "store/category/created",
    "store/category/updated",
    "store/category/deleted",
    "store/customer/created",
    "store/customer/updated",
    "store/customer/deleted",
    "store/app/uninstalled",
    "store/information/updated",
];

/// Registers the Webhooks API routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/v3/hooks", "GET, POST")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        resource("/v3/hooks/{id}", "GET, PUT, DELETE")
            .route(web::get().to(show))
            .route(web::put().to(update))
            .route(web::delete().to(remove)),
    );
}

/// Whether `scope` may be subscribed to.
pub fn known_scope(scope: &str) -> bool {
    if SCOPES.contains(&scope) {
        return true;
    }
    match scope.strip_suffix("/*") {
        // A wildcard names a group (`store/order/*`), never all of `store/`.
        Some(group) if group.matches('/').count() >= 1 => {
            let prefix = format!("{group}/");
            SCOPES.iter().any(|s| s.starts_with(&prefix))
        }
        _ => false,
    }
}

/// Whether a hook subscribed to `hook_scope` receives an event of `event_scope`.
pub fn scope_matches(hook_scope: &str, event_scope: &str) -> bool {
    match hook_scope.strip_suffix('*') {
        Some(prefix) => event_scope.starts_with(prefix),
        None => hook_scope == event_scope,
    }
}

/// The client id of the account calling with `req`'s token.
fn caller(req: &HttpRequest, store: &Store) -> Option<String> {
    let token = req
        .headers()
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())?;
    store.account(token).map(|a| a.client_id.clone())
}

fn render(hook: &Hook, hash: &str) -> Value {
    json!({
        "id": hook.id,
        "client_id": hook.client_id,
        "store_hash": hash,
        "created_at": hook.created_at,
        "updated_at": hook.updated_at,
        "scope": hook.scope,
        "destination": hook.destination,
        "is_active": hook.is_active,
        "headers": hook.headers,
    })
}

fn one(hook: &Hook, hash: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "data": render(hook, hash), "meta": {} }))
}

/// A refused request's answer (boxed: `HttpResponse` is large).
type Refusal = Box<HttpResponse>;

fn invalid(field: &str, message: &str) -> Refusal {
    Box::new(v3_error_with(
        422,
        "JSON data is missing or invalid",
        json!({ field: message }),
    ))
}

fn hook_not_found() -> Refusal {
    Box::new(v3_error(404, "The requested resource was not found."))
}

fn unknown_store() -> HttpResponse {
    crate::guard::not_found("v3/hooks")
}

/// The fields of a create or update body (`None`: absent).
#[derive(Default)]
struct Fields {
    scope: Option<String>,
    destination: Option<String>,
    is_active: Option<bool>,
    headers: Option<BTreeMap<String, String>>,
}

/// Reads a hook body; `Err` is the answer to give.
fn read_fields(body: &[u8]) -> Result<Fields, Refusal> {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
        return Err(Box::new(v3_error(400, "Input is invalid.")));
    };
    let present = |key: &str| body.get(key).filter(|v| !v.is_null());
    let mut fields = Fields::default();
    if let Some(v) = present("scope") {
        let s = v
            .as_str()
            .ok_or_else(|| invalid("scope", "error.expected.jsstring"))?;
        fields.scope = Some(s.to_string());
    }
    if let Some(v) = present("destination") {
        let s = v
            .as_str()
            .ok_or_else(|| invalid("destination", "error.expected.jsstring"))?;
        fields.destination = Some(s.to_string());
    }
    if let Some(v) = present("is_active") {
        let b = v
            .as_bool()
            .ok_or_else(|| invalid("is_active", "error.expected.jsboolean"))?;
        fields.is_active = Some(b);
    }
    if let Some(v) = present("headers") {
        let map = v
            .as_object()
            .ok_or_else(|| invalid("headers", "error.expected.jsobject"))?;
        let mut headers = BTreeMap::new();
        for (name, value) in map {
            let value = value
                .as_str()
                .ok_or_else(|| invalid("headers", "error.expected.jsstring"))?;
            let valid = header::HeaderName::from_bytes(name.as_bytes()).is_ok()
                && header::HeaderValue::from_str(value).is_ok();
            if !valid {
                return Err(invalid("headers", "error.header.invalid"));
            }
            headers.insert(name.clone(), value.to_string());
        }
        fields.headers = Some(headers);
    }
    Ok(fields)
}

/// Checks the scope and destination of a hook about to be stored.
fn check_hook(scope: &str, destination: &str, insecure_ok: bool) -> Result<(), Refusal> {
    if !known_scope(scope) {
        return Err(invalid("scope", "error.scope.invalid"));
    }
    let Ok(url) = reqwest::Url::parse(destination) else {
        return Err(invalid("destination", "error.url.invalid"));
    };
    let scheme_ok = match url.scheme() {
        "https" => true,
        "http" => insecure_ok,
        _ => false,
    };
    if !scheme_ok || url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("destination", "error.destination.https.required"));
    }
    if !insecure_ok && url.port_or_known_default() != Some(443) {
        return Err(invalid(
            "destination",
            "error.destination.port.443.required",
        ));
    }
    Ok(())
}

/// Enforces 1 hook per (client, scope, destination) and 10 per (client, scope); `except` is the
/// hook being updated.
fn check_limits(
    store: &Store,
    client_id: &str,
    scope: &str,
    destination: &str,
    except: Option<i64>,
) -> Result<(), Refusal> {
    let same_scope: Vec<&Hook> = store
        .hooks
        .values()
        .filter(|h| Some(h.id) != except && h.client_id == client_id && h.scope == scope)
        .collect();
    if same_scope.iter().any(|h| h.destination == destination) {
        return Err(Box::new(v3_error(
            409,
            "A webhook with this scope and destination already exists.",
        )));
    }
    if same_scope.len() >= MAX_HOOKS_PER_SCOPE {
        return Err(Box::new(v3_error(
            422,
            &format!("You can only create {MAX_HOOKS_PER_SCOPE} webhooks per scope."),
        )));
    }
    Ok(())
}

/// `POST /v3/hooks`.
async fn create(
    path: web::Path<String>,
    shared: web::Data<Shared>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let hash = path.into_inner();
    let fields = match read_fields(&body) {
        Ok(f) => f,
        Err(res) => return *res,
    };
    let Some(scope) = fields.scope else {
        return *invalid("scope", "error.path.missing.");
    };
    let Some(destination) = fields.destination else {
        return *invalid("destination", "error.path.missing.");
    };
    let mut state = lock(&shared);
    let insecure_ok = state.config.allow_insecure_hooks;
    if let Err(res) = check_hook(&scope, &destination, insecure_ok) {
        return *res;
    }
    let Some(store) = state.stores.get_mut(&hash) else {
        return unknown_store();
    };
    let Some(client_id) = caller(&req, store) else {
        return v3_error(401, "Unauthorized");
    };
    if let Err(res) = check_limits(store, &client_id, &scope, &destination, None) {
        return *res;
    }
    let now = Utc::now().timestamp();
    let hook = Hook {
        id: store.new_id(),
        client_id,
        scope,
        destination,
        is_active: fields.is_active.unwrap_or(true),
        headers: fields.headers.unwrap_or_default(),
        created_at: now,
        updated_at: now,
    };
    store.hooks.insert(hook.id, hook.clone());
    one(&hook, &hash)
}

/// `GET /v3/hooks`: the calling account's hooks.
async fn list(
    path: web::Path<String>,
    shared: web::Data<Shared>,
    req: HttpRequest,
) -> HttpResponse {
    let hash = path.into_inner();
    let params = Params::parse(req.query_string());
    let state = lock(&shared);
    let paging = match Paging::from(&params, state.config.over_limit, MAX_LIMIT) {
        Ok(p) => p,
        Err((status, message)) => return v3_error(status, &message),
    };
    let Some(store) = state.stores.get(&hash) else {
        return unknown_store();
    };
    let Some(client_id) = caller(&req, store) else {
        return v3_error(401, "Unauthorized");
    };
    let is_active = params.bool("is_active");
    let scope = params.get("scope");
    let destination = params.get("destination");
    let data: Vec<Value> = store
        .hooks
        .values()
        .filter(|h| h.client_id == client_id)
        .filter(|h| is_active.is_none_or(|a| h.is_active == a))
        .filter(|h| scope.is_none_or(|s| h.scope == s))
        .filter(|h| destination.is_none_or(|d| h.destination == d))
        .map(|h| render(h, &hash))
        .collect();
    v3_page(data, paging)
}

/// The id of hook `id` if the calling account owns it, or the answer to give (404 for another
/// account's hook).
fn owned(store: &Store, req: &HttpRequest, id: &str) -> Result<i64, Refusal> {
    let Some(client_id) = caller(req, store) else {
        return Err(Box::new(v3_error(401, "Unauthorized")));
    };
    let id = id.parse::<i64>().map_err(|_| hook_not_found())?;
    match store.hooks.get(&id) {
        Some(h) if h.client_id == client_id => Ok(id),
        _ => Err(hook_not_found()),
    }
}

/// `GET /v3/hooks/{id}`.
async fn show(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
    req: HttpRequest,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let state = lock(&shared);
    let Some(store) = state.stores.get(&hash) else {
        return unknown_store();
    };
    match owned(store, &req, &id) {
        Ok(id) => match store.hooks.get(&id) {
            Some(hook) => one(hook, &hash),
            None => *hook_not_found(),
        },
        Err(res) => *res,
    }
}

/// `PUT /v3/hooks/{id}`: changes the fields given.
async fn update(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let fields = match read_fields(&body) {
        Ok(f) => f,
        Err(res) => return *res,
    };
    let mut state = lock(&shared);
    let insecure_ok = state.config.allow_insecure_hooks;
    let Some(store) = state.stores.get_mut(&hash) else {
        return unknown_store();
    };
    let id = match owned(store, &req, &id) {
        Ok(id) => id,
        Err(res) => return *res,
    };
    let Some(current) = store.hooks.get(&id).cloned() else {
        return *hook_not_found();
    };
    let scope = fields.scope.unwrap_or_else(|| current.scope.clone());
    let destination = fields
        .destination
        .unwrap_or_else(|| current.destination.clone());
    if let Err(res) = check_hook(&scope, &destination, insecure_ok) {
        return *res;
    }
    if let Err(res) = check_limits(store, &current.client_id, &scope, &destination, Some(id)) {
        return *res;
    }
    let Some(hook) = store.hooks.get_mut(&id) else {
        return *hook_not_found();
    };
    hook.scope = scope;
    hook.destination = destination;
    if let Some(active) = fields.is_active {
        hook.is_active = active;
    }
    if let Some(headers) = fields.headers {
        hook.headers = headers;
    }
    hook.updated_at = Utc::now().timestamp();
    one(hook, &hash)
}

/// `DELETE /v3/hooks/{id}`: answers the deleted hook.
async fn remove(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
    req: HttpRequest,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let mut state = lock(&shared);
    let Some(store) = state.stores.get_mut(&hash) else {
        return unknown_store();
    };
    let id = match owned(store, &req, &id) {
        Ok(id) => id,
        Err(res) => return *res,
    };
    match store.hooks.remove(&id) {
        Some(hook) => one(&hook, &hash),
        None => *hook_not_found(),
    }
}

// ---------------------------------------------------------------------------------------------
// Delivery

/// One event to deliver to one hook.
struct Job {
    store: String,
    hook_id: i64,
    destination: String,
    headers: BTreeMap<String, String>,
    body: String,
}

/// Starts the webhook delivery worker for this sandbox (called once from `Sandbox::bind`,
/// inside the tokio runtime).
pub fn start_delivery(shared: Shared) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no tokio runtime: sandbox webhooks will not be delivered");
        return;
    };
    let notify = lock(&shared).events_notify.clone();
    let weak = Arc::downgrade(&shared);
    runtime.spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .build()
            .unwrap_or_default();
        loop {
            notify.notified().await;
            let Some(shared) = weak.upgrade() else {
                return;
            };
            let jobs = take_jobs(&mut lock(&shared));
            drop(shared);
            for job in jobs {
                tokio::spawn(deliver(weak.clone(), client.clone(), job));
            }
        }
    });
}

/// Drains the queued events into deliveries to the matching active hooks.
fn take_jobs(state: &mut SandboxState) -> Vec<Job> {
    let events: Vec<_> = state.events.drain(..).collect();
    let mut jobs = Vec::new();
    for event in events {
        let Some(store) = state.stores.get(&event.store) else {
            continue;
        };
        let hooks: Vec<&Hook> = store
            .hooks
            .values()
            .filter(|h| h.is_active && scope_matches(&h.scope, &event.scope))
            .collect();
        if hooks.is_empty() {
            continue;
        }
        let data = event.data.to_string();
        let mut payload = Map::new();
        payload.insert("scope".into(), json!(event.scope));
        payload.insert("store_id".into(), json!(store.store_id.to_string()));
        payload.insert("data".into(), event.data.clone());
        payload.insert("hash".into(), json!(sha1_hex(data.as_bytes())));
        payload.insert("created_at".into(), json!(event.created_at));
        payload.insert("producer".into(), json!(format!("stores/{}", store.hash)));
        let body = Value::Object(payload).to_string();
        let copies = if state.config.duplicate_hook_deliveries {
            2
        } else {
            1
        };
        for hook in hooks {
            for _ in 0..copies {
                jobs.push(Job {
                    store: store.hash.clone(),
                    hook_id: hook.id,
                    destination: hook.destination.clone(),
                    headers: hook.headers.clone(),
                    body: body.clone(),
                });
            }
        }
    }
    jobs
}

/// Whether the hook still exists and is active (`None`: the sandbox is gone).
fn hook_active(weak: &Weak<Mutex<SandboxState>>, job: &Job) -> Option<bool> {
    let shared = weak.upgrade()?;
    let state = lock(&shared);
    Some(
        state
            .stores
            .get(&job.store)
            .and_then(|s| s.hooks.get(&job.hook_id))
            .is_some_and(|h| h.is_active),
    )
}

/// Delivers one event to one hook, retrying with backoff; deactivates the hook on final failure.
async fn deliver(weak: Weak<Mutex<SandboxState>>, client: reqwest::Client, job: Job) {
    for attempt in 0..DELIVERY_ATTEMPTS {
        if attempt > 0 {
            let Some(shared) = weak.upgrade() else {
                return;
            };
            let base = lock(&shared).config.hook_retry_base;
            drop(shared);
            let factor = RETRY_FACTORS.get(attempt - 1).copied().unwrap_or(15);
            tokio::time::sleep(base.saturating_mul(factor)).await;
            if hook_active(&weak, &job) != Some(true) {
                return;
            }
        }
        let mut request = client.post(&job.destination);
        for (name, value) in &job.headers {
            if !name.eq_ignore_ascii_case("content-type") {
                request = request.header(name.as_str(), value.as_str());
            }
        }
        let sent = request
            .header(header::CONTENT_TYPE.as_str(), "application/json")
            .body(job.body.clone())
            .send()
            .await;
        if sent.is_ok_and(|res| res.status().is_success()) {
            return;
        }
    }
    let Some(shared) = weak.upgrade() else {
        return;
    };
    let mut state = lock(&shared);
    if let Some(hook) = state
        .stores
        .get_mut(&job.store)
        .and_then(|s| s.hooks.get_mut(&job.hook_id))
    {
        hook.is_active = false;
        hook.updated_at = Utc::now().timestamp();
    }
}

/// SHA-1 of `data` as 40 lower-case hex digits (the payload `hash`).
pub fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut message = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in message.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let temp = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
        }
        for (hi, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *hi = hi.wrapping_add(v);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_matches_the_standard_test_vectors() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            sha1_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(
            sha1_hex(&[b'a'; 1_000_000]),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
    }

    #[test]
    fn wildcard_scopes_match_their_group_only() {
        assert!(scope_matches("store/order/*", "store/order/created"));
        assert!(scope_matches(
            "store/order/*",
            "store/order/transaction/created"
        ));
        assert!(!scope_matches("store/order/*", "store/product/updated"));
        assert!(scope_matches(
            "store/product/inventory/updated",
            "store/product/inventory/updated"
        ));
        assert!(known_scope("store/sku/*"));
        assert!(!known_scope("store/*"));
        assert!(!known_scope("store/order/nothing"));
    }
}
