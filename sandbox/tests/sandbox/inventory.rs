//! Inventory API (docs/bigcommerce.md §5, §12): adjustments, items, locations.

use std::time::Duration;

use orderdeck_sandbox::model::Tracking;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{sandbox, sandbox_with, Answer, Sbx};

/// `(product_id, base variant id, stock)` of the first product tracked by product.
fn product_tracked(sbx: &Sbx) -> (i64, i64, i64) {
    sbx.handle
        .with_store(&sbx.store.hash, |s| {
            s.products
                .values()
                .find(|p| p.inventory_tracking == Tracking::Product && !p.has_options())
                .map(|p| (p.id, p.variants[0].id, p.inventory_level))
                .unwrap()
        })
        .unwrap()
}

/// `(product_id, [(variant_id, sku, stock)])` of the first product tracked by variant.
fn variant_tracked(sbx: &Sbx) -> (i64, Vec<(i64, String, i64)>) {
    sbx.handle
        .with_store(&sbx.store.hash, |s| {
            s.products
                .values()
                .find(|p| p.inventory_tracking == Tracking::Variant && p.has_options())
                .map(|p| {
                    (
                        p.id,
                        p.variants
                            .iter()
                            .map(|v| (v.id, v.sku.clone(), v.inventory_level))
                            .collect(),
                    )
                })
                .unwrap()
        })
        .unwrap()
}

fn untracked(sbx: &Sbx) -> i64 {
    sbx.handle
        .with_store(&sbx.store.hash, |s| {
            s.products
                .values()
                .find(|p| p.inventory_tracking == Tracking::None)
                .map(|p| p.id)
                .unwrap()
        })
        .unwrap()
}

fn product_stock(sbx: &Sbx, pid: i64) -> i64 {
    sbx.handle
        .with_store(&sbx.store.hash, |s| s.products[&pid].inventory_level)
        .unwrap()
}

fn variant_stock(sbx: &Sbx, pid: i64, vid: i64) -> i64 {
    sbx.handle
        .with_store(&sbx.store.hash, |s| {
            s.products[&pid]
                .variants
                .iter()
                .find(|v| v.id == vid)
                .unwrap()
                .inventory_level
        })
        .unwrap()
}

async fn absolute(sbx: &Sbx, items: Value) -> Answer {
    sbx.put(
        "/v3/inventory/adjustments/absolute",
        json!({ "reason": "test", "items": items }),
    )
    .await
}

async fn relative(sbx: &Sbx, items: Value) -> Answer {
    sbx.post(
        "/v3/inventory/adjustments/relative",
        json!({ "reason": "test", "items": items }),
    )
    .await
}

fn assert_problem(a: &Answer) {
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    assert_eq!(a.header("content-type"), Some("application/problem+json"));
    assert_eq!(a.json["status"], 422);
    assert!(a.json["title"].is_string());
    assert!(a.json["type"].is_string());
    assert!(a.json["errors"].is_object());
}

#[tokio::test]
async fn an_absolute_put_sets_product_stock_and_answers_a_transaction_id() {
    let sbx = sandbox().await;
    let (pid, _, _) = product_tracked(&sbx);
    let before = sbx
        .handle
        .with_store(&sbx.store.hash, |s| s.products[&pid].date_modified)
        .unwrap();
    let a = absolute(
        &sbx,
        json!([{ "location_id": 1, "product_id": pid, "quantity": 42 }]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let id = a.json["transaction_id"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(id.matches('-').count(), 4);
    assert_eq!(product_stock(&sbx, pid), 42);
    let after = sbx
        .handle
        .with_store(&sbx.store.hash, |s| s.products[&pid].date_modified)
        .unwrap();
    assert!(after > before);

    let items = sbx
        .get(&format!("/v3/inventory/items?product_id:in={pid}"))
        .await;
    assert_eq!(items.status, StatusCode::OK);
    assert_eq!(
        items.json["data"][0]["locations"][0]["total_inventory_onhand"],
        42
    );
}

#[tokio::test]
async fn the_catalog_shows_the_new_stock_after_an_absolute_put() {
    let sbx = sandbox().await;
    let (pid, _, _) = product_tracked(&sbx);
    let a = absolute(
        &sbx,
        json!([{ "location_id": 1, "product_id": pid, "quantity": 17 }]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let p = sbx
        .get(&format!("/v3/catalog/products/{pid}?include=variants"))
        .await;
    if p.status == StatusCode::OK {
        assert_eq!(p.json["data"]["inventory_level"], 17);
    } else {
        // The catalog module is not there yet: check the state directly.
        assert_eq!(product_stock(&sbx, pid), 17);
    }
}

#[tokio::test]
async fn variant_stock_is_set_by_variant_id_or_by_sku() {
    let sbx = sandbox().await;
    let (pid, variants) = variant_tracked(&sbx);
    let (v1, _, _) = variants[0].clone();
    let (v2, sku2, _) = variants[1].clone();
    let a = absolute(
        &sbx,
        json!([
            { "location_id": 1, "variant_id": v1, "quantity": 7 },
            { "location_id": 1, "sku": sku2, "quantity": 9 },
        ]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(variant_stock(&sbx, pid, v1), 7);
    assert_eq!(variant_stock(&sbx, pid, v2), 9);
}

#[tokio::test]
async fn a_product_sku_adjusts_a_product_tracked_by_product() {
    let sbx = sandbox().await;
    let (pid, _, _) = product_tracked(&sbx);
    let sku = sbx
        .handle
        .with_store(&sbx.store.hash, |s| s.products[&pid].sku.clone())
        .unwrap();
    let a = absolute(
        &sbx,
        json!([{ "location_id": 1, "sku": sku, "quantity": 3 }]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(product_stock(&sbx, pid), 3);
}

#[tokio::test]
async fn a_relative_post_adds_and_subtracts() {
    let sbx = sandbox().await;
    let (pid, _, _) = product_tracked(&sbx);
    let (vpid, variants) = variant_tracked(&sbx);
    let (vid, _, _) = variants[0].clone();
    sbx.handle
        .with_store(&sbx.store.hash, |s| {
            s.products.get_mut(&pid).unwrap().inventory_level = 10;
            let p = s.products.get_mut(&vpid).unwrap();
            p.variants
                .iter_mut()
                .find(|v| v.id == vid)
                .unwrap()
                .inventory_level = 10;
        })
        .unwrap();
    let a = relative(
        &sbx,
        json!([
            { "location_id": 1, "product_id": pid, "quantity": 5 },
            { "location_id": 1, "variant_id": vid, "quantity": -4 },
        ]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(a.json["transaction_id"].is_string());
    assert_eq!(product_stock(&sbx, pid), 15);
    assert_eq!(variant_stock(&sbx, vpid, vid), 6);

    let a = relative(
        &sbx,
        json!([{ "location_id": 1, "product_id": pid, "quantity": -15 }]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(product_stock(&sbx, pid), 0);
}

#[tokio::test]
async fn a_relative_adjustment_below_zero_is_a_422_problem_and_changes_nothing() {
    let sbx = sandbox().await;
    let (pid, _, _) = product_tracked(&sbx);
    sbx.handle
        .with_store(&sbx.store.hash, |s| {
            s.products.get_mut(&pid).unwrap().inventory_level = 5
        })
        .unwrap();
    let a = relative(
        &sbx,
        json!([{ "location_id": 1, "product_id": pid, "quantity": -6 }]),
    )
    .await;
    assert_problem(&a);
    assert_eq!(product_stock(&sbx, pid), 5);

    // Items of one request add up: 5 - 3 - 3 goes below zero too.
    let a = relative(
        &sbx,
        json!([
            { "location_id": 1, "product_id": pid, "quantity": -3 },
            { "location_id": 1, "product_id": pid, "quantity": -3 },
        ]),
    )
    .await;
    assert_problem(&a);
    assert_eq!(product_stock(&sbx, pid), 5);
}

#[tokio::test]
async fn an_absolute_adjustment_never_fails_for_stock_but_rejects_out_of_range_quantities() {
    let sbx = sandbox().await;
    let (pid, _, _) = product_tracked(&sbx);
    sbx.handle
        .with_store(&sbx.store.hash, |s| {
            s.products.get_mut(&pid).unwrap().inventory_level = 5
        })
        .unwrap();
    for quantity in [json!(-1), json!(2_147_483_648_i64), json!(1.5), json!("3")] {
        let a = absolute(
            &sbx,
            json!([{ "location_id": 1, "product_id": pid, "quantity": quantity }]),
        )
        .await;
        assert_problem(&a);
    }
    assert_eq!(product_stock(&sbx, pid), 5);
    let a = absolute(
        &sbx,
        json!([{ "location_id": 1, "product_id": pid, "quantity": 2_147_483_647_i64 }]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(product_stock(&sbx, pid), 2_147_483_647);
    let a = absolute(
        &sbx,
        json!([{ "location_id": 1, "product_id": pid, "quantity": 0 }]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(product_stock(&sbx, pid), 0);
}

#[tokio::test]
async fn the_other_method_on_each_adjustment_path_answers_405() {
    let sbx = sandbox().await;
    let (pid, _, stock) = product_tracked(&sbx);
    let body = json!({ "items": [{ "location_id": 1, "product_id": pid, "quantity": 1 }] });
    let a = sbx
        .post("/v3/inventory/adjustments/absolute", body.clone())
        .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    let a = sbx.put("/v3/inventory/adjustments/relative", body).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    let a = sbx.get("/v3/inventory/adjustments/absolute").await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(product_stock(&sbx, pid), stock);
}

#[tokio::test]
async fn identities_must_match_the_tracking_mode() {
    let sbx = sandbox().await;
    let (_, base_vid, _) = product_tracked(&sbx);
    let (vpid, variants) = variant_tracked(&sbx);
    let none = untracked(&sbx);
    let refused = [
        // The base variant of a product tracked by product.
        json!({ "location_id": 1, "variant_id": base_vid, "quantity": 1 }),
        // A product with variants.
        json!({ "location_id": 1, "product_id": vpid, "quantity": 1 }),
        // Untracked.
        json!({ "location_id": 1, "product_id": none, "quantity": 1 }),
        // Unknown ids and SKUs.
        json!({ "location_id": 1, "product_id": 999_999, "quantity": 1 }),
        json!({ "location_id": 1, "variant_id": 999_999, "quantity": 1 }),
        json!({ "location_id": 1, "sku": "NO-SUCH-SKU", "quantity": 1 }),
    ];
    for item in refused {
        let a = absolute(&sbx, json!([item])).await;
        assert_problem(&a);
    }
    let a = absolute(
        &sbx,
        json!([{ "location_id": 1, "variant_id": variants[0].0, "quantity": 1 }]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn an_item_needs_exactly_one_identity_a_quantity_and_location_1() {
    let sbx = sandbox().await;
    let (pid, _, _) = product_tracked(&sbx);
    let sku = sbx
        .handle
        .with_store(&sbx.store.hash, |s| s.products[&pid].sku.clone())
        .unwrap();
    let refused = [
        json!({ "location_id": 1, "product_id": pid, "sku": sku, "quantity": 1 }),
        json!({ "location_id": 1, "quantity": 1 }),
        json!({ "location_id": 1, "product_id": pid }),
        json!({ "product_id": pid, "quantity": 1 }),
        json!({ "location_id": 2, "product_id": pid, "quantity": 1 }),
    ];
    for item in refused {
        let a = absolute(&sbx, json!([item])).await;
        assert_problem(&a);
        let a = relative(&sbx, json!([item])).await;
        assert_problem(&a);
    }
}

#[tokio::test]
async fn more_than_2000_items_answer_413() {
    let sbx = sandbox().await;
    let (pid, _, stock) = product_tracked(&sbx);
    let items: Vec<Value> = (0..2001)
        .map(|_| json!({ "location_id": 1, "product_id": pid, "quantity": 1 }))
        .collect();
    let a = absolute(&sbx, json!(items)).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text);
    assert_eq!(a.json["status"], 413);
    assert_eq!(product_stock(&sbx, pid), stock);

    let items: Vec<Value> = (0..2000)
        .map(|_| json!({ "location_id": 1, "product_id": pid, "quantity": 1 }))
        .collect();
    let a = relative(&sbx, json!(items)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(product_stock(&sbx, pid), stock + 2000);
}

#[tokio::test]
async fn one_failing_item_applies_nothing() {
    let sbx = sandbox().await;
    let (pid, base_vid, stock) = product_tracked(&sbx);
    let (vpid, variants) = variant_tracked(&sbx);
    let (vid, _, vstock) = variants[0].clone();
    let a = absolute(
        &sbx,
        json!([
            { "location_id": 1, "product_id": pid, "quantity": stock + 11 },
            { "location_id": 1, "variant_id": vid, "quantity": vstock + 11 },
            { "location_id": 1, "variant_id": base_vid, "quantity": 1 },
        ]),
    )
    .await;
    assert_problem(&a);
    assert_eq!(product_stock(&sbx, pid), stock);
    assert_eq!(variant_stock(&sbx, vpid, vid), vstock);
}

#[tokio::test]
async fn with_a_delay_a_read_right_after_the_write_shows_the_old_stock() {
    let sbx = sandbox_with(|c| c.inventory_delay = Duration::from_millis(300)).await;
    let (pid, _, stock) = product_tracked(&sbx);
    let a = absolute(
        &sbx,
        json!([{ "location_id": 1, "product_id": pid, "quantity": stock + 50 }]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(product_stock(&sbx, pid), stock);
    let items = sbx
        .get(&format!("/v3/inventory/items?product_id:in={pid}"))
        .await;
    assert_eq!(
        items.json["data"][0]["locations"][0]["total_inventory_onhand"],
        stock
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(product_stock(&sbx, pid), stock + 50);
}

#[tokio::test]
async fn inventory_items_list_one_item_per_tracked_variant_at_location_1() {
    let sbx = sandbox().await;
    let expected: usize = sbx
        .handle
        .with_store(&sbx.store.hash, |s| {
            s.products
                .values()
                .map(|p| match p.inventory_tracking {
                    Tracking::None => 0,
                    Tracking::Product => 1,
                    Tracking::Variant => p.variants.len(),
                })
                .sum()
        })
        .unwrap();
    let a = sbx.get("/v3/inventory/items?limit=1000").await;
    assert_eq!(a.status, StatusCode::OK);
    let data = a.json["data"].as_array().unwrap();
    assert_eq!(data.len(), expected);
    assert_eq!(a.json["meta"]["pagination"]["total"], expected);
    assert_eq!(a.json["meta"]["pagination"]["per_page"], 1000);

    let (pid, base_vid, stock) = product_tracked(&sbx);
    let item = data
        .iter()
        .find(|i| i["identity"]["product_id"] == pid)
        .unwrap();
    assert_eq!(item["identity"]["variant_id"], base_vid);
    assert!(item["identity"]["sku"].is_string());
    assert!(item["identity"]["sku_id"].is_i64());
    let loc = &item["locations"][0];
    assert_eq!(loc["location_id"], 1);
    assert_eq!(loc["location_code"], "DEFAULT");
    assert_eq!(loc["location_name"], "Default location");
    assert_eq!(loc["location_enabled"], true);
    assert_eq!(loc["available_to_sell"], stock);
    assert_eq!(loc["total_inventory_onhand"], stock);
    assert_eq!(loc["settings"]["safety_stock"], 0);
    assert_eq!(loc["settings"]["is_in_stock"], stock > 0);
    assert!(loc["settings"]["warning_level"].is_i64());
    assert_eq!(loc["settings"]["bin_picking_number"], "");

    let none = untracked(&sbx);
    assert!(data.iter().all(|i| i["identity"]["product_id"] != none));
}

#[tokio::test]
async fn inventory_items_filter_by_identity_and_location_and_page() {
    let sbx = sandbox().await;
    let (vpid, variants) = variant_tracked(&sbx);
    let a = sbx
        .get(&format!("/v3/inventory/items?product_id:in={vpid}"))
        .await;
    assert_eq!(a.json["data"].as_array().unwrap().len(), variants.len());

    let (v0, sku0, stock0) = variants[0].clone();
    let a = sbx
        .get(&format!(
            "/v3/inventory/items?variant_id:in={v0},{}",
            variants[1].0
        ))
        .await;
    assert_eq!(a.json["data"].as_array().unwrap().len(), 2);

    let a = sbx.get(&format!("/v3/inventory/items?sku:in={sku0}")).await;
    let data = a.json["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["identity"]["variant_id"], v0);
    assert_eq!(data[0]["locations"][0]["total_inventory_onhand"], stock0);

    let a = sbx.get("/v3/inventory/items?location_id:in=2").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json["data"], json!([]));

    let a = sbx.get("/v3/inventory/items?limit=5&page=2").await;
    assert_eq!(a.json["data"].as_array().unwrap().len(), 5);
    assert_eq!(a.json["meta"]["pagination"]["current_page"], 2);
    assert!(a.json["meta"]["pagination"]["links"]["previous"].is_string());

    let a = sbx.get("/v3/inventory/items?limit=5000").await;
    assert_eq!(a.json["meta"]["pagination"]["per_page"], 1000);

    let a = sbx.get("/v3/inventory/items?product_id:in=abc").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn there_is_one_default_location_and_its_items_list() {
    let sbx = sandbox().await;
    let a = sbx.get("/v3/inventory/locations").await;
    assert_eq!(a.status, StatusCode::OK);
    let data = a.json["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["id"], 1);
    assert_eq!(data[0]["code"], "DEFAULT");
    assert_eq!(data[0]["is_default"], true);
    assert_eq!(data[0]["enabled"], true);
    assert_eq!(a.json["meta"]["pagination"]["total"], 1);

    let (pid, _, stock) = product_tracked(&sbx);
    let a = sbx
        .get(&format!(
            "/v3/inventory/locations/1/items?product_id:in={pid}"
        ))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let item = &a.json["data"][0];
    assert_eq!(item["identity"]["product_id"], pid);
    assert_eq!(item["available_to_sell"], stock);
    assert_eq!(item["total_inventory_onhand"], stock);
    assert_eq!(item["settings"]["safety_stock"], 0);

    let a = sbx.get("/v3/inventory/locations/2/items").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json["status"], 404);
}

#[tokio::test]
async fn a_read_only_token_reads_inventory_but_cannot_adjust_it() {
    let sbx = sandbox().await;
    let (pid, _, stock) = product_tracked(&sbx);
    let token = sbx.store.read_only_token.clone();
    let a = sbx
        .call_as(
            &token,
            Method::PUT,
            "/v3/inventory/adjustments/absolute",
            Some(json!({ "items": [{ "location_id": 1, "product_id": pid, "quantity": 1 }] })),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(product_stock(&sbx, pid), stock);
    let a = sbx
        .call_as(&token, Method::GET, "/v3/inventory/items", None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn a_body_without_items_is_refused() {
    let sbx = sandbox().await;
    let a = sbx
        .put(
            "/v3/inventory/adjustments/absolute",
            json!({ "reason": "x" }),
        )
        .await;
    assert_problem(&a);
    let a = sbx
        .put("/v3/inventory/adjustments/absolute", json!({ "items": [] }))
        .await;
    assert_problem(&a);
}
