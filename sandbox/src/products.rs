//! Products of the Catalog API (v3, docs/bigcommerce.md §4): the product object with its
//! `include` expansions, the list filters and sort, reads, and the product routes (writes are
//! in `product_writes.rs`).
//!
//! Money and measures are JSON numbers, dates ISO 8601; lists use the v3 pagination envelope
//! (200 with `data: []` past the end).

// Validation helpers short-circuit with the finished error answer; that path is cold, so the
// size of `HttpResponse` in `Err` does not matter.
#![allow(clippy::result_large_err)]

use std::cmp::Ordering;
use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use crate::format::{iso8601, number, v3_error_with, v3_one};
use crate::model::{Image, Product, Tracking};
use crate::product_writes::{
    create_product, delete_product, delete_products, update_product, update_products,
};
use crate::request::parse_id;
use crate::request::query::{
    direction, int_filters, name_filters, page, paging, param_bool, param_decimal, range_ops,
    Params, Pred, View,
};
use crate::request::v3::{filter_error, not_found, resource};
use crate::server::{lock, Shared};
use crate::variants::variant_json;

/// Registers this module's API routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/v3/catalog/products", "GET, POST, PUT, DELETE")
            .route(web::get().to(list_products))
            .route(web::post().to(create_product))
            .route(web::put().to(update_products))
            .route(web::delete().to(delete_products)),
    );
    cfg.service(
        resource("/v3/catalog/products/{id}", "GET, PUT, DELETE")
            .route(web::get().to(get_product))
            .route(web::put().to(update_product))
            .route(web::delete().to(delete_product)),
    );
    cfg.service(
        resource("/v3/catalog/products/{id}/images", "GET")
            .route(web::get().to(list_product_images)),
    );
}

/// A URL slug of a name (`Classic Mug 1` → `classic-mug-1`).
pub(crate) fn slug(name: &str) -> String {
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

pub(crate) fn calculated_price(p: &Product) -> Decimal {
    if p.sale_price > Decimal::ZERO {
        p.sale_price
    } else {
        p.price
    }
}

pub(crate) fn tracking_name(t: Tracking) -> &'static str {
    match t {
        Tracking::None => "none",
        Tracking::Product => "product",
        Tracking::Variant => "variant",
    }
}

/// The base variant's id for products without options, else `None`.
pub(crate) fn base_variant_id(p: &Product) -> Option<i64> {
    if p.has_options() {
        None
    } else {
        p.variants.iter().find(|v| v.is_base()).map(|v| v.id)
    }
}

/// A product as `GET /v3/catalog/products` shows it.
pub(crate) fn product_json(p: &Product, view: &View) -> Value {
    let mut map = product_fields(p);
    let keep = add_included(p, view, &mut map);
    view.select(Value::Object(map), &keep)
}

/// The fields every product shows, in BigCommerce's order.
fn product_fields(p: &Product) -> Map<String, Value> {
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
    map
}

/// Adds the sub-resources the view includes (variants, images, options, …) and gives the
/// fields a field selection must keep: the id and those sub-resources.
fn add_included(p: &Product, view: &View, map: &mut Map<String, Value>) -> Vec<&'static str> {
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
    keep
}

/// An image URL resized the way the CDN spells it.
pub(crate) fn sized(url: &str, size: &str) -> String {
    match url.find("/products/") {
        Some(at) => format!("{}/stencil/{size}{}", &url[..at], &url[at..]),
        None => url.to_string(),
    }
}

pub(crate) fn image_json(p: &Product, i: &Image) -> Value {
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

pub(crate) fn primary_image(p: &Product) -> Value {
    p.images
        .iter()
        .find(|i| i.is_thumbnail)
        .or_else(|| p.images.first())
        .map(|i| image_json(p, i))
        .unwrap_or(Value::Null)
}

/// The product's variant options, derived from its variants' option values.
pub(crate) fn options_json(p: &Product) -> Vec<Value> {
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

pub(crate) fn has_sku(p: &Product, sku: &str) -> bool {
    p.sku == sku || p.variants.iter().any(|v| v.sku == sku)
}

/// The filters of `GET` and `DELETE /v3/catalog/products`.
pub(crate) fn product_filters(params: &Params) -> Result<Vec<Pred<'static, Product>>, String> {
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

pub(crate) fn sort_products(params: &Params, items: &mut [&Product]) -> Result<(), HttpResponse> {
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

/// `GET /v3/catalog/products`.
pub(crate) async fn list_products(
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
pub(crate) async fn get_product(
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
pub(crate) fn products_data(
    state: &crate::model::SandboxState,
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

/// `GET /v3/catalog/products/{id}/images`.
pub(crate) async fn list_product_images(
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
