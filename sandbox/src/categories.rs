//! Categories and trees of the Catalog API (v3, docs/bigcommerce.md §4): the category tree
//! of the default channel, the deprecated flat category list, and the catalog summary.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use crate::format::{iso8601, number, v3_one, v3_page};
use crate::model::{Category, Store};
use crate::products::slug;
use crate::request::parse_id;
use crate::request::query::{
    in_ops, int_filters, name_filters, page, paging, param_bool, Params, Pred, View,
};
use crate::request::v3::{filter_error, not_found, resource};
use crate::server::{lock, Shared};
use crate::variants::variant_inventory;

/// Registers this module's API routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/v3/catalog/trees", "GET").route(web::get().to(list_trees)));
    cfg.service(
        resource("/v3/catalog/trees/categories", "GET").route(web::get().to(list_tree_categories)),
    );
    cfg.service(resource("/v3/catalog/categories", "GET").route(web::get().to(list_categories)));
    cfg.service(resource("/v3/catalog/categories/{id}", "GET").route(web::get().to(get_category)));
    cfg.service(resource("/v3/catalog/summary", "GET").route(web::get().to(summary)));
}

/// FNV-1a, for deterministic ids.
pub(crate) fn fnv(data: &[u8], seed: u64) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325 ^ seed, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A deterministic, UUID-shaped (version 4) `category_uuid`.
pub(crate) fn category_uuid(hash: &str, id: i64) -> String {
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
pub(crate) fn category_path(store: &Store, c: &Category) -> String {
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

/// A category object: `identity` (the id fields), the fields both category APIs share, and
/// the URL under `url_key`.
fn category_json(c: &Category, identity: Value, url_key: &str, url: Value) -> Value {
    let mut map = match identity {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let shared = json!({
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
    });
    if let Value::Object(shared) = shared {
        map.extend(shared);
    }
    map.insert(url_key.to_string(), url);
    Value::Object(map)
}

/// A category as the Category Trees API shows it.
pub(crate) fn tree_category_json(store: &Store, c: &Category) -> Value {
    category_json(
        c,
        json!({
            "category_id": c.id,
            "category_uuid": category_uuid(&store.hash, c.id),
            "tree_id": 1,
        }),
        "url",
        json!({ "path": category_path(store, c), "is_customized": false }),
    )
}

/// A category as the deprecated `/v3/catalog/categories` shows it.
pub(crate) fn legacy_category_json(store: &Store, c: &Category) -> Value {
    category_json(
        c,
        json!({ "id": c.id }),
        "custom_url",
        json!({ "url": category_path(store, c), "is_customized": false }),
    )
}

/// Filters shared by both category lists; `id_key` is `category_id` or `id`.
pub(crate) fn category_filters(
    params: &Params,
    id_key: &str,
) -> Result<Vec<Pred<'static, Category>>, String> {
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

pub(crate) fn list_categories_with(
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
pub(crate) async fn list_tree_categories(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    list_categories_with(&req, &path, &shared, "category_id", tree_category_json)
}

/// `GET /v3/catalog/categories` (deprecated, still answering).
pub(crate) async fn list_categories(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    list_categories_with(&req, &path, &shared, "id", legacy_category_json)
}

/// `GET /v3/catalog/categories/{id}`.
pub(crate) async fn get_category(
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
pub(crate) async fn list_trees(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
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
pub(crate) async fn summary(path: web::Path<String>, shared: web::Data<Shared>) -> HttpResponse {
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
