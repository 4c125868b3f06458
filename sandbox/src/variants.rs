//! Variants of the Catalog API (v3, docs/bigcommerce.md §4.5): the variant object, reads
//! per product and across the catalog, and writes (one, or a batch of up to 50 where items
//! without `id` are created). Batch writes validate every item before applying any; writes
//! raise `store/sku/*` and stock webhook events.

// Validation helpers short-circuit with the finished error answer; that path is cold, so the
// size of `HttpResponse` in `Err` does not matter.
#![allow(clippy::result_large_err)]

use std::collections::BTreeSet;

use actix_web::{web, HttpRequest, HttpResponse};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use crate::format::{number, v3_error_with, v3_one};
use crate::model::{OptionValue, Product, SandboxState, Store, Tracking, Variant};
use crate::product_writes::{
    bump, clamp_inventory, product_inventory_event, sku_in_use, sku_inventory_event,
};
use crate::request::fields::Fields;
use crate::request::query::{int_filters, page, paging, Params, Pred, View};
use crate::request::v3::{
    conflict, filter_error, not_found, one_written, read_batch, read_object, resource,
    INVALID_JSON, NOT_FOUND,
};
use crate::request::{parse_id, raise, Raised};
use crate::server::{lock, Shared};

/// Most variants one `PUT /v3/catalog/variants` may carry.
pub const MAX_VARIANT_BATCH: usize = 50;

/// Registers this module's API routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/v3/catalog/products/{id}/variants", "GET, POST")
            .route(web::get().to(list_product_variants))
            .route(web::post().to(create_product_variant)),
    );
    cfg.service(
        resource(
            "/v3/catalog/products/{id}/variants/{variant_id}",
            "GET, PUT",
        )
        .route(web::get().to(get_product_variant))
        .route(web::put().to(update_product_variant)),
    );
    cfg.service(
        resource("/v3/catalog/variants", "GET, PUT")
            .route(web::get().to(list_variants))
            .route(web::put().to(update_variants)),
    );
}

/// A variant's stock as the catalog shows it (location 1 only).
pub(crate) fn variant_inventory(p: &Product, v: &Variant) -> i64 {
    match p.inventory_tracking {
        Tracking::None => 0,
        Tracking::Product if v.is_base() => p.inventory_level,
        Tracking::Product => 0,
        Tracking::Variant => v.inventory_level,
    }
}

pub(crate) fn optional_number(d: Option<Decimal>) -> Value {
    d.map(number).unwrap_or(Value::Null)
}

/// A variant (§4.5); `null` prices and weights inherit the product's.
pub(crate) fn variant_json(p: &Product, v: &Variant) -> Value {
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

/// A reference to an option value in a variant write.
#[derive(Clone, Debug, Default)]
pub(crate) struct OptionRef {
    pub(crate) id: Option<i64>,
    pub(crate) option_id: Option<i64>,
    pub(crate) label: Option<String>,
    pub(crate) option_display_name: Option<String>,
}

/// The writable fields of a variant; without `id` it is a variant to create.
#[derive(Clone, Debug, Default)]
pub(crate) struct VariantPatch {
    pub(crate) id: Option<i64>,
    pub(crate) product_id: Option<i64>,
    pub(crate) sku: Option<String>,
    pub(crate) price: Option<Option<Decimal>>,
    pub(crate) sale_price: Option<Option<Decimal>>,
    pub(crate) weight: Option<Option<Decimal>>,
    pub(crate) inventory_level: Option<i64>,
    pub(crate) option_values: Option<Vec<OptionRef>>,
}

pub(crate) fn variant_patch(f: &mut Fields) -> VariantPatch {
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
pub(crate) enum VariantOp {
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
pub(crate) fn check_variants(
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
pub(crate) fn apply_variant_update(
    p: &mut Product,
    patch: &VariantPatch,
    raised: &mut Raised,
) -> Option<i64> {
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
pub(crate) fn apply_variant_create(
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
pub(crate) fn write_variants(
    state: &mut SandboxState,
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
pub(crate) async fn list_product_variants(
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
pub(crate) async fn get_product_variant(
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

/// `PUT /v3/catalog/products/{id}/variants/{variant_id}`.
pub(crate) async fn update_product_variant(
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
    let mut patch = match read_object(&body, variant_patch) {
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
    one_written(write_variants(&mut state, &hash, vec![patch], &view))
}

/// `POST /v3/catalog/products/{id}/variants`.
pub(crate) async fn create_product_variant(
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
    let mut patch = match read_object(&body, variant_patch) {
        Ok(p) => p,
        Err(res) => return res,
    };
    patch.id = None;
    patch.product_id = Some(id);
    let mut state = lock(&shared);
    one_written(write_variants(&mut state, &hash, vec![patch], &view))
}

/// `GET /v3/catalog/variants`.
pub(crate) async fn list_variants(
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
pub(crate) async fn update_variants(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let hash = path.into_inner();
    let view = View::read(&Params::parse(req.query_string()));
    let patches = match read_batch(&body, "variant", MAX_VARIANT_BATCH, false, variant_patch) {
        Ok(p) => p,
        Err(res) => return res,
    };
    let mut state = lock(&shared);
    match write_variants(&mut state, &hash, patches, &view) {
        Ok(data) => HttpResponse::Ok().json(json!({ "data": data, "meta": {} })),
        Err(res) => res,
    }
}
