//! Catalog API (docs/bigcommerce.md §4, §11, §12): products, variants, categories, the v3
//! envelope, batch limits and the merchant's catalog actions.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use chrono::{DateTime, FixedOffset};
use orderdeck_sandbox::config::OverLimit;
use orderdeck_sandbox::model::{Product, Tracking};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{sandbox, sandbox_with, Sbx};

/// The id of the first product matching `pred`.
fn find(sbx: &Sbx, pred: impl Fn(&Product) -> bool) -> i64 {
    sbx.handle
        .with_store(&sbx.store.hash, |s| {
            s.products.values().find(|p| pred(p)).map(|p| p.id).unwrap()
        })
        .unwrap()
}

fn with_options(p: &Product) -> bool {
    p.inventory_tracking == Tracking::Variant && p.has_options()
}

fn simple_tracked(p: &Product) -> bool {
    p.inventory_tracking == Tracking::Product && !p.has_options()
}

fn ids(answer: &Value) -> Vec<i64> {
    answer["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect()
}

fn iso(value: &Value) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap()).unwrap()
}

/// Bodies received by a local webhook endpoint.
type Inbox = Arc<Mutex<Vec<Value>>>;

/// Registers hooks for `scopes` pointing at a fresh local receiver.
async fn listen(sbx: &Sbx, scopes: &[&str]) -> Inbox {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let inbox: Inbox = Arc::default();
    let data = web::Data::new(inbox.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).default_service(web::to(
            |body: web::Bytes, inbox: web::Data<Inbox>| async move {
                let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                inbox.lock().unwrap().push(body);
                HttpResponse::Ok().finish()
            },
        ))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    for scope in scopes {
        let hook = sbx
            .post(
                "v3/hooks",
                json!({ "scope": scope, "destination": format!("http://{addr}/hook"), "is_active": true }),
            )
            .await;
        assert!(hook.status.is_success(), "{}", hook.text);
    }
    inbox
}

/// Waits up to 10 s for a delivery of `scope` matching `pred`; its `data`.
async fn delivered(inbox: &Inbox, scope: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = inbox
            .lock()
            .unwrap()
            .iter()
            .find(|e| e["scope"] == scope && pred(&e["data"]))
            .map(|e| e["data"].clone());
        if let Some(data) = found {
            return data;
        }
        assert!(Instant::now() < deadline, "no {scope} delivery");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn product_lists_use_the_v3_envelope_with_relative_links_omitted_at_the_ends() {
    let sbx = sandbox().await;
    let first = sbx.get("v3/catalog/products?limit=10").await;
    assert_eq!(first.status, StatusCode::OK);
    let pagination = &first.json["meta"]["pagination"];
    assert_eq!(pagination["total"], 30);
    assert_eq!(pagination["count"], 10);
    assert_eq!(pagination["per_page"], 10);
    assert_eq!(pagination["current_page"], 1);
    assert_eq!(pagination["total_pages"], 3);
    let links = pagination["links"].as_object().unwrap();
    assert!(!links.contains_key("previous"));
    assert_eq!(links["current"], "?page=1&limit=10");
    assert_eq!(links["next"], "?page=2&limit=10");

    let middle = sbx.get("v3/catalog/products?limit=10&page=2").await;
    let links = &middle.json["meta"]["pagination"]["links"];
    assert_eq!(links["previous"], "?page=1&limit=10");
    assert_eq!(links["next"], "?page=3&limit=10");

    let last = sbx.get("v3/catalog/products?limit=10&page=3").await;
    let links = last.json["meta"]["pagination"]["links"]
        .as_object()
        .unwrap();
    assert_eq!(links["previous"], "?page=2&limit=10");
    assert!(!links.contains_key("next"));
    assert_eq!(last.json["data"].as_array().unwrap().len(), 10);

    let mut all = ids(&first.json);
    all.extend(ids(&middle.json));
    all.extend(ids(&last.json));
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(all, sorted, "pages are disjoint and ordered by id");
}

#[tokio::test]
async fn the_default_page_holds_50_and_a_limit_above_250_is_clamped() {
    let sbx = sandbox().await;
    let default = sbx.get("v3/catalog/products").await;
    assert_eq!(default.json["meta"]["pagination"]["per_page"], 50);
    let big = sbx.get("v3/catalog/products?limit=1000").await;
    assert_eq!(big.status, StatusCode::OK);
    assert_eq!(big.json["meta"]["pagination"]["per_page"], 250);
    assert_eq!(big.json["data"].as_array().unwrap().len(), 30);
}

#[tokio::test]
async fn a_limit_above_250_is_refused_with_413_when_so_configured() {
    let sbx = sandbox_with(|c| c.over_limit = OverLimit::Refuse).await;
    let big = sbx.get("v3/catalog/products?limit=251").await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(big.json["status"], 413);
    let ok = sbx.get("v3/catalog/products?limit=250").await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn a_page_past_the_end_answers_200_with_empty_data() {
    let sbx = sandbox().await;
    let past = sbx.get("v3/catalog/products?page=9&limit=10").await;
    assert_eq!(past.status, StatusCode::OK);
    assert_eq!(past.json["data"], json!([]));
    assert_eq!(past.json["meta"]["pagination"]["total"], 30);
    assert_eq!(past.json["meta"]["pagination"]["count"], 0);
    let none = sbx
        .get("v3/catalog/products?name=No%20Such%20Product")
        .await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.json["data"], json!([]));
}

#[tokio::test]
async fn include_variants_and_images_return_the_documented_shapes() {
    let sbx = sandbox().await;
    let pid = find(&sbx, with_options);
    let simple = find(&sbx, simple_tracked);
    let a = sbx
        .get(&format!(
            "v3/catalog/products?id:in={pid},{simple}&include=variants,images,primary_image"
        ))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let data = a.json["data"].as_array().unwrap();
    let optioned = data.iter().find(|p| p["id"] == pid).unwrap();
    let plain = data.iter().find(|p| p["id"] == simple).unwrap();

    assert!(optioned["base_variant_id"].is_null());
    let variants = optioned["variants"].as_array().unwrap();
    assert!(variants.len() >= 2);
    for v in variants {
        for key in [
            "id",
            "product_id",
            "sku",
            "sku_id",
            "price",
            "sale_price",
            "calculated_price",
            "weight",
            "calculated_weight",
            "inventory_level",
            "inventory_warning_level",
            "purchasing_disabled",
            "option_values",
        ] {
            assert!(v.get(key).is_some(), "variant has {key}");
        }
        assert_eq!(v["product_id"], pid);
        assert!(v["sku_id"].is_i64());
        assert_eq!(v["purchasing_disabled"], false);
        assert!(v["calculated_price"].is_number());
        let ov = &v["option_values"][0];
        assert!(ov["id"].is_i64() && ov["option_id"].is_i64());
        assert_eq!(ov["option_display_name"], "Size");
        assert!(ov["label"].is_string());
    }

    let base = &plain["variants"][0];
    assert_eq!(plain["variants"].as_array().unwrap().len(), 1);
    assert!(base["sku_id"].is_null());
    assert_eq!(base["option_values"], json!([]));
    assert_eq!(plain["base_variant_id"], base["id"]);
    assert!(base["price"].is_null(), "a base variant inherits the price");

    let images = plain["images"].as_array().unwrap();
    assert!(!images.is_empty());
    for key in [
        "id",
        "product_id",
        "is_thumbnail",
        "sort_order",
        "description",
        "image_url",
        "url_zoom",
        "url_standard",
        "url_thumbnail",
        "url_tiny",
        "date_modified",
    ] {
        assert!(images[0].get(key).is_some(), "image has {key}");
    }
    assert_eq!(images[0]["product_id"], simple);
    assert_eq!(images[0]["description"], "");
    assert_eq!(plain["primary_image"]["is_thumbnail"], true);

    let bare = sbx.get(&format!("v3/catalog/products/{simple}")).await;
    assert!(bare.json["data"].get("variants").is_none());
    assert!(bare.json["data"].get("images").is_none());
}

#[tokio::test]
async fn money_and_weights_are_numbers_and_dates_are_iso_8601_with_offset() {
    let sbx = sandbox().await;
    let simple = find(&sbx, simple_tracked);
    let a = sbx.get(&format!("v3/catalog/products/{simple}")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json["meta"], json!({}));
    let p = &a.json["data"];
    for key in [
        "price",
        "cost_price",
        "retail_price",
        "sale_price",
        "map_price",
        "calculated_price",
        "weight",
        "width",
        "depth",
        "height",
    ] {
        assert!(p[key].is_number(), "{key} is a number");
    }
    let (price, sale) = sbx
        .handle
        .with_store(&sbx.store.hash, |s| {
            let p = &s.products[&simple];
            (p.price.to_string(), p.sale_price)
        })
        .unwrap();
    assert_eq!(p["price"].as_f64().unwrap(), price.parse::<f64>().unwrap());
    if sale.is_zero() {
        assert_eq!(p["calculated_price"], p["price"]);
    } else {
        assert_eq!(p["calculated_price"], p["sale_price"]);
    }
    for key in ["date_created", "date_modified"] {
        let text = p[key].as_str().unwrap();
        assert!(text.ends_with("+00:00"), "{key} = {text}");
        iso(&p[key]);
    }
    assert_eq!(p["type"], "physical");
    assert_eq!(p["availability"], "available");
    assert_eq!(p["is_featured"], false);
    assert_eq!(p["brand_id"], 0);
    assert_eq!(p["custom_url"]["is_customized"], false);
    let url = p["custom_url"]["url"].as_str().unwrap();
    assert!(url.starts_with('/') && url.ends_with('/'));
    assert!(p["categories"][0].is_i64());
    assert_eq!(p["inventory_tracking"], "product");
}

#[tokio::test]
async fn include_fields_and_exclude_fields_always_keep_the_id() {
    let sbx = sandbox().await;
    let only = sbx
        .get("v3/catalog/products?include_fields=name,price&limit=3")
        .await;
    for p in only.json["data"].as_array().unwrap() {
        let mut keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["id", "name", "price"]);
    }
    let without = sbx
        .get("v3/catalog/products?exclude_fields=id,name,description&limit=3")
        .await;
    for p in without.json["data"].as_array().unwrap() {
        assert!(p.get("id").is_some());
        assert!(p.get("name").is_none());
        assert!(p.get("description").is_none());
        assert!(p.get("price").is_some());
    }
    let with_variants = sbx
        .get("v3/catalog/products?include_fields=sku&include=variants&limit=1")
        .await;
    let p = &with_variants.json["data"][0];
    assert!(p.get("variants").is_some() && p.get("sku").is_some());
    assert!(p.get("price").is_none());
}

#[tokio::test]
async fn id_in_and_sku_in_filter_products_and_a_variant_sku_finds_its_product() {
    let sbx = sandbox().await;
    let all = ids(&sbx.get("v3/catalog/products?limit=250").await.json);
    let picked = format!("{},{}", all[3], all[7]);
    let a = sbx
        .get(&format!("v3/catalog/products?id:in={picked}"))
        .await;
    assert_eq!(ids(&a.json), vec![all[3], all[7]]);
    let not_in = sbx
        .get(&format!("v3/catalog/products?id:not_in={picked}&limit=250"))
        .await;
    assert_eq!(ids(&not_in.json).len(), all.len() - 2);
    let range = sbx
        .get(&format!(
            "v3/catalog/products?id:min={}&id:less={}",
            all[2], all[5]
        ))
        .await;
    assert_eq!(ids(&range.json), all[2..5].to_vec());

    let pid = find(&sbx, with_options);
    let (variant_sku, simple, simple_sku) = sbx
        .handle
        .with_store(&sbx.store.hash, |s| {
            let simple = s.products.values().find(|p| simple_tracked(p)).unwrap();
            (
                s.products[&pid].variants[1].sku.clone(),
                simple.id,
                simple.sku.clone(),
            )
        })
        .unwrap();
    let by_sku = sbx
        .get(&format!(
            "v3/catalog/products?sku:in={variant_sku},{simple_sku}"
        ))
        .await;
    let mut found = ids(&by_sku.json);
    found.sort();
    let mut expected = vec![pid, simple];
    expected.sort();
    assert_eq!(found, expected);

    let bad = sbx.get("v3/catalog/products?id:in=1,two").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json["status"], 422);
}

#[tokio::test]
async fn date_modified_min_keeps_only_recently_modified_products() {
    let sbx = sandbox().await;
    let pid = find(&sbx, simple_tracked);
    let cutoff = chrono::Utc::now() - chrono::Duration::hours(1);
    let all = sbx.get("v3/catalog/products?limit=250").await;
    let expected: Vec<i64> = all.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| iso(&p["date_modified"]) >= cutoff)
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert!(!expected.contains(&pid));
    let query = format!(
        "v3/catalog/products?date_modified:min={}",
        cutoff.format("%Y-%m-%dT%H:%M:%SZ")
    );
    assert_eq!(ids(&sbx.get(&query).await.json), expected);

    let edit = sbx
        .put(
            &format!("v3/catalog/products/{pid}"),
            json!({ "price": 42.5 }),
        )
        .await;
    assert_eq!(edit.status, StatusCode::OK);
    let after = ids(&sbx.get(&query).await.json);
    assert!(after.contains(&pid));
    let date_only = sbx
        .get("v3/catalog/products?date_modified:min=2000-01-01&limit=250")
        .await;
    assert_eq!(ids(&date_only.json).len(), 30);
    let bad = sbx
        .get("v3/catalog/products?date_modified:min=yesterday")
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn sort_and_direction_order_the_list() {
    let sbx = sandbox().await;
    let by_price = sbx
        .get("v3/catalog/products?sort=price&direction=desc&limit=250")
        .await;
    let prices: Vec<f64> = by_price.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["price"].as_f64().unwrap())
        .collect();
    assert!(prices.windows(2).all(|w| w[0] >= w[1]));
    let by_name = sbx.get("v3/catalog/products?sort=name&limit=250").await;
    let names: Vec<String> = by_name.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let desc_ids = ids(&sbx
        .get("v3/catalog/products?direction=desc&limit=250")
        .await
        .json);
    assert!(desc_ids.windows(2).all(|w| w[0] > w[1]));
    let bad = sbx.get("v3/catalog/products?sort=colour").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn including_options_or_modifiers_caps_pages_at_10() {
    let sbx = sandbox().await;
    let a = sbx
        .get("v3/catalog/products?include=options&limit=50")
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json["meta"]["pagination"]["per_page"], 10);
    assert_eq!(a.json["data"].as_array().unwrap().len(), 10);
    assert_eq!(a.json["meta"]["pagination"]["total_pages"], 3);
    let pid = find(&sbx, with_options);
    let one = sbx
        .get(&format!("v3/catalog/products?id:in={pid}&include=options"))
        .await;
    let option = &one.json["data"][0]["options"][0];
    assert_eq!(option["display_name"], "Size");
    assert!(option["option_values"].as_array().unwrap().len() >= 2);
    let m = sbx.get("v3/catalog/products?include=modifiers").await;
    assert_eq!(m.json["meta"]["pagination"]["per_page"], 10);
    assert_eq!(m.json["data"][0]["modifiers"], json!([]));
}

#[tokio::test]
async fn a_product_batch_of_11_items_is_413_with_the_exact_body() {
    let sbx = sandbox().await;
    let all = ids(&sbx.get("v3/catalog/products?limit=11").await.json);
    let items: Vec<Value> = all
        .iter()
        .map(|id| json!({ "id": id, "price": 1 }))
        .collect();
    let a = sbx.put("v3/catalog/products", Value::Array(items)).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        a.json,
        json!({
            "errors": {},
            "status": 413,
            "title": "The request payload is too large. The maximum items allowed in the array is 10.",
            "type": "/api-docs/getting-started/api-status-codes"
        })
    );
    let ten: Vec<Value> = all[..10]
        .iter()
        .map(|id| json!({ "id": id, "price": 7.25 }))
        .collect();
    let ok = sbx.put("v3/catalog/products", Value::Array(ten)).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.json["meta"], json!({}));
    assert_eq!(ids(&ok.json), all[..10].to_vec());
    assert!(ok.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["price"] == 7.25));
}

#[tokio::test]
async fn a_batch_with_an_unknown_id_or_a_missing_id_changes_nothing() {
    let sbx = sandbox().await;
    let all = ids(&sbx.get("v3/catalog/products?limit=2").await.json);
    let before = sbx.get(&format!("v3/catalog/products/{}", all[0])).await;
    let a = sbx
        .put(
            "v3/catalog/products",
            json!([{ "id": all[0], "price": 1.5 }, { "id": 999_999, "price": 2 }]),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json["status"], 404);
    let after = sbx.get(&format!("v3/catalog/products/{}", all[0])).await;
    assert_eq!(after.json["data"]["price"], before.json["data"]["price"]);
    assert_eq!(
        after.json["data"]["date_modified"],
        before.json["data"]["date_modified"]
    );

    let missing = sbx
        .put("v3/catalog/products", json!([{ "price": 3 }]))
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    let not_array = sbx
        .put("v3/catalog/products", json!({ "id": all[0] }))
        .await;
    assert_eq!(not_array.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_duplicate_sku_in_a_batch_is_409_and_changes_nothing() {
    let sbx = sandbox().await;
    let all = ids(&sbx.get("v3/catalog/products?limit=3").await.json);
    let taken = sbx.get(&format!("v3/catalog/products/{}", all[2])).await;
    let taken = taken.json["data"]["sku"].as_str().unwrap().to_string();
    let a = sbx
        .put(
            "v3/catalog/products",
            json!([{ "id": all[0], "sku": "NEW-1" }, { "id": all[1], "sku": "NEW-1" }]),
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    let b = sbx
        .put(
            &format!("v3/catalog/products/{}", all[0]),
            json!({ "sku": taken }),
        )
        .await;
    assert_eq!(b.status, StatusCode::CONFLICT);
    assert_eq!(b.json["status"], 409);
    let found = sbx.get("v3/catalog/products?sku=NEW-1").await;
    assert_eq!(found.json["data"], json!([]));
}

#[tokio::test]
async fn a_single_product_update_ignores_read_only_fields_and_clamps_stock() {
    let sbx = sandbox().await;
    let pid = find(&sbx, simple_tracked);
    let a = sbx
        .put(
            &format!("v3/catalog/products/{pid}"),
            json!({
                "id": 1, "date_created": "2000-01-01T00:00:00+00:00", "calculated_price": 1,
                "name": "Renamed Lamp", "sale_price": 0, "price": 19.99,
                "inventory_level": 9_000_000_000_i64, "is_visible": false
            }),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let p = &a.json["data"];
    assert_eq!(p["id"], pid);
    assert_eq!(p["name"], "Renamed Lamp");
    assert_eq!(p["price"], 19.99);
    assert_eq!(p["calculated_price"], 19.99);
    assert_eq!(p["is_visible"], false);
    assert_eq!(p["inventory_level"], 2_147_483_647_i64);
    assert_eq!(p["custom_url"]["url"], "/renamed-lamp/");
    assert_ne!(p["date_created"], "2000-01-01T00:00:00+00:00");

    let bad = sbx
        .put(
            &format!("v3/catalog/products/{pid}"),
            json!({ "price": "cheap" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.json["errors"]["price"].is_string());
    let unknown = sbx
        .put("v3/catalog/products/999999", json!({ "price": 1 }))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        sbx.get("v3/catalog/products/999999").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_variant_batch_of_51_items_is_413() {
    let sbx = sandbox_with(|c| c.products = 60).await;
    let variants = sbx.get("v3/catalog/variants?limit=250").await;
    let all: Vec<i64> = ids(&variants.json);
    assert!(all.len() >= 51);
    let items: Vec<Value> = all[..51]
        .iter()
        .map(|id| json!({ "id": id, "price": 3 }))
        .collect();
    let a = sbx.put("v3/catalog/variants", Value::Array(items)).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        a.json["title"],
        "The request payload is too large. The maximum items allowed in the array is 50"
    );
    assert_eq!(a.json["status"], 413);
    assert_eq!(a.json["errors"], json!({}));
    let fifty: Vec<Value> = all[..50]
        .iter()
        .map(|id| json!({ "id": id, "price": 3 }))
        .collect();
    let ok = sbx.put("v3/catalog/variants", Value::Array(fifty)).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.json["data"].as_array().unwrap().len(), 50);
    assert!(ok.json["data"][0]["price"] == 3.0);
}

#[tokio::test]
async fn variant_lists_filter_by_id_sku_and_product() {
    let sbx = sandbox().await;
    let pid = find(&sbx, with_options);
    let of_product = sbx
        .get(&format!("v3/catalog/products/{pid}/variants"))
        .await;
    assert_eq!(of_product.status, StatusCode::OK);
    let vids = ids(&of_product.json);
    assert!(vids.len() >= 2);
    assert_eq!(
        of_product.json["meta"]["pagination"]["total"],
        vids.len() as i64
    );
    let by_product = sbx
        .get(&format!("v3/catalog/variants?product_id:in={pid}"))
        .await;
    assert_eq!(ids(&by_product.json), vids);
    let sku = of_product.json["data"][1]["sku"].as_str().unwrap();
    let by_sku = sbx.get(&format!("v3/catalog/variants?sku={sku}")).await;
    assert_eq!(ids(&by_sku.json), vec![vids[1]]);
    let by_id = sbx
        .get(&format!("v3/catalog/variants?id:in={}", vids[0]))
        .await;
    assert_eq!(ids(&by_id.json), vec![vids[0]]);
    assert_eq!(
        sbx.get("v3/catalog/products/999999/variants").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn inventory_level_sums_variants_for_variant_tracking_and_is_0_for_none() {
    let sbx = sandbox().await;
    let pid = find(&sbx, with_options);
    let none = find(&sbx, |p| p.inventory_tracking == Tracking::None);
    let a = sbx
        .get(&format!("v3/catalog/products/{pid}?include=variants"))
        .await;
    let p = &a.json["data"];
    assert_eq!(p["inventory_tracking"], "variant");
    let sum: i64 = p["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["inventory_level"].as_i64().unwrap())
        .sum();
    assert_eq!(p["inventory_level"], sum);

    let vid = p["variants"][0]["id"].as_i64().unwrap();
    let old = p["variants"][0]["inventory_level"].as_i64().unwrap();
    let put = sbx
        .put(
            &format!("v3/catalog/products/{pid}/variants/{vid}"),
            json!({ "inventory_level": old + 5 }),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK);
    assert_eq!(put.json["data"]["inventory_level"], old + 5);
    let after = sbx.get(&format!("v3/catalog/products/{pid}")).await;
    assert_eq!(after.json["data"]["inventory_level"], sum + 5);

    let untracked = sbx.get(&format!("v3/catalog/products/{none}")).await;
    assert_eq!(untracked.json["data"]["inventory_tracking"], "none");
    assert_eq!(untracked.json["data"]["inventory_level"], 0);
    let ignored = sbx
        .put(
            &format!("v3/catalog/products/{none}"),
            json!({ "inventory_level": 12 }),
        )
        .await;
    assert_eq!(ignored.json["data"]["inventory_level"], 0);
    let filtered = sbx
        .get(&format!(
            "v3/catalog/products?id:in={pid},{none}&inventory_level:greater=0"
        ))
        .await;
    assert_eq!(ids(&filtered.json), vec![pid]);
}

#[tokio::test]
async fn creating_a_product_without_required_fields_answers_422_with_field_errors() {
    let sbx = sandbox().await;
    let a = sbx
        .post("v3/catalog/products", json!({ "sku": "X-1" }))
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(a.json["status"], 422);
    assert_eq!(
        a.json["errors"],
        json!({
            "name": "Please provide a name.",
            "price": "Please provide a price.",
            "type": "Please provide a type.",
            "weight": "Please provide a weight."
        })
    );
    let wrong_type = sbx
        .post(
            "v3/catalog/products",
            json!({ "name": "Box", "type": "liquid", "weight": 1, "price": 2 }),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong_type.json["errors"]["type"].is_string());
}

#[tokio::test]
async fn a_created_product_has_a_base_variant_or_its_nested_variants() {
    let sbx = sandbox().await;
    let a = sbx
        .post(
            "v3/catalog/products",
            json!({ "name": "Plain Box", "type": "physical", "weight": 1.5, "price": 12,
                    "sku": "BOX-1", "inventory_tracking": "product", "inventory_level": 4 }),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let p = &a.json["data"];
    let id = p["id"].as_i64().unwrap();
    assert_eq!(p["inventory_level"], 4);
    assert_eq!(p["variants"].as_array().unwrap().len(), 1);
    assert_eq!(p["base_variant_id"], p["variants"][0]["id"]);
    assert_eq!(p["variants"][0]["sku"], "BOX-1");
    let fetched = sbx.get(&format!("v3/catalog/products/{id}")).await;
    assert_eq!(fetched.json["data"]["name"], "Plain Box");

    let dup = sbx
        .post(
            "v3/catalog/products",
            json!({ "name": "Plain Box", "type": "physical", "weight": 1, "price": 1 }),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);

    let b = sbx
        .post(
            "v3/catalog/products",
            json!({ "name": "Sized Box", "type": "physical", "weight": 1, "price": 9,
                    "inventory_tracking": "variant",
                    "variants": [
                        { "sku": "SB-S", "inventory_level": 2,
                          "option_values": [{ "option_display_name": "Size", "label": "S" }] },
                        { "sku": "SB-L", "inventory_level": 3, "price": 11,
                          "option_values": [{ "option_display_name": "Size", "label": "L" }] }
                    ] }),
        )
        .await;
    assert_eq!(b.status, StatusCode::OK);
    let p = &b.json["data"];
    assert!(p["base_variant_id"].is_null());
    assert_eq!(p["inventory_level"], 5);
    let variants = p["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    assert_eq!(
        variants[0]["option_values"][0]["option_id"],
        variants[1]["option_values"][0]["option_id"]
    );
    assert_eq!(variants[1]["price"], 11.0);
    assert!(variants[0]["price"].is_null());
}

#[tokio::test]
async fn deleting_products_needs_a_filter() {
    let sbx = sandbox().await;
    let a = sbx.delete("v3/catalog/products").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        sbx.get("v3/catalog/products").await.json["meta"]["pagination"]["total"],
        30
    );
    let all = ids(&sbx.get("v3/catalog/products?limit=2").await.json);
    let d = sbx
        .delete(&format!("v3/catalog/products?id:in={},{}", all[0], all[1]))
        .await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    assert!(d.text.is_empty());
    assert_eq!(
        sbx.get(&format!("v3/catalog/products/{}", all[0]))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sbx.get("v3/catalog/products").await.json["meta"]["pagination"]["total"],
        28
    );
    let too_many: Vec<String> = (1..=251).map(|i| i.to_string()).collect();
    let big = sbx
        .delete(&format!("v3/catalog/products?id:in={}", too_many.join(",")))
        .await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    let third = ids(&sbx.get("v3/catalog/products?limit=1").await.json)[0];
    let one = sbx.delete(&format!("v3/catalog/products/{third}")).await;
    assert_eq!(one.status, StatusCode::NO_CONTENT);
    let again = sbx.delete(&format!("v3/catalog/products/{third}")).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_category_tree_has_the_documented_shape() {
    let sbx = sandbox().await;
    let a = sbx.get("v3/catalog/trees/categories").await;
    assert_eq!(a.status, StatusCode::OK);
    let data = a.json["data"].as_array().unwrap();
    assert_eq!(a.json["meta"]["pagination"]["total"], 16);
    let c = &data[0];
    for key in [
        "category_id",
        "category_uuid",
        "tree_id",
        "parent_id",
        "name",
        "description",
        "views",
        "sort_order",
        "page_title",
        "meta_keywords",
        "meta_description",
        "layout_file",
        "image_url",
        "is_visible",
        "search_keywords",
        "default_product_sort",
        "url",
    ] {
        assert!(c.get(key).is_some(), "category has {key}");
    }
    assert_eq!(c["tree_id"], 1);
    assert_eq!(c["parent_id"], 0);
    assert_eq!(c["url"]["is_customized"], false);
    let uuid = c["category_uuid"].as_str().unwrap();
    assert_eq!(uuid.len(), 36);
    assert_eq!(
        uuid.split('-').map(str::len).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    let again = sbx.get("v3/catalog/trees/categories").await;
    assert_eq!(again.json["data"][0]["category_uuid"], c["category_uuid"]);

    let parent = c["category_id"].as_i64().unwrap();
    let children = sbx
        .get(&format!(
            "v3/catalog/trees/categories?parent_id:in={parent}"
        ))
        .await;
    let child = &children.json["data"][0];
    assert_eq!(child["parent_id"], parent);
    let path = child["url"]["path"].as_str().unwrap();
    assert!(path.starts_with(c["url"]["path"].as_str().unwrap()));

    let trees = sbx.get("v3/catalog/trees").await;
    assert_eq!(trees.json["data"][0]["id"], 1);
    assert_eq!(trees.json["data"][0]["name"], "Default");

    let legacy = sbx.get("v3/catalog/categories?limit=5").await;
    assert_eq!(legacy.status, StatusCode::OK);
    let l = &legacy.json["data"][0];
    assert_eq!(l["id"], parent);
    assert!(l["custom_url"]["url"].is_string());
    assert_eq!(legacy.json["meta"]["pagination"]["per_page"], 5);
}

#[tokio::test]
async fn a_read_only_token_can_read_but_not_write_the_catalog() {
    let sbx = sandbox().await;
    let token = sbx.store.read_only_token.clone();
    let read = sbx
        .call_as(&token, Method::GET, "v3/catalog/products", None)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    let pid = ids(&read.json)[0];
    let before = sbx.get(&format!("v3/catalog/products/{pid}")).await;
    let write = sbx
        .call_as(
            &token,
            Method::PUT,
            &format!("v3/catalog/products/{pid}"),
            Some(json!({ "price": 1 })),
        )
        .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
    assert_eq!(write.json["status"], 403);
    let after = sbx.get(&format!("v3/catalog/products/{pid}")).await;
    assert_eq!(after.json["data"]["price"], before.json["data"]["price"]);
}

#[tokio::test]
async fn a_merchant_price_edit_shows_up_with_a_newer_date_modified() {
    let sbx = sandbox().await;
    let pid = find(&sbx, simple_tracked);
    let before = sbx.get(&format!("v3/catalog/products/{pid}")).await;
    let edit = sbx
        .control(
            Method::PUT,
            &format!("/_sandbox/stores/{}/products/{pid}", sbx.store.hash),
            Some(json!({ "price": 55.5, "inventory_level": 3 })),
        )
        .await;
    assert_eq!(edit.status, StatusCode::OK);
    let after = sbx.get(&format!("v3/catalog/products/{pid}")).await;
    assert_eq!(after.json["data"]["price"], 55.5);
    assert_eq!(after.json["data"]["inventory_level"], 3);
    assert!(iso(&after.json["data"]["date_modified"]) > iso(&before.json["data"]["date_modified"]));
}

#[tokio::test]
async fn merchant_actions_add_edit_and_delete_products() {
    let sbx = sandbox().await;
    let hash = sbx.store.hash.clone();
    let created = sbx
        .control(
            Method::POST,
            &format!("/_sandbox/stores/{hash}/products"),
            Some(json!({ "name": "Merchant Mug", "price": 8,
                         "variants": [{ "sku": "MM-R", "inventory_level": 4 },
                                      { "sku": "MM-B", "inventory_level": 6, "price": 9 }] })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.json["id"].as_i64().unwrap();
    assert_eq!(created.json["inventory_tracking"], "variant");
    assert_eq!(created.json["inventory_level"], 10);
    let vid = created.json["variants"][1]["id"].as_i64().unwrap();

    let listed = sbx.get("v3/catalog/products?sku:in=MM-B").await;
    assert_eq!(ids(&listed.json), vec![id]);

    let edit = sbx
        .control(
            Method::PUT,
            &format!("/_sandbox/stores/{hash}/variants/{vid}"),
            Some(json!({ "inventory_level": 1, "price": 10 })),
        )
        .await;
    assert_eq!(edit.status, StatusCode::OK);
    let variant = sbx
        .get(&format!("v3/catalog/products/{id}/variants/{vid}"))
        .await;
    assert_eq!(variant.json["data"]["inventory_level"], 1);
    assert_eq!(variant.json["data"]["price"], 10.0);
    assert_eq!(
        sbx.get(&format!("v3/catalog/products/{id}")).await.json["data"]["inventory_level"],
        5
    );

    let simple = sbx
        .control(
            Method::POST,
            &format!("/_sandbox/stores/{hash}/products"),
            Some(json!({})),
        )
        .await;
    assert_eq!(simple.status, StatusCode::CREATED);
    assert_eq!(simple.json["inventory_tracking"], "product");
    assert!(simple.json["base_variant_id"].is_i64());

    let gone = sbx
        .control(
            Method::DELETE,
            &format!("/_sandbox/stores/{hash}/products/{id}"),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        sbx.get(&format!("v3/catalog/products/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_variant_batch_creates_variants_without_id_and_rejects_incomplete_ones() {
    let sbx = sandbox().await;
    let pid = find(&sbx, with_options);
    let existing = sbx
        .get(&format!("v3/catalog/products/{pid}/variants"))
        .await;
    let ov = existing.json["data"][0]["option_values"][0].clone();
    let incomplete = sbx
        .put("v3/catalog/variants", json!([{ "sku": "LONELY" }]))
        .await;
    assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY);
    let created = sbx
        .put(
            "v3/catalog/variants",
            json!([{ "product_id": pid, "sku": "NEW-XXL", "inventory_level": 2,
                     "option_values": [{ "option_display_name": ov["option_display_name"], "label": "XXL" }] }]),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let v = &created.json["data"][0];
    assert_eq!(v["product_id"], pid);
    assert_eq!(v["option_values"][0]["option_id"], ov["option_id"]);
    assert_eq!(v["option_values"][0]["label"], "XXL");
    let dup = sbx
        .put(
            "v3/catalog/variants",
            json!([{ "id": existing.json["data"][1]["id"], "sku": "NEW-XXL" }]),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn product_writes_raise_product_webhooks() {
    let sbx = sandbox().await;
    let inbox = listen(&sbx, &["store/product/*"]).await;
    let pid = find(&sbx, simple_tracked);
    let put = sbx
        .put(
            &format!("v3/catalog/products/{pid}"),
            json!({ "price": 3, "inventory_level": 77 }),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK);
    let updated = delivered(&inbox, "store/product/updated", |d| d["id"] == pid).await;
    assert_eq!(updated, json!({ "type": "product", "id": pid }));
    let stock = delivered(&inbox, "store/product/inventory/updated", |d| {
        d["id"] == pid
    })
    .await;
    assert_eq!(
        stock,
        json!({ "type": "product", "id": pid,
                "inventory": { "product_id": pid, "method": "absolute", "value": 77 } })
    );

    let created = sbx
        .post(
            "v3/catalog/products",
            json!({ "name": "Hooked", "type": "physical", "weight": 1, "price": 1 }),
        )
        .await;
    let id = created.json["data"]["id"].as_i64().unwrap();
    let data = delivered(&inbox, "store/product/created", |d| d["id"] == id).await;
    assert_eq!(data, json!({ "type": "product", "id": id }));
    let gone = sbx.delete(&format!("v3/catalog/products?id:in={id}")).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    delivered(&inbox, "store/product/deleted", |d| d["id"] == id).await;
}

#[tokio::test]
async fn a_variant_stock_change_raises_sku_inventory_updated() {
    let sbx = sandbox().await;
    let inbox = listen(&sbx, &["store/sku/inventory/updated"]).await;
    let pid = find(&sbx, with_options);
    let variants = sbx
        .get(&format!("v3/catalog/products/{pid}/variants"))
        .await;
    let vid = variants.json["data"][0]["id"].as_i64().unwrap();
    let old = variants.json["data"][0]["inventory_level"]
        .as_i64()
        .unwrap();
    let put = sbx
        .put(
            "v3/catalog/variants",
            json!([{ "id": vid, "inventory_level": old + 11 }]),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK);
    let data = delivered(&inbox, "store/sku/inventory/updated", |d| d["id"] == vid).await;
    assert_eq!(
        data,
        json!({ "type": "sku", "id": vid,
                "inventory": { "product_id": pid, "method": "absolute", "value": old + 11, "variant_id": vid } })
    );
}
