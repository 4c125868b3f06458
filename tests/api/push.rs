//! Stock and price pushes to the stores (docs/rules.md §4): every store listing a SKU gets its
//! figure, stores without inventory management are never pushed, drift found at product
//! import is overwritten and recorded, failures are retried, replicas never push twice, and
//! `updatePrice` validates, saves and pushes.

use std::time::Duration;

use orderdeck_sandbox::server::StoreCredentials;
use serde_json::{json, Value};

use crate::support::{
    channel_stock, codes, connect, create_product, dec, push_app, sync, wait_for, wait_until,
    TestApp,
};

const PUSHED_ENDPOINT: &str = "PUT /v3/inventory/adjustments/absolute";

/// An app with the push worker off (tests drive `sync::push::run_once`).
async fn manual_push_app(stores: usize) -> TestApp {
    TestApp::builder()
        .sandbox(|c| c.stores = stores)
        .spawn()
        .await
}

const PRODUCT_QUERY: &str = "query($sku: String!) { product(sku: $sku) { id stock listings { id integration { alias } stockPushState pushedStock pushError channelStock price salePrice pricePushState pricePushError } stockMovements(first: 50) { edges { node { delta quantityAfter reason note } } } } }";

async fn product(app: &TestApp, token: &str, sku: &str) -> Value {
    app.data(Some(token), PRODUCT_QUERY, json!({ "sku": sku }))
        .await["product"]
        .clone()
}

fn listing_of<'a>(product: &'a Value, alias: &str) -> &'a Value {
    product["listings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["integration"]["alias"] == alias)
        .unwrap_or_else(|| panic!("no listing on {alias}: {product}"))
}

async fn adjust(app: &TestApp, token: &str, sku: &str, delta: i64) {
    let res = app
        .data(
            Some(token),
            "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { userErrors { code message } } }",
            json!({ "i": { "sku": sku, "delta": delta, "reason": "test" } }),
        )
        .await;
    assert_eq!(res["adjustStock"]["userErrors"], json!([]), "{res}");
}

/// A SKU on three stores (two managed, one not), each starting with a different figure.
struct ThreeStores {
    app: TestApp,
    token: String,
    stores: Vec<StoreCredentials>,
    products: Vec<i64>,
    integrations: Vec<String>,
}

/// After the three imports: A created the item with 40; B showed 41 (overwritten); C,
/// without inventory management, imported its 42, which then reached A and B.
async fn settled(t: &ThreeStores) {
    wait_until(
        "stores A and B to hold C's imported 42",
        Duration::from_secs(10),
        async || {
            channel_stock(&t.app, &t.stores[0], t.products[0], None) == 42
                && channel_stock(&t.app, &t.stores[1], t.products[1], None) == 42
        },
    )
    .await;
    let p = product(&t.app, &t.token, "MUG-1").await;
    let reasons: Vec<&str> = p["stockMovements"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["CHANNEL_IMPORT", "INITIAL_IMPORT"], "{p}");
}

async fn three_stores(app: TestApp) -> ThreeStores {
    let token = app.signed_in("push@example.com").await;
    let stores = app.sandbox.stores();
    let mut products = Vec::new();
    for (i, (store, level)) in stores.iter().zip([40, 41, 42]).enumerate() {
        let p = create_product(
            &app,
            store,
            json!({ "name": format!("Mug {i}"), "sku": "MUG-1", "inventory_level": level }),
        )
        .await;
        products.push(p["id"].as_i64().unwrap());
    }
    let mut integrations = Vec::new();
    for (store, (alias, managed)) in stores.iter().zip([("A", true), ("B", true), ("C", false)]) {
        let id = connect(&app, &token, store, alias, managed).await;
        sync(&app, &token, &id, "PRODUCTS").await;
        integrations.push(id);
    }
    ThreeStores {
        app,
        token,
        stores,
        products,
        integrations,
    }
}

#[tokio::test]
async fn a_stock_change_reaches_every_store_that_lists_the_sku_but_not_one_without_inventory_management(
) {
    let t = three_stores(push_app(3).await).await;
    settled(&t).await;

    adjust(&t.app, &t.token, "MUG-1", -7).await;

    wait_until(
        "stores A and B to hold 35",
        Duration::from_secs(10),
        async || {
            channel_stock(&t.app, &t.stores[0], t.products[0], None) == 35
                && channel_stock(&t.app, &t.stores[1], t.products[1], None) == 35
        },
    )
    .await;
    assert_eq!(channel_stock(&t.app, &t.stores[2], t.products[2], None), 42);
    assert_eq!(t.app.sandbox.count(&t.stores[2].hash, PUSHED_ENDPOINT), 0);
    let p = product(&t.app, &t.token, "MUG-1").await;
    assert_eq!(p["stock"], 35);
    for alias in ["A", "B"] {
        let l = listing_of(&p, alias);
        assert_eq!(
            (l["stockPushState"].as_str(), l["pushedStock"].as_i64()),
            (Some("IN_SYNC"), Some(35)),
            "{l}"
        );
    }
    assert_eq!(listing_of(&p, "C")["stockPushState"], "NOT_MANAGED");
}

#[tokio::test]
async fn a_sale_on_one_store_reaches_the_other_store_after_the_order_import() {
    let t = three_stores(push_app(3).await).await;
    settled(&t).await;
    let res = t
        .app
        .http
        .post(format!(
            "{}/_sandbox/stores/{}/orders",
            t.app.sandbox.url, t.stores[0].hash
        ))
        .json(&json!({ "lines": [{ "sku": "MUG-1", "quantity": 4 }] }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    // Orders placed after connecting take stock; the sandbox placed it "now".
    sync(&t.app, &t.token, &t.integrations[0], "ORDERS").await;

    wait_until("store B to hold 38", Duration::from_secs(10), async || {
        channel_stock(&t.app, &t.stores[1], t.products[1], None) == 38
    })
    .await;
    assert_eq!(product(&t.app, &t.token, "MUG-1").await["stock"], 38);
    assert_eq!(channel_stock(&t.app, &t.stores[2], t.products[2], None), 42);
}

#[tokio::test]
async fn a_stock_edit_made_on_the_store_is_overwritten_at_the_next_product_import_and_recorded() {
    let app = push_app(1).await;
    let token = app.signed_in("drift@example.com").await;
    let store = app.store.clone();
    let p = create_product(
        &app,
        &store,
        json!({ "name": "Lamp", "sku": "LAMP", "inventory_level": 12 }),
    )
    .await;
    let product_id = p["id"].as_i64().unwrap();
    let id = connect(&app, &token, &store, "Shop", true).await;
    sync(&app, &token, &id, "PRODUCTS").await;
    adjust(&app, &token, "LAMP", -2).await;
    wait_until(
        "the store to hold 10",
        Duration::from_secs(10),
        async || channel_stock(&app, &store, product_id, None) == 10,
    )
    .await;

    // The merchant edits the stock on the store.
    let res = app
        .http
        .put(format!(
            "{}/_sandbox/stores/{}/products/{product_id}",
            app.sandbox.url, store.hash
        ))
        .json(&json!({ "inventory_level": 3 }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    sync(&app, &token, &id, "PRODUCTS").await;

    wait_until(
        "the store to be overwritten with 10",
        Duration::from_secs(10),
        async || channel_stock(&app, &store, product_id, None) == 10,
    )
    .await;
    let p = product(&app, &token, "LAMP").await;
    assert_eq!(p["stock"], 10);
    let drift: Vec<&Value> = p["stockMovements"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["reason"] == "CHANNEL_DRIFT")
        .collect();
    assert_eq!(drift.len(), 1, "{p}");
    assert_eq!(
        (
            drift[0]["delta"].as_i64(),
            drift[0]["quantityAfter"].as_i64()
        ),
        (Some(0), Some(10))
    );
    assert_eq!(
        drift[0]["note"],
        "Shop showed 3 instead of 10; overwritten with 10"
    );
}

#[tokio::test]
async fn a_listing_whose_store_does_not_track_stock_is_flagged_and_never_pushed() {
    let app = push_app(1).await;
    let token = app.signed_in("untracked@example.com").await;
    let store = app.store.clone();
    create_product(
        &app,
        &store,
        json!({ "name": "Gift card", "sku": "GIFT", "inventory_tracking": "none" }),
    )
    .await;
    let id = connect(&app, &token, &store, "Shop", true).await;
    sync(&app, &token, &id, "PRODUCTS").await;
    adjust(&app, &token, "GIFT", 5).await;
    // Nothing to wait for: the worker (polling every 50 ms) gets time to push, and must not.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let p = product(&app, &token, "GIFT").await;
    assert_eq!(listing_of(&p, "Shop")["stockPushState"], "TRACKING_OFF");
    assert_eq!(app.sandbox.count(&store.hash, PUSHED_ENDPOINT), 0);
}

#[tokio::test]
async fn a_variant_tracked_product_is_pushed_per_variant() {
    let app = push_app(1).await;
    let token = app.signed_in("variants@example.com").await;
    let store = app.store.clone();
    let p = create_product(
        &app,
        &store,
        json!({ "name": "Shirt", "inventory_tracking": "variant",
                "variants": [{ "sku": "SHIRT-S", "inventory_level": 5, "label": "S" },
                             { "sku": "SHIRT-M", "inventory_level": 6, "label": "M" }] }),
    )
    .await;
    let product_id = p["id"].as_i64().unwrap();
    let medium = p["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["sku"] == "SHIRT-M")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let id = connect(&app, &token, &store, "Shop", true).await;
    sync(&app, &token, &id, "PRODUCTS").await;
    adjust(&app, &token, "SHIRT-M", 4).await;

    wait_until(
        "the M variant to hold 10",
        Duration::from_secs(10),
        async || channel_stock(&app, &store, product_id, Some(medium)) == 10,
    )
    .await;
    let p = product(&app, &token, "SHIRT-M").await;
    assert_eq!(listing_of(&p, "Shop")["stockPushState"], "IN_SYNC");
}

#[tokio::test]
async fn a_failing_push_is_retried_with_backoff_and_shows_its_error_meanwhile() {
    let app = push_app(1).await;
    let token = app.signed_in("retry@example.com").await;
    let store = app.store.clone();
    let p = create_product(
        &app,
        &store,
        json!({ "name": "Vase", "sku": "VASE", "inventory_level": 8 }),
    )
    .await;
    let product_id = p["id"].as_i64().unwrap();
    let id = connect(&app, &token, &store, "Shop", true).await;
    sync(&app, &token, &id, "PRODUCTS").await;
    // Every attempt of the client (it retries 5xx itself) fails for a while.
    app.faults(json!({ "error_rate": 1.0, "random_status": 503 }))
        .await;
    adjust(&app, &token, "VASE", 1).await;

    let l = wait_for("the push to fail", Duration::from_secs(20), async || {
        let p = product(&app, &token, "VASE").await;
        let l = listing_of(&p, "Shop").clone();
        if l["stockPushState"] == "FAILED" {
            Ok(l)
        } else {
            Err(l)
        }
    })
    .await;
    assert!(l["pushError"].as_str().unwrap().contains("503"), "{l}");
    assert_eq!(channel_stock(&app, &store, product_id, None), 8);
    app.clear_faults().await;

    wait_until(
        "the retry to deliver 9",
        Duration::from_secs(10),
        async || channel_stock(&app, &store, product_id, None) == 9,
    )
    .await;
    // The worker records its success just after the store answered.
    wait_for(
        "the listing to be in sync",
        Duration::from_secs(10),
        async || {
            let p = product(&app, &token, "VASE").await;
            let l = listing_of(&p, "Shop").clone();
            let state = (l["stockPushState"].as_str(), l["pushError"].as_str());
            if state == (Some("IN_SYNC"), None) {
                Ok(())
            } else {
                Err(l)
            }
        },
    )
    .await;
}

#[tokio::test]
async fn many_changes_to_many_skus_reach_each_store_in_one_call_and_only_the_latest_figure() {
    let app = manual_push_app(2).await;
    let token = app.signed_in("coalesce@example.com").await;
    let stores = app.sandbox.stores();
    for store in &stores {
        for n in 0..30 {
            create_product(&app, store, json!({ "name": format!("Item {n}"), "sku": format!("SKU-{n}"), "inventory_level": 50 })).await;
        }
        let id = connect(&app, &token, store, &store.hash, true).await;
        sync(&app, &token, &id, "PRODUCTS").await;
    }
    for round in 0..3 {
        for n in 0..30 {
            adjust(&app, &token, &format!("SKU-{n}"), -(round + 1)).await;
        }
    }
    let report = orderdeck::sync::push::run_once(&app.state, "test-worker")
        .await
        .unwrap();
    assert_eq!((report.stock_pushed, report.failed), (60, 0));
    for store in &stores {
        assert_eq!(
            app.sandbox.count(&store.hash, PUSHED_ENDPOINT),
            1,
            "{}",
            store.hash
        );
        let levels: Vec<i64> = app
            .sandbox
            .with_store(&store.hash, |s| {
                s.products.values().map(|p| p.inventory_level).collect()
            })
            .unwrap();
        assert_eq!(levels, vec![44; 30]);
    }
    // Nothing is left to push.
    let again = orderdeck::sync::push::run_once(&app.state, "test-worker")
        .await
        .unwrap();
    assert_eq!(again, Default::default());
}

#[tokio::test]
async fn two_workers_draining_the_same_queue_push_each_listing_once() {
    let app = manual_push_app(1).await;
    let token = app.signed_in("replicas@example.com").await;
    let store = app.store.clone();
    for n in 0..40 {
        create_product(
            &app,
            &store,
            json!({ "name": format!("Item {n}"), "sku": format!("R-{n}"), "inventory_level": 10 }),
        )
        .await;
    }
    let id = connect(&app, &token, &store, "Shop", true).await;
    sync(&app, &token, &id, "PRODUCTS").await;
    for n in 0..40 {
        adjust(&app, &token, &format!("R-{n}"), 1).await;
    }
    let other = orderdeck::state::AppState {
        db: orderdeck::db::connect(&app.state.settings).await.unwrap(),
        ..app.state.clone()
    };
    let (a, b) = tokio::join!(
        orderdeck::sync::push::run_once(&app.state, "replica-a"),
        orderdeck::sync::push::run_once(&other, "replica-b")
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.stock_pushed + b.stock_pushed, 40, "{a:?} {b:?}");
    assert!(app.sandbox.count(&store.hash, PUSHED_ENDPOINT) <= 2);
    let levels: Vec<i64> = app
        .sandbox
        .with_store(&store.hash, |s| {
            s.products.values().map(|p| p.inventory_level).collect()
        })
        .unwrap();
    assert_eq!(levels, vec![11; 40]);
}

// ---------------------------------------------------------------------------------------------
// updatePrice
// ---------------------------------------------------------------------------------------------

const UPDATE_PRICE: &str = "mutation($i: UpdatePriceInput!) { updatePrice(input: $i) { listing { id price salePrice pricePushState pricePushError } userErrors { field code message } } }";

/// A simple product and a variant product on the store, imported; (token, listing ids by SKU).
async fn priced(app: &TestApp) -> (String, Value) {
    let token = app.signed_in("price@example.com").await;
    let store = app.store.clone();
    create_product(
        app,
        &store,
        json!({ "name": "Teapot", "sku": "TEAPOT", "price": 30, "inventory_level": 3 }),
    )
    .await;
    create_product(
        app,
        &store,
        json!({ "name": "Cap", "inventory_tracking": "variant",
                "variants": [{ "sku": "CAP-S", "inventory_level": 1, "label": "S" }] }),
    )
    .await;
    let id = connect(app, &token, &store, "Shop", true).await;
    sync(app, &token, &id, "PRODUCTS").await;
    let mut ids = json!({});
    for sku in ["TEAPOT", "CAP-S"] {
        let p = product(app, &token, sku).await;
        ids[sku] = listing_of(&p, "Shop")["id"].clone();
    }
    (token, ids)
}

async fn update_price(app: &TestApp, token: &str, input: Value) -> Value {
    app.data(Some(token), UPDATE_PRICE, json!({ "i": input }))
        .await["updatePrice"]
        .clone()
}

fn sandbox_product(app: &TestApp, sku: &str) -> orderdeck_sandbox::model::Product {
    app.sandbox
        .with_store(&app.store.hash, |s| {
            s.products
                .values()
                .find(|p| p.sku == sku || p.variants.iter().any(|v| v.sku == sku))
                .cloned()
                .unwrap()
        })
        .unwrap()
}

#[tokio::test]
async fn update_price_saves_the_price_and_pushes_it_to_the_product_on_the_store() {
    let app = push_app(1).await;
    let (token, ids) = priced(&app).await;
    let res = update_price(
        &app,
        &token,
        json!({ "listingId": ids["TEAPOT"], "price": "24.50", "salePrice": "19.99" }),
    )
    .await;
    assert_eq!(res["userErrors"], json!([]), "{res}");
    assert_eq!(
        (
            &res["listing"]["price"],
            &res["listing"]["salePrice"],
            &res["listing"]["pricePushState"]
        ),
        (&json!("24.5"), &json!("19.99"), &json!("PUSHED"))
    );
    let p = sandbox_product(&app, "TEAPOT");
    assert_eq!((p.price, p.sale_price), (dec("24.5"), dec("19.99")));

    // Removing the sale price.
    let res = update_price(
        &app,
        &token,
        json!({ "listingId": ids["TEAPOT"], "price": "24.50", "salePrice": null }),
    )
    .await;
    assert_eq!(res["listing"]["salePrice"], Value::Null, "{res}");
    assert!(sandbox_product(&app, "TEAPOT").sale_price.is_zero());
}

#[tokio::test]
async fn update_price_of_a_variant_listing_pushes_to_the_variant() {
    let app = push_app(1).await;
    let (token, ids) = priced(&app).await;
    let res = update_price(
        &app,
        &token,
        json!({ "listingId": ids["CAP-S"], "price": "12" }),
    )
    .await;
    assert_eq!(res["listing"]["pricePushState"], "PUSHED", "{res}");
    let p = sandbox_product(&app, "CAP-S");
    let v = p.variants.iter().find(|v| v.sku == "CAP-S").unwrap();
    assert_eq!(v.price, Some(dec("12")));
}

#[tokio::test]
async fn update_price_refuses_nonsense_with_a_code_per_problem_and_changes_nothing() {
    let app = push_app(1).await;
    let (token, ids) = priced(&app).await;
    let cases = [
        (json!({ "price": "0" }), "PRICE_NOT_POSITIVE"),
        (json!({ "price": "-3" }), "PRICE_NOT_POSITIVE"),
        (json!({ "price": "9.999" }), "TOO_MANY_DECIMALS"),
        (
            json!({ "price": "10", "salePrice": "11" }),
            "SALE_PRICE_ABOVE_PRICE",
        ),
        (
            json!({ "price": "10", "salePrice": "0" }),
            "PRICE_NOT_POSITIVE",
        ),
    ];
    for (input, code) in cases {
        let mut input = input;
        input["listingId"] = ids["TEAPOT"].clone();
        let res = update_price(&app, &token, input.clone()).await;
        assert_eq!(codes(&res), vec![code.to_string()], "{input}: {res}");
        assert_eq!(res["listing"], Value::Null);
    }
    let unknown = update_price(
        &app,
        &token,
        json!({ "listingId": "gid://orderdeck/Listing/999999", "price": "5" }),
    )
    .await;
    assert_eq!(codes(&unknown), vec!["NOT_FOUND".to_string()]);
    let p = product(&app, &token, "TEAPOT").await;
    assert_eq!(listing_of(&p, "Shop")["price"], "30");
    assert_eq!(listing_of(&p, "Shop")["pricePushState"], "NONE");
    assert_eq!(sandbox_product(&app, "TEAPOT").price, dec("30"));
    // Not a decimal at all: the API refuses the request itself.
    let res = app
        .gql(
            Some(&token),
            UPDATE_PRICE,
            json!({ "i": { "listingId": ids["TEAPOT"], "price": "ten" } }),
        )
        .await;
    assert!(
        res["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "{res}"
    );
}

#[tokio::test]
async fn another_accounts_listing_price_cannot_be_changed() {
    let app = push_app(1).await;
    let (_, ids) = priced(&app).await;
    let stranger = app.signed_in("stranger@example.com").await;
    let res = update_price(
        &app,
        &stranger,
        json!({ "listingId": ids["TEAPOT"], "price": "1" }),
    )
    .await;
    assert_eq!(codes(&res), vec!["NOT_FOUND".to_string()]);
    assert_eq!(sandbox_product(&app, "TEAPOT").price, dec("30"));
}

#[tokio::test]
async fn a_price_push_the_store_fails_is_kept_here_and_retried_until_it_lands() {
    let app = push_app(1).await;
    let (token, ids) = priced(&app).await;
    app.faults(json!({ "error_rate": 1.0, "random_status": 500 }))
        .await;
    let res = update_price(
        &app,
        &token,
        json!({ "listingId": ids["TEAPOT"], "price": "27" }),
    )
    .await;
    assert_eq!(res["userErrors"], json!([]));
    assert_eq!(res["listing"]["price"], "27");
    assert_eq!(res["listing"]["pricePushState"], "FAILED", "{res}");
    assert!(res["listing"]["pricePushError"]
        .as_str()
        .unwrap()
        .contains("500"));
    app.clear_faults().await;
    wait_until("the retry to land", Duration::from_secs(10), async || {
        sandbox_product(&app, "TEAPOT").price == dec("27")
    })
    .await;
    wait_until(
        "the price to be pushed",
        Duration::from_secs(10),
        async || {
            let p = product(&app, &token, "TEAPOT").await;
            listing_of(&p, "Shop")["pricePushState"] == "PUSHED"
        },
    )
    .await;
}

#[tokio::test]
async fn a_product_import_keeps_a_price_changed_here_until_the_store_has_it() {
    let app = manual_push_app(1).await;
    let (token, ids) = priced(&app).await;
    app.faults(json!({ "error_rate": 1.0, "random_status": 500 }))
        .await;
    let res = update_price(
        &app,
        &token,
        json!({ "listingId": ids["TEAPOT"], "price": "27", "salePrice": "25" }),
    )
    .await;
    // Not on the store yet: waiting for the push worker (off here).
    let state = res["listing"]["pricePushState"].clone();
    assert!(state == "PENDING" || state == "FAILED", "{res}");
    app.clear_faults().await;
    // The store still asks 30 when the products are imported (no push worker runs here).
    let stores = app
        .data(Some(&token), "{ integrations { nodes { id } } }", json!({}))
        .await;
    let integration = stores["integrations"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    sync(&app, &token, &integration, "PRODUCTS").await;
    let p = product(&app, &token, "TEAPOT").await;
    let listing = listing_of(&p, "Shop");
    assert_eq!(
        (
            listing["price"].clone(),
            listing["salePrice"].clone(),
            listing["pricePushState"].clone()
        ),
        (json!("27"), json!("25"), state),
        "{p}"
    );
    assert_eq!(sandbox_product(&app, "TEAPOT").price, dec("30"));
}
