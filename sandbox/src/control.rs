//! Test controls under `/_sandbox/` (never under the API paths): stores and their
//! credentials, fault injection, quotas, counters, the request log, reset.

use actix_web::{web, HttpResponse};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Deserialize;
use serde_json::json;

use super::model::{Faults, Store};
use super::seed;
use super::server::{lock, Shared};

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
        .route("/_sandbox/reset", web::post().to(reset));
    super::v2_orders::control_routes(cfg);
    super::v3_catalog::control_routes(cfg);
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
    seed::seed_catalog(&mut rng, &mut store, spec.products, colours, anchor);
    seed::seed_orders(&mut rng, &mut store, spec.orders, days, anchor);
    let described = describe(&store);
    state.stores.insert(store.hash.clone(), store);
    HttpResponse::Created().json(described)
}

fn unknown(hash: &str) -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "error": format!("no sandbox store {hash}") }))
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
        None => unknown(&hash),
    }
}

async fn clear_faults(path: web::Path<String>, shared: web::Data<Shared>) -> HttpResponse {
    let hash = path.into_inner();
    match lock(&shared).stores.get_mut(&hash) {
        Some(s) => {
            s.faults = Faults::default();
            HttpResponse::NoContent().finish()
        }
        None => unknown(&hash),
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
        None => unknown(&hash),
    }
}

async fn counters(path: web::Path<String>, shared: web::Data<Shared>) -> HttpResponse {
    let hash = path.into_inner();
    match lock(&shared).stores.get(&hash) {
        Some(s) => HttpResponse::Ok().json(json!({
            "total": s.counters.values().sum::<u64>(),
            "endpoints": s.counters,
        })),
        None => unknown(&hash),
    }
}

/// `GET /_sandbox/stores/{hash}/stats`: what a store holds, for benchmarks that need the
/// floor of API calls (orders with a consignment over the embedded-lines cap need one more).
async fn stats(path: web::Path<String>, shared: web::Data<Shared>) -> HttpResponse {
    let hash = path.into_inner();
    let cap = super::v2_orders::CONSIGNMENT_LINE_CAP;
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
        None => unknown(&hash),
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
