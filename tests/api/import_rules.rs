//! The import rules of docs/rules.md §4 (products, listings, stock), §5 (orders) and §8 (sync
//! runs) as a merchant sees them: the BigCommerce sandbox is driven through its merchant and
//! shopper actions (and the store's API, as another app would), imports run through
//! `syncNow`, and every assertion reads the GraphQL API — never the database.

use std::collections::BTreeMap;
use std::future::{Future, IntoFuture};
use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;

use chrono::{Duration, SubsecRound, Utc};
use orderdeck_sandbox::model;
use orderdeck_sandbox::server::StoreCredentials;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::support::{a_second_passes, codes, spawn_app, store_input, TestApp};

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
// The fixture: a merchant's shop
// ---------------------------------------------------------------------------------------------

/// A store of the BigCommerce sandbox, as its merchant and its shoppers use it (the sandbox's
/// actions) and as another app of the merchant would (the store's API).
struct SandboxStore {
    app: Rc<TestApp>,
    credentials: StoreCredentials,
}

/// A merchant's shop: the account (its bearer token) with one store connected (the
/// integration's global id). It reads everything through the GraphQL API, and derefs to its
/// store for what happens on the channel: `shop.place(…)`, then `shop.import("ORDERS")`.
struct Merchant {
    store: SandboxStore,
    token: String,
    gid: String,
}

impl Deref for Merchant {
    type Target = SandboxStore;

    fn deref(&self) -> &SandboxStore {
        &self.store
    }
}

/// A merchant about to connect: `Merchant::connect(email)`, then `.with(options)` and
/// `.on(app)` where needed, awaited.
struct Connecting {
    email: String,
    options: Value,
    app: Option<TestApp>,
}

impl Connecting {
    /// Extra `connectBigCommerce` input, such as `historicalImport` or `alias`.
    fn with(self, options: Value) -> Self {
        Self { options, ..self }
    }

    /// On `app` rather than on a freshly spawned one.
    fn on(self, app: TestApp) -> Self {
        Self {
            app: Some(app),
            ..self
        }
    }
}

impl IntoFuture for Connecting {
    type Output = Merchant;
    type IntoFuture = Pin<Box<dyn Future<Output = Merchant>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let app = match self.app {
                Some(app) => app,
                None => spawn_app().await,
            };
            let token = app.signed_in(&self.email).await;
            let first = SandboxStore {
                credentials: app.store.clone(),
                app: Rc::new(app),
            };
            first.connect(token, self.options).await
        })
    }
}

impl SandboxStore {
    /// Connects this store to the account of `token` through `connectBigCommerce`, with
    /// `options` over its credentials.
    async fn connect(self, token: String, options: Value) -> Merchant {
        let input = store_input(&self.credentials, options);
        let res = self.app.connect(&token, input).await;
        assert_eq!(res["userErrors"], json!([]), "{res}");
        let gid = res["integration"]["id"].as_str().unwrap().to_string();
        Merchant {
            store: self,
            token,
            gid,
        }
    }

    /// A merchant or shopper action on this store (`/_sandbox/stores/{hash}/{path}`).
    async fn action(&self, method: Method, path: &str, body: Value) -> Value {
        self.app
            .sandbox_action(&self.credentials.hash, method, path, body)
            .await
    }

    /// Changes the store's data directly, for what no merchant action does.
    fn arrange<R>(&self, change: impl FnOnce(&mut model::Store) -> R) -> R {
        self.app
            .sandbox
            .with_store(&self.credentials.hash, change)
            .unwrap()
    }

    /// The merchant adds a product on the store (`POST /_sandbox/stores/{hash}/products`); its id.
    async fn list_product(&self, body: Value) -> i64 {
        let p = self.action(Method::POST, "products", body).await;
        p["data"]["id"]
            .as_i64()
            .or_else(|| p["id"].as_i64())
            .unwrap_or_else(|| panic!("no product id in {p}"))
    }

    /// The merchant edits a product on the store (`PUT /_sandbox/stores/{hash}/products/{id}`).
    async fn edit_product(&self, id: i64, body: Value) {
        self.action(Method::PUT, &format!("products/{id}"), body)
            .await;
    }

    /// The merchant deletes a product on the store (`DELETE /_sandbox/stores/{hash}/products/{id}`).
    async fn delete_product(&self, id: i64) {
        self.action(Method::DELETE, &format!("products/{id}"), json!({}))
            .await;
    }

    /// A shopper places an order now (`POST /_sandbox/stores/{hash}/orders`) with `lines`
    /// (`[{sku, quantity}]`); its id.
    async fn place(&self, lines: Value) -> i64 {
        self.place_with(lines, json!({})).await
    }

    /// Like [`SandboxStore::place`], with `extra` fields (`status_id`, `billing_address`).
    async fn place_with(&self, lines: Value, extra: Value) -> i64 {
        let mut body = json!({ "lines": lines });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.action(Method::POST, "orders", body).await["id"]
            .as_i64()
            .unwrap()
    }

    /// The merchant changes an order's status on the store.
    async fn set_status(&self, order_id: i64, status_id: i64) {
        let path = format!("orders/{order_id}/status");
        self.action(Method::PUT, &path, json!({ "status_id": status_id }))
            .await;
    }

    /// The merchant ships the whole quantity of the order's lines at `indexes` (in the store's
    /// line order) with the store's API (`POST /v2/orders/{id}/shipments`), one shipment per
    /// line; the store moves the order to Partially Shipped or Shipped.
    async fn ship_on_channel(&self, order_id: i64, indexes: &[usize]) {
        let (app, store) = (&self.app, &self.credentials);
        let products = format!("v2/orders/{order_id}/products");
        let lines = app.store_api(store, Method::GET, &products, None).await;
        let lines = lines.as_array().unwrap();
        let shipments = format!("v2/orders/{order_id}/shipments");
        for &i in indexes {
            let l = &lines[i];
            let shipment = json!({
                "order_address_id": l["order_address_id"],
                "tracking_number": format!("TRK{order_id}{i}"),
                "items": [{ "order_product_id": l["id"], "quantity": l["quantity"] }],
            });
            app.store_api(store, Method::POST, &shipments, Some(shipment))
                .await;
        }
    }

    /// The merchant uploads images for a product, the first as its thumbnail. The sandbox has
    /// no merchant action for images: they are arranged in the store's data.
    fn upload_images(&self, product_id: i64, urls: &[&str]) {
        self.arrange(|st| {
            let p = st.products.get_mut(&product_id).unwrap();
            for (n, url) in (0..).zip(urls) {
                p.images.push(model::Image {
                    id: 90_000 + n,
                    is_thumbnail: n == 0,
                    sort_order: n,
                    url: url.to_string(),
                });
            }
        });
    }

    /// Moves the order's placement (and last modification) `days` into the past, as an order
    /// placed back then would be.
    fn backdate(&self, order_id: i64, days: i64, modified_now: bool) {
        self.arrange(|s| {
            let o = s.orders.get_mut(&order_id).unwrap();
            o.date_created = Utc::now().trunc_subsecs(0) - Duration::days(days);
            o.date_modified = if modified_now {
                Utc::now().trunc_subsecs(0)
            } else {
                o.date_created
            };
        });
    }
}

impl Merchant {
    /// Registers `email` and connects the sandbox's first store (see [`Connecting`]).
    fn connect(email: &str) -> Connecting {
        Connecting {
            email: email.to_string(),
            options: json!({}),
            app: None,
        }
    }

    /// Adds a store to the sandbox, not connected yet.
    fn new_store(&self) -> SandboxStore {
        SandboxStore {
            app: Rc::clone(&self.app),
            credentials: self.app.sandbox.add_store(0, 0),
        }
    }

    /// Connects `store` to this merchant's account with `options` (such as `alias`): the
    /// merchant's shop on that store.
    async fn connect_store(&self, store: SandboxStore, options: Value) -> Merchant {
        store.connect(self.token.clone(), options).await
    }

    /// The merchant lists products on the store (`(name, SKU, stock on the store)`) and they
    /// are imported.
    async fn stocked(&self, products: &[(&str, &str, i64)]) {
        for (name, sku, level) in products {
            self.list_product(json!({ "name": name, "sku": sku, "inventory_level": level }))
                .await;
        }
        self.import("PRODUCTS").await;
    }

    /// A GraphQL query as this merchant; its `data`.
    async fn query(&self, query: &str, variables: Value) -> Value {
        self.app.data(Some(&self.token), query, variables).await
    }

    /// `integration(id)` of this shop, with `fields`.
    async fn integration(&self, fields: &str) -> Value {
        let query = format!("query($id: ID!) {{ integration(id: $id) {{ {fields} }} }}");
        self.query(&query, json!({ "id": self.gid })).await["integration"].clone()
    }

    /// `syncNow` of one `kind` for this shop; its payload.
    async fn sync_now(&self, kind: &str) -> Value {
        self.app.sync_now(&self.token, &self.gid, Some(kind)).await
    }

    /// Runs one import through `syncNow`, requires it to succeed, and returns the run.
    async fn import(&self, kind: &str) -> Value {
        let payload = self.sync_now(kind).await;
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
        let run = payload["runs"][0].clone();
        assert_eq!(run["outcome"], "SUCCEEDED", "{payload}");
        run
    }

    /// The newest run of `kind` through `syncRuns`.
    async fn last_run(&self, kind: &str) -> Value {
        self.query(
            "query($id: ID!, $kind: SyncKind) { syncRuns(integrationId: $id, first: 1, kind: $kind) { nodes { kind trigger outcome created updated unchanged error finishedAt } } }",
            json!({ "id": self.gid, "kind": kind }),
        )
        .await["syncRuns"]["nodes"][0]
            .clone()
    }

    /// `orders(first: 50, filter, sort)`: `totalCount` and `nodes`.
    async fn orders(&self, filter: Value, sort: Option<&str>) -> Value {
        self.query(
            &format!("query($filter: OrderFilterInput, $sort: OrderSortInput) {{ orders(first: 50, filter: $filter, sort: $sort) {{ totalCount nodes {{ {ORDER_FIELDS} }} }} }}"),
            json!({ "filter": filter, "sort": sort }),
        )
        .await["orders"]
            .clone()
    }

    /// The numbers of the orders `filter` and `sort` return, in order.
    async fn numbers(&self, filter: Value, sort: Option<&str>) -> Vec<String> {
        every_node(&self.orders(filter, sort).await)
            .iter()
            .map(|n| n["number"].as_str().unwrap().to_string())
            .collect()
    }

    /// The order with this number, found by the search filter and read again by `order(id)`;
    /// null when there is none.
    async fn order_numbered(&self, number: i64) -> Value {
        let page = self
            .orders(json!({ "search": format!("#{number}") }), None)
            .await;
        let nodes = page["nodes"].as_array().unwrap();
        assert!(nodes.len() <= 1, "{page}");
        let Some(found) = nodes.first() else {
            return Value::Null;
        };
        let one = self
            .query(
                &format!("query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"),
                json!({ "id": found["id"] }),
            )
            .await["order"]
            .clone();
        assert_eq!(&one, found);
        one
    }

    /// `product(sku:)` with its listings; null when there is none.
    async fn product(&self, sku: &str) -> Value {
        self.query(
            &format!("query($sku: String) {{ product(sku: $sku) {{ {PRODUCT_FIELDS} }} }}"),
            json!({ "sku": sku }),
        )
        .await["product"]
            .clone()
    }

    /// The stock figure of the product with this SKU.
    async fn stock(&self, sku: &str) -> i64 {
        let p = self.product(sku).await;
        p["stock"]
            .as_i64()
            .unwrap_or_else(|| panic!("no product {sku}: {p}"))
    }

    /// The ledger of the product with this SKU through `stockMovements`, newest first.
    async fn movements(&self, sku: &str) -> Vec<Value> {
        let id = self.product(sku).await["id"].clone();
        let page = self
            .query(
                &format!("query($id: ID!) {{ stockMovements(productId: $id, first: 50) {{ totalCount nodes {{ {MOVEMENT_FIELDS} }} }} }}"),
                json!({ "id": id }),
            )
            .await["stockMovements"]
            .clone();
        every_node(&page)
    }

    /// `products(first: 50, filter)`: the SKUs in list order.
    async fn product_skus(&self, filter: Value) -> Vec<Value> {
        let page = self
            .query(
                "query($filter: ProductFilterInput) { products(first: 50, filter: $filter) { totalCount nodes { sku } } }",
                json!({ "filter": filter }),
            )
            .await["products"]
            .clone();
        every_node(&page).iter().map(|n| n["sku"].clone()).collect()
    }
}

/// A connection's `nodes`, requiring them to be all there are (its `totalCount`).
fn every_node(page: &Value) -> Vec<Value> {
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

// =============================================================================================
// Orders (§5)
// =============================================================================================

#[tokio::test]
async fn the_first_import_reaches_back_by_the_historical_import_option_and_no_further() {
    let shop = Merchant::connect("reach@example.com")
        .with(json!({ "historicalImport": "LAST_7_DAYS" }))
        .await;
    shop.list_product(json!({ "name": "Mug", "sku": "REACH-MUG" }))
        .await;
    let line = json!([{ "sku": "REACH-MUG", "quantity": 1 }]);
    let eight_days = shop.place(line.clone()).await;
    let eight_days_edited = shop.place(line.clone()).await;
    let six_days = shop.place(line.clone()).await;
    let today = shop.place(line).await;
    shop.backdate(eight_days, 8, false);
    // Placed before the window but edited within it: the store lists it as modified lately.
    shop.backdate(eight_days_edited, 8, true);
    shop.backdate(six_days, 6, false);

    let run = shop.import("ORDERS").await;

    assert_eq!(
        (run["created"].as_i64(), run["updated"].as_i64()),
        (Some(2), Some(0))
    );
    let mut imported = shop.numbers(json!({}), None).await;
    imported.sort();
    assert_eq!(imported, vec![six_days.to_string(), today.to_string()]);
    assert_eq!(shop.order_numbered(eight_days).await, Value::Null);
    assert_eq!(shop.order_numbered(eight_days_edited).await, Value::Null);
    let since = shop.integration("importOrdersSince").await["importOrdersSince"]
        .as_str()
        .unwrap()
        .parse::<chrono::DateTime<Utc>>()
        .unwrap();
    let seven_days_ago = Utc::now() - Duration::days(7);
    assert!(
        (since - seven_days_ago).num_minutes().abs() <= 5,
        "importOrdersSince {since} is not 7 days back"
    );
    let old = shop.order_numbered(six_days).await;
    assert_eq!(
        (old["historical"].as_bool(), old["stockTaken"].as_bool()),
        (Some(true), Some(false))
    );
}

#[tokio::test]
async fn an_incremental_import_picks_up_an_order_changed_on_the_channel_and_a_new_one() {
    let shop = Merchant::connect("incremental@example.com").await;
    shop.list_product(json!({ "name": "Mug", "sku": "INC-MUG" }))
        .await;
    let first = shop.place(json!([{ "sku": "INC-MUG" }])).await;
    let run = shop.import("ORDERS").await;
    assert_eq!(run["created"], 1, "{run}");
    let before = shop.order_numbered(first).await;
    assert_eq!(
        (&before["status"], &before["channelStatusId"]),
        (&json!("NEW"), &json!(11))
    );

    a_second_passes().await;
    shop.set_status(first, 7).await;
    let second = shop.place(json!([{ "sku": "INC-MUG" }])).await;
    shop.import("ORDERS").await;

    let run = shop.last_run("ORDERS").await;
    assert_eq!(
        (&run["created"], &run["updated"], &run["unchanged"]),
        (&json!(1), &json!(1), &json!(0)),
        "{run}"
    );
    let changed = shop.order_numbered(first).await;
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
    assert_eq!(shop.order_numbered(second).await["status"], "NEW");
    assert_eq!(shop.orders(json!({}), None).await["totalCount"], 2);
}

#[tokio::test]
async fn re_importing_changes_nothing_neither_orders_nor_stock_nor_the_run_counts() {
    let shop = Merchant::connect("again@example.com").await;
    shop.stocked(&[("Mug", "AGAIN-MUG", 100)]).await;
    shop.list_product(json!({ "name": "Elsewhere", "sku": "AGAIN-NOWHERE" }))
        .await;
    a_second_passes().await;
    shop.place(json!([{ "sku": "AGAIN-MUG", "quantity": 2 }, { "sku": "AGAIN-NOWHERE" }]))
        .await;
    let canceled = shop
        .place(json!([{ "sku": "AGAIN-MUG", "quantity": 5 }]))
        .await;
    let shipped = shop
        .place(json!([{ "sku": "AGAIN-MUG", "quantity": 1 }]))
        .await;
    shop.place_with(
        json!([{ "sku": "AGAIN-MUG", "quantity": 3 }]),
        json!({ "status_id": 14 }),
    )
    .await;
    shop.import("ORDERS").await;
    shop.set_status(canceled, 5).await;
    shop.ship_on_channel(shipped, &[0]).await;
    shop.import("ORDERS").await;
    let orders_before = shop.orders(json!({}), None).await;
    let product_before = shop.product("AGAIN-MUG").await;
    let ledger_before = shop.movements("AGAIN-MUG").await;

    shop.import("ORDERS").await;
    shop.import("ORDERS").await;

    let run = shop.last_run("ORDERS").await;
    assert_eq!(
        (&run["created"], &run["updated"], &run["unchanged"]),
        (&json!(0), &json!(0), &json!(4)),
        "{run}"
    );
    assert_eq!(shop.orders(json!({}), None).await, orders_before);
    assert_eq!(shop.product("AGAIN-MUG").await, product_before);
    assert_eq!(shop.movements("AGAIN-MUG").await, ledger_before);
    // 100 − 2 − 5 − 1 − 3, and the 5 of the canceled order back.
    assert_eq!(product_before["stock"], 94);
    assert_eq!(ledger_before.len(), 1 + 4 + 1);
}

#[tokio::test]
async fn every_bigcommerce_status_maps_as_the_table_says_and_keeps_the_channels_own() {
    let shop = Merchant::connect("statuses@example.com").await;
    shop.list_product(json!({ "name": "A", "sku": "ST-A" }))
        .await;
    shop.list_product(json!({ "name": "B", "sku": "ST-B" }))
        .await;
    let two_lines = json!([{ "sku": "ST-A", "quantity": 1 }, { "sku": "ST-B", "quantity": 2 }]);
    let mut placed: BTreeMap<i64, i64> = BTreeMap::new(); // order id → BigCommerce status
    for status in 0..=13 {
        let id = shop
            .place_with(two_lines.clone(), json!({ "status_id": status }))
            .await;
        placed.insert(id, status);
    }
    // Partially Refunded, by what shipped: nothing, one line, everything.
    let refunded_unshipped = shop.place(two_lines.clone()).await;
    let refunded_part_shipped = shop.place(two_lines.clone()).await;
    let refunded_all_shipped = shop.place(two_lines).await;
    shop.ship_on_channel(refunded_part_shipped, &[0]).await;
    shop.ship_on_channel(refunded_all_shipped, &[0, 1]).await;
    for id in [
        refunded_unshipped,
        refunded_part_shipped,
        refunded_all_shipped,
    ] {
        shop.set_status(id, 14).await;
    }

    shop.import("ORDERS").await;

    let page = shop.orders(json!({}), None).await;
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
    assert_eq!(shop.order_numbered(*incomplete).await, Value::Null);
}

#[tokio::test]
async fn an_order_placed_after_connecting_takes_its_quantities_off_stock_once() {
    let shop = Merchant::connect("takes@example.com").await;
    shop.stocked(&[("Mug", "TAKE-MUG", 100), ("Cap", "TAKE-CAP", 10)])
        .await;
    a_second_passes().await;
    let id = shop
        .place(json!([{ "sku": "TAKE-MUG", "quantity": 2 }, { "sku": "TAKE-CAP", "quantity": 3 }]))
        .await;

    shop.import("ORDERS").await;
    shop.set_status(id, 9).await; // still live, changed
    shop.import("ORDERS").await;
    shop.import("ORDERS").await;

    let o = shop.order_numbered(id).await;
    assert_eq!(
        (
            &o["status"],
            &o["historical"],
            &o["stockTaken"],
            &o["restocked"]
        ),
        (&json!("NEW"), &json!(false), &json!(true), &json!(false))
    );
    assert_eq!(shop.stock("TAKE-MUG").await, 98);
    assert_eq!(shop.stock("TAKE-CAP").await, 7);
    for (sku, start, qty) in [("TAKE-MUG", 100, 2), ("TAKE-CAP", 10, 3)] {
        let ledger = shop.movements(sku).await;
        assert_eq!(
            steps(&ledger),
            vec![
                (s("ORDER_PLACED"), -qty, start - qty),
                (s("INITIAL_IMPORT"), start, start)
            ],
            "{sku}"
        );
        assert_eq!(ledger[0]["orderId"], o["id"], "{sku}");
        assert_eq!(ledger[0]["integrationId"], json!(shop.gid), "{sku}");
        assert_eq!(ledger[1]["orderId"], Value::Null);
    }
}

#[tokio::test]
async fn a_historical_order_never_moves_stock() {
    let shop = Merchant::connect("historical@example.com").await;
    shop.stocked(&[("Mug", "HIST-MUG", 50)]).await;
    // A second store sells the same SKU; an order is placed there before it is connected.
    let other = shop.new_store();
    other
        .list_product(json!({ "name": "Mug", "sku": "HIST-MUG", "inventory_level": 30 }))
        .await;
    a_second_passes().await;
    let before_connecting = other
        .place(json!([{ "sku": "HIST-MUG", "quantity": 4 }]))
        .await;
    a_second_passes().await;
    let other = shop.connect_store(other, json!({ "alias": "Other" })).await;
    a_second_passes().await;
    let after_connecting = other
        .place(json!([{ "sku": "HIST-MUG", "quantity": 1 }]))
        .await;

    other.import("ORDERS").await;
    other.import("ORDERS").await;

    let old = shop.order_numbered(before_connecting).await;
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
    let new = shop.order_numbered(after_connecting).await;
    assert_eq!(
        (&new["historical"], &new["stockTaken"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(
        shop.stock("HIST-MUG").await,
        49,
        "only the new order's 1 is taken"
    );
    let ledger = shop.movements("HIST-MUG").await;
    assert_eq!(
        steps(&ledger),
        vec![(s("ORDER_PLACED"), -1, 49), (s("INITIAL_IMPORT"), 50, 50)]
    );
    assert_eq!(ledger[0]["orderId"], new["id"]);
}

#[tokio::test]
async fn a_line_whose_sku_matches_nothing_is_flagged_unlinked_and_moves_no_stock() {
    let shop = Merchant::connect("unlinked@example.com").await;
    shop.stocked(&[("Known", "LINKED-1", 10)]).await;
    // Added on the store after the product import: nothing here has this SKU.
    shop.list_product(json!({ "name": "Unknown", "sku": "NOT-HERE", "inventory_level": 10 }))
        .await;
    a_second_passes().await;
    let id = shop
        .place(json!([{ "sku": "LINKED-1", "quantity": 1 }, { "sku": "NOT-HERE", "quantity": 2 }]))
        .await;

    shop.import("ORDERS").await;

    let o = shop.order_numbered(id).await;
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
    assert_eq!(shop.product("NOT-HERE").await, Value::Null);
    assert_eq!(shop.product_skus(json!({})).await, vec![json!("LINKED-1")]);
    assert_eq!(shop.stock("LINKED-1").await, 9);
    assert_eq!(
        steps(&shop.movements("LINKED-1").await),
        vec![(s("ORDER_PLACED"), -1, 9), (s("INITIAL_IMPORT"), 10, 10)]
    );
}

#[tokio::test]
async fn an_order_canceled_on_the_channel_becomes_canceled_and_is_restocked_once() {
    let shop = Merchant::connect("cancel@example.com").await;
    shop.stocked(&[("Mug", "CXL-MUG", 100)]).await;
    a_second_passes().await;
    let id = shop
        .place(json!([{ "sku": "CXL-MUG", "quantity": 3 }]))
        .await;
    shop.import("ORDERS").await;
    assert_eq!(shop.stock("CXL-MUG").await, 97);

    shop.set_status(id, 5).await;
    shop.import("ORDERS").await;
    shop.import("ORDERS").await;
    shop.set_status(id, 6).await; // declined now: still canceled, changed again
    shop.import("ORDERS").await;

    let o = shop.order_numbered(id).await;
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
    assert_eq!(shop.stock("CXL-MUG").await, 100);
    let ledger = shop.movements("CXL-MUG").await;
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
    let shop = Merchant::connect("refund@example.com").await;
    shop.stocked(&[("Mug", "REF-MUG", 20)]).await;
    a_second_passes().await;
    let id = shop
        .place(json!([{ "sku": "REF-MUG", "quantity": 4 }]))
        .await;
    shop.import("ORDERS").await;

    shop.set_status(id, 4).await;
    shop.import("ORDERS").await;
    shop.import("ORDERS").await;

    let o = shop.order_numbered(id).await;
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
    assert_eq!(shop.stock("REF-MUG").await, 20);
    assert_eq!(
        steps(&shop.movements("REF-MUG").await),
        vec![
            (s("ORDER_RESTOCKED"), 4, 20),
            (s("ORDER_PLACED"), -4, 16),
            (s("INITIAL_IMPORT"), 20, 20)
        ]
    );
}

#[tokio::test]
async fn an_order_canceled_on_the_channel_after_shipping_is_not_restocked() {
    let shop = Merchant::connect("shipcancel@example.com").await;
    shop.stocked(&[("Mug", "SC-MUG", 100)]).await;
    a_second_passes().await;
    let id = shop
        .place(json!([{ "sku": "SC-MUG", "quantity": 2 }]))
        .await;
    shop.import("ORDERS").await;
    shop.ship_on_channel(id, &[0]).await;
    shop.import("ORDERS").await;
    assert_eq!(shop.order_numbered(id).await["status"], "SHIPPED");

    shop.set_status(id, 5).await;
    shop.import("ORDERS").await;

    let o = shop.order_numbered(id).await;
    assert_eq!(
        (
            &o["status"],
            &o["restocked"],
            &o["lines"][0]["quantityShipped"]
        ),
        (&json!("CANCELED"), &json!(false), &json!(2))
    );
    assert_eq!(shop.stock("SC-MUG").await, 98);
    assert_eq!(
        steps(&shop.movements("SC-MUG").await),
        vec![(s("ORDER_PLACED"), -2, 98), (s("INITIAL_IMPORT"), 100, 100)]
    );
}

#[tokio::test]
async fn an_order_shipped_on_the_channel_becomes_partially_shipped_then_shipped() {
    let shop = Merchant::connect("shipped@example.com").await;
    shop.stocked(&[("Mug", "SH-MUG", 100), ("Cap", "SH-CAP", 100)])
        .await;
    a_second_passes().await;
    let id = shop
        .place(json!([{ "sku": "SH-MUG", "quantity": 2 }, { "sku": "SH-CAP", "quantity": 1 }]))
        .await;
    shop.import("ORDERS").await;
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

    shop.ship_on_channel(id, &[0]).await;
    shop.import("ORDERS").await;
    let partly = shop.order_numbered(id).await;
    shop.ship_on_channel(id, &[1]).await;
    shop.import("ORDERS").await;
    let fully = shop.order_numbered(id).await;

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
        shop.stock("SH-MUG").await,
        98,
        "shipping moves no stock again"
    );
    assert_eq!(shop.stock("SH-CAP").await, 99);
    assert_eq!(shop.movements("SH-MUG").await.len(), 2);
}

#[tokio::test]
async fn money_totals_are_exact_decimals() {
    let shop = Merchant::connect("money@example.com").await;
    shop.list_product(json!({ "name": "Cent", "sku": "MONEY-A" }))
        .await;
    shop.list_product(json!({ "name": "Fortune", "sku": "MONEY-B" }))
        .await;
    let id = shop
        .place(json!([{ "sku": "MONEY-A", "quantity": 3 }, { "sku": "MONEY-B", "quantity": 1 }]))
        .await;
    // Amounts a float would get wrong: 3 × 0.1, and cents on a seven-digit price.
    let d = |v: &str| v.parse::<Decimal>().unwrap();
    shop.arrange(|st| {
        let o = st.orders.get_mut(&id).unwrap();
        o.shipping_cost_ex_tax = d("4.99");
        o.shipping_cost_inc_tax = d("5.99");
        for l in &mut o.products {
            let (ex, inc) = if l.sku == "MONEY-A" {
                (d("0.1"), d("0.12"))
            } else {
                (d("1234567.8901"), d("1234567.8901"))
            };
            (l.base_price, l.price_ex_tax, l.price_inc_tax, l.price_tax) = (ex, ex, inc, inc - ex);
        }
    });
    let currency = shop.integration("storeCurrency").await["storeCurrency"].clone();

    shop.import("ORDERS").await;

    let o = shop.order_numbered(id).await;
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
    shop_a: Merchant,
    shop_b: Merchant,
    a: String,
    b: String,
    c: String,
}

async fn three_orders_on_two_stores() -> ThreeOrders {
    let shop_a = Merchant::connect("filters@example.com")
        .with(json!({ "alias": "Shop A", "historicalImport": "LAST_7_DAYS" }))
        .await;
    let shop_b = shop_a
        .connect_store(
            shop_a.new_store(),
            json!({ "alias": "Shop B", "historicalImport": "LAST_7_DAYS" }),
        )
        .await;
    // The two stores number their orders alike; keep the numbers apart.
    shop_b.arrange(|st| st.next_id += 5000);
    shop_a
        .list_product(json!({ "name": "Alpha", "sku": "FLT-A" }))
        .await;
    shop_a
        .list_product(json!({ "name": "Beta", "sku": "FLT-B" }))
        .await;
    shop_b
        .list_product(json!({ "name": "Alpha", "sku": "FLT-A" }))
        .await;
    let billing = |first: &str, last: &str, email: &str| json!({ "first_name": first, "last_name": last, "email": email });
    let a = shop_a
        .place_with(
            json!([{ "sku": "FLT-A" }]),
            json!({ "status_id": 11, "billing_address": billing("Ada", "Lovelace", "ada@analytical.example") }),
        )
        .await;
    let b = shop_a
        .place_with(
            json!([{ "sku": "FLT-B", "quantity": 2 }]),
            json!({ "status_id": 2, "billing_address": billing("Grace", "Hopper", "grace@navy.example") }),
        )
        .await;
    let c = shop_b
        .place_with(
            json!([{ "sku": "FLT-A" }]),
            json!({ "status_id": 5, "billing_address": billing("Alan", "Turing", "alan@bletchley.example") }),
        )
        .await;
    shop_a.backdate(a, 3, false);
    shop_a.backdate(b, 2, false);
    // Store B first: the newest order gets the lowest id here, so no list order by id can
    // pass for one by placement.
    shop_b.import("ORDERS").await;
    shop_a.import("ORDERS").await;
    let (a, b, c) = (a.to_string(), b.to_string(), c.to_string());
    assert!(a != c && b != c);
    ThreeOrders {
        shop_a,
        shop_b,
        a,
        b,
        c,
    }
}

#[tokio::test]
async fn the_orders_filters_by_status_store_dates_number_email_name_and_sku_return_the_right_orders(
) {
    let ThreeOrders {
        shop_a,
        shop_b,
        a,
        b,
        c,
    } = three_orders_on_two_stores().await;
    let q = |filter: Value| shop_a.numbers(filter, None);

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
        q(json!({ "integrationId": shop_a.gid })).await,
        vec![b.clone(), a.clone()]
    );
    assert_eq!(
        q(json!({ "integrationId": shop_b.gid })).await,
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
    let b_placed = shop_a.order_numbered(b.parse().unwrap()).await["placedAt"].clone();
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
        q(json!({ "sku": "FLT-A", "integrationId": shop_a.gid })).await,
        vec![a.clone()]
    );
    assert_eq!(
        q(json!({ "sku": "FLT-A", "status": ["CANCELED"] })).await,
        vec![c.clone()]
    );
    let one = shop_a.orders(json!({ "search": "lovelace" }), None).await["nodes"][0].clone();
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
    let ThreeOrders {
        shop_a: shop,
        a,
        b,
        c,
        ..
    } = three_orders_on_two_stores().await;

    assert_eq!(
        shop.numbers(json!({}), Some("NEWEST_FIRST")).await,
        vec![c.clone(), b.clone(), a.clone()]
    );
    assert_eq!(
        shop.numbers(json!({}), Some("OLDEST_FIRST")).await,
        vec![a.clone(), b.clone(), c.clone()]
    );
    // Two pages of two, oldest first.
    let page = |after: Value| {
        shop.query(
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
    let shop = Merchant::connect("variants@example.com").await;
    let id = shop
        .list_product(
            json!({ "name": "Tee", "sku": "TEE", "price": 20, "variants": [
            { "sku": "TEE-S", "label": "S", "inventory_level": 3 },
            { "sku": "TEE-M", "label": "M", "inventory_level": 4, "price": 21 },
            { "sku": "TEE-L", "label": "L", "inventory_level": 5 },
        ] }),
        )
        .await;

    let run = shop.import("PRODUCTS").await;

    assert_eq!(run["created"], 3, "one listing per variant: {run}");
    assert_eq!(
        shop.product("TEE").await,
        Value::Null,
        "the parent is no product"
    );
    assert_eq!(
        shop.product_skus(json!({})).await,
        vec![json!("TEE-L"), json!("TEE-M"), json!("TEE-S")]
    );
    let mut variant_ids = Vec::new();
    for (size, stock_level, price) in [("S", 3, "20"), ("M", 4, "21"), ("L", 5, "20")] {
        let p = shop.product(&format!("TEE-{size}")).await;
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
            steps(&shop.movements(&format!("TEE-{size}")).await),
            vec![(s("INITIAL_IMPORT"), stock_level, stock_level)]
        );
    }
    variant_ids.sort_by_key(|v| v.to_string());
    variant_ids.dedup();
    assert_eq!(variant_ids.len(), 3, "three distinct variants");
}

#[tokio::test]
async fn the_same_sku_on_two_stores_is_one_product_with_two_listings() {
    let shop_a = Merchant::connect("shared@example.com")
        .with(json!({ "alias": "Shop A" }))
        .await;
    let shop_b = shop_a
        .connect_store(shop_a.new_store(), json!({ "alias": "Shop B" }))
        .await;
    shop_a
        .list_product(
            json!({ "name": "Mug", "sku": "SHARED-1", "price": 10, "inventory_level": 10 }),
        )
        .await;
    shop_b
        .list_product(
            json!({ "name": "Big Mug", "sku": "SHARED-1", "price": 12, "inventory_level": 7 }),
        )
        .await;

    shop_a.import("PRODUCTS").await;
    shop_b.import("PRODUCTS").await;

    assert_eq!(
        shop_a.product_skus(json!({ "sku": "SHARED-1" })).await,
        vec![json!("SHARED-1")]
    );
    let p = shop_a.product("SHARED-1").await;
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
            (json!(shop_a.gid), json!("Mug"), json!("10"), json!(10)),
            (json!(shop_b.gid), json!("Big Mug"), json!("12"), json!(7)),
        ]
    );
    assert_eq!(
        (&p["name"], &p["stock"]),
        (&json!("Mug"), &json!(10)),
        "started from the first store"
    );
    let ledger = shop_a.movements("SHARED-1").await;
    assert_eq!(stock_changes(&ledger), vec![(s("INITIAL_IMPORT"), 10, 10)]);
    assert!(
        ledger.iter().all(|m| m["quantityAfter"] == 10),
        "{ledger:?}"
    );
}

#[tokio::test]
async fn a_listing_without_sku_gets_a_product_of_its_own() {
    let shop = Merchant::connect("nosku@example.com").await;
    let first = shop
        .list_product(json!({ "name": "Loose Tea", "sku": "", "inventory_level": 3 }))
        .await;
    let second = shop
        .list_product(json!({ "name": "Loose Leaf", "sku": "", "inventory_level": 4 }))
        .await;

    shop.import("PRODUCTS").await;
    shop.import("PRODUCTS").await;

    let page = shop
        .query(
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
    assert_eq!(shop.last_run("PRODUCTS").await["unchanged"], 2);
}

#[tokio::test]
async fn the_first_import_sets_the_starting_stock_from_the_channel() {
    let shop = Merchant::connect("start@example.com").await;
    shop.list_product(json!({ "name": "Mug", "sku": "START-MUG", "inventory_level": 42 }))
        .await;

    shop.import("PRODUCTS").await;

    let p = shop.product("START-MUG").await;
    assert_eq!(
        (&p["stock"], &p["listings"][0]["channelStock"]),
        (&json!(42), &json!(42))
    );
    let ledger = shop.movements("START-MUG").await;
    assert_eq!(steps(&ledger), vec![(s("INITIAL_IMPORT"), 42, 42)]);
    assert_eq!(
        (&ledger[0]["integrationId"], &ledger[0]["orderId"]),
        (&json!(shop.gid), &Value::Null)
    );
}

/// A shop connected with `inventoryManagement` as `managed` imports its product `sku` (20 on
/// the store); the merchant then sets the store's stock to 7, and it is imported again.
async fn channel_stock_changed_from_20_to_7(email: &str, managed: bool, sku: &str) -> Merchant {
    let shop = Merchant::connect(email)
        .with(json!({ "inventoryManagement": managed }))
        .await;
    let id = shop
        .list_product(json!({ "name": "Mug", "sku": sku, "inventory_level": 20 }))
        .await;
    shop.import("PRODUCTS").await;
    shop.edit_product(id, json!({ "inventory_level": 7 })).await;
    shop.import("PRODUCTS").await;
    shop
}

#[tokio::test]
async fn with_inventory_management_on_a_channel_stock_change_is_shown_on_the_listing_only() {
    let shop = channel_stock_changed_from_20_to_7("imon@example.com", true, "ON-MUG").await;

    let p = shop.product("ON-MUG").await;
    assert_eq!(
        (&p["stock"], &p["listings"][0]["channelStock"]),
        (&json!(20), &json!(7))
    );
    let ledger = shop.movements("ON-MUG").await;
    assert_eq!(stock_changes(&ledger), vec![(s("INITIAL_IMPORT"), 20, 20)]);
    assert!(
        ledger.iter().all(|m| m["quantityAfter"] == 20),
        "{ledger:?}"
    );
}

#[tokio::test]
async fn with_inventory_management_off_a_channel_stock_change_is_imported_with_a_movement() {
    let shop = channel_stock_changed_from_20_to_7("imoff@example.com", false, "OFF-MUG").await;
    shop.import("PRODUCTS").await;

    let p = shop.product("OFF-MUG").await;
    assert_eq!(
        (&p["stock"], &p["listings"][0]["channelStock"]),
        (&json!(7), &json!(7))
    );
    let ledger = shop.movements("OFF-MUG").await;
    assert_eq!(
        steps(&ledger),
        vec![(s("CHANNEL_IMPORT"), -13, 7), (s("INITIAL_IMPORT"), 20, 20)]
    );
    assert_eq!(ledger[0]["integrationId"], json!(shop.gid));
}

#[tokio::test]
async fn a_product_deleted_on_the_channel_keeps_its_product_and_its_listing_is_marked_missing() {
    let shop = Merchant::connect("deleted@example.com").await;
    shop.list_product(json!({ "name": "Keep", "sku": "KEEP", "inventory_level": 1 }))
        .await;
    let gone = shop
        .list_product(json!({ "name": "Gone", "sku": "GONE", "inventory_level": 2 }))
        .await;
    shop.import("PRODUCTS").await;

    shop.delete_product(gone).await;
    shop.import("PRODUCTS").await;

    let run = shop.last_run("PRODUCTS").await;
    assert_eq!(
        (&run["updated"], &run["unchanged"]),
        (&json!(1), &json!(1)),
        "{run}"
    );
    let p = shop.product("GONE").await;
    assert_eq!(
        (&p["stock"], &p["name"]),
        (&json!(2), &json!("Gone")),
        "{p}"
    );
    assert!(p["listings"][0]["missingSince"].is_string(), "{p}");
    assert_eq!(p["listings"][0]["externalProductId"], gone.to_string());
    assert_eq!(
        shop.product("KEEP").await["listings"][0]["missingSince"],
        Value::Null
    );
    assert_eq!(shop.product_skus(json!({})).await.len(), 2);
}

#[tokio::test]
async fn title_price_sale_price_images_categories_and_weight_are_visible_exactly() {
    let shop = Merchant::connect("exact@example.com")
        .on(TestApp::builder().sandbox(|c| c.products = 1).spawn().await)
        .await;
    let (category_ids, names): (Vec<i64>, Vec<String>) = shop.arrange(|st| {
        st.categories
            .iter()
            .take(2)
            .map(|c| (c.id, c.name.clone()))
            .unzip()
    });
    assert_eq!(names.len(), 2, "the seeded store has categories");
    let id = shop
        .list_product(
            json!({ "name": "Exact Mug", "sku": "EXACT", "price": 12.5, "sale_price": 9.99,
                    "weight": 0.35, "categories": category_ids, "inventory_level": 1 }),
        )
        .await;
    shop.upload_images(
        id,
        &[
            "https://img.example.test/front.jpg",
            "https://img.example.test/back.jpg",
        ],
    );

    shop.import("PRODUCTS").await;

    let p = shop.product("EXACT").await;
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
    shop.edit_product(id, json!({ "price": 13.75, "sale_price": 0 }))
        .await;
    shop.import("PRODUCTS").await;
    let l = shop.product("EXACT").await["listings"][0].clone();
    assert_eq!(
        (&l["price"], &l["salePrice"]),
        (&json!("13.75"), &Value::Null)
    );
}

#[tokio::test]
async fn the_products_filters_by_sku_search_and_low_stock_return_the_right_products() {
    let shop = Merchant::connect("pfilters@example.com").await;
    shop.stocked(&[
        ("Blue Mug", "MUG-BLUE", 5),
        ("Red Mug", "MUG-RED", 0),
        ("Tea Towel", "TOWEL-1", 12),
    ])
    .await;
    let q = |filter: Value| shop.product_skus(filter);

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
    let towel = shop.product("TOWEL-1").await;
    assert_eq!(
        (&towel["name"], &towel["stock"]),
        (&json!("Tea Towel"), &json!(12))
    );
    let by_id = shop
        .query(
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
    let shop = Merchant::connect("unauthorized@example.com").await;
    shop.app.faults(json!({ "schedule": [401] })).await;

    let payload = shop.sync_now("ORDERS").await;

    assert_eq!(
        payload["userErrors"],
        json!([]),
        "a failed import is a run, not a user error"
    );
    assert_eq!(payload["runs"][0]["outcome"], "FAILED", "{payload}");
    let run = shop.last_run("ORDERS").await;
    assert_eq!(
        (&run["kind"], &run["trigger"], &run["outcome"]),
        (&json!("ORDERS"), &json!("MANUAL"), &json!("FAILED")),
        "{run}"
    );
    assert!(run["finishedAt"].is_string(), "{run}");
    let error = run["error"].as_str().unwrap();
    assert!(error.contains("401"), "{error}");
    assert!(!error.contains(&shop.credentials.access_token), "{error}");
    let integration = shop
        .integration("status syncJobs { kind lastFailureAt lastError }")
        .await;
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
    let refused = shop.sync_now("PRODUCTS").await;
    assert_eq!(codes(&refused), ["CREDENTIALS_REJECTED"]);
}
