//! Sandbox stores connected by alias through the API, products the merchant creates on them
//! and the stock they hold.

use orderdeck_sandbox::server::StoreCredentials;
use serde_json::{json, Value};

use super::app::TestApp;

/// An app whose push worker runs (polling fast), with `stores` sandbox stores.
pub async fn push_app(stores: usize) -> TestApp {
    TestApp::builder()
        .sandbox(|c| c.stores = stores)
        .settings(|s| {
            s.push_enabled = true;
            s.push_poll = std::time::Duration::from_millis(50);
        })
        .spawn()
        .await
}
use super::sandbox::store_input;

/// Connects `store` with `alias`; inventory management on or off. Its global id.
pub async fn connect(
    app: &TestApp,
    token: &str,
    store: &StoreCredentials,
    alias: &str,
    managed: bool,
) -> String {
    let res = app
        .data(
            Some(token),
            "mutation($i: ConnectBigCommerceInput!) { connectBigCommerce(input: $i) { integration { id } userErrors { field code message } } }",
            json!({ "i": store_input(store, json!({ "alias": alias, "inventoryManagement": managed })) }),
        )
        .await;
    let payload = &res["connectBigCommerce"];
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    payload["integration"]["id"].as_str().unwrap().to_string()
}

/// The merchant creates a product on a sandbox store; its v3 JSON.
pub async fn create_product(app: &TestApp, store: &StoreCredentials, body: Value) -> Value {
    let res = app
        .http
        .post(format!(
            "{}/_sandbox/stores/{}/products",
            app.sandbox.url, store.hash
        ))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_success(),
        "creating {body}: {}",
        res.status()
    );
    let v: Value = res.json().await.unwrap();
    v.get("data").cloned().unwrap_or(v)
}

/// Runs `syncNow` of `kind` and asserts it succeeded.
pub async fn sync(app: &TestApp, token: &str, integration: &str, kind: &str) {
    let res = app
        .data(
            Some(token),
            "mutation($i: SyncNowInput!) { syncNow(input: $i) { runs { outcome error } userErrors { code message } } }",
            json!({ "i": { "integrationId": integration, "kind": kind } }),
        )
        .await;
    let payload = &res["syncNow"];
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    for run in payload["runs"].as_array().unwrap() {
        assert_eq!(run["outcome"], "SUCCEEDED", "{run}");
    }
}

/// The stock the sandbox store holds for a product (or one of its variants).
pub fn channel_stock(
    app: &TestApp,
    store: &StoreCredentials,
    product_id: i64,
    variant_id: Option<i64>,
) -> i64 {
    app.sandbox
        .with_store(&store.hash, |s| {
            let p = &s.products[&product_id];
            match variant_id {
                Some(v) => {
                    p.variants
                        .iter()
                        .find(|x| x.id == v)
                        .unwrap()
                        .inventory_level
                }
                None => p.inventory_level,
            }
        })
        .unwrap()
}
