//! The Inventory API (v3): absolute and relative adjustments at location 1, inventory items,
//! locations and location items (docs/bigcommerce.md §5).
//!
//! Adjustments validate every item before applying any; with `inventory_delay` they are applied
//! later by a spawned task, so a read right after a write still shows the old stock (the real
//! API is asynchronous). Each applied item raises `store/product/inventory/updated` or
//! `store/sku/inventory/updated`.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use rand::Rng;
use serde_json::{json, Value};

use crate::events;
use crate::format::{problem, v3_error, v3_page};
use crate::model::{SandboxState, Store, Tracking};
use crate::request::query::{Paging, Params};
use crate::request::v3::resource;
use crate::server::{lock, Shared};

/// Most items one adjustment may carry.
pub const MAX_ADJUSTMENT_ITEMS: usize = 2000;
/// Highest stock level the Inventory API accepts.
pub const MAX_QUANTITY: i64 = 2_147_483_647;
/// Most items a page of inventory items may hold.
pub const MAX_ITEMS_LIMIT: usize = 1000;
/// The only location: the default one every store has.
pub const DEFAULT_LOCATION: i64 = 1;

/// Bodies of 2000 items are far above actix's default payload limit.
const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Registers the Inventory API routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/v3/inventory/adjustments/absolute", "PUT")
            .app_data(web::PayloadConfig::new(BODY_LIMIT))
            .route(web::put().to(absolute)),
    )
    .service(
        resource("/v3/inventory/adjustments/relative", "POST")
            .app_data(web::PayloadConfig::new(BODY_LIMIT))
            .route(web::post().to(relative)),
    )
    .service(resource("/v3/inventory/items", "GET").route(web::get().to(items)))
    .service(resource("/v3/inventory/locations", "GET").route(web::get().to(locations)))
    .service(
        resource("/v3/inventory/locations/{location_id}/items", "GET")
            .route(web::get().to(location_items)),
    );
}

/// How an adjustment changes stock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Absolute,
    Relative,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Absolute => "absolute",
            Method::Relative => "relative",
        }
    }
}

/// Where an item's stock lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    /// Product-level stock: `product_id`.
    Product(i64),
    /// Variant-level stock: `(product_id, variant_id)`.
    Variant(i64, i64),
}

/// One validated adjustment.
#[derive(Clone, Copy, Debug)]
struct Op {
    target: Target,
    quantity: i64,
}

async fn absolute(
    path: web::Path<String>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    adjust(
        &path.into_inner(),
        shared.get_ref(),
        &body,
        Method::Absolute,
    )
}

async fn relative(
    path: web::Path<String>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    adjust(
        &path.into_inner(),
        shared.get_ref(),
        &body,
        Method::Relative,
    )
}

/// Validates every item, then applies all of them (now, or after the configured delay).
fn adjust(hash: &str, shared: &Shared, body: &[u8], method: Method) -> HttpResponse {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return problem(400, "Input is invalid.");
    };
    let Some(list) = body.get("items").and_then(Value::as_array) else {
        return problem(422, "[items: Please provide an array of items.]");
    };
    if list.len() > MAX_ADJUSTMENT_ITEMS {
        return v3_error(
            413,
            &format!(
                "The request payload is too large. The maximum items allowed in the array is {MAX_ADJUSTMENT_ITEMS}."
            ),
        );
    }
    if list.is_empty() {
        return problem(422, "[items: Please provide at least one item.]");
    }
    if body
        .get("reason")
        .is_some_and(|r| !r.is_null() && !r.is_string())
    {
        return problem(422, "[reason: Please provide a string.]");
    }

    let mut state = lock(shared);
    let delay = state.config.inventory_delay;
    let Some(store) = state.stores.get(hash) else {
        return crate::guard::not_found("v3/inventory");
    };
    let mut levels: BTreeMap<Target, i64> = BTreeMap::new();
    let mut ops = Vec::with_capacity(list.len());
    let mut errors = Vec::new();
    for (index, item) in list.iter().enumerate() {
        match validate(store, index, item, method, &mut levels) {
            Ok(op) => ops.push(op),
            Err(message) => errors.push(message),
        }
    }
    if !errors.is_empty() {
        return problem(422, &format!("[{}]", errors.join("; ")));
    }

    if delay.is_zero() {
        apply(&mut state, hash, &ops, method);
    } else {
        drop(state);
        let shared = shared.clone();
        let hash = hash.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            apply(&mut lock(&shared), &hash, &ops, method);
        });
    }
    HttpResponse::Ok().json(json!({ "transaction_id": transaction_id() }))
}

/// A UUID-shaped (version 4) id.
fn transaction_id() -> String {
    let mut rng = rand::thread_rng();
    let a: u32 = rng.gen();
    let b: u16 = rng.gen();
    let c: u16 = (rng.gen::<u16>() & 0x0fff) | 0x4000;
    let d: u16 = (rng.gen::<u16>() & 0x3fff) | 0x8000;
    let e: u64 = rng.gen::<u64>() & 0xffff_ffff_ffff;
    format!("{a:08x}-{b:04x}-{c:04x}-{d:04x}-{e:012x}")
}

/// Checks one item; `levels` carries the stock as earlier items of the request leave it.
fn validate(
    store: &Store,
    index: usize,
    item: &Value,
    method: Method,
    levels: &mut BTreeMap<Target, i64>,
) -> Result<Op, String> {
    let Some(item) = item.as_object() else {
        return Err(format!("items.{index}: Please provide an object."));
    };
    let present = |key: &str| item.get(key).filter(|v| !v.is_null());
    let location = present("location_id")
        .ok_or_else(|| format!("items.{index}.location_id: Please provide a location_id."))?;
    let location = location
        .as_i64()
        .ok_or_else(|| format!("items.{index}.location_id: Please provide an integer."))?;
    let quantity = present("quantity")
        .ok_or_else(|| format!("items.{index}.quantity: Please provide a quantity."))?;
    let quantity = quantity
        .as_i64()
        .ok_or_else(|| format!("items.{index}.quantity: Please provide an integer."))?;
    let identities: Vec<&str> = ["sku", "variant_id", "product_id"]
        .into_iter()
        .filter(|k| present(k).is_some())
        .collect();
    if identities.len() != 1 {
        return Err(format!(
            "items.{index}: Please provide exactly one of sku, variant_id or product_id."
        ));
    }
    if location != DEFAULT_LOCATION {
        return Err(format!("Location with id {location} does not exist"));
    }
    if method == Method::Absolute && !(0..=MAX_QUANTITY).contains(&quantity) {
        return Err(format!(
            "items.{index}.quantity: The quantity must be between 0 and {MAX_QUANTITY}."
        ));
    }
    let target = match identities[0] {
        "sku" => {
            let sku = present("sku")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("items.{index}.sku: Please provide a string."))?;
            by_sku(store, sku)?
        }
        "variant_id" => {
            let id = present("variant_id")
                .and_then(Value::as_i64)
                .ok_or_else(|| format!("items.{index}.variant_id: Please provide an integer."))?;
            by_variant(store, id, &format!("variant_id {id}"))?
        }
        _ => {
            let id = present("product_id")
                .and_then(Value::as_i64)
                .ok_or_else(|| format!("items.{index}.product_id: Please provide an integer."))?;
            by_product(store, id, &format!("product_id {id}"))?
        }
    };
    let current = match levels.get(&target) {
        Some(level) => *level,
        None => level_of(store, target),
    };
    let next = match method {
        Method::Absolute => quantity,
        Method::Relative => current.saturating_add(quantity),
    };
    if next < 0 {
        return Err(format!(
            "Item at index {index} has insufficient stock: {current} on hand, adjustment of {quantity}"
        ));
    }
    if next > MAX_QUANTITY {
        return Err(format!(
            "Item at index {index} would exceed the maximum stock of {MAX_QUANTITY}"
        ));
    }
    levels.insert(target, next);
    Ok(Op { target, quantity })
}

/// `product_id` (or a product-level SKU): only for products whose stock is tracked by product.
fn by_product(store: &Store, id: i64, label: &str) -> Result<Target, String> {
    let product = store
        .products
        .get(&id)
        .ok_or_else(|| format!("Item with {label} does not exist"))?;
    match product.inventory_tracking {
        Tracking::None => Err(format!(
            "Item with {label} is not tracked, please enable inventory tracking"
        )),
        Tracking::Product => Ok(Target::Product(id)),
        Tracking::Variant if product.has_options() => Err(format!(
            "Item with {label} has variants, please update stock by variant id"
        )),
        Tracking::Variant => Err(format!(
            "Item with {label} is tracked by variant, please update stock by variant id"
        )),
    }
}

/// `variant_id`: only for variants of products tracked by variant.
fn by_variant(store: &Store, id: i64, label: &str) -> Result<Target, String> {
    let (product_id, _) = store
        .find_variant(id)
        .ok_or_else(|| format!("Item with {label} does not exist"))?;
    let tracking = store
        .products
        .get(&product_id)
        .map(|p| p.inventory_tracking)
        .unwrap_or(Tracking::None);
    match tracking {
        Tracking::None => Err(format!(
            "Item with {label} is not tracked, please enable inventory tracking"
        )),
        Tracking::Product => Err(format!(
            "Item with {label} is tracked by product, please update stock by product id"
        )),
        Tracking::Variant => Ok(Target::Variant(product_id, id)),
    }
}

/// `sku`: the product or variant holding it, then the same rules. The SKU of the base variant
/// of a product without options names the product.
fn by_sku(store: &Store, sku: &str) -> Result<Target, String> {
    let label = format!("sku {sku}");
    match store.find_sku(sku) {
        None => Err(format!("Item with {label} does not exist")),
        Some((product_id, None)) => by_product(store, product_id, &label),
        Some((product_id, Some(index))) => {
            let Some(product) = store.products.get(&product_id) else {
                return Err(format!("Item with {label} does not exist"));
            };
            let base = product.variants.get(index).is_some_and(|v| v.is_base());
            match product.variants.get(index) {
                Some(_) if base && product.inventory_tracking == Tracking::Product => {
                    by_product(store, product_id, &label)
                }
                Some(variant) => by_variant(store, variant.id, &label),
                None => Err(format!("Item with {label} does not exist")),
            }
        }
    }
}

/// The stock a target holds now.
fn level_of(store: &Store, target: Target) -> i64 {
    match target {
        Target::Product(pid) => store
            .products
            .get(&pid)
            .map(|p| p.inventory_level)
            .unwrap_or(0),
        Target::Variant(pid, vid) => store
            .products
            .get(&pid)
            .and_then(|p| p.variants.iter().find(|v| v.id == vid))
            .map(|v| v.inventory_level)
            .unwrap_or(0),
    }
}

/// Applies validated adjustments and raises their webhook events. With a delay the stock may
/// have moved since validation, so relative results are kept within `0..=MAX_QUANTITY`.
fn apply(state: &mut SandboxState, hash: &str, ops: &[Op], method: Method) {
    let now = Utc::now();
    let mut raised = Vec::new();
    {
        let Some(store) = state.stores.get_mut(hash) else {
            return;
        };
        for op in ops {
            let (pid, vid) = match op.target {
                Target::Product(pid) => (pid, None),
                Target::Variant(pid, vid) => (pid, Some(vid)),
            };
            let Some(product) = store.products.get_mut(&pid) else {
                continue;
            };
            let level = match vid {
                None => Some(&mut product.inventory_level),
                Some(vid) => product
                    .variants
                    .iter_mut()
                    .find(|v| v.id == vid)
                    .map(|v| &mut v.inventory_level),
            };
            let Some(level) = level else {
                continue;
            };
            *level = match method {
                Method::Absolute => op.quantity,
                Method::Relative => level.saturating_add(op.quantity).clamp(0, MAX_QUANTITY),
            };
            product.date_modified = now;
            raised.push(match vid {
                None => (
                    "store/product/inventory/updated",
                    json!({
                        "type": "product",
                        "id": pid,
                        "inventory": {
                            "product_id": pid,
                            "method": method.name(),
                            "value": op.quantity,
                        }
                    }),
                ),
                Some(vid) => (
                    "store/sku/inventory/updated",
                    json!({
                        "type": "sku",
                        "id": vid,
                        "inventory": {
                            "product_id": pid,
                            "method": method.name(),
                            "value": op.quantity,
                            "variant_id": vid,
                        }
                    }),
                ),
            });
        }
    }
    for (scope, data) in raised {
        events::emit(state, hash, scope, data);
    }
}

/// One stock-holding item of the catalog at location 1.
struct Row {
    sku: String,
    variant_id: i64,
    product_id: i64,
    on_hand: i64,
    warning_level: i64,
}

/// Every tracked item: one per variant of products tracked by variant; one per product tracked
/// by product (named by its base variant, or its first variant).
fn rows(store: &Store) -> Vec<Row> {
    let mut out = Vec::new();
    for p in store.products.values() {
        match p.inventory_tracking {
            Tracking::None => {}
            Tracking::Product => {
                let variant = p
                    .variants
                    .iter()
                    .find(|v| v.is_base())
                    .or_else(|| p.variants.first());
                out.push(Row {
                    sku: p.sku.clone(),
                    variant_id: variant.map(|v| v.id).unwrap_or(0),
                    product_id: p.id,
                    on_hand: p.inventory_level,
                    warning_level: p.inventory_warning_level,
                });
            }
            Tracking::Variant => {
                for v in &p.variants {
                    out.push(Row {
                        sku: v.sku.clone(),
                        variant_id: v.id,
                        product_id: p.id,
                        on_hand: v.inventory_level,
                        warning_level: p.inventory_warning_level,
                    });
                }
            }
        }
    }
    out
}

fn identity(row: &Row) -> Value {
    json!({
        "sku": row.sku,
        "variant_id": row.variant_id,
        "product_id": row.product_id,
        "sku_id": row.variant_id,
    })
}

fn settings(row: &Row) -> Value {
    json!({
        "safety_stock": 0,
        "is_in_stock": row.on_hand > 0,
        "warning_level": row.warning_level,
        "bin_picking_number": "",
    })
}

/// The identity filters shared by the item listings.
struct ItemFilter {
    skus: Option<Vec<String>>,
    variant_ids: Option<Vec<i64>>,
    product_ids: Option<Vec<i64>>,
}

impl ItemFilter {
    fn read(params: &Params) -> Result<Self, String> {
        Ok(Self {
            skus: params.strings("sku:in"),
            variant_ids: params.ints("variant_id:in")?,
            product_ids: params.ints("product_id:in")?,
        })
    }

    fn keeps(&self, row: &Row) -> bool {
        self.skus.as_ref().is_none_or(|s| s.contains(&row.sku))
            && self
                .variant_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&row.variant_id))
            && self
                .product_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&row.product_id))
    }
}

/// `GET /v3/inventory/items`.
async fn items(
    path: web::Path<String>,
    shared: web::Data<Shared>,
    req: HttpRequest,
) -> HttpResponse {
    let hash = path.into_inner();
    let params = Params::parse(req.query_string());
    let state = lock(&shared);
    let paging = match Paging::from(&params, state.config.over_limit, MAX_ITEMS_LIMIT) {
        Ok(p) => p,
        Err((status, message)) => return v3_error(status, &message),
    };
    let filter = match ItemFilter::read(&params) {
        Ok(f) => f,
        Err(message) => return v3_error(400, &message),
    };
    let locations = match params.ints("location_id:in") {
        Ok(l) => l,
        Err(message) => return v3_error(400, &message),
    };
    let at_default = locations
        .as_ref()
        .is_none_or(|ids| ids.contains(&DEFAULT_LOCATION))
        && params
            .strings("location_code:in")
            .is_none_or(|codes| codes.iter().any(|c| c == "DEFAULT"));
    let Some(store) = state.stores.get(&hash) else {
        return crate::guard::not_found("v3/inventory/items");
    };
    let data: Vec<Value> = if at_default {
        rows(store)
            .iter()
            .filter(|r| filter.keeps(r))
            .map(|r| {
                json!({
                    "identity": identity(r),
                    "locations": [{
                        "location_id": DEFAULT_LOCATION,
                        "location_code": "DEFAULT",
                        "location_name": "Default location",
                        "available_to_sell": r.on_hand,
                        "total_inventory_onhand": r.on_hand,
                        "location_enabled": true,
                        "settings": settings(r),
                    }],
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    v3_page(data, paging)
}

/// The default location as `GET /v3/inventory/locations` shows it.
fn default_location(state: &SandboxState) -> Value {
    let created = crate::format::iso8601(state.anchor - chrono::Duration::days(400));
    json!({
        "id": DEFAULT_LOCATION,
        "code": "DEFAULT",
        "label": "Default location",
        "description": "",
        "managed_by_external_source": false,
        "type_id": "PHYSICAL",
        "enabled": true,
        "is_default": true,
        "storefront_visibility": true,
        "time_zone": "Etc/UTC",
        "address": null,
        "operating_hours": {},
        "special_hours": [],
        "created_at": created,
        "updated_at": created,
    })
}

/// `GET /v3/inventory/locations`.
async fn locations(shared: web::Data<Shared>, req: HttpRequest) -> HttpResponse {
    let params = Params::parse(req.query_string());
    let state = lock(&shared);
    let paging = match Paging::from(
        &params,
        state.config.over_limit,
        crate::request::query::MAX_LIMIT,
    ) {
        Ok(p) => p,
        Err((status, message)) => return v3_error(status, &message),
    };
    let ids = match params.ints("location_id:in") {
        Ok(ids) => ids,
        Err(message) => return v3_error(400, &message),
    };
    let keep = ids.is_none_or(|ids| ids.contains(&DEFAULT_LOCATION))
        && params
            .strings("location_code:in")
            .is_none_or(|codes| codes.iter().any(|c| c == "DEFAULT"))
        && params.bool("is_default").is_none_or(|d| d)
        && params.bool("is_active").is_none_or(|a| a);
    let data = if keep {
        vec![default_location(&state)]
    } else {
        Vec::new()
    };
    v3_page(data, paging)
}

/// `GET /v3/inventory/locations/{location_id}/items`.
async fn location_items(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
    req: HttpRequest,
) -> HttpResponse {
    let (hash, location) = path.into_inner();
    if location.parse::<i64>().ok() != Some(DEFAULT_LOCATION) {
        return v3_error(404, "Location not found");
    }
    let params = Params::parse(req.query_string());
    let state = lock(&shared);
    let paging = match Paging::from(&params, state.config.over_limit, MAX_ITEMS_LIMIT) {
        Ok(p) => p,
        Err((status, message)) => return v3_error(status, &message),
    };
    let filter = match ItemFilter::read(&params) {
        Ok(f) => f,
        Err(message) => return v3_error(400, &message),
    };
    let Some(store) = state.stores.get(&hash) else {
        return crate::guard::not_found("v3/inventory/locations");
    };
    let data: Vec<Value> = rows(store)
        .iter()
        .filter(|r| filter.keeps(r))
        .map(|r| {
            json!({
                "identity": identity(r),
                "available_to_sell": r.on_hand,
                "total_inventory_onhand": r.on_hand,
                "settings": settings(r),
            })
        })
        .collect();
    v3_page(data, paging)
}
