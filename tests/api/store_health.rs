//! `Integration.health`: a store's verdict and figures move with what happens to it — pushes
//! failing make it `DEGRADED` and their landing makes it `HEALTHY` again; a 429 shows as an
//! empty quota; a page of stores costs a fixed number of statements.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{connect, create_product, push_app, sync, wait_until, TestApp};

const HEALTH: &str =
    "query($id: ID!) { integration(id: $id) { health { state reasons lastOrderImportAt
    orderImportLagSeconds pendingStockPushes oldestPendingPushAt failedStockPushes pendingShipments failedShipments
    quotaLeft quotaResetAt webhookState } } }";

async fn health(app: &TestApp, token: &str, id: &str) -> Value {
    app.data(Some(token), HEALTH, json!({ "id": id })).await["integration"]["health"].clone()
}

#[tokio::test]
async fn a_store_turns_degraded_when_its_pushes_fail_and_healthy_once_they_land() {
    let app = push_app(1).await;
    let token = app.signed_in("health@example.com").await;
    let store = app.store.clone();
    create_product(
        &app,
        &store,
        json!({ "name": "Mug", "sku": "HEALTH-1", "inventory_level": 5 }),
    )
    .await;
    let id = connect(&app, &token, &store, "Shop", true).await;
    sync(&app, &token, &id, "PRODUCTS").await;
    sync(&app, &token, &id, "ORDERS").await;
    let h = health(&app, &token, &id).await;
    assert_eq!(h["state"], "HEALTHY", "{h}");
    assert_eq!(h["reasons"], json!([]));
    assert!(h["lastOrderImportAt"].is_string(), "{h}");
    assert!(h["quotaLeft"].as_i64().unwrap() > 0, "{h}");

    app.faults(json!({ "error_rate": 1.0, "random_status": 500 }))
        .await;
    let adjusted = app
        .data(
            Some(&token),
            "mutation { adjustStock(input: { sku: \"HEALTH-1\", delta: 1, reason: \"Found\" }) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        adjusted["adjustStock"]["userErrors"],
        json!([]),
        "{adjusted}"
    );
    wait_until(
        "the failed push to show",
        Duration::from_secs(20),
        async || {
            let h = health(&app, &token, &id).await;
            h["state"] == "DEGRADED" && h["failedStockPushes"] == 1
        },
    )
    .await;
    let h = health(&app, &token, &id).await;
    assert!(
        h["reasons"][0].as_str().unwrap().contains("stock push"),
        "{h}"
    );
    app.clear_faults().await;
    wait_until("the retry to land", Duration::from_secs(30), async || {
        let h = health(&app, &token, &id).await;
        h["state"] == "HEALTHY" && h["failedStockPushes"] == 0 && h["pendingStockPushes"] == 0
    })
    .await;
}

#[tokio::test]
async fn a_429_from_the_store_shows_as_an_empty_quota_until_it_resets() {
    let app = TestApp::builder()
        .sandbox(|c| c.window = Duration::from_secs(2))
        .spawn()
        .await;
    let token = app.signed_in("quota@example.com").await;
    let store = app.store.clone();
    let id = connect(&app, &token, &store, "Shop", true).await;
    app.sandbox_action(&store.hash, Method::PUT, "quota", json!({ "quota": 0 }))
        .await;
    let run = sync(&app, &token, &id, "PRODUCTS");
    let watch = async {
        wait_until("the 429 to show", Duration::from_secs(10), async || {
            health(&app, &token, &id).await["quotaLeft"] == 0
        })
        .await;
        let h = health(&app, &token, &id).await;
        app.sandbox_action(&store.hash, Method::PUT, "quota", json!({ "quota": 150 }))
            .await;
        h
    };
    let ((), seen) = tokio::join!(run, watch);
    assert_eq!(seen["state"], "DEGRADED", "{seen}");
    assert!(seen["quotaResetAt"].is_string(), "{seen}");
    assert!(
        seen["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("quota")),
        "{seen}"
    );
}

#[tokio::test]
async fn a_page_of_stores_reads_its_health_in_as_many_statements_as_one_store() {
    let app = TestApp::builder().sandbox(|c| c.stores = 3).spawn().await;
    let token = app.signed_in("health-page@example.com").await;
    for (i, store) in app.sandbox.stores().iter().enumerate() {
        connect(&app, &token, store, &format!("Store {i}"), true).await;
    }
    let run = |first: i64| {
        let (app, token) = (&app, &token);
        async move {
            let (statements, data) = app
                .counting_statements(
                    token,
                    "query($first: Int!) { integrations(first: $first) { nodes { alias health { state pendingStockPushes failedStockPushes failedShipments lastOrderImportAt quotaLeft } } } }",
                    json!({ "first": first }),
                )
                .await;
            let nodes = data["integrations"]["nodes"].as_array().unwrap().clone();
            assert_eq!(nodes.len() as i64, first);
            for n in &nodes {
                assert_eq!(n["health"]["state"], "HEALTHY", "{data}");
            }
            statements
        }
    };
    let one = run(1).await;
    let three = run(3).await;
    assert_eq!(one, three, "statements for 1 store: {one}, for 3: {three}");
}

#[tokio::test]
async fn a_store_without_an_order_import_for_three_intervals_is_failing_until_one_succeeds() {
    let app = TestApp::builder()
        .settings(|s| s.order_sync_interval = Duration::from_secs(1))
        .spawn()
        .await;
    let token = app.signed_in("failing@example.com").await;
    let store = app.store.clone();
    let id = connect(&app, &token, &store, "Shop", true).await;
    wait_until(
        "three missed imports",
        Duration::from_secs(10),
        async || health(&app, &token, &id).await["state"] == "FAILING",
    )
    .await;
    let h = health(&app, &token, &id).await;
    assert!(
        h["reasons"][0]
            .as_str()
            .unwrap()
            .contains("no order import"),
        "{h}"
    );
    assert!(h["lastOrderImportAt"].is_null(), "{h}");
    assert!(h["orderImportLagSeconds"].as_i64().unwrap() > 3, "{h}");
    sync(&app, &token, &id, "ORDERS").await;
    let h = health(&app, &token, &id).await;
    assert_eq!(h["state"], "HEALTHY", "{h}");
}
