//! Bundles and stock buffers (docs/rules.md §4): a bundle's figure is computed from its
//! components and pushed to every store listing it; selling it takes from each component and
//! canceling gives back; a store's buffer keeps part of the stock back from it.

use std::time::Duration;

use orderdeck_sandbox::server::StoreCredentials;
use serde_json::{json, Value};

use crate::support::{
    assert_ledger_explains, channel_stock, codes, connect, create_product, push_app, sync,
    wait_until, TestApp,
};

/// Two managed stores listing the same SKUs, imported.
struct TwoStores {
    app: TestApp,
    token: String,
    stores: Vec<StoreCredentials>,
    integrations: Vec<String>,
    /// Per store, the product id of each SKU.
    products: Vec<Vec<(String, i64)>>,
}

impl TwoStores {
    async fn new(email: &str, listed: &[(&str, i64)]) -> Self {
        let app = push_app(2).await;
        let token = app.signed_in(email).await;
        let stores = app.sandbox.stores();
        let mut products = Vec::new();
        let mut integrations = Vec::new();
        for (i, store) in stores.iter().enumerate() {
            let mut ids = Vec::new();
            for (sku, level) in listed {
                let p = create_product(
                    &app,
                    store,
                    json!({ "name": format!("Product {sku}"), "sku": sku, "inventory_level": level }),
                )
                .await;
                ids.push((sku.to_string(), p["id"].as_i64().unwrap()));
            }
            products.push(ids);
            let id = connect(&app, &token, store, &format!("Store {}", i + 1), true).await;
            sync(&app, &token, &id, "PRODUCTS").await;
            integrations.push(id);
        }
        TwoStores {
            app,
            token,
            stores,
            integrations,
            products,
        }
    }

    /// What store `index` holds for `sku`.
    fn held(&self, index: usize, sku: &str) -> i64 {
        let id = self.products[index]
            .iter()
            .find(|(s, _)| s == sku)
            .map(|(_, id)| *id)
            .unwrap();
        channel_stock(&self.app, &self.stores[index], id, None)
    }

    /// Waits until every store holds `figures`.
    async fn stores_hold(&self, figures: &[(&str, i64)]) {
        wait_until(
            &format!("both stores to hold {figures:?}"),
            Duration::from_secs(15),
            async || {
                (0..self.stores.len())
                    .all(|i| figures.iter().all(|(sku, q)| self.held(i, sku) == *q))
            },
        )
        .await;
    }

    async fn data(&self, query: &str, variables: Value) -> Value {
        self.app.data(Some(&self.token), query, variables).await
    }

    async fn stock(&self, sku: &str) -> i64 {
        self.data(
            "query($s: String) { product(sku: $s) { stock } }",
            json!({ "s": sku }),
        )
        .await["product"]["stock"]
            .as_i64()
            .unwrap()
    }

    async fn ledger(&self, sku: &str) -> Vec<Value> {
        let p = self
            .data(
                "query($s: String) { product(sku: $s) { stockMovements(first: 100) { nodes { delta quantityAfter reason orderId bundleId } } } }",
                json!({ "s": sku }),
            )
            .await;
        p["product"]["stockMovements"]["nodes"]
            .as_array()
            .unwrap()
            .clone()
    }

    async fn create_bundle(&self, input: Value) -> Value {
        self.data(
            "mutation($i: CreateBundleInput!) { createBundle(input: $i) { product { id sku stock isBundle components { product { sku } quantity } } userErrors { field code message } } }",
            json!({ "i": input }),
        )
        .await["createBundle"]
            .clone()
    }

    /// Places an order on store `index` and imports it.
    async fn sell(&self, index: usize, lines: Value) -> i64 {
        let res = self
            .app
            .http
            .post(format!(
                "{}/_sandbox/stores/{}/orders",
                self.app.sandbox.url, self.stores[index].hash
            ))
            .json(&json!({ "lines": lines }))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        let v: Value = res.json().await.unwrap();
        v["id"].as_i64().unwrap()
    }
}

#[tokio::test]
async fn a_bundle_is_pushed_as_what_its_components_make_and_selling_it_takes_from_each_component() {
    let t = TwoStores::new(
        "bundles@example.com",
        &[("CUP", 10), ("SAUCER", 3), ("TEA-SET", 5)],
    )
    .await;

    // TEA-SET, listed on both stores with its own 5, becomes 2 × CUP + 1 × SAUCER.
    let created = t
        .create_bundle(json!({ "sku": "TEA-SET", "components": [
            { "sku": "CUP", "quantity": 2 }, { "sku": "SAUCER", "quantity": 1 }
        ] }))
        .await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    assert_eq!(created["product"]["isBundle"], true);
    assert_eq!(created["product"]["stock"], 3, "min(10 / 2, 3 / 1)");
    t.stores_hold(&[("TEA-SET", 3), ("CUP", 10), ("SAUCER", 3)])
        .await;
    // The 5 it held are set aside in its ledger.
    let set_aside = t.ledger("TEA-SET").await;
    assert_eq!(set_aside[0]["reason"], "BUNDLE_CREATED", "{set_aside:?}");
    assert_eq!(set_aside[0]["quantityAfter"], 0);

    // Its figure cannot be set or adjusted.
    let refused = t
        .data(
            "mutation { adjustStock(input: { sku: \"TEA-SET\", delta: 4, reason: \"found\" }) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(codes(&refused["adjustStock"]), ["BUNDLE_STOCK_IS_COMPUTED"]);

    // Two bundles sold on store 1.
    crate::support::a_second_passes().await;
    let number = t
        .sell(0, json!([{ "sku": "TEA-SET", "quantity": 2 }]))
        .await;
    sync(&t.app, &t.token, &t.integrations[0], "ORDERS").await;
    assert_eq!(
        (
            t.stock("CUP").await,
            t.stock("SAUCER").await,
            t.stock("TEA-SET").await
        ),
        (6, 1, 1)
    );
    t.stores_hold(&[("TEA-SET", 1), ("CUP", 6), ("SAUCER", 1)])
        .await;
    let cup = t.ledger("CUP").await;
    assert_eq!(cup[0]["reason"], "ORDER_PLACED");
    assert_eq!(cup[0]["delta"], -4);
    assert_eq!(cup[0]["bundleId"], created["product"]["id"], "{cup:?}");
    assert_ledger_explains(&cup, 6, "CUP");
    assert_ledger_explains(&t.ledger("SAUCER").await, 1, "SAUCER");

    // Canceled here: all three come back.
    let order = t
        .data(
            "query($f: OrderFilterInput) { orders(first: 1, filter: $f) { nodes { id } } }",
            json!({ "f": { "search": format!("#{number}") } }),
        )
        .await;
    let order_id = order["orders"]["nodes"][0]["id"].clone();
    let canceled = t
        .data(
            "mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { order { status } userErrors { code } } }",
            json!({ "i": { "orderId": order_id } }),
        )
        .await;
    assert_eq!(
        canceled["cancelOrder"]["userErrors"],
        json!([]),
        "{canceled}"
    );
    assert_eq!(
        (
            t.stock("CUP").await,
            t.stock("SAUCER").await,
            t.stock("TEA-SET").await
        ),
        (10, 3, 3)
    );
    t.stores_hold(&[("TEA-SET", 3), ("CUP", 10), ("SAUCER", 3)])
        .await;
    let cup = t.ledger("CUP").await;
    assert_eq!(cup[0]["reason"], "ORDER_CANCELED");
    assert_eq!(cup[0]["bundleId"], created["product"]["id"]);
    assert_ledger_explains(&cup, 10, "CUP");
    assert_ledger_explains(&t.ledger("SAUCER").await, 3, "SAUCER");

    // Importing the order again gives nothing back twice.
    sync(&t.app, &t.token, &t.integrations[0], "ORDERS").await;
    assert_eq!(t.stock("CUP").await, 10);
}

#[tokio::test]
async fn orders_of_a_bundle_racing_adjustments_of_its_components_end_with_exact_figures() {
    let t = TwoStores::new(
        "bundle-race@example.com",
        &[("CUP", 100), ("SAUCER", 100), ("TEA-SET", 0)],
    )
    .await;
    let created = t
        .create_bundle(json!({ "sku": "TEA-SET", "components": [
            { "sku": "CUP", "quantity": 2 }, { "sku": "SAUCER", "quantity": 1 }
        ] }))
        .await;
    assert_eq!(created["userErrors"], json!([]), "{created}");
    crate::support::a_second_passes().await;
    // 30 orders of one bundle each, 15 per store.
    for n in 0..30 {
        t.sell(n % 2, json!([{ "sku": "TEA-SET", "quantity": 1 }]))
            .await;
    }
    // Both stores' imports run while 20 people adjust the components.
    let imports = (0..2).map(|i| sync(&t.app, &t.token, &t.integrations[i], "ORDERS"));
    let adjustments = (0..20).map(|n| {
        let (sku, delta) = if n % 2 == 0 { ("CUP", 3) } else { ("SAUCER", -1) };
        let t = &t;
        async move {
            let res = t
                .data(
                    "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { userErrors { code } } }",
                    json!({ "i": { "sku": sku, "delta": delta, "reason": "race" } }),
                )
                .await;
            assert_eq!(res["adjustStock"]["userErrors"], json!([]), "{res}");
        }
    });
    futures_util::future::join(
        futures_util::future::join_all(imports),
        futures_util::future::join_all(adjustments),
    )
    .await;

    // CUP: 100 - 30 × 2 + 10 × 3; SAUCER: 100 - 30 - 10; TEA-SET: min(70 / 2, 60).
    assert_eq!(t.stock("CUP").await, 70);
    assert_eq!(t.stock("SAUCER").await, 60);
    assert_eq!(t.stock("TEA-SET").await, 35);
    assert_ledger_explains(&t.ledger("CUP").await, 70, "CUP");
    assert_ledger_explains(&t.ledger("SAUCER").await, 60, "SAUCER");
    t.stores_hold(&[("TEA-SET", 35), ("CUP", 70), ("SAUCER", 60)])
        .await;
}

#[tokio::test]
async fn a_bundle_must_be_made_of_other_existing_products_without_nesting() {
    let t = TwoStores::new("bundle-rules@example.com", &[("CUP", 10), ("SAUCER", 3)]).await;
    let itself = t
        .create_bundle(json!({ "sku": "CUP", "components": [{ "sku": "CUP", "quantity": 1 }] }))
        .await;
    assert_eq!(codes(&itself), ["BUNDLE_CONTAINS_ITSELF"], "{itself}");
    let bad = t
        .create_bundle(json!({ "sku": "SET", "name": "Set", "components": [
            { "sku": "NOPE", "quantity": 1 }, { "sku": "CUP", "quantity": 0 }
        ] }))
        .await;
    assert_eq!(codes(&bad), ["INVALID_QUANTITY"], "{bad}");
    let unknown = t
        .create_bundle(json!({ "sku": "SET", "name": "Set", "components": [{ "sku": "NOPE", "quantity": 1 }] }))
        .await;
    assert_eq!(codes(&unknown), ["NOT_FOUND"], "{unknown}");
    assert_eq!(
        unknown["userErrors"][0]["field"],
        json!(["components", "0", "sku"])
    );
    let twice = t
        .create_bundle(json!({ "sku": "SET", "name": "Set", "components": [
            { "sku": "CUP", "quantity": 1 }, { "sku": "CUP", "quantity": 2 }
        ] }))
        .await;
    assert_eq!(codes(&twice), ["DUPLICATE_SKU"], "{twice}");
    let many: Vec<Value> = (0..51)
        .map(|n| json!({ "sku": format!("P{n}"), "quantity": 1 }))
        .collect();
    let too_many = t
        .create_bundle(json!({ "sku": "SET", "name": "Set", "components": many }))
        .await;
    assert_eq!(codes(&too_many), ["INVALID"], "{too_many}");

    // A new SKU: a bundle of its own, with no listing yet.
    let set = t
        .create_bundle(
            json!({ "sku": "SET", "name": "Set", "components": [{ "sku": "CUP", "quantity": 2 }] }),
        )
        .await;
    assert_eq!(set["userErrors"], json!([]), "{set}");
    assert_eq!(set["product"]["stock"], 5);
    // No nesting, either way round.
    let nested = t
        .create_bundle(json!({ "sku": "BIG-SET", "name": "Big set", "components": [{ "sku": "SET", "quantity": 1 }] }))
        .await;
    assert_eq!(codes(&nested), ["BUNDLE_NESTED"], "{nested}");
    let component = t
        .create_bundle(json!({ "sku": "CUP", "components": [{ "sku": "SAUCER", "quantity": 1 }] }))
        .await;
    assert_eq!(codes(&component), ["BUNDLE_NESTED"], "{component}");

    // New components, then no bundle at all: a plain product with stock 0.
    let updated = t
        .data(
            "mutation { updateBundleComponents(input: { sku: \"SET\", components: [{ sku: \"SAUCER\", quantity: 1 }] }) { product { stock components { product { sku } quantity } } userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        updated["updateBundleComponents"]["product"]["stock"], 3,
        "{updated}"
    );
    let deleted = t
        .data(
            "mutation { deleteBundle(input: { sku: \"SET\" }) { product { stock isBundle components { quantity } } userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        deleted["deleteBundle"]["product"],
        json!({ "stock": 0, "isBundle": false, "components": [] }),
        "{deleted}"
    );
    let not_one = t
        .data(
            "mutation { deleteBundle(input: { sku: \"CUP\" }) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(codes(&not_one["deleteBundle"]), ["NOT_A_BUNDLE"]);

    // A store without inventory management listing a bundle's SKU: its figure is never
    // imported into the bundle. A bundle is never low on stock itself.
    let duo = t
        .create_bundle(json!({ "sku": "DUO", "name": "Duo", "components": [
            { "sku": "CUP", "quantity": 1 }, { "sku": "SAUCER", "quantity": 1 }
        ] }))
        .await;
    assert_eq!(duo["product"]["stock"], 3, "{duo}");
    t.data(
        "mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) { userErrors { code } } }",
        json!({ "i": { "id": t.integrations[1], "inventoryManagement": false } }),
    )
    .await;
    create_product(
        &t.app,
        &t.stores[1],
        json!({ "name": "Duo", "sku": "DUO", "inventory_level": 9 }),
    )
    .await;
    sync(&t.app, &t.token, &t.integrations[1], "PRODUCTS").await;
    assert_eq!(t.stock("DUO").await, 3);
    assert_eq!(t.ledger("DUO").await, Vec::<Value>::new());
    let low = t
        .data(
            "{ products(filter: { lowStock: true }) { nodes { sku } } }",
            json!({}),
        )
        .await;
    // SET, a plain product with stock 0 again, is low; DUO's own column holds 0 but it is not.
    assert_eq!(low["products"]["nodes"], json!([{ "sku": "SET" }]), "{low}");
    let threshold = t
        .data(
            "mutation { setLowStockThreshold(input: { sku: \"DUO\", threshold: 2 }) { userErrors { field code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        threshold["setLowStockThreshold"]["userErrors"],
        json!([{ "field": ["threshold"], "code": "BUNDLE_STOCK_IS_COMPUTED" }])
    );

    // A component cannot be deleted while a bundle holds it.
    let component =
        crate::support::delete_product(&t.app, &t.token, json!({ "sku": "SAUCER" })).await;
    assert_eq!(codes(&component), ["PRODUCT_IN_BUNDLES"], "{component}");
    assert!(
        component["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("DUO"),
        "{component}"
    );
    assert_eq!(t.stock("SAUCER").await, 3, "still there");

    // Deleted here and created again: a bundle of its new components only.
    let deleted = crate::support::delete_product(&t.app, &t.token, json!({ "sku": "DUO" })).await;
    assert_eq!(deleted["userErrors"], json!([]), "{deleted}");
    let again = t
        .create_bundle(json!({ "sku": "DUO", "components": [{ "sku": "CUP", "quantity": 5 }] }))
        .await;
    assert_eq!(again["userErrors"], json!([]), "{again}");
    assert_eq!(
        again["product"]["components"],
        json!([{ "product": { "sku": "CUP" }, "quantity": 5 }])
    );
    assert_eq!(again["product"]["stock"], 2);
    // SAUCER is in no live bundle now: it may go.
    let saucer = crate::support::delete_product(&t.app, &t.token, json!({ "sku": "SAUCER" })).await;
    assert_eq!(saucer["userErrors"], json!([]), "{saucer}");
}

#[tokio::test]
async fn a_store_with_a_20_percent_buffer_is_sent_8_of_10_while_the_other_store_gets_10() {
    let t = TwoStores::new("buffers@example.com", &[("LAMP", 10)]).await;
    let set = t
        .data(
            "mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) { integration { stockBuffer { mode value } } userErrors { field code } } }",
            json!({ "i": { "id": t.integrations[1], "stockBuffer": { "mode": "PERCENT", "value": 20 } } }),
        )
        .await;
    assert_eq!(set["updateIntegration"]["userErrors"], json!([]), "{set}");
    assert_eq!(
        set["updateIntegration"]["integration"]["stockBuffer"],
        json!({ "mode": "PERCENT", "value": 20 })
    );
    wait_until("store 2 to hold 8", Duration::from_secs(15), async || {
        t.held(1, "LAMP") == 8
    })
    .await;
    assert_eq!(t.held(0, "LAMP"), 10);
    let listings = t
        .data(
            "{ product(sku: \"LAMP\") { stock listings { id integration { alias } offeredStock pushedStock stockPushState appliedStockBuffer { mode value } } } }",
            json!({}),
        )
        .await;
    let on = |alias: &str| {
        listings["product"]["listings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["integration"]["alias"] == alias)
            .unwrap()
            .clone()
    };
    let second = on("Store 2");
    assert_eq!(listings["product"]["stock"], 10);
    assert_eq!(
        (
            &second["offeredStock"],
            &second["pushedStock"],
            &second["stockPushState"]
        ),
        (&json!(8), &json!(8), &json!("IN_SYNC")),
        "{second}"
    );

    // A product import sees store 2 holding what it was offered: no drift is recorded.
    sync(&t.app, &t.token, &t.integrations[1], "PRODUCTS").await;
    let reasons = t.ledger("LAMP").await;
    assert!(
        reasons.iter().all(|m| m["reason"] != "CHANNEL_DRIFT"),
        "{reasons:?}"
    );
    assert_eq!(t.held(1, "LAMP"), 8);

    // A listing's own buffer overrides its store's; a sale moves both figures.
    let first = on("Store 1");
    let own = t
        .data(
            "mutation($i: SetListingStockBufferInput!) { setListingStockBuffer(input: $i) { listing { stockBuffer { mode value } offeredStock } userErrors { code } } }",
            json!({ "i": { "listingId": first["id"], "stockBuffer": { "mode": "UNITS", "value": 3 } } }),
        )
        .await;
    assert_eq!(
        own["setListingStockBuffer"]["listing"]["offeredStock"], 7,
        "{own}"
    );
    wait_until("store 1 to hold 7", Duration::from_secs(15), async || {
        t.held(0, "LAMP") == 7
    })
    .await;
    t.data(
        "mutation { adjustStock(input: { sku: \"LAMP\", delta: -5, reason: \"sold at the fair\" }) { userErrors { code } } }",
        json!({}),
    )
    .await;
    wait_until(
        "store 1 to hold 2 and store 2 to hold 4",
        Duration::from_secs(15),
        async || t.held(0, "LAMP") == 2 && t.held(1, "LAMP") == 4,
    )
    .await;
    // Below zero here: the stores are sent 0, which they can hold.
    t.data(
        "mutation { setStock(input: { sku: \"LAMP\", quantity: -2, allowNegative: true, reason: \"oversold\" }) { userErrors { code } } }",
        json!({}),
    )
    .await;
    wait_until(
        "both stores to hold 0",
        Duration::from_secs(15),
        async || t.held(0, "LAMP") == 0 && t.held(1, "LAMP") == 0,
    )
    .await;
    t.data(
        "mutation { setStock(input: { sku: \"LAMP\", quantity: 5, reason: \"found\" }) { userErrors { code } } }",
        json!({}),
    )
    .await;

    // Out of range: nothing changes.
    let refused = t
        .data(
            "mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) { userErrors { field code } } }",
            json!({ "i": { "id": t.integrations[1], "stockBuffer": { "mode": "PERCENT", "value": 120 } } }),
        )
        .await;
    assert_eq!(
        refused["updateIntegration"]["userErrors"],
        json!([{ "field": ["stockBuffer", "value"], "code": "INVALID" }])
    );
    // Cleared: store 2 gets the whole figure again.
    t.data(
        "mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) { userErrors { code } } }",
        json!({ "i": { "id": t.integrations[1], "stockBuffer": null } }),
    )
    .await;
    wait_until("store 2 to hold 5", Duration::from_secs(15), async || {
        t.held(1, "LAMP") == 5
    })
    .await;
}
