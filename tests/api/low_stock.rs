//! Low stock: thresholds set through the API, and since when each product has been low,
//! kept by every stock change whoever makes it.

use serde_json::{json, Value};

use crate::support::{codes, shop, Shop};

const SET: &str = "mutation($i: SetLowStockThresholdInput!) { setLowStockThreshold(input: $i) { product { sku stock lowStockThreshold lowStockSince } userErrors { field code } } }";

async fn set(s: &Shop, input: Value) -> Value {
    s.app.data(Some(&s.token), SET, json!({ "i": input })).await["setLowStockThreshold"].clone()
}

/// `lowStockSince` of the product with this SKU.
async fn since(s: &Shop, sku: &str) -> Value {
    s.app
        .data(
            Some(&s.token),
            "query($sku: String) { product(sku: $sku) { lowStockSince } }",
            json!({ "sku": sku }),
        )
        .await["product"]["lowStockSince"]
        .clone()
}

/// The SKUs `products(filter: { lowStock: true })` lists.
async fn low(s: &Shop) -> Vec<String> {
    let data = s
        .app
        .data(
            Some(&s.token),
            "{ products(filter: { lowStock: true }) { nodes { sku } } }",
            json!({}),
        )
        .await;
    data["products"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["sku"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_product_falling_to_its_threshold_is_low_from_that_moment_until_it_rises_above_it() {
    let s = shop("low-stock@example.com").await;
    s.stocked(&[("MUG", 10), ("PLATE", 50)]).await;

    let set_mug = set(&s, json!({ "sku": "MUG", "threshold": 5 })).await;
    assert_eq!(set_mug["userErrors"], json!([]), "{set_mug}");
    assert_eq!(set_mug["product"]["lowStockThreshold"], 5);
    assert!(set_mug["product"]["lowStockSince"].is_null(), "{set_mug}");
    assert!(low(&s).await.is_empty());

    // Falling to the threshold: low from now.
    let adjusted = s
        .adjust_stock(json!({ "sku": "MUG", "delta": -5, "reason": "Sold at a fair" }))
        .await;
    assert_eq!(adjusted["userErrors"], json!([]), "{adjusted}");
    let first = since(&s, "MUG").await;
    assert!(first.is_string(), "{first}");
    assert_eq!(low(&s).await, ["MUG"]);

    // Further down: still low since the same moment.
    s.adjust_stock(json!({ "sku": "MUG", "delta": -2, "reason": "Broken" }))
        .await;
    assert_eq!(since(&s, "MUG").await, first);

    // Back above the threshold: no longer low.
    s.adjust_stock(json!({ "sku": "MUG", "delta": 10, "reason": "Delivery" }))
        .await;
    assert!(since(&s, "MUG").await.is_null());
    assert!(low(&s).await.is_empty());

    // A threshold set above the current stock makes the product low at once; clearing it ends that.
    let plate = set(&s, json!({ "sku": "PLATE", "threshold": 60 })).await;
    assert!(plate["product"]["lowStockSince"].is_string(), "{plate}");
    assert_eq!(low(&s).await, ["PLATE"]);
    let cleared = set(&s, json!({ "sku": "PLATE", "threshold": null })).await;
    assert!(
        cleared["product"]["lowStockThreshold"].is_null(),
        "{cleared}"
    );
    assert!(cleared["product"]["lowStockSince"].is_null(), "{cleared}");
}

#[tokio::test]
async fn an_imported_order_taking_stock_makes_a_product_low() {
    let s = shop("low-stock-orders@example.com").await;
    s.stocked(&[("MUG", 10)]).await;
    set(&s, json!({ "sku": "MUG", "threshold": 8 })).await;
    crate::support::a_second_passes().await;
    s.place(json!([{ "sku": "MUG", "quantity": 3 }])).await;
    s.import("ORDERS").await;
    assert_eq!(s.stock("MUG").await, 7);
    assert!(since(&s, "MUG").await.is_string());
    assert_eq!(low(&s).await, ["MUG"]);
}

#[tokio::test]
async fn a_threshold_needs_one_product_and_a_figure_from_zero_up() {
    let s = shop("low-stock-errors@example.com").await;
    s.stocked(&[("MUG", 10)]).await;
    let negative = set(&s, json!({ "sku": "MUG", "threshold": -1 })).await;
    assert_eq!(codes(&negative), ["INVALID"], "{negative}");
    assert_eq!(negative["userErrors"][0]["field"], json!(["threshold"]));
    let unknown = set(&s, json!({ "sku": "NO-SUCH", "threshold": 1 })).await;
    assert_eq!(codes(&unknown), ["NOT_FOUND"], "{unknown}");
    let both = set(
        &s,
        json!({ "sku": "MUG", "productId": "gid://orderdeck/Product/1", "threshold": 1 }),
    )
    .await;
    assert_eq!(codes(&both), ["AMBIGUOUS_PRODUCT"], "{both}");
    // Nothing changed.
    let p = s
        .app
        .data(
            Some(&s.token),
            "{ product(sku: \"MUG\") { lowStockThreshold } }",
            json!({}),
        )
        .await;
    assert!(p["product"]["lowStockThreshold"].is_null(), "{p}");
}

const LOW: &str = "query($after: String) { lowStockProducts(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { product { sku stock } since unitsSoldPerDay daysOfCover } } }";

#[tokio::test]
async fn low_stock_products_list_the_longest_low_first_with_their_sales_pace_page_by_page() {
    let s = shop("low-stock-list@example.com").await;
    s.stocked(&[("MUG", 10), ("PLATE", 4), ("BOWL", 3), ("CUP", 50)])
        .await;
    // PLATE runs low first, BOWL next, MUG last (through 6 sold in orders); CUP never.
    set(&s, json!({ "sku": "PLATE", "threshold": 5 })).await;
    crate::support::a_second_passes().await;
    set(&s, json!({ "sku": "BOWL", "threshold": 5 })).await;
    set(&s, json!({ "sku": "MUG", "threshold": 5 })).await;
    set(&s, json!({ "sku": "CUP", "threshold": 5 })).await;
    s.place(json!([{ "sku": "MUG", "quantity": 6 }])).await;
    s.import("ORDERS").await;
    assert_eq!(s.stock("MUG").await, 4);

    let first = s.app.data(Some(&s.token), LOW, json!({})).await["lowStockProducts"].clone();
    assert_eq!(first["totalCount"], 3, "{first}");
    let skus: Vec<&str> = first["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["product"]["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["PLATE", "BOWL"], "{first}");
    assert!(first["nodes"][0]["unitsSoldPerDay"].is_null(), "{first}");
    assert!(first["nodes"][0]["daysOfCover"].is_null(), "{first}");
    assert_eq!(first["pageInfo"]["hasNextPage"], true);

    let cursor = first["pageInfo"]["endCursor"].as_str().unwrap();
    let second = s
        .app
        .data(Some(&s.token), LOW, json!({ "after": cursor }))
        .await["lowStockProducts"]
        .clone();
    let mug = &second["nodes"][0];
    assert_eq!(second["nodes"].as_array().unwrap().len(), 1, "{second}");
    assert_eq!(mug["product"], json!({ "sku": "MUG", "stock": 4 }));
    // 6 units in 30 days: 0.2 a day; 4 in stock last 20 days.
    assert_eq!(mug["unitsSoldPerDay"], "0.2", "{second}");
    assert_eq!(mug["daysOfCover"], "20", "{second}");
    assert_eq!(second["pageInfo"]["hasNextPage"], false);
}
