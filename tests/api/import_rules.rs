//! The import rules of product.md §4 (products, listings, stock), §5 (orders) and §8 (sync
//! runs) as a merchant sees them: the BigCommerce sandbox is driven through its merchant and
//! shopper actions (and the store's API, as another app would), imports run through
//! `syncNow`, and every assertion reads the GraphQL API — never the database.

use std::collections::BTreeMap;

use chrono::{Duration, SubsecRound, Utc};
use orderdeck::sandbox::server::StoreCredentials;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::helpers::{codes, spawn_app, spawn_app_with_sandbox, TestApp};

// ---------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------

const ORDER_FIELDS: &str = "id number status channelStatusId channelStatus currencyCode
    subtotalExTax { amount currencyCode } subtotalIncTax { amount currencyCode }
    shipping { amount currencyCode } tax { amount currencyCode } total { amount currencyCode }
    customerName customerEmail placedAt shippedAt historical stockTaken restocked
    integration { id alias }
    lines { externalId sku name quantity quantityShipped unitPrice { amount currencyCode }
            total { amount currencyCode } linked listing { id sku } product { id sku } }";

const PRODUCT_FIELDS: &str = "id sku name weight imageUrl stock lowStockThreshold
    listings { id integration { id } externalProductId externalVariantId tracking sku title
               price salePrice weight images categories channelStock missingSince }";

const MOVEMENT_FIELDS: &str = "delta quantityAfter reason integrationId orderId";

// ---------------------------------------------------------------------------------------------
// Helpers: the merchant, the shopper and the API
// ---------------------------------------------------------------------------------------------

/// Registers `email` and connects the sandbox's first store through `connectBigCommerce`
/// with `extra` options; the bearer token and the integration's global id.
async fn connect(app: &TestApp, email: &str, extra: Value) -> (String, String) {
    let token = app.signed_in(email).await;
    let res = app.connect(&token, extra).await;
    assert_eq!(res["userErrors"], json!([]), "{res}");
    let gid = res["integration"]["id"].as_str().unwrap().to_string();
    (token, gid)
}

/// Adds a store to the sandbox and connects it to the account of `token` as `alias`.
async fn connect_another_store(
    app: &TestApp,
    token: &str,
    alias: &str,
    extra: Value,
) -> (StoreCredentials, String) {
    let store = app.sandbox.add_store(0, 0);
    let mut input = json!({
        "storeHash": store.hash,
        "clientId": store.client_id,
        "accessToken": store.access_token,
        "alias": alias,
    });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    let res = app.connect(token, input).await;
    assert_eq!(res["userErrors"], json!([]), "{res}");
    let gid = res["integration"]["id"].as_str().unwrap().to_string();
    (store, gid)
}

/// Runs one import through `syncNow`, requires it to succeed, and returns the run.
async fn import(app: &TestApp, token: &str, gid: &str, kind: &str) -> Value {
    let payload = app.sync_now(token, gid, Some(kind)).await;
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    let run = payload["runs"][0].clone();
    assert_eq!(run["outcome"], "SUCCEEDED", "{payload}");
    run
}

/// The newest run of `kind` through `syncRuns`.
async fn last_run(app: &TestApp, token: &str, gid: &str, kind: &str) -> Value {
    app.data(
        Some(token),
        "query($id: ID!, $kind: SyncKind) { syncRuns(integrationId: $id, first: 1, kind: $kind) { nodes { kind trigger outcome created updated unchanged error finishedAt } } }",
        json!({ "id": gid, "kind": kind }),
    )
    .await["syncRuns"]["nodes"][0]
        .clone()
}

/// The merchant adds a product on the store (`POST /_sandbox/stores/{hash}/products`); its id.
async fn list_product(app: &TestApp, hash: &str, body: Value) -> i64 {
    let p = app
        .sandbox_action(hash, Method::POST, "products", body)
        .await;
    p["data"]["id"]
        .as_i64()
        .or_else(|| p["id"].as_i64())
        .unwrap_or_else(|| panic!("no product id in {p}"))
}

/// The merchant edits a product on the store (`PUT /_sandbox/stores/{hash}/products/{id}`).
async fn edit_product(app: &TestApp, hash: &str, id: i64, body: Value) {
    app.sandbox_action(hash, Method::PUT, &format!("products/{id}"), body)
        .await;
}

/// A shopper places an order now (`POST /_sandbox/stores/{hash}/orders`) with `lines`
/// (`[{sku, quantity}]`) and `extra` fields (`status_id`, `billing_address`); its id.
async fn place(app: &TestApp, hash: &str, lines: Value, extra: Value) -> i64 {
    let mut body = json!({ "lines": lines });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.sandbox_action(hash, Method::POST, "orders", body).await["id"]
        .as_i64()
        .unwrap()
}

/// The merchant changes an order's status on the store.
async fn set_status(app: &TestApp, hash: &str, order_id: i64, status_id: i64) {
    app.sandbox_action(
        hash,
        Method::PUT,
        &format!("orders/{order_id}/status"),
        json!({ "status_id": status_id }),
    )
    .await;
}

/// The merchant ships the whole quantity of the order's lines at `indexes` (in the store's
/// line order) with the store's API (`POST /v2/orders/{id}/shipments`), one shipment per
/// line; the store moves the order to Partially Shipped or Shipped.
async fn ship_on_channel(
    app: &TestApp,
    store: &StoreCredentials,
    order_id: i64,
    indexes: &[usize],
) {
    let lines = app
        .store_api(
            store,
            Method::GET,
            &format!("v2/orders/{order_id}/products"),
            None,
        )
        .await;
    let lines = lines.as_array().unwrap();
    for &i in indexes {
        let l = &lines[i];
        app.store_api(
            store,
            Method::POST,
            &format!("v2/orders/{order_id}/shipments"),
            Some(json!({
                "order_address_id": l["order_address_id"],
                "tracking_number": format!("TRK{order_id}{i}"),
                "items": [{ "order_product_id": l["id"], "quantity": l["quantity"] }],
            })),
        )
        .await;
    }
}

/// Moves the sandbox order's placement (and last modification) `days` into the past, as an
/// order placed back then would be.
fn backdate(app: &TestApp, hash: &str, order_id: i64, days: i64, modified_now: bool) {
    app.sandbox
        .with_store(hash, |s| {
            let o = s.orders.get_mut(&order_id).unwrap();
            o.date_created = Utc::now().trunc_subsecs(0) - Duration::days(days);
            o.date_modified = if modified_now {
                Utc::now().trunc_subsecs(0)
            } else {
                o.date_created
            };
        })
        .unwrap();
}

/// Lets the clock pass a whole second: the channel's timestamps have second precision.
async fn a_second_passes() {
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
}

// ---------------------------------------------------------------------------------------------
// Helpers: reading through GraphQL
// ---------------------------------------------------------------------------------------------

/// `orders(first: 50, filter, sort)`: `totalCount` and `nodes`.
async fn orders(app: &TestApp, token: &str, filter: Value, sort: Option<&str>) -> Value {
    app.data(
        Some(token),
        &format!("query($filter: OrderFilterInput, $sort: OrderSortInput) {{ orders(first: 50, filter: $filter, sort: $sort) {{ totalCount nodes {{ {ORDER_FIELDS} }} }} }}"),
        json!({ "filter": filter, "sort": sort }),
    )
    .await["orders"]
        .clone()
}

/// The numbers of the orders `filter` and `sort` return, in order.
async fn numbers(app: &TestApp, token: &str, filter: Value, sort: Option<&str>) -> Vec<String> {
    let page = orders(app, token, filter, sort).await;
    let nodes: Vec<String> = page["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["number"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(page["totalCount"], nodes.len(), "{page}");
    nodes
}

/// The order with this number, found by the search filter and read again by `order(id)`;
/// null when there is none.
async fn order_numbered(app: &TestApp, token: &str, number: i64) -> Value {
    let page = orders(app, token, json!({ "search": format!("#{number}") }), None).await;
    let nodes = page["nodes"].as_array().unwrap();
    assert!(nodes.len() <= 1, "{page}");
    let Some(found) = nodes.first() else {
        return Value::Null;
    };
    let one = app
        .data(
            Some(token),
            &format!("query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"),
            json!({ "id": found["id"] }),
        )
        .await["order"]
        .clone();
    assert_eq!(&one, found);
    one
}

/// `product(sku:)` with its listings; null when there is none.
async fn product(app: &TestApp, token: &str, sku: &str) -> Value {
    app.data(
        Some(token),
        &format!("query($sku: String) {{ product(sku: $sku) {{ {PRODUCT_FIELDS} }} }}"),
        json!({ "sku": sku }),
    )
    .await["product"]
        .clone()
}

/// The stock figure of the product with this SKU.
async fn stock(app: &TestApp, token: &str, sku: &str) -> i64 {
    let p = product(app, token, sku).await;
    p["stock"]
        .as_i64()
        .unwrap_or_else(|| panic!("no product {sku}: {p}"))
}

/// The ledger of the product with this SKU through `stockMovements`, newest first.
async fn movements(app: &TestApp, token: &str, sku: &str) -> Vec<Value> {
    let id = product(app, token, sku).await["id"].clone();
    let page = app
        .data(
            Some(token),
            &format!("query($id: ID!) {{ stockMovements(productId: $id, first: 50) {{ totalCount nodes {{ {MOVEMENT_FIELDS} }} }} }}"),
            json!({ "id": id }),
        )
        .await["stockMovements"]
        .clone();
    let nodes = page["nodes"].as_array().unwrap().clone();
    assert_eq!(page["totalCount"], nodes.len(), "{page}");
    nodes
}

/// A ledger row as `(reason, delta, quantity after)`.
fn step(m: &Value) -> (String, i64, i64) {
    (
        m["reason"].as_str().unwrap().to_string(),
        m["delta"].as_i64().unwrap(),
        m["quantityAfter"].as_i64().unwrap(),
    )
}

fn steps(ms: &[Value]) -> Vec<(String, i64, i64)> {
    ms.iter().map(step).collect()
}

/// The ledger rows that changed the figure (a record of drift, delta 0, changes nothing).
fn stock_changes(ms: &[Value]) -> Vec<(String, i64, i64)> {
    ms.iter()
        .map(step)
        .filter(|(_, delta, _)| *delta != 0)
        .collect()
}

fn s(v: &str) -> String {
    v.to_string()
}

/// `products(first: 50, filter)`: the SKUs in list order.
async fn product_skus(app: &TestApp, token: &str, filter: Value) -> Vec<Value> {
    let page = app
        .data(
            Some(token),
            "query($filter: ProductFilterInput) { products(first: 50, filter: $filter) { totalCount nodes { sku } } }",
            json!({ "filter": filter }),
        )
        .await["products"]
        .clone();
    let skus: Vec<Value> = page["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["sku"].clone())
        .collect();
    assert_eq!(page["totalCount"], skus.len(), "{page}");
    skus
}

// =============================================================================================
// Orders (§5)
// =============================================================================================

#[tokio::test]
async fn the_first_import_reaches_back_by_the_historical_import_option_and_no_further() {
    let app = spawn_app().await;
    let (token, gid) = connect(
        &app,
        "reach@example.com",
        json!({ "historicalImport": "LAST_7_DAYS" }),
    )
    .await;
    let hash = app.store.hash.clone();
    list_product(&app, &hash, json!({ "name": "Mug", "sku": "REACH-MUG" })).await;
    let line = json!([{ "sku": "REACH-MUG", "quantity": 1 }]);
    let eight_days = place(&app, &hash, line.clone(), json!({})).await;
    let eight_days_edited = place(&app, &hash, line.clone(), json!({})).await;
    let six_days = place(&app, &hash, line.clone(), json!({})).await;
    let today = place(&app, &hash, line, json!({})).await;
    backdate(&app, &hash, eight_days, 8, false);
    // Placed before the window but edited within it: the store lists it as modified lately.
    backdate(&app, &hash, eight_days_edited, 8, true);
    backdate(&app, &hash, six_days, 6, false);

    let run = import(&app, &token, &gid, "ORDERS").await;

    assert_eq!(
        (run["created"].as_i64(), run["updated"].as_i64()),
        (Some(2), Some(0))
    );
    let mut imported = numbers(&app, &token, json!({}), None).await;
    imported.sort();
    assert_eq!(imported, vec![six_days.to_string(), today.to_string()]);
    assert_eq!(order_numbered(&app, &token, eight_days).await, Value::Null);
    assert_eq!(
        order_numbered(&app, &token, eight_days_edited).await,
        Value::Null
    );
    let since = app
        .data(
            Some(&token),
            "query($id: ID!) { integration(id: $id) { importOrdersSince } }",
            json!({ "id": gid }),
        )
        .await["integration"]["importOrdersSince"]
        .as_str()
        .unwrap()
        .parse::<chrono::DateTime<Utc>>()
        .unwrap();
    let seven_days_ago = Utc::now() - Duration::days(7);
    assert!(
        (since - seven_days_ago).num_minutes().abs() <= 5,
        "importOrdersSince {since} is not 7 days back"
    );
    let old = order_numbered(&app, &token, six_days).await;
    assert_eq!(
        (old["historical"].as_bool(), old["stockTaken"].as_bool()),
        (Some(true), Some(false))
    );
}

#[tokio::test]
async fn an_incremental_import_picks_up_an_order_changed_on_the_channel_and_a_new_one() {
    let app = spawn_app().await;
    let (token, gid) = connect(&app, "incremental@example.com", json!({})).await;
    let hash = app.store.hash.clone();
    list_product(&app, &hash, json!({ "name": "Mug", "sku": "INC-MUG" })).await;
    let first = place(&app, &hash, json!([{ "sku": "INC-MUG" }]), json!({})).await;
    let run = import(&app, &token, &gid, "ORDERS").await;
    assert_eq!(run["created"], 1, "{run}");
    let before = order_numbered(&app, &token, first).await;
    assert_eq!(
        (&before["status"], &before["channelStatusId"]),
        (&json!("NEW"), &json!(11))
    );

    a_second_passes().await;
    set_status(&app, &hash, first, 7).await;
    let second = place(&app, &hash, json!([{ "sku": "INC-MUG" }]), json!({})).await;
    import(&app, &token, &gid, "ORDERS").await;

    let run = last_run(&app, &token, &gid, "ORDERS").await;
    assert_eq!(
        (&run["created"], &run["updated"], &run["unchanged"]),
        (&json!(1), &json!(1), &json!(0)),
        "{run}"
    );
    let changed = order_numbered(&app, &token, first).await;
    assert_eq!(
        (
            &changed["status"],
            &changed["channelStatusId"],
            &changed["channelStatus"]
        ),
        (&json!("UNPAID"), &json!(7), &json!("Awaiting Payment"))
    );
    assert_eq!(
        changed["id"], before["id"],
        "the same order, updated in place"
    );
    assert_eq!(order_numbered(&app, &token, second).await["status"], "NEW");
    assert_eq!(orders(&app, &token, json!({}), None).await["totalCount"], 2);
}

#[tokio::test]
async fn re_importing_changes_nothing_neither_orders_nor_stock_nor_the_run_counts() {
    let app = spawn_app().await;
    let (token, gid) = connect(&app, "again@example.com", json!({})).await;
    let hash = app.store.hash.clone();
    list_product(
        &app,
        &hash,
        json!({ "name": "Mug", "sku": "AGAIN-MUG", "inventory_level": 100 }),
    )
    .await;
    import(&app, &token, &gid, "PRODUCTS").await;
    list_product(
        &app,
        &hash,
        json!({ "name": "Elsewhere", "sku": "AGAIN-NOWHERE" }),
    )
    .await;
    a_second_passes().await;
    place(
        &app,
        &hash,
        json!([{ "sku": "AGAIN-MUG", "quantity": 2 }, { "sku": "AGAIN-NOWHERE" }]),
        json!({}),
    )
    .await;
    let canceled = place(
        &app,
        &hash,
        json!([{ "sku": "AGAIN-MUG", "quantity": 5 }]),
        json!({}),
    )
    .await;
    let shipped = place(
        &app,
        &hash,
        json!([{ "sku": "AGAIN-MUG", "quantity": 1 }]),
        json!({}),
    )
    .await;
    place(
        &app,
        &hash,
        json!([{ "sku": "AGAIN-MUG", "quantity": 3 }]),
        json!({ "status_id": 14 }),
    )
    .await;
    import(&app, &token, &gid, "ORDERS").await;
    set_status(&app, &hash, canceled, 5).await;
    ship_on_channel(&app, &app.store, shipped, &[0]).await;
    import(&app, &token, &gid, "ORDERS").await;
    let orders_before = orders(&app, &token, json!({}), None).await;
    let product_before = product(&app, &token, "AGAIN-MUG").await;
    let ledger_before = movements(&app, &token, "AGAIN-MUG").await;

    import(&app, &token, &gid, "ORDERS").await;
    import(&app, &token, &gid, "ORDERS").await;

    let run = last_run(&app, &token, &gid, "ORDERS").await;
    assert_eq!(
        (&run["created"], &run["updated"], &run["unchanged"]),
        (&json!(0), &json!(0), &json!(4)),
        "{run}"
    );
    assert_eq!(orders(&app, &token, json!({}), None).await, orders_before);
    assert_eq!(product(&app, &token, "AGAIN-MUG").await, product_before);
    assert_eq!(movements(&app, &token, "AGAIN-MUG").await, ledger_before);
    // 100 − 2 − 5 − 1 − 3, and the 5 of the canceled order back.
    assert_eq!(product_before["stock"], 94);
    assert_eq!(ledger_before.len(), 1 + 4 + 1);
}

#[tokio::test]
async fn every_bigcommerce_status_maps_as_the_table_says_and_keeps_the_channels_own() {
    let app = spawn_app().await;
    let (token, gid) = connect(&app, "statuses@example.com", json!({})).await;
    let hash = app.store.hash.clone();
    list_product(&app, &hash, json!({ "name": "A", "sku": "ST-A" })).await;
    list_product(&app, &hash, json!({ "name": "B", "sku": "ST-B" })).await;
    let two_lines = json!([{ "sku": "ST-A", "quantity": 1 }, { "sku": "ST-B", "quantity": 2 }]);
    let mut placed: BTreeMap<i64, i64> = BTreeMap::new(); // order id → BigCommerce status
    for status in 0..=13 {
        let id = place(
            &app,
            &hash,
            two_lines.clone(),
            json!({ "status_id": status }),
        )
        .await;
        placed.insert(id, status);
    }
    // Partially Refunded, by what shipped: nothing, one line, everything.
    let refunded_unshipped = place(&app, &hash, two_lines.clone(), json!({})).await;
    let refunded_part_shipped = place(&app, &hash, two_lines.clone(), json!({})).await;
    let refunded_all_shipped = place(&app, &hash, two_lines, json!({})).await;
    ship_on_channel(&app, &app.store, refunded_part_shipped, &[0]).await;
    ship_on_channel(&app, &app.store, refunded_all_shipped, &[0, 1]).await;
    for id in [
        refunded_unshipped,
        refunded_part_shipped,
        refunded_all_shipped,
    ] {
        set_status(&app, &hash, id, 14).await;
    }

    import(&app, &token, &gid, "ORDERS").await;

    let page = orders(&app, &token, json!({}), None).await;
    let got: BTreeMap<String, (String, i64, String)> = page["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["number"].as_str().unwrap().to_string(),
                (
                    n["status"].as_str().unwrap().to_string(),
                    n["channelStatusId"].as_i64().unwrap(),
                    n["channelStatus"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    let table = |status: i64| -> Option<(&str, &str)> {
        Some(match status {
            0 => return None,
            1 => ("UNPAID", "Pending"),
            2 => ("SHIPPED", "Shipped"),
            3 => ("PARTIALLY_SHIPPED", "Partially Shipped"),
            4 => ("REFUNDED", "Refunded"),
            5 => ("CANCELED", "Cancelled"),
            6 => ("CANCELED", "Declined"),
            7 => ("UNPAID", "Awaiting Payment"),
            8 => ("NEW", "Awaiting Pickup"),
            9 => ("NEW", "Awaiting Shipment"),
            10 => ("SHIPPED", "Completed"),
            11 => ("NEW", "Awaiting Fulfillment"),
            12 => ("NEW", "Manual Verification Required"),
            13 => ("NEW", "Disputed"),
            _ => unreachable!(),
        })
    };
    let mut expected: BTreeMap<String, (String, i64, String)> = placed
        .iter()
        .filter_map(|(id, status)| {
            table(*status).map(|(here, name)| (id.to_string(), (s(here), *status, s(name))))
        })
        .collect();
    for (id, here) in [
        (refunded_unshipped, "NEW"),
        (refunded_part_shipped, "PARTIALLY_SHIPPED"),
        (refunded_all_shipped, "SHIPPED"),
    ] {
        expected.insert(id.to_string(), (s(here), 14, s("Partially Refunded")));
    }
    assert_eq!(got, expected);
    assert_eq!(page["totalCount"], 16, "Incomplete (0) is not imported");
    let incomplete = placed.iter().find(|(_, st)| **st == 0).unwrap().0;
    assert_eq!(order_numbered(&app, &token, *incomplete).await, Value::Null);
}

#[tokio::test]
async fn an_order_placed_after_connecting_takes_its_quantities_off_stock_once() {
    let app = spawn_app().await;
    let (token, gid) = connect(&app, "takes@example.com", json!({})).await;
    let hash = app.store.hash.clone();
    list_product(
        &app,
        &hash,
        json!({ "name": "Mug", "sku": "TAKE-MUG", "inventory_level": 100 }),
    )
    .await;
    list_product(
        &app,
        &hash,
        json!({ "name": "Cap", "sku": "TAKE-CAP", "inventory_level": 10 }),
    )
    .await;
    import(&app, &token, &gid, "PRODUCTS").await;
    a_second_passes().await;
    let id = place(
        &app,
        &hash,
        json!([{ "sku": "TAKE-MUG", "quantity": 2 }, { "sku": "TAKE-CAP", "quantity": 3 }]),
        json!({}),
    )
    .await;

    import(&app, &token, &gid, "ORDERS").await;
    set_status(&app, &hash, id, 9).await; // still live, changed
    import(&app, &token, &gid, "ORDERS").await;
    import(&app, &token, &gid, "ORDERS").await;

    let o = order_numbered(&app, &token, id).await;
    assert_eq!(
        (
            &o["status"],
            &o["historical"],
            &o["stockTaken"],
            &o["restocked"]
        ),
        (&json!("NEW"), &json!(false), &json!(true), &json!(false))
    );
    assert_eq!(stock(&app, &token, "TAKE-MUG").await, 98);
    assert_eq!(stock(&app, &token, "TAKE-CAP").await, 7);
    for (sku, start, qty) in [("TAKE-MUG", 100, 2), ("TAKE-CAP", 10, 3)] {
        let ledger = movements(&app, &token, sku).await;
        assert_eq!(
            steps(&ledger),
            vec![
                (s("ORDER_PLACED"), -qty, start - qty),
                (s("INITIAL_IMPORT"), start, start)
            ],
            "{sku}"
        );
        assert_eq!(ledger[0]["orderId"], o["id"], "{sku}");
        assert_eq!(ledger[0]["integrationId"], json!(gid), "{sku}");
        assert_eq!(ledger[1]["orderId"], Value::Null);
    }
}

#[tokio::test]
async fn a_historical_order_never_moves_stock() {
    let app = spawn_app().await;
    let (token, first_gid) = connect(&app, "historical@example.com", json!({})).await;
    list_product(
        &app,
        &app.store.hash,
        json!({ "name": "Mug", "sku": "HIST-MUG", "inventory_level": 50 }),
    )
    .await;
    import(&app, &token, &first_gid, "PRODUCTS").await;
    // A second store sells the same SKU; an order is placed there before it is connected.
    let other = app.sandbox.add_store(0, 0);
    list_product(
        &app,
        &other.hash,
        json!({ "name": "Mug", "sku": "HIST-MUG", "inventory_level": 30 }),
    )
    .await;
    a_second_passes().await;
    let before_connecting = place(
        &app,
        &other.hash,
        json!([{ "sku": "HIST-MUG", "quantity": 4 }]),
        json!({}),
    )
    .await;
    a_second_passes().await;
    let res = app
        .connect(
            &token,
            json!({ "storeHash": other.hash, "clientId": other.client_id, "accessToken": other.access_token, "alias": "Other" }),
        )
        .await;
    assert_eq!(res["userErrors"], json!([]), "{res}");
    let other_gid = res["integration"]["id"].as_str().unwrap().to_string();
    a_second_passes().await;
    let after_connecting = place(
        &app,
        &other.hash,
        json!([{ "sku": "HIST-MUG", "quantity": 1 }]),
        json!({}),
    )
    .await;

    import(&app, &token, &other_gid, "ORDERS").await;
    import(&app, &token, &other_gid, "ORDERS").await;

    let old = order_numbered(&app, &token, before_connecting).await;
    assert_eq!(
        (
            &old["historical"],
            &old["stockTaken"],
            &old["lines"][0]["linked"]
        ),
        (&json!(true), &json!(false), &json!(true)),
        "{old}"
    );
    assert_eq!(old["lines"][0]["product"]["sku"], "HIST-MUG");
    let new = order_numbered(&app, &token, after_connecting).await;
    assert_eq!(
        (&new["historical"], &new["stockTaken"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(
        stock(&app, &token, "HIST-MUG").await,
        49,
        "only the new order's 1 is taken"
    );
    let ledger = movements(&app, &token, "HIST-MUG").await;
    assert_eq!(
        steps(&ledger),
        vec![(s("ORDER_PLACED"), -1, 49), (s("INITIAL_IMPORT"), 50, 50)]
    );
    assert_eq!(ledger[0]["orderId"], new["id"]);
}

#[tokio::test]
async fn a_line_whose_sku_matches_nothing_is_flagged_unlinked_and_moves_no_stock() {
    let app = spawn_app().await;
    let (token, gid) = connect(&app, "unlinked@example.com", json!({})).await;
    let hash = app.store.hash.clone();
    list_product(
        &app,
        &hash,
        json!({ "name": "Known", "sku": "LINKED-1", "inventory_level": 10 }),
    )
    .await;
    import(&app, &token, &gid, "PRODUCTS").await;
    // Added on the store after the product import: nothing here has this SKU.
    list_product(
        &app,
        &hash,
        json!({ "name": "Unknown", "sku": "NOT-HERE", "inventory_level": 10 }),
    )
    .await;
    a_second_passes().await;
    let id = place(
        &app,
        &hash,
        json!([{ "sku": "LINKED-1", "quantity": 1 }, { "sku": "NOT-HERE", "quantity": 2 }]),
        json!({}),
    )
    .await;

    import(&app, &token, &gid, "ORDERS").await;

    let o = order_numbered(&app, &token, id).await;
    let lines: BTreeMap<String, Value> = o["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["sku"].as_str().unwrap().to_string(), l.clone()))
        .collect();
    let unlinked = &lines["NOT-HERE"];
    assert_eq!(
        (
            &unlinked["linked"],
            &unlinked["product"],
            &unlinked["listing"],
            &unlinked["quantity"]
        ),
        (&json!(false), &Value::Null, &Value::Null, &json!(2)),
        "{unlinked}"
    );
    assert_eq!(lines["LINKED-1"]["linked"], true);
    assert_eq!(lines["LINKED-1"]["product"]["sku"], "LINKED-1");
    assert_eq!(lines["LINKED-1"]["listing"]["sku"], "LINKED-1");
    assert_eq!(product(&app, &token, "NOT-HERE").await, Value::Null);
    assert_eq!(
        product_skus(&app, &token, json!({})).await,
        vec![json!("LINKED-1")]
    );
    assert_eq!(stock(&app, &token, "LINKED-1").await, 9);
    assert_eq!(
        steps(&movements(&app, &token, "LINKED-1").await),
        vec![(s("ORDER_PLACED"), -1, 9), (s("INITIAL_IMPORT"), 10, 10)]
    );
}

#[tokio::test]
async fn an_order_canceled_on_the_channel_becomes_canceled_and_is_restocked_once() {
    let app = spawn_app().await;
    let (token, gid) = connect(&app, "cancel@example.com", json!({})).await;
    let hash = app.store.hash.clone();
    list_product(
        &app,
        &hash,
        json!({ "name": "Mug", "sku": "CXL-MUG", "inventory_level": 100 }),
    )
    .await;
    import(&app, &token, &gid, "PRODUCTS").await;
    a_second_passes().await;
    let id = place(
        &app,
        &hash,
        json!([{ "sku": "CXL-MUG", "quantity": 3 }]),
        json!({}),
    )
    .await;
    import(&app, &token, &gid, "ORDERS").await;
    assert_eq!(stock(&app, &token, "CXL-MUG").await, 97);

    set_status(&app, &hash, id, 5).await;
    import(&app, &token, &gid, "ORDERS").await;
    import(&app, &token, &gid, "ORDERS").await;
    set_status(&app, &hash, id, 6).await; // declined now: still canceled, changed again
    import(&app, &token, &gid, "ORDERS").await;

    let o = order_numbered(&app, &token, id).await;
    assert_eq!(
        (
            &o["status"],
            &o["channelStatusId"],
            &o["channelStatus"],
            &o["restocked"]
        ),
        (
            &json!("CANCELED"),
            &json!(6),
            &json!("Declined"),
            &json!(true)
        )
    );
    assert_eq!(stock(&app, &token, "CXL-MUG").await, 100);
    let ledger = movements(&app, &token, "CXL-MUG").await;
    assert_eq!(
        steps(&ledger),
        vec![
            (s("ORDER_RESTOCKED"), 3, 100),
            (s("ORDER_PLACED"), -3, 97),
            (s("INITIAL_IMPORT"), 100, 100)
        ]
    );
    assert_eq!(ledger[0]["orderId"], o["id"]);
    assert_eq!(ledger[1]["orderId"], o["id"]);
}

#[tokio::test]
async fn an_order_refunded_on_the_channel_becomes_refunded_and_is_restocked_once() {
    let app = spawn_app().await;
    let (token, gid) = connect(&app, "refund@example.com", json!({})).await;
    let hash = app.store.hash.clone();
    list_product(
        &app,
        &hash,
        json!({ "name": "Mug", "sku": "REF-MUG", "inventory_level": 20 }),
    )
    .await;
    import(&app, &token, &gid, "PRODUCTS").await;
    a_second_passes().await;
    let id = place(
        &app,
        &hash,
        json!([{ "sku": "REF-MUG", "quantity": 4 }]),
        json!({}),
    )
    .await;
    import(&app, &token, &gid, "ORDERS").await;

    set_status(&app, &hash, id, 4).await;
    import(&app, &token, &gid, "ORDERS").await;
    import(&app, &token, &gid, "ORDERS").await;

    let o = order_numbered(&app, &token, id).await;
    assert_eq!(
        (
            &o["status"],
            &o["channelStatusId"],
            &o["channelStatus"],
            &o["restocked"]
        ),
        (
            &json!("REFUNDED"),
            &json!(4),
            &json!("Refunded"),
            &json!(true)
        )
    );
    assert_eq!(stock(&app, &token, "REF-MUG").await, 20);
    assert_eq!(
        steps(&movements(&app, &token, "REF-MUG").await),
        vec![
            (s("ORDER_RESTOCKED"), 4, 20),
            (s("ORDER_PLACED"), -4, 16),
            (s("INITIAL_IMPORT"), 20, 20)
        ]
    );
}

#[tokio::test]
async fn an_order_canceled_on_the_channel_after_shipping_is_not_restocked() {
    let app = spawn_app().await;
    let (token, gid) = connect(&app, "shipcancel@example.com", json!({})).await;
    let hash = app.store.hash.clone();
    list_product(
        &app,
        &hash,
        json!({ "name": "Mug", "sku": "SC-MUG", "inventory_level": 100 }),
    )
    .await;
    import(&app, &token, &gid, "PRODUCTS").await;
    a_second_passes().await;
    let id = place(
        &app,
        &hash,
        json!([{ "sku": "SC-MUG", "quantity": 2 }]),
        json!({}),
    )
    .await;
    import(&app, &token, &gid, "ORDERS").await;
    ship_on_channel(&app, &app.store, id, &[0]).await;
    import(&app, &token, &gid, "ORDERS").await;
    assert_eq!(order_numbered(&app, &token, id).await["status"], "SHIPPED");

    set_status(&app, &hash, id, 5).await;
    import(&app, &token, &gid, "ORDERS").await;

    let o = order_numbered(&app, &token, id).await;
    assert_eq!(
        (
            &o["status"],
            &o["restocked"],
            &o["lines"][0]["quantityShipped"]
        ),
        (&json!("CANCELED"), &json!(false), &json!(2))
    );
    assert_eq!(stock(&app, &token, "SC-MUG").await, 98);
    assert_eq!(
        steps(&movements(&app, &token, "SC-MUG").await),
        vec![(s("ORDER_PLACED"), -2, 98), (s("INITIAL_IMPORT"), 100, 100)]
    );
}

#[tokio::test]
async fn an_order_shipped_on_the_channel_becomes_partially_shipped_then_shipped() {
    let app = spawn_app().await;
    let (token, gid) = connect(&app, "shipped@example.com", json!({})).await;
    let hash = app.store.hash.clone();
    list_product(
        &app,
        &hash,
        json!({ "name": "Mug", "sku": "SH-MUG", "inventory_level": 100 }),
    )
    .await;
    list_product(
        &app,
        &hash,
        json!({ "name": "Cap", "sku": "SH-CAP", "inventory_level": 100 }),
    )
    .await;
    import(&app, &token, &gid, "PRODUCTS").await;
    a_second_passes().await;
    let id = place(
        &app,
        &hash,
        json!([{ "sku": "SH-MUG", "quantity": 2 }, { "sku": "SH-CAP", "quantity": 1 }]),
        json!({}),
    )
    .await;
    import(&app, &token, &gid, "ORDERS").await;
    let shipped_of = |o: &Value| -> BTreeMap<String, i64> {
        o["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    s(l["sku"].as_str().unwrap()),
                    l["quantityShipped"].as_i64().unwrap(),
                )
            })
            .collect()
    };

    ship_on_channel(&app, &app.store, id, &[0]).await;
    import(&app, &token, &gid, "ORDERS").await;
    let partly = order_numbered(&app, &token, id).await;
    ship_on_channel(&app, &app.store, id, &[1]).await;
    import(&app, &token, &gid, "ORDERS").await;
    let fully = order_numbered(&app, &token, id).await;

    assert_eq!(
        (
            &partly["status"],
            &partly["channelStatusId"],
            &partly["shippedAt"]
        ),
        (&json!("PARTIALLY_SHIPPED"), &json!(3), &Value::Null)
    );
    assert_eq!(
        shipped_of(&partly),
        BTreeMap::from([(s("SH-CAP"), 0), (s("SH-MUG"), 2)])
    );
    assert_eq!(
        (
            &fully["status"],
            &fully["channelStatusId"],
            &fully["channelStatus"]
        ),
        (&json!("SHIPPED"), &json!(2), &json!("Shipped"))
    );
    assert!(fully["shippedAt"].is_string(), "{fully}");
    assert_eq!(
        shipped_of(&fully),
        BTreeMap::from([(s("SH-CAP"), 1), (s("SH-MUG"), 2)])
    );
    assert_eq!(
        stock(&app, &token, "SH-MUG").await,
        98,
        "shipping moves no stock again"
    );
    assert_eq!(stock(&app, &token, "SH-CAP").await, 99);
    assert_eq!(movements(&app, &token, "SH-MUG").await.len(), 2);
}

#[tokio::test]
async fn money_totals_are_exact_decimals() {
    let app = spawn_app().await;
    let (token, gid) = connect(&app, "money@example.com", json!({})).await;
    let hash = app.store.hash.clone();
    list_product(&app, &hash, json!({ "name": "Cent", "sku": "MONEY-A" })).await;
    list_product(&app, &hash, json!({ "name": "Fortune", "sku": "MONEY-B" })).await;
    let id = place(
        &app,
        &hash,
        json!([{ "sku": "MONEY-A", "quantity": 3 }, { "sku": "MONEY-B", "quantity": 1 }]),
        json!({}),
    )
    .await;
    // Amounts a float would get wrong: 3 × 0.1, and cents on a seven-digit price.
    let d = |v: &str| v.parse::<Decimal>().unwrap();
    app.sandbox
        .with_store(&hash, |st| {
            let o = st.orders.get_mut(&id).unwrap();
            o.shipping_cost_ex_tax = d("4.99");
            o.shipping_cost_inc_tax = d("5.99");
            for l in &mut o.products {
                let (ex, inc) = if l.sku == "MONEY-A" {
                    (d("0.1"), d("0.12"))
                } else {
                    (d("1234567.8901"), d("1234567.8901"))
                };
                (l.base_price, l.price_ex_tax, l.price_inc_tax, l.price_tax) =
                    (ex, ex, inc, inc - ex);
            }
        })
        .unwrap();
    let currency = app
        .data(
            Some(&token),
            "query($id: ID!) { integration(id: $id) { storeCurrency } }",
            json!({ "id": gid }),
        )
        .await["integration"]["storeCurrency"]
        .clone();

    import(&app, &token, &gid, "ORDERS").await;

    let o = order_numbered(&app, &token, id).await;
    let money = |amount: &str| json!({ "amount": amount, "currencyCode": currency });
    assert_eq!(o["currencyCode"], currency);
    assert_eq!(o["subtotalExTax"], money("1234568.1901"));
    assert_eq!(o["subtotalIncTax"], money("1234568.2501"));
    assert_eq!(o["shipping"], money("5.99"));
    assert_eq!(o["tax"], money("1.06"));
    assert_eq!(o["total"], money("1234574.2401"));
    let lines: BTreeMap<String, (Value, Value)> = o["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                s(l["sku"].as_str().unwrap()),
                (l["unitPrice"].clone(), l["total"].clone()),
            )
        })
        .collect();
    assert_eq!(lines["MONEY-A"], (money("0.1"), money("0.36")));
    assert_eq!(
        lines["MONEY-B"],
        (money("1234567.8901"), money("1234567.8901"))
    );
}

/// Three orders on two stores: #a (store A, 3 days ago, Ada Lovelace, FLT-A, Awaiting
/// Fulfillment), #b (store A, 2 days ago, Grace Hopper, FLT-B, Shipped), #c (store B, now,
/// Alan Turing, FLT-A, Cancelled).
struct ThreeOrders {
    app: TestApp,
    token: String,
    store_a: String,
    store_b: String,
    a: String,
    b: String,
    c: String,
}

async fn three_orders_on_two_stores() -> ThreeOrders {
    let app = spawn_app().await;
    let (token, store_a) = connect(
        &app,
        "filters@example.com",
        json!({ "alias": "Shop A", "historicalImport": "LAST_7_DAYS" }),
    )
    .await;
    let (other, store_b) = connect_another_store(
        &app,
        &token,
        "Shop B",
        json!({ "historicalImport": "LAST_7_DAYS" }),
    )
    .await;
    let hash = app.store.hash.clone();
    // The two stores number their orders alike; keep the numbers apart.
    app.sandbox
        .with_store(&other.hash, |st| st.next_id += 5000)
        .unwrap();
    list_product(&app, &hash, json!({ "name": "Alpha", "sku": "FLT-A" })).await;
    list_product(&app, &hash, json!({ "name": "Beta", "sku": "FLT-B" })).await;
    list_product(
        &app,
        &other.hash,
        json!({ "name": "Alpha", "sku": "FLT-A" }),
    )
    .await;
    let billing = |first: &str, last: &str, email: &str| json!({ "first_name": first, "last_name": last, "email": email });
    let a = place(
        &app,
        &hash,
        json!([{ "sku": "FLT-A" }]),
        json!({ "status_id": 11, "billing_address": billing("Ada", "Lovelace", "ada@analytical.example") }),
    )
    .await;
    let b = place(
        &app,
        &hash,
        json!([{ "sku": "FLT-B", "quantity": 2 }]),
        json!({ "status_id": 2, "billing_address": billing("Grace", "Hopper", "grace@navy.example") }),
    )
    .await;
    let c = place(
        &app,
        &other.hash,
        json!([{ "sku": "FLT-A" }]),
        json!({ "status_id": 5, "billing_address": billing("Alan", "Turing", "alan@bletchley.example") }),
    )
    .await;
    backdate(&app, &hash, a, 3, false);
    backdate(&app, &hash, b, 2, false);
    // Store B first: the newest order gets the lowest id here, so no list order by id can
    // pass for one by placement.
    import(&app, &token, &store_b, "ORDERS").await;
    import(&app, &token, &store_a, "ORDERS").await;
    let (a, b, c) = (a.to_string(), b.to_string(), c.to_string());
    assert!(a != c && b != c);
    ThreeOrders {
        app,
        token,
        store_a,
        store_b,
        a,
        b,
        c,
    }
}

#[tokio::test]
async fn the_orders_filters_by_status_store_dates_number_email_name_and_sku_return_the_right_orders(
) {
    let t = three_orders_on_two_stores().await;
    let (app, token) = (&t.app, t.token.as_str());
    let (a, b, c) = (t.a.clone(), t.b.clone(), t.c.clone());
    let q = |filter: Value| numbers(app, token, filter, None);

    assert_eq!(q(json!({})).await, vec![c.clone(), b.clone(), a.clone()]);
    // Status.
    assert_eq!(q(json!({ "status": ["NEW"] })).await, vec![a.clone()]);
    assert_eq!(
        q(json!({ "status": ["SHIPPED", "CANCELED"] })).await,
        vec![c.clone(), b.clone()]
    );
    assert_eq!(
        q(json!({ "status": ["REFUNDED"] })).await,
        Vec::<String>::new()
    );
    // Store.
    assert_eq!(
        q(json!({ "integrationId": t.store_a })).await,
        vec![b.clone(), a.clone()]
    );
    assert_eq!(
        q(json!({ "integrationId": t.store_b })).await,
        vec![c.clone()]
    );
    // Placement dates: from is inclusive, to exclusive.
    let ago = |hours: i64| (Utc::now() - Duration::hours(hours)).to_rfc3339();
    assert_eq!(
        q(json!({ "placedFrom": ago(60) })).await,
        vec![c.clone(), b.clone()]
    );
    assert_eq!(q(json!({ "placedTo": ago(60) })).await, vec![a.clone()]);
    assert_eq!(
        q(json!({ "placedFrom": ago(96), "placedTo": ago(24) })).await,
        vec![b.clone(), a.clone()]
    );
    let b_placed = order_numbered(app, token, b.parse().unwrap()).await["placedAt"].clone();
    assert_eq!(
        q(json!({ "placedFrom": b_placed, "placedTo": ago(24) })).await,
        vec![b.clone()]
    );
    assert_eq!(q(json!({ "placedTo": b_placed })).await, vec![a.clone()]);
    // Search: number (with or without #), email, customer name, SKU.
    assert_eq!(
        q(json!({ "search": format!("#{b}") })).await,
        vec![b.clone()]
    );
    assert_eq!(q(json!({ "search": c.clone() })).await, vec![c.clone()]);
    assert_eq!(q(json!({ "search": "GRACE@NAVY" })).await, vec![b.clone()]);
    assert_eq!(
        q(json!({ "search": "bletchley.example" })).await,
        vec![c.clone()]
    );
    assert_eq!(q(json!({ "search": "lovelace" })).await, vec![a.clone()]);
    assert_eq!(q(json!({ "search": "Alan Tu" })).await, vec![c.clone()]);
    assert_eq!(q(json!({ "search": "FLT-B" })).await, vec![b.clone()]);
    assert_eq!(q(json!({ "search": "nobody" })).await, Vec::<String>::new());
    // SKU, and filters combined.
    assert_eq!(
        q(json!({ "sku": "FLT-A" })).await,
        vec![c.clone(), a.clone()]
    );
    assert_eq!(q(json!({ "sku": "FLT-B" })).await, vec![b.clone()]);
    assert_eq!(
        q(json!({ "sku": "FLT-A", "integrationId": t.store_a })).await,
        vec![a.clone()]
    );
    assert_eq!(
        q(json!({ "sku": "FLT-A", "status": ["CANCELED"] })).await,
        vec![c.clone()]
    );
    let one = orders(app, token, json!({ "search": "lovelace" }), None).await["nodes"][0].clone();
    assert_eq!(
        (
            &one["customerName"],
            &one["customerEmail"],
            &one["integration"]["alias"]
        ),
        (
            &json!("Ada Lovelace"),
            &json!("ada@analytical.example"),
            &json!("Shop A")
        )
    );
}

#[tokio::test]
async fn the_orders_sort_newest_or_oldest_placement_first_across_pages() {
    let t = three_orders_on_two_stores().await;
    let (app, token) = (&t.app, t.token.as_str());
    let (a, b, c) = (t.a.clone(), t.b.clone(), t.c.clone());

    assert_eq!(
        numbers(app, token, json!({}), Some("NEWEST_FIRST")).await,
        vec![c.clone(), b.clone(), a.clone()]
    );
    assert_eq!(
        numbers(app, token, json!({}), Some("OLDEST_FIRST")).await,
        vec![a.clone(), b.clone(), c.clone()]
    );
    // Two pages of two, oldest first.
    let page = |after: Value| {
        app.data(
            Some(token),
            "query($after: String) { orders(first: 2, after: $after, sort: OLDEST_FIRST) { totalCount pageInfo { hasNextPage endCursor } nodes { number } } }",
            json!({ "after": after }),
        )
    };
    let first = page(Value::Null).await["orders"].clone();
    let second = page(first["pageInfo"]["endCursor"].clone()).await["orders"].clone();
    assert_eq!(
        (
            &first["nodes"],
            &first["pageInfo"]["hasNextPage"],
            &first["totalCount"]
        ),
        (
            &json!([{ "number": a }, { "number": b }]),
            &json!(true),
            &json!(3)
        )
    );
    assert_eq!(
        (&second["nodes"], &second["pageInfo"]["hasNextPage"]),
        (&json!([{ "number": c }]), &json!(false))
    );
}

// =============================================================================================
// Products, listings and stock (§4)
// =============================================================================================

#[tokio::test]
async fn a_product_with_variants_becomes_one_listing_per_variant_and_the_parent_holds_no_stock() {
    let app = spawn_app().await;
    let (token, gid) = connect(&app, "variants@example.com", json!({})).await;
    let id = list_product(
        &app,
        &app.store.hash,
        json!({ "name": "Tee", "sku": "TEE", "price": 20, "variants": [
            { "sku": "TEE-S", "label": "S", "inventory_level": 3 },
            { "sku": "TEE-M", "label": "M", "inventory_level": 4, "price": 21 },
            { "sku": "TEE-L", "label": "L", "inventory_level": 5 },
        ] }),
    )
    .await;

    let run = import(&app, &token, &gid, "PRODUCTS").await;

    assert_eq!(run["created"], 3, "one listing per variant: {run}");
    assert_eq!(
        product(&app, &token, "TEE").await,
        Value::Null,
        "the parent is no product"
    );
    assert_eq!(
        product_skus(&app, &token, json!({})).await,
        vec![json!("TEE-L"), json!("TEE-M"), json!("TEE-S")]
    );
    let mut variant_ids = Vec::new();
    for (size, stock_level, price) in [("S", 3, "20"), ("M", 4, "21"), ("L", 5, "20")] {
        let p = product(&app, &token, &format!("TEE-{size}")).await;
        assert_eq!(p["stock"], stock_level, "{p}");
        let listings = p["listings"].as_array().unwrap();
        assert_eq!(listings.len(), 1, "{p}");
        let l = &listings[0];
        assert_eq!(
            (
                &l["externalProductId"],
                &l["tracking"],
                &l["channelStock"],
                &l["price"],
                &l["title"]
            ),
            (
                &json!(id.to_string()),
                &json!("VARIANT"),
                &json!(stock_level),
                &json!(price),
                &json!(format!("Tee — Option: {size}"))
            ),
            "{l}"
        );
        assert_ne!(l["externalVariantId"], json!(id.to_string()));
        variant_ids.push(l["externalVariantId"].clone());
        assert_eq!(
            steps(&movements(&app, &token, &format!("TEE-{size}")).await),
            vec![(s("INITIAL_IMPORT"), stock_level, stock_level)]
        );
    }
    variant_ids.sort_by_key(|v| v.to_string());
    variant_ids.dedup();
    assert_eq!(variant_ids.len(), 3, "three distinct variants");
}

#[tokio::test]
async fn the_same_sku_on_two_stores_is_one_product_with_two_listings() {
    let app = spawn_app().await;
    let (token, gid_a) = connect(&app, "shared@example.com", json!({ "alias": "Shop A" })).await;
    let (other, gid_b) = connect_another_store(&app, &token, "Shop B", json!({})).await;
    list_product(
        &app,
        &app.store.hash,
        json!({ "name": "Mug", "sku": "SHARED-1", "price": 10, "inventory_level": 10 }),
    )
    .await;
    list_product(
        &app,
        &other.hash,
        json!({ "name": "Big Mug", "sku": "SHARED-1", "price": 12, "inventory_level": 7 }),
    )
    .await;

    import(&app, &token, &gid_a, "PRODUCTS").await;
    import(&app, &token, &gid_b, "PRODUCTS").await;

    assert_eq!(
        product_skus(&app, &token, json!({ "sku": "SHARED-1" })).await,
        vec![json!("SHARED-1")]
    );
    let p = product(&app, &token, "SHARED-1").await;
    let got: Vec<(Value, Value, Value, Value)> = p["listings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["integration"]["id"].clone(),
                l["title"].clone(),
                l["price"].clone(),
                l["channelStock"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (json!(gid_a), json!("Mug"), json!("10"), json!(10)),
            (json!(gid_b), json!("Big Mug"), json!("12"), json!(7)),
        ]
    );
    assert_eq!(
        (&p["name"], &p["stock"]),
        (&json!("Mug"), &json!(10)),
        "started from the first store"
    );
    let ledger = movements(&app, &token, "SHARED-1").await;
    assert_eq!(stock_changes(&ledger), vec![(s("INITIAL_IMPORT"), 10, 10)]);
    assert!(
        ledger.iter().all(|m| m["quantityAfter"] == 10),
        "{ledger:?}"
    );
}

#[tokio::test]
async fn a_listing_without_sku_gets_a_product_of_its_own() {
    let app = spawn_app().await;
    let (token, gid) = connect(&app, "nosku@example.com", json!({})).await;
    let hash = app.store.hash.clone();
    let first = list_product(
        &app,
        &hash,
        json!({ "name": "Loose Tea", "sku": "", "inventory_level": 3 }),
    )
    .await;
    let second = list_product(
        &app,
        &hash,
        json!({ "name": "Loose Leaf", "sku": "", "inventory_level": 4 }),
    )
    .await;

    import(&app, &token, &gid, "PRODUCTS").await;
    import(&app, &token, &gid, "PRODUCTS").await;

    let page = app
        .data(
            Some(&token),
            &format!("{{ products(first: 10, filter: {{ search: \"loose\" }}) {{ totalCount nodes {{ {PRODUCT_FIELDS} }} }} }}"),
            json!({}),
        )
        .await["products"]
        .clone();
    assert_eq!(page["totalCount"], 2, "{page}");
    let got: Vec<(Value, Value, Value, Value, Value)> = page["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let listings = p["listings"].as_array().unwrap();
            assert_eq!(listings.len(), 1, "{p}");
            (
                p["sku"].clone(),
                p["name"].clone(),
                p["stock"].clone(),
                listings[0]["sku"].clone(),
                listings[0]["externalProductId"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                Value::Null,
                json!("Loose Tea"),
                json!(3),
                Value::Null,
                json!(first.to_string())
            ),
            (
                Value::Null,
                json!("Loose Leaf"),
                json!(4),
                Value::Null,
                json!(second.to_string())
            ),
        ]
    );
    assert_eq!(
        last_run(&app, &token, &gid, "PRODUCTS").await["unchanged"],
        2
    );
}

#[tokio::test]
async fn the_first_import_sets_the_starting_stock_from_the_channel() {
    let app = spawn_app().await;
    let (token, gid) = connect(&app, "start@example.com", json!({})).await;
    list_product(
        &app,
        &app.store.hash,
        json!({ "name": "Mug", "sku": "START-MUG", "inventory_level": 42 }),
    )
    .await;

    import(&app, &token, &gid, "PRODUCTS").await;

    let p = product(&app, &token, "START-MUG").await;
    assert_eq!(
        (&p["stock"], &p["listings"][0]["channelStock"]),
        (&json!(42), &json!(42))
    );
    let ledger = movements(&app, &token, "START-MUG").await;
    assert_eq!(steps(&ledger), vec![(s("INITIAL_IMPORT"), 42, 42)]);
    assert_eq!(
        (&ledger[0]["integrationId"], &ledger[0]["orderId"]),
        (&json!(gid), &Value::Null)
    );
}

#[tokio::test]
async fn with_inventory_management_on_a_channel_stock_change_is_shown_on_the_listing_only() {
    let app = spawn_app().await;
    let (token, gid) = connect(
        &app,
        "imon@example.com",
        json!({ "inventoryManagement": true }),
    )
    .await;
    let hash = app.store.hash.clone();
    let id = list_product(
        &app,
        &hash,
        json!({ "name": "Mug", "sku": "ON-MUG", "inventory_level": 20 }),
    )
    .await;
    import(&app, &token, &gid, "PRODUCTS").await;

    edit_product(&app, &hash, id, json!({ "inventory_level": 7 })).await;
    import(&app, &token, &gid, "PRODUCTS").await;

    let p = product(&app, &token, "ON-MUG").await;
    assert_eq!(
        (&p["stock"], &p["listings"][0]["channelStock"]),
        (&json!(20), &json!(7))
    );
    let ledger = movements(&app, &token, "ON-MUG").await;
    assert_eq!(stock_changes(&ledger), vec![(s("INITIAL_IMPORT"), 20, 20)]);
    assert!(
        ledger.iter().all(|m| m["quantityAfter"] == 20),
        "{ledger:?}"
    );
}

#[tokio::test]
async fn with_inventory_management_off_a_channel_stock_change_is_imported_with_a_movement() {
    let app = spawn_app().await;
    let (token, gid) = connect(
        &app,
        "imoff@example.com",
        json!({ "inventoryManagement": false }),
    )
    .await;
    let hash = app.store.hash.clone();
    let id = list_product(
        &app,
        &hash,
        json!({ "name": "Mug", "sku": "OFF-MUG", "inventory_level": 20 }),
    )
    .await;
    import(&app, &token, &gid, "PRODUCTS").await;

    edit_product(&app, &hash, id, json!({ "inventory_level": 7 })).await;
    import(&app, &token, &gid, "PRODUCTS").await;
    import(&app, &token, &gid, "PRODUCTS").await;

    let p = product(&app, &token, "OFF-MUG").await;
    assert_eq!(
        (&p["stock"], &p["listings"][0]["channelStock"]),
        (&json!(7), &json!(7))
    );
    let ledger = movements(&app, &token, "OFF-MUG").await;
    assert_eq!(
        steps(&ledger),
        vec![(s("CHANNEL_IMPORT"), -13, 7), (s("INITIAL_IMPORT"), 20, 20)]
    );
    assert_eq!(ledger[0]["integrationId"], json!(gid));
}

#[tokio::test]
async fn a_product_deleted_on_the_channel_keeps_its_product_and_its_listing_is_marked_missing() {
    let app = spawn_app().await;
    let (token, gid) = connect(&app, "deleted@example.com", json!({})).await;
    let hash = app.store.hash.clone();
    list_product(
        &app,
        &hash,
        json!({ "name": "Keep", "sku": "KEEP", "inventory_level": 1 }),
    )
    .await;
    let gone = list_product(
        &app,
        &hash,
        json!({ "name": "Gone", "sku": "GONE", "inventory_level": 2 }),
    )
    .await;
    import(&app, &token, &gid, "PRODUCTS").await;

    app.sandbox_action(
        &hash,
        Method::DELETE,
        &format!("products/{gone}"),
        json!({}),
    )
    .await;
    import(&app, &token, &gid, "PRODUCTS").await;

    let run = last_run(&app, &token, &gid, "PRODUCTS").await;
    assert_eq!(
        (&run["updated"], &run["unchanged"]),
        (&json!(1), &json!(1)),
        "{run}"
    );
    let p = product(&app, &token, "GONE").await;
    assert_eq!(
        (&p["stock"], &p["name"]),
        (&json!(2), &json!("Gone")),
        "{p}"
    );
    assert!(p["listings"][0]["missingSince"].is_string(), "{p}");
    assert_eq!(p["listings"][0]["externalProductId"], gone.to_string());
    assert_eq!(
        product(&app, &token, "KEEP").await["listings"][0]["missingSince"],
        Value::Null
    );
    assert_eq!(product_skus(&app, &token, json!({})).await.len(), 2);
}

#[tokio::test]
async fn title_price_sale_price_images_categories_and_weight_are_visible_exactly() {
    let app = spawn_app_with_sandbox(|c| c.products = 1, |_| {}).await;
    let (token, gid) = connect(&app, "exact@example.com", json!({})).await;
    let hash = app.store.hash.clone();
    let (category_ids, names): (Vec<i64>, Vec<String>) = app
        .sandbox
        .with_store(&hash, |st| {
            st.categories
                .iter()
                .take(2)
                .map(|c| (c.id, c.name.clone()))
                .unzip()
        })
        .unwrap();
    assert_eq!(names.len(), 2, "the seeded store has categories");
    let id = list_product(
        &app,
        &hash,
        json!({ "name": "Exact Mug", "sku": "EXACT", "price": 12.5, "sale_price": 9.99,
                "weight": 0.35, "categories": category_ids, "inventory_level": 1 }),
    )
    .await;
    // The sandbox has no merchant action for images: the merchant's uploads, arranged here.
    app.sandbox
        .with_store(&hash, |st| {
            let p = st.products.get_mut(&id).unwrap();
            for (n, url) in [
                "https://img.example.test/front.jpg",
                "https://img.example.test/back.jpg",
            ]
            .into_iter()
            .enumerate()
            {
                p.images.push(orderdeck::sandbox::model::Image {
                    id: 90_000 + n as i64,
                    is_thumbnail: n == 0,
                    sort_order: n as i64,
                    url: url.into(),
                });
            }
        })
        .unwrap();

    import(&app, &token, &gid, "PRODUCTS").await;

    let p = product(&app, &token, "EXACT").await;
    let l = &p["listings"][0];
    assert_eq!(
        json!([
            l["title"],
            l["price"],
            l["salePrice"],
            l["weight"],
            l["images"],
            l["categories"],
            l["tracking"]
        ]),
        json!([
            "Exact Mug",
            "12.5",
            "9.99",
            "0.35",
            [
                "https://img.example.test/front.jpg",
                "https://img.example.test/back.jpg"
            ],
            names,
            "PRODUCT"
        ])
    );
    assert_eq!(
        json!([p["name"], p["weight"], p["imageUrl"]]),
        json!(["Exact Mug", "0.35", "https://img.example.test/front.jpg"])
    );

    // A price changed on the channel arrives with the next product import.
    edit_product(&app, &hash, id, json!({ "price": 13.75, "sale_price": 0 })).await;
    import(&app, &token, &gid, "PRODUCTS").await;
    let l = product(&app, &token, "EXACT").await["listings"][0].clone();
    assert_eq!(
        (&l["price"], &l["salePrice"]),
        (&json!("13.75"), &Value::Null)
    );
}

#[tokio::test]
async fn the_products_filters_by_sku_search_and_low_stock_return_the_right_products() {
    let app = spawn_app().await;
    let (token, gid) = connect(&app, "pfilters@example.com", json!({})).await;
    let hash = app.store.hash.clone();
    list_product(
        &app,
        &hash,
        json!({ "name": "Blue Mug", "sku": "MUG-BLUE", "inventory_level": 5 }),
    )
    .await;
    list_product(
        &app,
        &hash,
        json!({ "name": "Red Mug", "sku": "MUG-RED", "inventory_level": 0 }),
    )
    .await;
    list_product(
        &app,
        &hash,
        json!({ "name": "Tea Towel", "sku": "TOWEL-1", "inventory_level": 12 }),
    )
    .await;
    import(&app, &token, &gid, "PRODUCTS").await;
    let q = |filter: Value| product_skus(&app, &token, filter);

    assert_eq!(
        q(json!({})).await,
        vec![json!("MUG-BLUE"), json!("MUG-RED"), json!("TOWEL-1")]
    );
    assert_eq!(q(json!({ "sku": "MUG-RED" })).await, vec![json!("MUG-RED")]);
    assert_eq!(
        q(json!({ "sku": "MUG" })).await,
        Vec::<Value>::new(),
        "the SKU filter is exact"
    );
    assert_eq!(
        q(json!({ "search": "mug" })).await,
        vec![json!("MUG-BLUE"), json!("MUG-RED")]
    );
    assert_eq!(q(json!({ "search": "TEA" })).await, vec![json!("TOWEL-1")]);
    assert_eq!(
        q(json!({ "search": "towel-1" })).await,
        vec![json!("TOWEL-1")]
    );
    assert_eq!(
        q(json!({ "search": "blue mug" })).await,
        vec![json!("MUG-BLUE")]
    );
    assert_eq!(q(json!({ "lowStock": true })).await, vec![json!("MUG-RED")]);
    assert_eq!(
        q(json!({ "lowStock": true, "search": "blue" })).await,
        Vec::<Value>::new()
    );
    let towel = product(&app, &token, "TOWEL-1").await;
    assert_eq!(
        (&towel["name"], &towel["stock"]),
        (&json!("Tea Towel"), &json!(12))
    );
    let by_id = app
        .data(
            Some(&token),
            "query($id: ID) { product(id: $id) { sku stock } }",
            json!({ "id": towel["id"] }),
        )
        .await["product"]
        .clone();
    assert_eq!(by_id, json!({ "sku": "TOWEL-1", "stock": 12 }));
}

// =============================================================================================
// Sync (§8)
// =============================================================================================

#[tokio::test]
async fn a_store_answering_401_marks_the_integration_as_needing_credentials_and_the_run_failed() {
    let app = spawn_app().await;
    let (token, gid) = connect(&app, "unauthorized@example.com", json!({})).await;
    app.faults(json!({ "schedule": [401] })).await;

    let payload = app.sync_now(&token, &gid, Some("ORDERS")).await;

    assert_eq!(
        payload["userErrors"],
        json!([]),
        "a failed import is a run, not a user error"
    );
    assert_eq!(payload["runs"][0]["outcome"], "FAILED", "{payload}");
    let run = last_run(&app, &token, &gid, "ORDERS").await;
    assert_eq!(
        (&run["kind"], &run["trigger"], &run["outcome"]),
        (&json!("ORDERS"), &json!("MANUAL"), &json!("FAILED")),
        "{run}"
    );
    assert!(run["finishedAt"].is_string(), "{run}");
    let error = run["error"].as_str().unwrap();
    assert!(error.contains("401"), "{error}");
    assert!(!error.contains(&app.store.access_token), "{error}");
    let integration = app
        .data(
            Some(&token),
            "query($id: ID!) { integration(id: $id) { status syncJobs { kind lastFailureAt lastError } } }",
            json!({ "id": gid }),
        )
        .await["integration"]
        .clone();
    assert_eq!(integration["status"], "NEEDS_CREDENTIALS", "{integration}");
    let job = integration["syncJobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["kind"] == "ORDERS")
        .unwrap()
        .clone();
    assert!(job["lastError"].as_str().unwrap().contains("401"), "{job}");
    // Until new credentials are given, syncNow refuses (the 401 was a one-off here).
    let refused = app.sync_now(&token, &gid, Some("PRODUCTS")).await;
    assert_eq!(codes(&refused), ["CREDENTIALS_REJECTED"]);
}
