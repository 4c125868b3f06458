//! Test controls under `/_sandbox/` (never under the API paths): stores and their
//! credentials, fault injection, quotas, counters, the request log, reset; the shop's order
//! actions (`orders`) and the merchant's catalog actions (`catalog`).

pub mod catalog;
pub mod orders;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::model::{Faults, Store};
use crate::seed;
use crate::server::{lock, Shared};

/// Registers the control routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/_sandbox/stores", web::get().to(list_stores))
        .route("/_sandbox/stores", web::post().to(create_store))
        .route("/_sandbox/stores/{hash}/faults", web::put().to(set_faults))
        .route(
            "/_sandbox/stores/{hash}/faults",
            web::delete().to(clear_faults),
        )
        .route("/_sandbox/stores/{hash}/quota", web::put().to(set_quota))
        .route("/_sandbox/stores/{hash}/counters", web::get().to(counters))
        .route("/_sandbox/stores/{hash}/stats", web::get().to(stats))
        .route("/_sandbox/requests", web::get().to(requests))
        .route("/_sandbox/pictures/{name}", web::get().to(picture))
        .route("/_sandbox/reset", web::post().to(reset));
    orders::routes(cfg);
    catalog::routes(cfg);
}

/// `GET /_sandbox/pictures/{name}`: a product picture (a 32 × 32 PNG, whatever the name), for
/// products given `images` pointing here; `/_sandbox/pictures/missing.png` answers 404.
async fn picture(name: web::Path<String>) -> HttpResponse {
    if name.as_str() == "missing.png" {
        return HttpResponse::NotFound().finish();
    }
    HttpResponse::Ok()
        .content_type("image/png")
        .body(&include_bytes!("picture.png")[..])
}

fn describe(s: &Store) -> serde_json::Value {
    json!({
        "hash": s.hash,
        "name": s.name,
        "store_id": s.store_id,
        "currency": s.currency,
        "quota": s.quota,
        "products": s.products.len(),
        "orders": s.orders.len(),
        "api_accounts": s.accounts,
    })
}

async fn list_stores(shared: web::Data<Shared>) -> HttpResponse {
    let state = lock(&shared);
    HttpResponse::Ok().json(state.stores.values().map(describe).collect::<Vec<_>>())
}

/// Body of `POST /_sandbox/stores`.
#[derive(Deserialize, Default)]
struct NewStore {
    name: Option<String>,
    #[serde(default)]
    products: usize,
    #[serde(default)]
    orders: usize,
    quota: Option<u32>,
    seed: Option<u64>,
}

async fn create_store(
    shared: web::Data<Shared>,
    body: Option<web::Json<NewStore>>,
) -> HttpResponse {
    let spec = body.map(|b| b.into_inner()).unwrap_or_default();
    let mut state = lock(&shared);
    let index = state.stores.len();
    let seed_value = spec.seed.unwrap_or_else(|| {
        state
            .config
            .seed
            .wrapping_mul(31)
            .wrapping_add(index as u64 + 1000)
    });
    let mut rng = StdRng::seed_from_u64(seed_value);
    let mut store = seed::empty_store(&mut rng, index, spec.quota.unwrap_or(state.config.quota));
    if let Some(name) = spec.name {
        store.name = name;
    }
    let anchor = state.anchor;
    let days = state.config.order_days;
    let colours = state.config.colours;
    seed::seed_catalog(
        &mut rng,
        &mut store,
        spec.products,
        colours,
        state.config.shared_catalogue,
        anchor,
    );
    seed::seed_orders(&mut rng, &mut store, spec.orders, days, anchor);
    let described = describe(&store);
    state.stores.insert(store.hash.clone(), store);
    HttpResponse::Created().json(described)
}

/// A control error: `{"error": message}`.
pub(crate) fn error(status: u16, message: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .json(json!({ "error": message }))
}

/// 404 for a store hash the sandbox does not have.
pub(crate) fn unknown_store(hash: &str) -> HttpResponse {
    error(404, &format!("no sandbox store {hash}"))
}

/// A control body: a JSON object, where an empty body means `{}`.
#[allow(clippy::result_large_err)]
pub(crate) fn body(body: &[u8]) -> Result<Map<String, Value>, HttpResponse> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(error(400, "the body must be a JSON object")),
    }
}

/// 400 with the field errors of a control body.
pub(crate) fn invalid_fields(errors: Map<String, Value>) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": "invalid fields", "fields": errors }))
}

async fn set_faults(
    path: web::Path<String>,
    shared: web::Data<Shared>,
    body: web::Json<Faults>,
) -> HttpResponse {
    let hash = path.into_inner();
    match lock(&shared).stores.get_mut(&hash) {
        Some(s) => {
            s.faults = body.into_inner();
            HttpResponse::Ok().json(&s.faults)
        }
        None => unknown_store(&hash),
    }
}

async fn clear_faults(path: web::Path<String>, shared: web::Data<Shared>) -> HttpResponse {
    let hash = path.into_inner();
    match lock(&shared).stores.get_mut(&hash) {
        Some(s) => {
            s.faults = Faults::default();
            HttpResponse::NoContent().finish()
        }
        None => unknown_store(&hash),
    }
}

#[derive(Deserialize)]
struct Quota {
    quota: u32,
}

async fn set_quota(
    path: web::Path<String>,
    shared: web::Data<Shared>,
    body: web::Json<Quota>,
) -> HttpResponse {
    let hash = path.into_inner();
    match lock(&shared).stores.get_mut(&hash) {
        Some(s) => {
            s.quota = body.quota;
            s.bucket.used = 0;
            s.bucket.window_start = std::time::Instant::now();
            HttpResponse::Ok().json(json!({ "quota": s.quota }))
        }
        None => unknown_store(&hash),
    }
}

async fn counters(path: web::Path<String>, shared: web::Data<Shared>) -> HttpResponse {
    let hash = path.into_inner();
    match lock(&shared).stores.get(&hash) {
        Some(s) => HttpResponse::Ok().json(json!({
            "total": s.counters.values().sum::<u64>(),
            "endpoints": s.counters,
        })),
        None => unknown_store(&hash),
    }
}

/// `GET /_sandbox/stores/{hash}/stats`: what a store holds, for benchmarks that need the
/// floor of API calls (orders with a consignment over the embedded-lines cap need one more).
async fn stats(path: web::Path<String>, shared: web::Data<Shared>) -> HttpResponse {
    let hash = path.into_inner();
    let cap = crate::order_views::CONSIGNMENT_LINE_CAP;
    match lock(&shared).stores.get(&hash) {
        Some(s) => {
            let capped = s
                .orders
                .values()
                .filter(|o| {
                    o.shipping_addresses.iter().any(|a| {
                        o.products
                            .iter()
                            .filter(|l| l.order_address_id == a.id)
                            .count()
                            > cap
                    })
                })
                .count();
            HttpResponse::Ok().json(json!({
                "products": s.products.len(),
                "variants": s.products.values().map(|p| p.variants.len()).sum::<usize>(),
                "orders": s.orders.len(),
                "orders_with_capped_consignment": capped,
            }))
        }
        None => unknown_store(&hash),
    }
}

#[derive(Deserialize)]
struct LogFilter {
    store: Option<String>,
}

async fn requests(shared: web::Data<Shared>, filter: web::Query<LogFilter>) -> HttpResponse {
    let state = lock(&shared);
    let entries: Vec<_> = state
        .request_log
        .iter()
        .filter(|e| filter.store.as_deref().is_none_or(|s| e.store == s))
        .collect();
    HttpResponse::Ok().json(entries)
}

async fn reset(shared: web::Data<Shared>) -> HttpResponse {
    let mut state = lock(&shared);
    let anchor = state.anchor;
    state.stores = seed::seed(&state.config, anchor);
    state.request_log.clear();
    HttpResponse::NoContent().finish()
}
