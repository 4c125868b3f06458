//! Product writes of the Catalog API (v3, docs/bigcommerce.md §4): update one or a batch of
//! up to 10, create one (with nested variants), delete by id or by filter. Batch writes
//! validate every item before applying any; writes raise `store/product/*` and
//! `store/sku/*` webhook events.

// Validation helpers short-circuit with the finished error answer; that path is cold, so the
// size of `HttpResponse` in `Err` does not matter.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet};

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use crate::format::{v3_error, v3_error_with};
use crate::model::{OptionValue, Product, SandboxState, Store, Tracking, Variant};
use crate::products::{product_filters, products_data};
use crate::request::fields::Fields;
use crate::request::query::{Params, View};
use crate::request::v3::{
    conflict, filter_error, invalid, not_found, object, one_written, read_batch, read_object,
    NOT_FOUND,
};
use crate::request::{parse_id, raise, Raised};
use crate::server::{lock, Shared};

/// Most products one `PUT /v3/catalog/products` may carry.
pub const MAX_PRODUCT_BATCH: usize = 10;

/// Most ids one `DELETE /v3/catalog/products` may name.
pub const MAX_DELETE: usize = 250;

/// Highest stock level; catalog writes clamp to it.
pub const MAX_INVENTORY: i64 = 2_147_483_647;

/// A new `date_modified`: now (whole seconds), strictly after the previous value.
pub(crate) fn bump(old: DateTime<Utc>) -> DateTime<Utc> {
    let now = Utc::now().trunc_subsecs(0);
    if now > old {
        now
    } else {
        old + Duration::seconds(1)
    }
}

pub(crate) fn clamp_inventory(level: i64) -> i64 {
    level.clamp(0, MAX_INVENTORY)
}

/// The writable fields of a product; `None` leaves a field unchanged.
#[derive(Clone, Debug, Default)]
pub(crate) struct ProductPatch {
    /// 0 for a product being created.
    pub(crate) id: i64,
    pub(crate) name: Option<String>,
    pub(crate) sku: Option<String>,
    pub(crate) price: Option<Decimal>,
    pub(crate) sale_price: Option<Decimal>,
    pub(crate) cost_price: Option<Decimal>,
    pub(crate) retail_price: Option<Decimal>,
    pub(crate) weight: Option<Decimal>,
    pub(crate) categories: Option<Vec<i64>>,
    pub(crate) is_visible: Option<bool>,
    pub(crate) inventory_level: Option<i64>,
    pub(crate) inventory_tracking: Option<Tracking>,
    pub(crate) inventory_warning_level: Option<i64>,
}

/// Reads a product body. Read-only and unknown fields are ignored.
pub(crate) fn product_patch(f: &mut Fields) -> ProductPatch {
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

/// Whether `sku` is used by anything other than product `owner` (with its base variant) or
/// variant `owner_variant`.
pub(crate) fn sku_in_use(store: &Store, sku: &str, owner: i64, owner_variant: Option<i64>) -> bool {
    store.products.values().any(|q| {
        (q.id != owner && q.sku == sku)
            || q.variants.iter().any(|v| {
                Some(v.id) != owner_variant && !(q.id == owner && v.is_base()) && v.sku == sku
            })
    })
}

/// Validates product patches against the store (and each other) without changing anything.
pub(crate) fn check_products(store: &Store, patches: &[ProductPatch]) -> Result<(), HttpResponse> {
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

pub(crate) fn product_inventory_event(p: &Product) -> (&'static str, Value) {
    (
        "store/product/inventory/updated",
        json!({
            "type": "product",
            "id": p.id,
            "inventory": { "product_id": p.id, "method": "absolute", "value": p.inventory_level },
        }),
    )
}

pub(crate) fn sku_inventory_event(pid: i64, v: &Variant) -> (&'static str, Value) {
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
pub(crate) fn apply_product(p: &mut Product, patch: &ProductPatch, raised: &mut Raised) {
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
pub(crate) fn update_many(
    state: &mut SandboxState,
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

/// `PUT /v3/catalog/products/{id}`.
pub(crate) async fn update_product(
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
    let mut patch = match read_object(&body, product_patch) {
        Ok(p) => p,
        Err(res) => return res,
    };
    patch.id = id;
    let mut state = lock(&shared);
    one_written(
        update_many(&mut state, &hash, &[patch])
            .map(|ids| products_data(&state, &hash, &ids, &view)),
    )
}

/// `PUT /v3/catalog/products`: up to 10 products, each with its `id`.
pub(crate) async fn update_products(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let hash = path.into_inner();
    let view = View::read(&Params::parse(req.query_string()));
    let patches = match read_batch(&body, "product", MAX_PRODUCT_BATCH, true, |fields| {
        let id = fields.int("id");
        let mut patch = product_patch(fields);
        if id.is_none() && !fields.errors.contains_key("id") {
            fields.error("id", "Please provide an id.");
        }
        patch.id = id.unwrap_or(0);
        patch
    }) {
        Ok(p) => p,
        Err(res) => return res,
    };
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
pub(crate) struct NewVariant {
    pub(crate) sku: String,
    pub(crate) price: Option<Decimal>,
    pub(crate) sale_price: Option<Decimal>,
    pub(crate) weight: Option<Decimal>,
    pub(crate) inventory_level: i64,
    /// `(option_display_name, label)`.
    pub(crate) options: Vec<(String, String)>,
}

/// Creates a product from a checked patch and variants (a base variant when none have
/// options). Raises `store/product/created`.
pub(crate) fn create(
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
pub(crate) fn new_variants(f: &mut Fields) -> Vec<NewVariant> {
    let out = f.objects(
        "variants",
        "The variants must be an array.",
        "Please provide a variant object.",
        |vf, _| {
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
            NewVariant {
                sku: sku.unwrap_or_default(),
                price: vf.money("price"),
                sale_price: vf.money("sale_price"),
                weight: vf.money("weight"),
                inventory_level: vf.int("inventory_level").map(clamp_inventory).unwrap_or(0),
                options,
            }
        },
    );
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
pub(crate) fn check_new_variants(
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
pub(crate) async fn create_product(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let hash = path.into_inner();
    let mut view = View::read(&Params::parse(req.query_string()));
    view.variants = true;
    let obj = match object(&body) {
        Ok(o) => o,
        Err(res) => return res,
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
    let mut fields = Fields::new(&obj);
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
    one_written(Ok(products_data(&state, &hash, &[id], &view)))
}

/// Deletes products; raises `store/product/deleted` for each.
pub(crate) fn delete_ids(state: &mut SandboxState, hash: &str, ids: &[i64]) -> usize {
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
pub(crate) async fn delete_products(
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
pub(crate) async fn delete_product(
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
