//! The Catalog API (v3): products, variants, categories and trees (bigcommerce-api.md §4),
//! plus the merchant's catalog actions under `/_sandbox/stores/{hash}/…`.
//!
//! Money and measures are JSON numbers, dates ISO 8601; lists use the v3 pagination envelope
//! (200 with `data: []` past the end). Batch writes validate every item before applying any.
//! Writes raise `store/product/*` and `store/sku/*` webhook events.

// Validation helpers short-circuit with the finished error answer; that path is cold, so the
// size of `HttpResponse` in `Err` does not matter.
#![allow(clippy::result_large_err)]

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::config::OverLimit;
use super::events;
use super::format::{
    iso8601, number, v3_error, v3_error_with, v3_one, v3_page, Paging, Params, MAX_LIMIT,
};
use super::model::{Category, Image, OptionValue, Product, Store, Tracking, Variant};
use super::server::{lock, Shared};

/// Most products one `PUT /v3/catalog/products` may carry.
pub const MAX_PRODUCT_BATCH: usize = 10;
/// Most variants one `PUT /v3/catalog/variants` may carry.
pub const MAX_VARIANT_BATCH: usize = 50;
/// Most ids one `DELETE /v3/catalog/products` may name.
pub const MAX_DELETE: usize = 250;
/// Page size when `include` has `options` or `modifiers`.
pub const OPTIONS_LIMIT: usize = 10;
/// Highest stock level; catalog writes clamp to it.
pub const MAX_INVENTORY: i64 = 2_147_483_647;

/// `type` of the batch 413 bodies (a relative path, as documented).
const BATCH_ERROR_TYPE: &str = "/api-docs/getting-started/api-status-codes";
const NOT_FOUND: &str = "The requested resource was not found.";
const INVALID_JSON: &str = "JSON data is missing or invalid";

/// A webhook event to raise once the store is released: `(scope, data)`.
type Raised = Vec<(&'static str, Value)>;

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

/// Registers this module's API routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/v3/catalog/products")
            .route(web::get().to(list_products))
            .route(web::post().to(create_product))
            .route(web::put().to(update_products))
            .route(web::delete().to(delete_products))
            .default_service(web::to(|| async {
                method_not_allowed("GET, POST, PUT, DELETE")
            })),
    )
    .service(
        web::resource("/v3/catalog/products/{id}")
            .route(web::get().to(get_product))
            .route(web::put().to(update_product))
            .route(web::delete().to(delete_product))
            .default_service(web::to(|| async { method_not_allowed("GET, PUT, DELETE") })),
    )
    .service(
        web::resource("/v3/catalog/products/{id}/variants")
            .route(web::get().to(list_product_variants))
            .route(web::post().to(create_product_variant))
            .default_service(web::to(|| async { method_not_allowed("GET, POST") })),
    )
    .service(
        web::resource("/v3/catalog/products/{id}/variants/{variant_id}")
            .route(web::get().to(get_product_variant))
            .route(web::put().to(update_product_variant))
            .default_service(web::to(|| async { method_not_allowed("GET, PUT") })),
    )
    .service(
        web::resource("/v3/catalog/products/{id}/images")
            .route(web::get().to(list_product_images))
            .default_service(web::to(|| async { method_not_allowed("GET") })),
    )
    .service(
        web::resource("/v3/catalog/variants")
            .route(web::get().to(list_variants))
            .route(web::put().to(update_variants))
            .default_service(web::to(|| async { method_not_allowed("GET, PUT") })),
    )
    .service(
        web::resource("/v3/catalog/trees")
            .route(web::get().to(list_trees))
            .default_service(web::to(|| async { method_not_allowed("GET") })),
    )
    .service(
        web::resource("/v3/catalog/trees/categories")
            .route(web::get().to(list_tree_categories))
            .default_service(web::to(|| async { method_not_allowed("GET") })),
    )
    .service(
        web::resource("/v3/catalog/categories")
            .route(web::get().to(list_categories))
            .default_service(web::to(|| async { method_not_allowed("GET") })),
    )
    .service(
        web::resource("/v3/catalog/categories/{id}")
            .route(web::get().to(get_category))
            .default_service(web::to(|| async { method_not_allowed("GET") })),
    )
    .service(
        web::resource("/v3/catalog/summary")
            .route(web::get().to(summary))
            .default_service(web::to(|| async { method_not_allowed("GET") })),
    );
}

/// Registers this module's merchant actions under `/_sandbox/`.
pub fn control_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/_sandbox/stores/{hash}/products").route(web::post().to(merchant_create)),
    )
    .service(
        web::resource("/_sandbox/stores/{hash}/products/{id}")
            .route(web::put().to(merchant_update))
            .route(web::delete().to(merchant_delete)),
    )
    .service(
        web::resource("/_sandbox/stores/{hash}/variants/{id}")
            .route(web::put().to(merchant_update_variant)),
    );
}

fn method_not_allowed(allow: &str) -> HttpResponse {
    let mut res = v3_error(405, "Method Not Allowed");
    if let Ok(value) = header::HeaderValue::from_str(allow) {
        res.headers_mut().insert(header::ALLOW, value);
    }
    res
}

fn not_found() -> HttpResponse {
    v3_error(404, NOT_FOUND)
}

/// The exact 413 body of the batch endpoints.
fn batch_too_large(max: usize, period: bool) -> HttpResponse {
    let title = format!(
        "The request payload is too large. The maximum items allowed in the array is {max}{}",
        if period { "." } else { "" }
    );
    HttpResponse::PayloadTooLarge().json(json!({
        "errors": {}, "status": 413, "title": title, "type": BATCH_ERROR_TYPE
    }))
}

fn conflict(title: &str, field: &str, message: String) -> HttpResponse {
    v3_error_with(409, title, json!({ field: message }))
}

fn filter_error(message: String) -> HttpResponse {
    v3_error(422, &message)
}

/// Emits the events collected while the store was borrowed.
fn raise(state: &mut super::model::SandboxState, hash: &str, raised: Raised) {
    for (scope, data) in raised {
        events::emit(state, hash, scope, data);
    }
}

fn parse_body(body: &[u8]) -> Result<Value, HttpResponse> {
    serde_json::from_slice(body).map_err(|_| v3_error(422, INVALID_JSON))
}

fn parse_id(raw: &str) -> Option<i64> {
    raw.trim().parse().ok()
}

/// A new `date_modified`: now (whole seconds), strictly after the previous value.
fn bump(old: DateTime<Utc>) -> DateTime<Utc> {
    let now = Utc::now().trunc_subsecs(0);
    if now > old {
        now
    } else {
        old + Duration::seconds(1)
    }
}

fn clamp_inventory(level: i64) -> i64 {
    level.clamp(0, MAX_INVENTORY)
}

// ---------------------------------------------------------------------------------------------
// Representations
// ---------------------------------------------------------------------------------------------

/// What a read asks for: `include` expansions and `include_fields` / `exclude_fields`.
#[derive(Clone, Debug, Default)]
struct View {
    variants: bool,
    images: bool,
    primary_image: bool,
    options: bool,
    modifiers: bool,
    custom_fields: bool,
    bulk_pricing_rules: bool,
    videos: bool,
    include_fields: Option<Vec<String>>,
    exclude_fields: Option<Vec<String>>,
}

impl View {
    fn read(params: &Params) -> Self {
        let include = params.strings("include").unwrap_or_default();
        let has = |name: &str| include.iter().any(|i| i == name);
        Self {
            variants: has("variants"),
            images: has("images"),
            primary_image: has("primary_image"),
            options: has("options"),
            modifiers: has("modifiers"),
            custom_fields: has("custom_fields"),
            bulk_pricing_rules: has("bulk_pricing_rules"),
            videos: has("videos"),
            include_fields: fields(params, "include_fields"),
            exclude_fields: fields(params, "exclude_fields"),
        }
    }

    /// `include=options|modifiers` limits pages to 10.
    fn page_cap(&self) -> Option<usize> {
        (self.options || self.modifiers).then_some(OPTIONS_LIMIT)
    }

    /// Applies `include_fields` / `exclude_fields`; `keep` names fields never dropped by
    /// `include_fields` (the identity and the `include` expansions).
    fn select(&self, mut value: Value, keep: &[&str]) -> Value {
        if let Value::Object(map) = &mut value {
            if let Some(only) = &self.include_fields {
                map.retain(|k, _| keep.contains(&k.as_str()) || only.iter().any(|f| f == k));
            }
            if let Some(without) = &self.exclude_fields {
                let identity = keep.first().copied().unwrap_or("id");
                map.retain(|k, _| k == identity || !without.iter().any(|f| f == k));
            }
        }
        value
    }
}

fn fields(params: &Params, key: &str) -> Option<Vec<String>> {
    params
        .strings(key)
        .map(|v| v.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>())
}

/// A URL slug of a name (`Classic Mug 1` → `classic-mug-1`).
fn slug(name: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            dash = false;
        } else if !out.is_empty() && !dash {
            out.push('-');
            dash = true;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

fn calculated_price(p: &Product) -> Decimal {
    if p.sale_price > Decimal::ZERO {
        p.sale_price
    } else {
        p.price
    }
}

fn tracking_name(t: Tracking) -> &'static str {
    match t {
        Tracking::None => "none",
        Tracking::Product => "product",
        Tracking::Variant => "variant",
    }
}

/// The base variant's id for products without options, else `None`.
fn base_variant_id(p: &Product) -> Option<i64> {
    if p.has_options() {
        None
    } else {
        p.variants.iter().find(|v| v.is_base()).map(|v| v.id)
    }
}

/// A product as `GET /v3/catalog/products` shows it.
fn product_json(p: &Product, view: &View) -> Value {
    let zero = number(Decimal::ZERO);
    let mut map = Map::new();
    let parts = [
        json!({
            "id": p.id,
            "name": p.name,
            "type": "physical",
            "sku": p.sku,
            "description": "",
            "weight": number(p.weight),
            "width": zero,
            "depth": zero,
            "height": zero,
            "price": number(p.price),
            "cost_price": number(p.cost_price),
            "retail_price": number(p.retail_price),
            "sale_price": number(p.sale_price),
            "map_price": zero,
            "tax_class_id": 0,
            "product_tax_code": "",
            "calculated_price": number(calculated_price(p)),
            "categories": p.categories,
            "brand_id": 0,
            "option_set_id": null,
            "option_set_display": "right",
        }),
        json!({
            "inventory_level": p.visible_inventory(),
            "inventory_warning_level": p.inventory_warning_level,
            "inventory_tracking": tracking_name(p.inventory_tracking),
            "reviews_rating_sum": 0,
            "reviews_count": 0,
            "total_sold": p.total_sold,
            "fixed_cost_shipping_price": zero,
            "is_free_shipping": false,
            "is_visible": p.is_visible,
            "is_featured": false,
            "related_products": [-1],
            "warranty": "",
            "bin_picking_number": "",
            "layout_file": "product.html",
            "upc": "",
            "mpn": "",
            "gtin": "",
            "search_keywords": "",
            "availability": "available",
            "availability_description": "",
            "gift_wrapping_options_type": "any",
            "gift_wrapping_options_list": [],
        }),
        json!({
            "sort_order": 0,
            "condition": "New",
            "is_condition_shown": false,
            "order_quantity_minimum": 0,
            "order_quantity_maximum": 0,
            "page_title": "",
            "meta_keywords": [],
            "meta_description": "",
            "date_created": iso8601(p.date_created),
            "date_modified": iso8601(p.date_modified),
            "view_count": 0,
            "preorder_release_date": null,
            "preorder_message": "",
            "is_preorder_only": false,
            "is_price_hidden": false,
            "price_hidden_label": "",
            "custom_url": { "url": format!("/{}/", slug(&p.name)), "is_customized": false },
            "base_variant_id": base_variant_id(p),
            "open_graph_type": "product",
            "open_graph_title": "",
            "open_graph_description": "",
            "open_graph_use_meta_description": true,
            "open_graph_use_product_name": true,
            "open_graph_use_image": true,
        }),
    ];
    for part in parts {
        if let Value::Object(m) = part {
            map.extend(m);
        }
    }
    let mut keep = vec!["id"];
    if view.variants {
        map.insert(
            "variants".into(),
            Value::Array(p.variants.iter().map(|v| variant_json(p, v)).collect()),
        );
        keep.push("variants");
    }
    if view.images {
        map.insert(
            "images".into(),
            Value::Array(p.images.iter().map(|i| image_json(p, i)).collect()),
        );
        keep.push("images");
    }
    if view.primary_image {
        map.insert("primary_image".into(), primary_image(p));
        keep.push("primary_image");
    }
    if view.options {
        map.insert("options".into(), Value::Array(options_json(p)));
        keep.push("options");
    }
    if view.modifiers {
        map.insert("modifiers".into(), json!([]));
        keep.push("modifiers");
    }
    if view.custom_fields {
        map.insert("custom_fields".into(), json!([]));
        keep.push("custom_fields");
    }
    if view.bulk_pricing_rules {
        map.insert("bulk_pricing_rules".into(), json!([]));
        keep.push("bulk_pricing_rules");
    }
    if view.videos {
        map.insert("videos".into(), json!([]));
        keep.push("videos");
    }
    view.select(Value::Object(map), &keep)
}

/// A variant's stock as the catalog shows it (location 1 only).
fn variant_inventory(p: &Product, v: &Variant) -> i64 {
    match p.inventory_tracking {
        Tracking::None => 0,
        Tracking::Product if v.is_base() => p.inventory_level,
        Tracking::Product => 0,
        Tracking::Variant => v.inventory_level,
    }
}

fn optional_number(d: Option<Decimal>) -> Value {
    d.map(number).unwrap_or(Value::Null)
}

/// A variant (§4.5); `null` prices and weights inherit the product's.
fn variant_json(p: &Product, v: &Variant) -> Value {
    let price = v.price.unwrap_or(p.price);
    let sale = v.sale_price.unwrap_or(p.sale_price);
    let calculated = if sale > Decimal::ZERO { sale } else { price };
    json!({
        "id": v.id,
        "product_id": p.id,
        "sku": v.sku,
        "sku_id": if v.is_base() { Value::Null } else { json!(v.id) },
        "price": optional_number(v.price),
        "calculated_price": number(calculated),
        "sale_price": optional_number(v.sale_price),
        "retail_price": null,
        "map_price": null,
        "cost_price": null,
        "weight": optional_number(v.weight),
        "calculated_weight": number(v.weight.unwrap_or(p.weight)),
        "width": null,
        "height": null,
        "depth": null,
        "is_free_shipping": false,
        "fixed_cost_shipping_price": null,
        "purchasing_disabled": false,
        "purchasing_disabled_message": "",
        "image_url": "",
        "upc": "",
        "mpn": "",
        "gtin": "",
        "bin_picking_number": "",
        "inventory_level": variant_inventory(p, v),
        "inventory_warning_level": p.inventory_warning_level,
        "option_values": v.option_values.iter().map(|o| json!({
            "id": o.id,
            "option_id": o.option_id,
            "label": o.label,
            "option_display_name": o.option_display_name,
        })).collect::<Vec<_>>(),
    })
}

/// An image URL resized the way the CDN spells it.
fn sized(url: &str, size: &str) -> String {
    match url.find("/products/") {
        Some(at) => format!("{}/stencil/{size}{}", &url[..at], &url[at..]),
        None => url.to_string(),
    }
}

fn image_json(p: &Product, i: &Image) -> Value {
    json!({
        "id": i.id,
        "product_id": p.id,
        "is_thumbnail": i.is_thumbnail,
        "sort_order": i.sort_order,
        "description": "",
        "image_file": i.url.rsplit('/').next().unwrap_or(""),
        "image_url": i.url,
        "url_zoom": sized(&i.url, "1280x1280"),
        "url_standard": sized(&i.url, "500x659"),
        "url_thumbnail": sized(&i.url, "100x100"),
        "url_tiny": sized(&i.url, "44x44"),
        "date_modified": iso8601(p.date_modified),
    })
}

fn primary_image(p: &Product) -> Value {
    p.images
        .iter()
        .find(|i| i.is_thumbnail)
        .or_else(|| p.images.first())
        .map(|i| image_json(p, i))
        .unwrap_or(Value::Null)
}

/// The product's variant options, derived from its variants' option values.
fn options_json(p: &Product) -> Vec<Value> {
    let mut order: Vec<i64> = Vec::new();
    let mut options: BTreeMap<i64, (String, Vec<(i64, String)>)> = BTreeMap::new();
    for v in &p.variants {
        for o in &v.option_values {
            let entry = options.entry(o.option_id).or_insert_with(|| {
                order.push(o.option_id);
                (o.option_display_name.clone(), Vec::new())
            });
            if !entry.1.iter().any(|(id, _)| *id == o.id) {
                entry.1.push((o.id, o.label.clone()));
            }
        }
    }
    order
        .iter()
        .enumerate()
        .filter_map(|(n, id)| {
            options.get(id).map(|(name, values)| {
                json!({
                    "id": id,
                    "product_id": p.id,
                    "name": format!("{name}{id}"),
                    "display_name": name,
                    "type": "rectangles",
                    "sort_order": n,
                    "config": {},
                    "option_values": values.iter().enumerate().map(|(k, (vid, label))| json!({
                        "id": vid,
                        "label": label,
                        "sort_order": k,
                        "value_data": null,
                        "is_default": false,
                    })).collect::<Vec<_>>(),
                })
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Lists: paging, filters, sorting
// ---------------------------------------------------------------------------------------------

fn paging(params: &Params, over: OverLimit, cap: Option<usize>) -> Result<Paging, HttpResponse> {
    let mut p = Paging::from(params, over, MAX_LIMIT).map_err(|(s, m)| v3_error(s, &m))?;
    if let Some(cap) = cap {
        p.limit = p.limit.min(cap);
    }
    Ok(p)
}

/// A page of `items`, rendering only the items on the page.
fn page<T>(items: &[T], paging: Paging, render: impl Fn(&T) -> Value) -> HttpResponse {
    let start = (paging.page - 1).saturating_mul(paging.limit);
    let end = start.saturating_add(paging.limit);
    let all = items
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if (start..end).contains(&i) {
                render(t)
            } else {
                Value::Null
            }
        })
        .collect();
    v3_page(all, paging)
}

type Pred<'a, T> = Box<dyn Fn(&T) -> bool + 'a>;
type Parse<V> = fn(&Params, &str) -> Result<Option<V>, String>;
type Compare<V> = fn(&V, &V) -> bool;

/// `key`, `key:min`, `key:max`, `key:greater`, `key:less`.
fn range_ops<'a, T: 'a, V: PartialOrd + Copy + 'a>(
    params: &Params,
    key: &str,
    parse: Parse<V>,
    get: fn(&T) -> V,
    preds: &mut Vec<Pred<'a, T>>,
) -> Result<(), String> {
    if let Some(v) = parse(params, key)? {
        preds.push(Box::new(move |t| get(t) == v));
    }
    let ops: [(&str, Compare<V>); 4] = [
        ("min", V::ge),
        ("max", V::le),
        ("greater", V::gt),
        ("less", V::lt),
    ];
    for (op, cmp) in ops {
        if let Some(v) = parse(params, &format!("{key}:{op}"))? {
            preds.push(Box::new(move |t| cmp(&get(t), &v)));
        }
    }
    Ok(())
}

/// `key:in`, `key:not_in` (CSV of integers).
fn in_ops<'a, T: 'a>(
    params: &Params,
    key: &str,
    get: fn(&T) -> i64,
    preds: &mut Vec<Pred<'a, T>>,
) -> Result<(), String> {
    if let Some(ids) = params.ints(&format!("{key}:in"))? {
        preds.push(Box::new(move |t| ids.contains(&get(t))));
    }
    if let Some(ids) = params.ints(&format!("{key}:not_in"))? {
        preds.push(Box::new(move |t| !ids.contains(&get(t))));
    }
    Ok(())
}

/// Both of the above for an integer field.
fn int_filters<'a, T: 'a>(
    params: &Params,
    key: &str,
    get: fn(&T) -> i64,
    preds: &mut Vec<Pred<'a, T>>,
) -> Result<(), String> {
    range_ops(params, key, Params::int, get, preds)?;
    in_ops(params, key, get, preds)
}

fn param_decimal(params: &Params, key: &str) -> Result<Option<Decimal>, String> {
    match params.get(key) {
        None => Ok(None),
        Some(v) => Decimal::from_str(v.trim())
            .or_else(|_| Decimal::from_scientific(v.trim()))
            .map(Some)
            .map_err(|_| format!("The field '{key}' is invalid.")),
    }
}

fn param_bool(params: &Params, key: &str) -> Result<Option<bool>, String> {
    match params.get(key).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(_) => Err(format!("The field '{key}' is invalid.")),
    }
}

/// `name` (exact) and `name:like` (contains, case-insensitive; `%` wildcards are ignored).
fn name_filters<'a, T: 'a>(params: &Params, get: fn(&T) -> &str, preds: &mut Vec<Pred<'a, T>>) {
    if let Some(name) = params.get("name").map(str::to_string) {
        preds.push(Box::new(move |t| get(t) == name));
    }
    if let Some(like) = params.get("name:like") {
        let like = like.replace('%', "").to_lowercase();
        preds.push(Box::new(move |t| get(t).to_lowercase().contains(&like)));
    }
}

fn has_sku(p: &Product, sku: &str) -> bool {
    p.sku == sku || p.variants.iter().any(|v| v.sku == sku)
}

/// The filters of `GET` and `DELETE /v3/catalog/products`.
fn product_filters(params: &Params) -> Result<Vec<Pred<'static, Product>>, String> {
    let mut preds: Vec<Pred<'static, Product>> = Vec::new();
    int_filters(params, "id", |p: &Product| p.id, &mut preds)?;
    name_filters(params, |p: &Product| p.name.as_str(), &mut preds);
    if let Some(sku) = params.get("sku").map(str::to_string) {
        preds.push(Box::new(move |p| has_sku(p, &sku)));
    }
    if let Some(skus) = params.strings("sku:in") {
        preds.push(Box::new(move |p| skus.iter().any(|s| has_sku(p, s))));
    }
    if let Some(keyword) = params.get("keyword") {
        let keyword = keyword.to_lowercase();
        preds.push(Box::new(move |p| {
            p.name.to_lowercase().contains(&keyword)
                || p.sku.to_lowercase().contains(&keyword)
                || p.variants
                    .iter()
                    .any(|v| v.sku.to_lowercase().contains(&keyword))
        }));
    }
    range_ops(
        params,
        "price",
        param_decimal,
        |p: &Product| p.price,
        &mut preds,
    )?;
    range_ops(
        params,
        "calculated_price",
        param_decimal,
        calculated_price,
        &mut preds,
    )?;
    range_ops(
        params,
        "weight",
        param_decimal,
        |p: &Product| p.weight,
        &mut preds,
    )?;
    if let Some(category) = params.int("categories")? {
        preds.push(Box::new(move |p| p.categories == [category]));
    }
    if let Some(ids) = params.ints("categories:in")? {
        preds.push(Box::new(move |p| {
            p.categories.iter().any(|c| ids.contains(c))
        }));
    }
    if let Some(visible) = param_bool(params, "is_visible")? {
        preds.push(Box::new(move |p| p.is_visible == visible));
    }
    if let Some(featured) = param_bool(params, "is_featured")? {
        preds.push(Box::new(move |_| !featured));
    }
    if let Some(free) = param_bool(params, "is_free_shipping")? {
        preds.push(Box::new(move |_| !free));
    }
    int_filters(
        params,
        "inventory_level",
        |p: &Product| p.visible_inventory(),
        &mut preds,
    )?;
    int_filters(params, "total_sold", |p: &Product| p.total_sold, &mut preds)?;
    if param_bool(params, "inventory_low")? == Some(true) {
        preds.push(Box::new(|p| {
            p.inventory_tracking != Tracking::None
                && p.visible_inventory() <= p.inventory_warning_level
        }));
    }
    if param_bool(params, "out_of_stock")? == Some(true) {
        preds.push(Box::new(|p| {
            p.inventory_tracking != Tracking::None && p.visible_inventory() <= 0
        }));
    }
    match params.get("type") {
        None | Some("physical") => {}
        Some("digital") => preds.push(Box::new(|_| false)),
        Some(_) => return Err("The field 'type' is invalid.".into()),
    }
    match params.get("availability") {
        None | Some("available") => {}
        Some("disabled" | "preorder") => preds.push(Box::new(|_| false)),
        Some(_) => return Err("The field 'availability' is invalid.".into()),
    }
    if let Some(brand) = params.int("brand_id")? {
        preds.push(Box::new(move |_| brand == 0));
    }
    range_ops(
        params,
        "date_modified",
        Params::date,
        |p: &Product| p.date_modified,
        &mut preds,
    )?;
    // `date_last_imported[:min|:max|:not]` and `channel_id:in` are accepted and ignored.
    Ok(preds)
}

fn sort_products(params: &Params, items: &mut [&Product]) -> Result<(), HttpResponse> {
    let desc = direction(params)?;
    let cmp: fn(&Product, &Product) -> Ordering = match params.get("sort").unwrap_or("id") {
        "id" | "date_last_imported" => |a, b| a.id.cmp(&b.id),
        "name" => |a, b| a.name.cmp(&b.name),
        "sku" => |a, b| a.sku.cmp(&b.sku),
        "price" => |a, b| a.price.cmp(&b.price),
        "calculated_price" => |a, b| calculated_price(a).cmp(&calculated_price(b)),
        "date_modified" => |a, b| a.date_modified.cmp(&b.date_modified),
        "inventory_level" => |a, b| a.visible_inventory().cmp(&b.visible_inventory()),
        "is_visible" => |a, b| a.is_visible.cmp(&b.is_visible),
        "total_sold" => |a, b| a.total_sold.cmp(&b.total_sold),
        other => {
            return Err(v3_error_with(
                422,
                "The field 'sort' is invalid.",
                json!({ "sort": format!("Sorting by '{other}' is not supported.") }),
            ))
        }
    };
    items.sort_by(|a, b| {
        let o = cmp(a, b).then(a.id.cmp(&b.id));
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    Ok(())
}

/// `direction=asc|desc` (`true` for descending).
fn direction(params: &Params) -> Result<bool, HttpResponse> {
    match params
        .get("direction")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("asc") => Ok(false),
        Some("desc") => Ok(true),
        Some(_) => Err(v3_error_with(
            422,
            "The field 'direction' is invalid.",
            json!({ "direction": "The direction must be asc or desc." }),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------------------------

/// Reads fields of a JSON object, collecting per-field errors.
struct Fields<'a> {
    obj: &'a Map<String, Value>,
    errors: Map<String, Value>,
}

fn decimal_of(v: &Value) -> Option<Decimal> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(Decimal::from(i));
    }
    let s = n.to_string();
    Decimal::from_str(&s)
        .or_else(|_| Decimal::from_scientific(&s))
        .ok()
}

/// An integer, saturating when out of range (`None` if not an integer).
fn int_of(v: &Value) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    if v.as_u64().is_some() {
        return Some(i64::MAX);
    }
    let f = v.as_f64()?;
    // `as` saturates at the bounds of i64.
    (f.fract() == 0.0).then_some(f as i64)
}

impl<'a> Fields<'a> {
    fn new(obj: &'a Map<String, Value>) -> Self {
        Self {
            obj,
            errors: Map::new(),
        }
    }

    fn error(&mut self, key: &str, message: impl Into<String>) {
        self.errors
            .entry(key.to_string())
            .or_insert_with(|| Value::String(message.into()));
    }

    fn present(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    fn string(&mut self, key: &str, max: usize, allow_empty: bool) -> Option<String> {
        let v = self.present(key)?;
        match v.as_str() {
            Some(s) if s.chars().count() > max => {
                self.error(key, format!("The {key} must be at most {max} characters."));
                None
            }
            Some(s) if s.trim().is_empty() && !allow_empty => {
                self.error(key, format!("Please provide a {key}."));
                None
            }
            Some(s) => Some(s.to_string()),
            None => {
                self.error(key, format!("The {key} must be a string."));
                None
            }
        }
    }

    fn money(&mut self, key: &str) -> Option<Decimal> {
        let v = self.present(key)?;
        match decimal_of(v) {
            Some(d) if d >= Decimal::ZERO => Some(d),
            Some(_) => {
                self.error(key, format!("The {key} must not be negative."));
                None
            }
            None => {
                self.error(key, format!("The {key} must be a number."));
                None
            }
        }
    }

    /// Absent: `None`; `null`: `Some(None)` (inherit); a number: `Some(Some(d))`.
    fn nullable_money(&mut self, key: &str) -> Option<Option<Decimal>> {
        match self.obj.get(key) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(_) => self.money(key).map(Some),
        }
    }

    fn int(&mut self, key: &str) -> Option<i64> {
        let v = self.present(key)?;
        let i = int_of(v);
        if i.is_none() {
            self.error(key, format!("The {key} must be an integer."));
        }
        i
    }

    fn bool(&mut self, key: &str) -> Option<bool> {
        let v = self.present(key)?;
        let b = v.as_bool();
        if b.is_none() {
            self.error(key, format!("The {key} must be a boolean."));
        }
        b
    }

    fn ints(&mut self, key: &str) -> Option<Vec<i64>> {
        let v = self.present(key)?;
        let list = v
            .as_array()
            .and_then(|a| a.iter().map(Value::as_i64).collect::<Option<Vec<_>>>());
        if list.is_none() {
            self.error(key, format!("The {key} must be an array of integers."));
        }
        list
    }

    fn tracking(&mut self, key: &str) -> Option<Tracking> {
        let v = self.present(key)?;
        match v.as_str() {
            Some("none") => Some(Tracking::None),
            Some("product") => Some(Tracking::Product),
            Some("variant") => Some(Tracking::Variant),
            _ => {
                self.error(
                    key,
                    "The inventory_tracking must be none, product or variant.",
                );
                None
            }
        }
    }

    fn product_type(&mut self) -> Option<String> {
        let v = self.present("type")?;
        match v.as_str() {
            Some(t @ ("physical" | "digital")) => Some(t.to_string()),
            _ => {
                self.error("type", "The type must be physical or digital.");
                None
            }
        }
    }
}

/// The writable fields of a product; `None` leaves a field unchanged.
#[derive(Clone, Debug, Default)]
struct ProductPatch {
    /// 0 for a product being created.
    id: i64,
    name: Option<String>,
    sku: Option<String>,
    price: Option<Decimal>,
    sale_price: Option<Decimal>,
    cost_price: Option<Decimal>,
    retail_price: Option<Decimal>,
    weight: Option<Decimal>,
    categories: Option<Vec<i64>>,
    is_visible: Option<bool>,
    inventory_level: Option<i64>,
    inventory_tracking: Option<Tracking>,
    inventory_warning_level: Option<i64>,
}

/// Reads a product body. Read-only and unknown fields are ignored.
fn product_patch(f: &mut Fields) -> ProductPatch {
    // `type` is validated but not stored: every sandbox product is physical.
    let _ = f.product_type();
    ProductPatch {
        id: 0,
        name: f.string("name", 250, false),
        sku: f.string("sku", 255, true),
        price: f.money("price"),
        sale_price: f.money("sale_price"),
        cost_price: f.money("cost_price"),
        retail_price: f.money("retail_price"),
        weight: f.money("weight"),
        categories: f.ints("categories"),
        is_visible: f.bool("is_visible"),
        inventory_level: f.int("inventory_level").map(clamp_inventory),
        inventory_tracking: f.tracking("inventory_tracking"),
        inventory_warning_level: f.int("inventory_warning_level").map(clamp_inventory),
    }
}

fn invalid(errors: Map<String, Value>) -> HttpResponse {
    v3_error_with(422, INVALID_JSON, Value::Object(errors))
}

/// Whether `sku` is used by anything other than product `owner` (with its base variant) or
/// variant `owner_variant`.
fn sku_in_use(store: &Store, sku: &str, owner: i64, owner_variant: Option<i64>) -> bool {
    store.products.values().any(|q| {
        (q.id != owner && q.sku == sku)
            || q.variants.iter().any(|v| {
                Some(v.id) != owner_variant && !(q.id == owner && v.is_base()) && v.sku == sku
            })
    })
}

/// Validates product patches against the store (and each other) without changing anything.
fn check_products(store: &Store, patches: &[ProductPatch]) -> Result<(), HttpResponse> {
    for patch in patches {
        if patch.id != 0 && !store.products.contains_key(&patch.id) {
            return Err(v3_error_with(
                404,
                NOT_FOUND,
                json!({ "id": format!("Product with id {} was not found.", patch.id) }),
            ));
        }
    }
    for patch in patches {
        if let Some(categories) = &patch.categories {
            if let Some(bad) = categories
                .iter()
                .find(|c| !store.categories.iter().any(|k| k.id == **c))
            {
                return Err(conflict(
                    "A category does not exist.",
                    "categories",
                    format!("Category {bad} does not exist."),
                ));
            }
        }
        if let Some(name) = &patch.name {
            let taken = store
                .products
                .values()
                .any(|q| q.id != patch.id && q.name == *name)
                || patches
                    .iter()
                    .any(|o| o.id != patch.id && o.name.as_deref() == Some(name));
            if taken {
                return Err(conflict(
                    "The product name is a duplicate.",
                    "name",
                    format!("A product named '{name}' already exists."),
                ));
            }
        }
        if let Some(sku) = patch.sku.as_deref().filter(|s| !s.is_empty()) {
            let taken = sku_in_use(store, sku, patch.id, None)
                || patches
                    .iter()
                    .any(|o| o.id != patch.id && o.sku.as_deref() == Some(sku));
            if taken {
                return Err(conflict(
                    "The SKU is a duplicate.",
                    "sku",
                    format!("The SKU '{sku}' is already in use."),
                ));
            }
        }
    }
    Ok(())
}

fn product_inventory_event(p: &Product) -> (&'static str, Value) {
    (
        "store/product/inventory/updated",
        json!({
            "type": "product",
            "id": p.id,
            "inventory": { "product_id": p.id, "method": "absolute", "value": p.inventory_level },
        }),
    )
}

fn sku_inventory_event(pid: i64, v: &Variant) -> (&'static str, Value) {
    (
        "store/sku/inventory/updated",
        json!({
            "type": "sku",
            "id": v.id,
            "inventory": {
                "product_id": pid,
                "method": "absolute",
                "value": v.inventory_level,
                "variant_id": v.id,
            },
        }),
    )
}

/// Applies a checked patch; raises `store/product/updated` and, when the stock moved,
/// `store/product/inventory/updated`.
fn apply_product(p: &mut Product, patch: &ProductPatch, raised: &mut Raised) {
    let before = (p.inventory_tracking, p.visible_inventory());
    if let Some(name) = &patch.name {
        p.name.clone_from(name);
    }
    if let Some(sku) = &patch.sku {
        p.sku.clone_from(sku);
        if !p.has_options() {
            for v in p.variants.iter_mut().filter(|v| v.is_base()) {
                v.sku.clone_from(sku);
            }
        }
    }
    let money = [
        (patch.price, &mut p.price),
        (patch.sale_price, &mut p.sale_price),
        (patch.cost_price, &mut p.cost_price),
        (patch.retail_price, &mut p.retail_price),
        (patch.weight, &mut p.weight),
    ];
    for (value, field) in money {
        if let Some(v) = value {
            *field = v;
        }
    }
    if let Some(categories) = &patch.categories {
        p.categories.clone_from(categories);
    }
    if let Some(visible) = patch.is_visible {
        p.is_visible = visible;
    }
    if let Some(tracking) = patch.inventory_tracking {
        p.inventory_tracking = tracking;
    }
    if let Some(level) = patch.inventory_warning_level {
        p.inventory_warning_level = level;
    }
    // Catalog stock writes only apply to product-level tracking; otherwise they are ignored.
    if let Some(level) = patch.inventory_level {
        if p.inventory_tracking == Tracking::Product {
            p.inventory_level = level;
        }
    }
    p.date_modified = bump(p.date_modified);
    raised.push((
        "store/product/updated",
        json!({ "type": "product", "id": p.id }),
    ));
    if p.inventory_tracking == Tracking::Product
        && (before.0, before.1) != (Tracking::Product, p.visible_inventory())
    {
        raised.push(product_inventory_event(p));
    }
}

/// Parses, checks and applies product patches (all or nothing). `Ok` holds the product ids.
fn update_many(
    state: &mut super::model::SandboxState,
    hash: &str,
    patches: &[ProductPatch],
) -> Result<Vec<i64>, HttpResponse> {
    let mut raised = Raised::new();
    let ids = {
        let Some(store) = state.stores.get_mut(hash) else {
            return Err(not_found());
        };
        check_products(store, patches)?;
        for patch in patches {
            if let Some(p) = store.products.get_mut(&patch.id) {
                apply_product(p, patch, &mut raised);
            }
        }
        patches.iter().map(|p| p.id).collect()
    };
    raise(state, hash, raised);
    Ok(ids)
}

// ---------------------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------------------

/// `GET /v3/catalog/products`.
async fn list_products(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let hash = path.into_inner();
    let params = Params::parse(req.query_string());
    let view = View::read(&params);
    let state = lock(&shared);
    let paging = match paging(&params, state.config.over_limit, view.page_cap()) {
        Ok(p) => p,
        Err(res) => return res,
    };
    let preds = match product_filters(&params) {
        Ok(p) => p,
        Err(message) => return filter_error(message),
    };
    let Some(store) = state.stores.get(&hash) else {
        return not_found();
    };
    let mut items: Vec<&Product> = store
        .products
        .values()
        .filter(|p| preds.iter().all(|f| f(p)))
        .collect();
    if let Err(res) = sort_products(&params, &mut items) {
        return res;
    }
    page(&items, paging, |p| product_json(p, &view))
}

/// `GET /v3/catalog/products/{id}`.
async fn get_product(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let view = View::read(&Params::parse(req.query_string()));
    let state = lock(&shared);
    match parse_id(&id).and_then(|id| state.stores.get(&hash)?.products.get(&id)) {
        Some(p) => v3_one(product_json(p, &view)),
        None => not_found(),
    }
}

/// Renders products by id after a write.
fn products_data(
    state: &super::model::SandboxState,
    hash: &str,
    ids: &[i64],
    view: &View,
) -> Vec<Value> {
    state
        .stores
        .get(hash)
        .map(|s| {
            ids.iter()
                .filter_map(|id| s.products.get(id))
                .map(|p| product_json(p, view))
                .collect()
        })
        .unwrap_or_default()
}

/// `PUT /v3/catalog/products/{id}`.
async fn update_product(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let view = View::read(&Params::parse(req.query_string()));
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(res) => return res,
    };
    let Some(obj) = body.as_object() else {
        return v3_error(422, INVALID_JSON);
    };
    let mut fields = Fields::new(obj);
    let mut patch = product_patch(&mut fields);
    if !fields.errors.is_empty() {
        return invalid(fields.errors);
    }
    patch.id = id;
    let mut state = lock(&shared);
    match update_many(&mut state, &hash, &[patch]) {
        Ok(ids) => match products_data(&state, &hash, &ids, &view).pop() {
            Some(p) => v3_one(p),
            None => not_found(),
        },
        Err(res) => res,
    }
}

/// `PUT /v3/catalog/products`: up to 10 products, each with its `id`.
async fn update_products(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let hash = path.into_inner();
    let view = View::read(&Params::parse(req.query_string()));
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(res) => return res,
    };
    let Some(items) = body.as_array() else {
        return v3_error_with(
            422,
            INVALID_JSON,
            json!({ "body": "The request body must be an array of products." }),
        );
    };
    if items.len() > MAX_PRODUCT_BATCH {
        return batch_too_large(MAX_PRODUCT_BATCH, true);
    }
    let mut patches = Vec::with_capacity(items.len());
    let mut errors = Map::new();
    for (index, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            errors.insert(
                format!("{index}"),
                json!("Please provide a product object."),
            );
            continue;
        };
        let mut fields = Fields::new(obj);
        let id = fields.int("id");
        let mut patch = product_patch(&mut fields);
        if id.is_none() && !fields.errors.contains_key("id") {
            fields.error("id", "Please provide an id.");
        }
        for (k, v) in fields.errors {
            errors.insert(format!("{index}.{k}"), v);
        }
        patch.id = id.unwrap_or(0);
        patches.push(patch);
    }
    if !errors.is_empty() {
        return invalid(errors);
    }
    let mut state = lock(&shared);
    match update_many(&mut state, &hash, &patches) {
        Ok(ids) => HttpResponse::Ok().json(json!({
            "data": products_data(&state, &hash, &ids, &view),
            "meta": {},
        })),
        Err(res) => res,
    }
}

/// A variant to create with a new product.
#[derive(Clone, Debug, Default)]
struct NewVariant {
    sku: String,
    price: Option<Decimal>,
    sale_price: Option<Decimal>,
    weight: Option<Decimal>,
    inventory_level: i64,
    /// `(option_display_name, label)`.
    options: Vec<(String, String)>,
}

/// Creates a product from a checked patch and variants (a base variant when none have
/// options). Raises `store/product/created`.
fn create(
    store: &mut Store,
    patch: &ProductPatch,
    variants: &[NewVariant],
    raised: &mut Raised,
) -> i64 {
    let id = store.new_id();
    let now = Utc::now().trunc_subsecs(0);
    let with_options = variants.iter().any(|v| !v.options.is_empty());
    let tracking = patch.inventory_tracking.unwrap_or(if with_options {
        Tracking::Variant
    } else {
        Tracking::None
    });
    let base_sku = patch
        .sku
        .clone()
        .or_else(|| {
            variants
                .first()
                .filter(|_| !with_options)
                .map(|v| v.sku.clone())
        })
        .unwrap_or_default();
    let mut product = Product {
        id,
        name: patch
            .name
            .clone()
            .unwrap_or_else(|| format!("Product {id}")),
        sku: base_sku.clone(),
        price: patch.price.unwrap_or_default(),
        sale_price: patch.sale_price.unwrap_or_default(),
        cost_price: patch.cost_price.unwrap_or_default(),
        retail_price: patch.retail_price.unwrap_or_default(),
        weight: patch.weight.unwrap_or_default(),
        categories: patch.categories.clone().unwrap_or_default(),
        inventory_tracking: tracking,
        inventory_level: 0,
        inventory_warning_level: patch.inventory_warning_level.unwrap_or(0),
        is_visible: patch.is_visible.unwrap_or(true),
        total_sold: 0,
        images: Vec::new(),
        variants: Vec::new(),
        date_created: now,
        date_modified: now,
    };
    if tracking == Tracking::Product {
        product.inventory_level = patch
            .inventory_level
            .or_else(|| variants.first().map(|v| v.inventory_level))
            .unwrap_or(0);
    }
    if with_options {
        let mut option_ids: BTreeMap<String, i64> = BTreeMap::new();
        let mut value_ids: BTreeMap<(String, String), i64> = BTreeMap::new();
        for nv in variants {
            let mut option_values = Vec::new();
            for (display, label) in &nv.options {
                let option_id = match option_ids.get(display) {
                    Some(o) => *o,
                    None => {
                        let o = store.new_id();
                        option_ids.insert(display.clone(), o);
                        o
                    }
                };
                let key = (display.clone(), label.clone());
                let value_id = match value_ids.get(&key) {
                    Some(v) => *v,
                    None => {
                        let v = store.new_id();
                        value_ids.insert(key, v);
                        v
                    }
                };
                option_values.push(OptionValue {
                    id: value_id,
                    option_id,
                    label: label.clone(),
                    option_display_name: display.clone(),
                });
            }
            let vid = store.new_id();
            product.variants.push(Variant {
                id: vid,
                product_id: id,
                sku: nv.sku.clone(),
                price: nv.price,
                sale_price: nv.sale_price,
                weight: nv.weight,
                inventory_level: clamp_inventory(nv.inventory_level),
                option_values,
            });
        }
    } else {
        let base = variants.first();
        let vid = store.new_id();
        product.variants.push(Variant {
            id: vid,
            product_id: id,
            sku: base_sku,
            price: base.and_then(|v| v.price),
            sale_price: base.and_then(|v| v.sale_price),
            weight: base.and_then(|v| v.weight),
            inventory_level: base
                .map(|v| clamp_inventory(v.inventory_level))
                .unwrap_or(0),
            option_values: Vec::new(),
        });
    }
    raised.push((
        "store/product/created",
        json!({ "type": "product", "id": id }),
    ));
    for v in product.variants.iter().filter(|v| !v.is_base()) {
        raised.push((
            "store/sku/created",
            json!({ "type": "sku", "id": v.id, "sku": { "product_id": id, "variant_id": v.id } }),
        ));
    }
    store.products.insert(id, product);
    id
}

/// Reads the nested `variants` of `POST /v3/catalog/products`.
fn new_variants(f: &mut Fields) -> Vec<NewVariant> {
    let Some(list) = f.present("variants") else {
        return Vec::new();
    };
    let Some(list) = list.as_array() else {
        f.error("variants", "The variants must be an array.");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (index, item) in list.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            f.error(
                &format!("variants.{index}"),
                "Please provide a variant object.",
            );
            continue;
        };
        let mut vf = Fields::new(obj);
        let sku = vf.string("sku", 255, false);
        if sku.is_none() {
            vf.error("sku", "Please provide a sku.");
        }
        let mut options = Vec::new();
        if let Some(values) = vf.present("option_values") {
            match values.as_array() {
                Some(values) => {
                    for value in values {
                        let display = value.get("option_display_name").and_then(Value::as_str);
                        let label = value.get("label").and_then(Value::as_str);
                        match (display, label) {
                            (Some(d), Some(l)) if !d.is_empty() && !l.is_empty() => {
                                options.push((d.to_string(), l.to_string()))
                            }
                            _ => vf.error(
                                "option_values",
                                "Each option value needs an option_display_name and a label.",
                            ),
                        }
                    }
                }
                None => vf.error("option_values", "The option_values must be an array."),
            }
        }
        let variant = NewVariant {
            sku: sku.unwrap_or_default(),
            price: vf.money("price"),
            sale_price: vf.money("sale_price"),
            weight: vf.money("weight"),
            inventory_level: vf.int("inventory_level").map(clamp_inventory).unwrap_or(0),
            options,
        };
        for (k, v) in vf.errors {
            f.errors.insert(format!("variants.{index}.{k}"), v);
        }
        out.push(variant);
    }
    let with_options = out.iter().filter(|v| !v.options.is_empty()).count();
    if (with_options > 0 && with_options < out.len()) || (with_options == 0 && out.len() > 1) {
        f.error(
            "variants",
            "Every variant of a product with several variants needs option_values.",
        );
    }
    let mut skus = BTreeSet::new();
    if out.iter().any(|v| !skus.insert(v.sku.as_str())) {
        f.error("variants", "The variants' SKUs must be unique.");
    }
    out
}

/// Checks the SKUs of new variants against the store.
fn check_new_variants(
    store: &Store,
    variants: &[NewVariant],
    product_sku: Option<&str>,
) -> Result<(), HttpResponse> {
    for v in variants {
        if sku_in_use(store, &v.sku, 0, None)
            || (product_sku == Some(v.sku.as_str()) && variants.len() > 1)
        {
            return Err(conflict(
                "The SKU is a duplicate.",
                "sku",
                format!("The SKU '{}' is already in use.", v.sku),
            ));
        }
    }
    Ok(())
}

/// `POST /v3/catalog/products`: one product (BigCommerce answers 200 with the envelope).
async fn create_product(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let hash = path.into_inner();
    let mut view = View::read(&Params::parse(req.query_string()));
    view.variants = true;
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(res) => return res,
    };
    let Some(obj) = body.as_object() else {
        return v3_error(422, INVALID_JSON);
    };
    let mut missing = Map::new();
    for (key, message) in [
        ("name", "Please provide a name."),
        ("price", "Please provide a price."),
        ("type", "Please provide a type."),
        ("weight", "Please provide a weight."),
    ] {
        if obj.get(key).is_none_or(Value::is_null) {
            missing.insert(key.into(), json!(message));
        }
    }
    if !missing.is_empty() {
        return v3_error_with(422, "Missing Required Fields", Value::Object(missing));
    }
    let mut fields = Fields::new(obj);
    let patch = product_patch(&mut fields);
    let variants = new_variants(&mut fields);
    if !fields.errors.is_empty() {
        return invalid(fields.errors);
    }
    let mut state = lock(&shared);
    let mut raised = Raised::new();
    let id = {
        let Some(store) = state.stores.get_mut(&hash) else {
            return not_found();
        };
        if let Err(res) = check_products(store, std::slice::from_ref(&patch))
            .and_then(|()| check_new_variants(store, &variants, patch.sku.as_deref()))
        {
            return res;
        }
        create(store, &patch, &variants, &mut raised)
    };
    raise(&mut state, &hash, raised);
    match products_data(&state, &hash, &[id], &view).pop() {
        Some(p) => v3_one(p),
        None => not_found(),
    }
}

/// Deletes products; raises `store/product/deleted` for each.
fn delete_ids(state: &mut super::model::SandboxState, hash: &str, ids: &[i64]) -> usize {
    let mut raised = Raised::new();
    if let Some(store) = state.stores.get_mut(hash) {
        for id in ids {
            if store.products.remove(id).is_some() {
                raised.push((
                    "store/product/deleted",
                    json!({ "type": "product", "id": id }),
                ));
            }
        }
    }
    let n = raised.len();
    raise(state, hash, raised);
    n
}

/// `DELETE /v3/catalog/products?id:in=…`: needs a filter; at most 250 ids.
async fn delete_products(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let hash = path.into_inner();
    let params = Params::parse(req.query_string());
    let preds = match product_filters(&params) {
        Ok(p) => p,
        Err(message) => return filter_error(message),
    };
    if preds.is_empty() {
        return v3_error_with(
            422,
            "A filter is required to delete products.",
            json!({ "filter": "Please provide a filter such as id:in." }),
        );
    }
    if params
        .ints("id:in")
        .ok()
        .flatten()
        .is_some_and(|ids| ids.len() > MAX_DELETE)
    {
        return v3_error(
            413,
            &format!("The maximum number of ids allowed is {MAX_DELETE}."),
        );
    }
    let mut state = lock(&shared);
    let ids: Vec<i64> = match state.stores.get(&hash) {
        Some(store) => store
            .products
            .values()
            .filter(|p| preds.iter().all(|f| f(p)))
            .map(|p| p.id)
            .collect(),
        None => return not_found(),
    };
    delete_ids(&mut state, &hash, &ids);
    HttpResponse::NoContent().finish()
}

/// `DELETE /v3/catalog/products/{id}`.
async fn delete_product(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    if delete_ids(&mut lock(&shared), &hash, &[id]) == 0 {
        return not_found();
    }
    HttpResponse::NoContent().finish()
}

/// `GET /v3/catalog/products/{id}/images`.
async fn list_product_images(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let params = Params::parse(req.query_string());
    let state = lock(&shared);
    let paging = match paging(&params, state.config.over_limit, None) {
        Ok(p) => p,
        Err(res) => return res,
    };
    let Some(p) = parse_id(&id).and_then(|id| state.stores.get(&hash)?.products.get(&id)) else {
        return not_found();
    };
    page(&p.images, paging, |i| image_json(p, i))
}

// ---------------------------------------------------------------------------------------------
// Variants
// ---------------------------------------------------------------------------------------------

/// A reference to an option value in a variant write.
#[derive(Clone, Debug, Default)]
struct OptionRef {
    id: Option<i64>,
    option_id: Option<i64>,
    label: Option<String>,
    option_display_name: Option<String>,
}

/// The writable fields of a variant; without `id` it is a variant to create.
#[derive(Clone, Debug, Default)]
struct VariantPatch {
    id: Option<i64>,
    product_id: Option<i64>,
    sku: Option<String>,
    price: Option<Option<Decimal>>,
    sale_price: Option<Option<Decimal>>,
    weight: Option<Option<Decimal>>,
    inventory_level: Option<i64>,
    option_values: Option<Vec<OptionRef>>,
}

fn variant_patch(f: &mut Fields) -> VariantPatch {
    let option_values = f.present("option_values").and_then(|v| match v.as_array() {
        Some(list) => Some(
            list.iter()
                .map(|o| OptionRef {
                    id: o.get("id").and_then(Value::as_i64),
                    option_id: o.get("option_id").and_then(Value::as_i64),
                    label: o.get("label").and_then(Value::as_str).map(str::to_string),
                    option_display_name: o
                        .get("option_display_name")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                })
                .collect(),
        ),
        None => {
            f.error("option_values", "The option_values must be an array.");
            None
        }
    });
    VariantPatch {
        id: f.int("id"),
        product_id: f.int("product_id"),
        sku: f.string("sku", 255, false),
        price: f.nullable_money("price"),
        sale_price: f.nullable_money("sale_price"),
        weight: f.nullable_money("weight"),
        inventory_level: f.int("inventory_level").map(clamp_inventory),
        option_values,
    }
}

/// A checked variant write.
#[derive(Clone, Debug)]
enum VariantOp {
    Update {
        product_id: i64,
        patch: VariantPatch,
    },
    Create {
        product_id: i64,
        patch: VariantPatch,
    },
}

/// Validates variant writes without changing anything.
fn check_variants(
    store: &Store,
    patches: Vec<VariantPatch>,
) -> Result<Vec<VariantOp>, HttpResponse> {
    let mut ops = Vec::with_capacity(patches.len());
    for (index, patch) in patches.into_iter().enumerate() {
        match patch.id {
            Some(vid) => {
                let Some((pid, _)) = store.find_variant(vid) else {
                    return Err(v3_error_with(
                        404,
                        NOT_FOUND,
                        json!({ "id": format!("Variant with id {vid} was not found.") }),
                    ));
                };
                ops.push(VariantOp::Update {
                    product_id: pid,
                    patch,
                });
            }
            None => {
                let mut errors = Map::new();
                if patch.product_id.is_none() {
                    errors.insert(
                        format!("{index}.product_id"),
                        json!("Please provide a product_id."),
                    );
                }
                if patch.sku.is_none() {
                    errors.insert(format!("{index}.sku"), json!("Please provide a sku."));
                }
                if patch.option_values.as_ref().is_none_or(Vec::is_empty) {
                    errors.insert(
                        format!("{index}.option_values"),
                        json!("Please provide option_values."),
                    );
                }
                if !errors.is_empty() {
                    return Err(v3_error_with(
                        422,
                        "Missing Required Fields",
                        Value::Object(errors),
                    ));
                }
                let pid = patch.product_id.unwrap_or(0);
                let Some(product) = store.products.get(&pid) else {
                    return Err(v3_error_with(
                        404,
                        NOT_FOUND,
                        json!({ "product_id": format!("Product with id {pid} was not found.") }),
                    ));
                };
                for o in patch.option_values.iter().flatten() {
                    let known = o.id.is_some_and(|id| {
                        product
                            .variants
                            .iter()
                            .flat_map(|v| &v.option_values)
                            .any(|k| k.id == id && o.option_id.is_none_or(|oid| oid == k.option_id))
                    });
                    let named = o.label.as_deref().is_some_and(|l| !l.is_empty())
                        && o.option_display_name
                            .as_deref()
                            .is_some_and(|d| !d.is_empty());
                    if !known && !named {
                        return Err(v3_error_with(
                            422,
                            INVALID_JSON,
                            json!({ format!("{index}.option_values"): "An option value does not exist on this product." }),
                        ));
                    }
                }
                ops.push(VariantOp::Create {
                    product_id: pid,
                    patch,
                });
            }
        }
    }
    let mut seen = BTreeSet::new();
    for op in &ops {
        let (owner, variant, sku) = match op {
            VariantOp::Update { product_id, patch } => {
                (*product_id, patch.id, patch.sku.as_deref())
            }
            VariantOp::Create { patch, .. } => (0, None, patch.sku.as_deref()),
        };
        let Some(sku) = sku else { continue };
        if !seen.insert(sku) || sku_in_use(store, sku, owner, variant) {
            return Err(conflict(
                "The SKU is a duplicate.",
                "sku",
                format!("The SKU '{sku}' is already in use."),
            ));
        }
    }
    Ok(ops)
}

/// Applies one variant update; raises the stock events when the stock moved.
fn apply_variant_update(p: &mut Product, patch: &VariantPatch, raised: &mut Raised) -> Option<i64> {
    let vid = patch.id?;
    let tracking = p.inventory_tracking;
    let has_options = p.has_options();
    let pid = p.id;
    let v = p.variants.iter_mut().find(|v| v.id == vid)?;
    if let Some(sku) = &patch.sku {
        v.sku.clone_from(sku);
    }
    if let Some(price) = patch.price {
        v.price = price;
    }
    if let Some(sale) = patch.sale_price {
        v.sale_price = sale;
    }
    if let Some(weight) = patch.weight {
        v.weight = weight;
    }
    let base = v.is_base();
    let mut product_stock = None;
    if let Some(level) = patch.inventory_level {
        match tracking {
            Tracking::Variant if v.inventory_level != level => {
                v.inventory_level = level;
                raised.push(sku_inventory_event(pid, v));
            }
            Tracking::Product if base => product_stock = Some(level),
            _ => {}
        }
    }
    raised.push((
        "store/sku/updated",
        json!({ "type": "sku", "id": vid, "sku": { "product_id": pid, "variant_id": vid } }),
    ));
    if base && !has_options {
        if let Some(sku) = &patch.sku {
            p.sku.clone_from(sku);
        }
    }
    if let Some(level) = product_stock {
        if p.inventory_level != level {
            p.inventory_level = level;
            raised.push(product_inventory_event(p));
        }
    }
    p.date_modified = bump(p.date_modified);
    Some(vid)
}

/// Creates one variant from a checked patch; a product's base variant gives way to it.
fn apply_variant_create(
    store: &mut Store,
    pid: i64,
    patch: &VariantPatch,
    raised: &mut Raised,
) -> Option<i64> {
    let existing: Vec<OptionValue> = store
        .products
        .get(&pid)?
        .variants
        .iter()
        .flat_map(|v| v.option_values.iter().cloned())
        .collect();
    let mut values = Vec::new();
    for o in patch.option_values.iter().flatten() {
        if let Some(k) = o.id.and_then(|id| existing.iter().find(|k| k.id == id)) {
            values.push(k.clone());
            continue;
        }
        let (Some(label), Some(display)) = (&o.label, &o.option_display_name) else {
            continue;
        };
        let option_id = match existing
            .iter()
            .chain(values.iter())
            .find(|k| k.option_display_name == *display)
        {
            Some(k) => k.option_id,
            None => store.new_id(),
        };
        let value_id = match existing
            .iter()
            .find(|k| k.option_id == option_id && k.label == *label)
        {
            Some(k) => k.id,
            None => store.new_id(),
        };
        values.push(OptionValue {
            id: value_id,
            option_id,
            label: label.clone(),
            option_display_name: display.clone(),
        });
    }
    let vid = store.new_id();
    let p = store.products.get_mut(&pid)?;
    p.variants.retain(|v| !v.is_base());
    let variant = Variant {
        id: vid,
        product_id: pid,
        sku: patch.sku.clone().unwrap_or_default(),
        price: patch.price.flatten(),
        sale_price: patch.sale_price.flatten(),
        weight: patch.weight.flatten(),
        inventory_level: patch.inventory_level.unwrap_or(0),
        option_values: values,
    };
    raised.push((
        "store/sku/created",
        json!({ "type": "sku", "id": vid, "sku": { "product_id": pid, "variant_id": vid } }),
    ));
    if p.inventory_tracking == Tracking::Variant && variant.inventory_level != 0 {
        raised.push(sku_inventory_event(pid, &variant));
    }
    p.variants.push(variant);
    p.date_modified = bump(p.date_modified);
    Some(vid)
}

/// Checks and applies variant writes (all or nothing). `Ok` holds the rendered variants.
fn write_variants(
    state: &mut super::model::SandboxState,
    hash: &str,
    patches: Vec<VariantPatch>,
    view: &View,
) -> Result<Vec<Value>, HttpResponse> {
    let mut raised = Raised::new();
    let data = {
        let Some(store) = state.stores.get_mut(hash) else {
            return Err(not_found());
        };
        let ops = check_variants(store, patches)?;
        let mut done = Vec::new();
        for op in &ops {
            let written = match op {
                VariantOp::Update { product_id, patch } => store
                    .products
                    .get_mut(product_id)
                    .and_then(|p| apply_variant_update(p, patch, &mut raised)),
                VariantOp::Create { product_id, patch } => {
                    apply_variant_create(store, *product_id, patch, &mut raised)
                }
            };
            done.extend(written);
        }
        done.iter()
            .filter_map(|vid| {
                let (pid, i) = store.find_variant(*vid)?;
                let p = store.products.get(&pid)?;
                p.variants
                    .get(i)
                    .map(|v| view.select(variant_json(p, v), &["id"]))
            })
            .collect()
    };
    raise(state, hash, raised);
    Ok(data)
}

/// `GET /v3/catalog/products/{id}/variants`.
async fn list_product_variants(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let params = Params::parse(req.query_string());
    let view = View::read(&params);
    let state = lock(&shared);
    let paging = match paging(&params, state.config.over_limit, None) {
        Ok(p) => p,
        Err(res) => return res,
    };
    let Some(p) = parse_id(&id).and_then(|id| state.stores.get(&hash)?.products.get(&id)) else {
        return not_found();
    };
    page(&p.variants, paging, |v| {
        view.select(variant_json(p, v), &["id"])
    })
}

/// `GET /v3/catalog/products/{id}/variants/{variant_id}`.
async fn get_product_variant(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id, vid) = path.into_inner();
    let view = View::read(&Params::parse(req.query_string()));
    let state = lock(&shared);
    let found = parse_id(&id).zip(parse_id(&vid)).and_then(|(id, vid)| {
        let p = state.stores.get(&hash)?.products.get(&id)?;
        p.variants.iter().find(|v| v.id == vid).map(|v| (p, v))
    });
    match found {
        Some((p, v)) => v3_one(view.select(variant_json(p, v), &["id"])),
        None => not_found(),
    }
}

fn read_variant_body(body: &[u8]) -> Result<VariantPatch, HttpResponse> {
    let body = parse_body(body)?;
    let Some(obj) = body.as_object() else {
        return Err(v3_error(422, INVALID_JSON));
    };
    let mut fields = Fields::new(obj);
    let patch = variant_patch(&mut fields);
    if fields.errors.is_empty() {
        Ok(patch)
    } else {
        Err(invalid(fields.errors))
    }
}

/// `PUT /v3/catalog/products/{id}/variants/{variant_id}`.
async fn update_product_variant(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let (hash, id, vid) = path.into_inner();
    let view = View::read(&Params::parse(req.query_string()));
    let (Some(id), Some(vid)) = (parse_id(&id), parse_id(&vid)) else {
        return not_found();
    };
    let mut patch = match read_variant_body(&body) {
        Ok(p) => p,
        Err(res) => return res,
    };
    patch.id = Some(vid);
    patch.product_id = Some(id);
    let mut state = lock(&shared);
    let belongs = state
        .stores
        .get(&hash)
        .and_then(|s| s.find_variant(vid))
        .is_some_and(|(pid, _)| pid == id);
    if !belongs {
        return not_found();
    }
    match write_variants(&mut state, &hash, vec![patch], &view) {
        Ok(mut data) => match data.pop() {
            Some(v) => v3_one(v),
            None => not_found(),
        },
        Err(res) => res,
    }
}

/// `POST /v3/catalog/products/{id}/variants`.
async fn create_product_variant(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let view = View::read(&Params::parse(req.query_string()));
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    let mut patch = match read_variant_body(&body) {
        Ok(p) => p,
        Err(res) => return res,
    };
    patch.id = None;
    patch.product_id = Some(id);
    let mut state = lock(&shared);
    match write_variants(&mut state, &hash, vec![patch], &view) {
        Ok(mut data) => match data.pop() {
            Some(v) => v3_one(v),
            None => not_found(),
        },
        Err(res) => res,
    }
}

/// `GET /v3/catalog/variants`.
async fn list_variants(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let hash = path.into_inner();
    let params = Params::parse(req.query_string());
    let view = View::read(&params);
    let state = lock(&shared);
    let paging = match paging(&params, state.config.over_limit, None) {
        Ok(p) => p,
        Err(res) => return res,
    };
    let mut preds: Vec<Pred<'_, (&Product, &Variant)>> = Vec::new();
    let read =
        int_filters(&params, "id", |t: &(&Product, &Variant)| t.1.id, &mut preds).and_then(|()| {
            int_filters(
                &params,
                "product_id",
                |t: &(&Product, &Variant)| t.0.id,
                &mut preds,
            )
        });
    if let Err(message) = read {
        return filter_error(message);
    }
    if let Some(sku) = params.get("sku").map(str::to_string) {
        preds.push(Box::new(move |t| t.1.sku == sku));
    }
    if let Some(skus) = params.strings("sku:in") {
        preds.push(Box::new(move |t| skus.contains(&t.1.sku)));
    }
    let Some(store) = state.stores.get(&hash) else {
        return not_found();
    };
    let mut items: Vec<(&Product, &Variant)> = store
        .products
        .values()
        .flat_map(|p| p.variants.iter().map(move |v| (p, v)))
        .filter(|t| preds.iter().all(|f| f(t)))
        .collect();
    items.sort_by_key(|t| t.1.id);
    page(&items, paging, |(p, v)| {
        view.select(variant_json(p, v), &["id"])
    })
}

/// `PUT /v3/catalog/variants`: up to 50 variants; items without `id` are created.
async fn update_variants(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let hash = path.into_inner();
    let view = View::read(&Params::parse(req.query_string()));
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(res) => return res,
    };
    let Some(items) = body.as_array() else {
        return v3_error_with(
            422,
            INVALID_JSON,
            json!({ "body": "The request body must be an array of variants." }),
        );
    };
    if items.len() > MAX_VARIANT_BATCH {
        return batch_too_large(MAX_VARIANT_BATCH, false);
    }
    let mut patches = Vec::with_capacity(items.len());
    let mut errors = Map::new();
    for (index, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            errors.insert(
                format!("{index}"),
                json!("Please provide a variant object."),
            );
            continue;
        };
        let mut fields = Fields::new(obj);
        let patch = variant_patch(&mut fields);
        for (k, v) in fields.errors {
            errors.insert(format!("{index}.{k}"), v);
        }
        patches.push(patch);
    }
    if !errors.is_empty() {
        return invalid(errors);
    }
    let mut state = lock(&shared);
    match write_variants(&mut state, &hash, patches, &view) {
        Ok(data) => HttpResponse::Ok().json(json!({ "data": data, "meta": {} })),
        Err(res) => res,
    }
}

// ---------------------------------------------------------------------------------------------
// Categories and trees
// ---------------------------------------------------------------------------------------------

/// FNV-1a, for deterministic ids.
fn fnv(data: &[u8], seed: u64) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325 ^ seed, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A deterministic, UUID-shaped (version 4) `category_uuid`.
fn category_uuid(hash: &str, id: i64) -> String {
    let key = format!("{hash}/category/{id}");
    let a = fnv(key.as_bytes(), 1);
    let b = fnv(key.as_bytes(), 2);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// `/parent/child/` of a category.
fn category_path(store: &Store, c: &Category) -> String {
    let mut names = vec![slug(&c.name)];
    let mut parent = c.parent_id;
    for _ in 0..16 {
        let Some(p) = store
            .categories
            .iter()
            .find(|k| k.id == parent && parent != 0)
        else {
            break;
        };
        names.push(slug(&p.name));
        parent = p.parent_id;
    }
    names.reverse();
    format!("/{}/", names.join("/"))
}

fn tree_category_json(store: &Store, c: &Category) -> Value {
    json!({
        "category_id": c.id,
        "category_uuid": category_uuid(&store.hash, c.id),
        "tree_id": 1,
        "parent_id": c.parent_id,
        "name": c.name,
        "description": "",
        "views": 0,
        "sort_order": c.sort_order,
        "page_title": "",
        "meta_keywords": [],
        "meta_description": "",
        "layout_file": "category.html",
        "image_url": "",
        "is_visible": c.is_visible,
        "search_keywords": "",
        "default_product_sort": "use_store_settings",
        "url": { "path": category_path(store, c), "is_customized": false },
    })
}

fn legacy_category_json(store: &Store, c: &Category) -> Value {
    json!({
        "id": c.id,
        "parent_id": c.parent_id,
        "name": c.name,
        "description": "",
        "views": 0,
        "sort_order": c.sort_order,
        "page_title": "",
        "meta_keywords": [],
        "meta_description": "",
        "layout_file": "category.html",
        "image_url": "",
        "is_visible": c.is_visible,
        "search_keywords": "",
        "default_product_sort": "use_store_settings",
        "custom_url": { "url": category_path(store, c), "is_customized": false },
    })
}

/// Filters shared by both category lists; `id_key` is `category_id` or `id`.
fn category_filters(params: &Params, id_key: &str) -> Result<Vec<Pred<'static, Category>>, String> {
    let mut preds: Vec<Pred<'static, Category>> = Vec::new();
    int_filters(params, id_key, |c: &Category| c.id, &mut preds)?;
    int_filters(params, "parent_id", |c: &Category| c.parent_id, &mut preds)?;
    in_ops(params, "tree_id", |_: &Category| 1, &mut preds)?;
    name_filters(params, |c: &Category| c.name.as_str(), &mut preds);
    if let Some(keyword) = params.get("keyword") {
        let keyword = keyword.to_lowercase();
        preds.push(Box::new(move |c| c.name.to_lowercase().contains(&keyword)));
    }
    if let Some(visible) = param_bool(params, "is_visible")? {
        preds.push(Box::new(move |c| c.is_visible == visible));
    }
    Ok(preds)
}

fn list_categories_with(
    req: &HttpRequest,
    hash: &str,
    shared: &Shared,
    id_key: &str,
    render: fn(&Store, &Category) -> Value,
) -> HttpResponse {
    let params = Params::parse(req.query_string());
    let view = View::read(&params);
    let state = lock(shared);
    let paging = match paging(&params, state.config.over_limit, None) {
        Ok(p) => p,
        Err(res) => return res,
    };
    let preds = match category_filters(&params, id_key) {
        Ok(p) => p,
        Err(message) => return filter_error(message),
    };
    let Some(store) = state.stores.get(hash) else {
        return not_found();
    };
    let mut items: Vec<&Category> = store
        .categories
        .iter()
        .filter(|c| preds.iter().all(|f| f(c)))
        .collect();
    items.sort_by_key(|c| c.id);
    page(&items, paging, |c| view.select(render(store, c), &[id_key]))
}

/// `GET /v3/catalog/trees/categories`.
async fn list_tree_categories(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    list_categories_with(
        &req,
        &path.into_inner(),
        &shared,
        "category_id",
        tree_category_json,
    )
}

/// `GET /v3/catalog/categories` (deprecated, still answering).
async fn list_categories(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    list_categories_with(
        &req,
        &path.into_inner(),
        &shared,
        "id",
        legacy_category_json,
    )
}

/// `GET /v3/catalog/categories/{id}`.
async fn get_category(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let state = lock(&shared);
    let Some(store) = state.stores.get(&hash) else {
        return not_found();
    };
    match parse_id(&id).and_then(|id| store.categories.iter().find(|c| c.id == id)) {
        Some(c) => v3_one(legacy_category_json(store, c)),
        None => not_found(),
    }
}

/// `GET /v3/catalog/trees`: the one tree of the default channel.
async fn list_trees(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    let params = Params::parse(req.query_string());
    let over = lock(&shared).config.over_limit;
    let paging = match paging(&params, over, None) {
        Ok(p) => p,
        Err(res) => return res,
    };
    let keep = params
        .ints("id:in")
        .ok()
        .flatten()
        .is_none_or(|ids| ids.contains(&1))
        && params
            .ints("channel_id:in")
            .ok()
            .flatten()
            .is_none_or(|ids| ids.contains(&1));
    let data = if keep {
        vec![json!({ "id": 1, "name": "Default", "channels": [1] })]
    } else {
        Vec::new()
    };
    v3_page(data, paging)
}

/// `GET /v3/catalog/summary`.
async fn summary(path: web::Path<String>, shared: web::Data<Shared>) -> HttpResponse {
    let hash = path.into_inner();
    let state = lock(&shared);
    let Some(store) = state.stores.get(&hash) else {
        return not_found();
    };
    let mut inventory_count = 0i64;
    let mut inventory_value = Decimal::ZERO;
    let mut prices = Vec::new();
    let mut dates = Vec::new();
    let mut by_category: BTreeMap<i64, usize> = BTreeMap::new();
    for p in store.products.values() {
        inventory_count = inventory_count.saturating_add(p.visible_inventory());
        for v in &p.variants {
            let price = v.price.unwrap_or(p.price);
            inventory_value += price * Decimal::from(variant_inventory(p, v));
            prices.push(price);
            dates.push(p.date_created);
        }
        for c in &p.categories {
            *by_category.entry(*c).or_insert(0) += 1;
        }
    }
    let count = prices.len();
    let average = if count > 0 {
        (prices.iter().copied().sum::<Decimal>() / Decimal::from(count)).round_dp(4)
    } else {
        Decimal::ZERO
    };
    let primary = by_category
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(id, _)| *id);
    let primary_name = primary
        .and_then(|id| store.categories.iter().find(|c| c.id == id))
        .map(|c| c.name.clone())
        .unwrap_or_default();
    v3_one(json!({
        "inventory_count": inventory_count,
        "variant_count": count,
        "inventory_value": number(inventory_value),
        "highest_variant_price": number(prices.iter().copied().max().unwrap_or_default()),
        "average_variant_price": number(average),
        "lowest_variant_price": number(prices.iter().copied().min().unwrap_or_default()),
        "oldest_variant_date": dates.iter().min().map(|d| iso8601(*d)),
        "newest_variant_date": dates.iter().max().map(|d| iso8601(*d)),
        "primary_category_id": primary.unwrap_or(0),
        "primary_category_name": primary_name,
    }))
}

// ---------------------------------------------------------------------------------------------
// Merchant actions (`/_sandbox/stores/{hash}/…`)
// ---------------------------------------------------------------------------------------------

fn unknown_store(hash: &str) -> HttpResponse {
    HttpResponse::NotFound().json(json!({ "error": format!("no sandbox store {hash}") }))
}

fn control_body(body: &[u8]) -> Result<Map<String, Value>, HttpResponse> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => {
            Err(HttpResponse::BadRequest()
                .json(json!({ "error": "the body must be a JSON object" })))
        }
    }
}

fn control_error(errors: Map<String, Value>) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": "invalid fields", "fields": errors }))
}

/// `POST /_sandbox/stores/{hash}/products`: the merchant adds a product on the channel.
/// Body `{name?, sku?, price?, inventory_level?, inventory_tracking?, variants?: [{sku,
/// inventory_level?, price?, label?}]}`; answers 201 with the v3 product and its variants.
async fn merchant_create(
    path: web::Path<String>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let hash = path.into_inner();
    let obj = match control_body(&body) {
        Ok(o) => o,
        Err(res) => return res,
    };
    let mut fields = Fields::new(&obj);
    let mut patch = product_patch(&mut fields);
    let mut variants = Vec::new();
    if let Some(list) = fields.present("variants") {
        match list.as_array() {
            Some(list) => {
                for (index, item) in list.iter().enumerate() {
                    let Some(vobj) = item.as_object() else {
                        fields.error(&format!("variants.{index}"), "a variant object");
                        continue;
                    };
                    let mut vf = Fields::new(vobj);
                    let sku = vf.string("sku", 255, false);
                    let label = vf.string("label", 255, false);
                    let variant = NewVariant {
                        sku: sku.clone().unwrap_or_default(),
                        price: vf.money("price"),
                        sale_price: vf.money("sale_price"),
                        weight: vf.money("weight"),
                        inventory_level: vf.int("inventory_level").unwrap_or(0),
                        options: vec![(
                            "Option".to_string(),
                            label.or(sku).unwrap_or_else(|| format!("V{}", index + 1)),
                        )],
                    };
                    for (k, v) in vf.errors {
                        fields.errors.insert(format!("variants.{index}.{k}"), v);
                    }
                    variants.push(variant);
                }
            }
            None => fields.error("variants", "an array"),
        }
    }
    if !fields.errors.is_empty() {
        return control_error(fields.errors);
    }
    if patch.price.is_none() {
        patch.price = Some(Decimal::new(1000, 2));
    }
    if patch.weight.is_none() {
        patch.weight = Some(Decimal::ONE);
    }
    if patch.inventory_tracking.is_none() {
        patch.inventory_tracking = Some(if variants.is_empty() {
            Tracking::Product
        } else {
            Tracking::Variant
        });
    }
    let mut state = lock(&shared);
    let mut raised = Raised::new();
    let id = {
        let Some(store) = state.stores.get_mut(&hash) else {
            return unknown_store(&hash);
        };
        let next = store.next_id + 1;
        if patch.name.is_none() {
            patch.name = Some(format!("Sandbox Product {next}"));
        }
        if patch.sku.is_none() {
            patch.sku = Some(format!("SBX-{next}"));
        }
        for (n, v) in variants.iter_mut().enumerate() {
            if v.sku.is_empty() {
                v.sku = format!("SBX-{next}-{}", n + 1);
            }
        }
        create(store, &patch, &variants, &mut raised)
    };
    raise(&mut state, &hash, raised);
    let view = View {
        variants: true,
        images: true,
        ..View::default()
    };
    match products_data(&state, &hash, &[id], &view).pop() {
        Some(p) => HttpResponse::Created().json(p),
        None => unknown_store(&hash),
    }
}

/// `PUT /_sandbox/stores/{hash}/products/{id}`: the merchant edits the product
/// (`{price?, sale_price?, inventory_level?, name?, …}`); answers 200 with the v3 product.
async fn merchant_update(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let obj = match control_body(&body) {
        Ok(o) => o,
        Err(res) => return res,
    };
    let mut fields = Fields::new(&obj);
    let mut patch = product_patch(&mut fields);
    if !fields.errors.is_empty() {
        return control_error(fields.errors);
    }
    let mut state = lock(&shared);
    if !state.stores.contains_key(&hash) {
        return unknown_store(&hash);
    }
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    patch.id = id;
    let view = View {
        variants: true,
        ..View::default()
    };
    match update_many(&mut state, &hash, &[patch]) {
        Ok(ids) => match products_data(&state, &hash, &ids, &view).pop() {
            Some(p) => HttpResponse::Ok().json(p),
            None => not_found(),
        },
        Err(res) => res,
    }
}

/// `PUT /_sandbox/stores/{hash}/variants/{id}`: the merchant edits a variant
/// (`{price?, sale_price?, inventory_level?, sku?}`); answers 200 with the v3 variant.
async fn merchant_update_variant(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let obj = match control_body(&body) {
        Ok(o) => o,
        Err(res) => return res,
    };
    let mut fields = Fields::new(&obj);
    let mut patch = variant_patch(&mut fields);
    if !fields.errors.is_empty() {
        return control_error(fields.errors);
    }
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    patch.id = Some(id);
    patch.option_values = None;
    let mut state = lock(&shared);
    if !state.stores.contains_key(&hash) {
        return unknown_store(&hash);
    }
    match write_variants(&mut state, &hash, vec![patch], &View::default()) {
        Ok(mut data) => match data.pop() {
            Some(v) => HttpResponse::Ok().json(v),
            None => not_found(),
        },
        Err(res) => res,
    }
}

/// `DELETE /_sandbox/stores/{hash}/products/{id}`: the merchant deletes the product.
async fn merchant_delete(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let mut state = lock(&shared);
    if !state.stores.contains_key(&hash) {
        return unknown_store(&hash);
    }
    match parse_id(&id) {
        Some(id) if delete_ids(&mut state, &hash, &[id]) > 0 => HttpResponse::NoContent().finish(),
        _ => not_found(),
    }
}
