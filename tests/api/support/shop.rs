//! A shop: a test app with an account connected to the sandbox's first store, and the stock,
//! ledger and order calls the tests make through the API.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{json, Value};

use super::app::{spawn_app, TestApp};

pub const PRODUCT_FIELDS: &str = "id sku stock";

pub const MOVEMENT_FIELDS: &str =
    "id delta quantityAfter reason actorUserId actorApiKeyId integrationId orderId note createdAt";

/// A test app with an account connected to the sandbox's first store.
pub struct Shop {
    pub app: TestApp,
    pub token: String,
    /// The integration's global id.
    pub gid: String,
}

/// Spawns the app and connects `email`'s new account to the sandbox store.
pub async fn shop(email: &str) -> Shop {
    let app = spawn_app().await;
    let (token, integration) = app.connected(email).await;
    let gid = format!("gid://orderdeck/Integration/{}", integration.id);
    Shop { app, token, gid }
}

impl Shop {
    /// Puts products on the store (`(sku, stock on the store)`), imports them and returns
    /// their global ids by SKU.
    pub async fn stocked(&self, products: &[(&str, i64)]) -> BTreeMap<String, String> {
        for (sku, level) in products {
            self.app
                .sandbox_action(
                    &self.app.store.hash,
                    Method::POST,
                    "products",
                    json!({ "name": format!("Product {sku}"), "sku": sku, "inventory_level": level }),
                )
                .await;
        }
        self.import("PRODUCTS").await;
        let mut ids = BTreeMap::new();
        for (sku, level) in products {
            let p = self.product(sku).await;
            assert_eq!(p["stock"], *level, "{p}");
            ids.insert(sku.to_string(), p["id"].as_str().unwrap().to_string());
        }
        ids
    }

    /// Runs one import through `syncNow` and requires it to succeed.
    pub async fn import(&self, kind: &str) -> Value {
        let payload = self.app.sync_now(&self.token, &self.gid, Some(kind)).await;
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
        assert_eq!(payload["runs"][0]["outcome"], "SUCCEEDED", "{payload}");
        payload["runs"][0].clone()
    }

    /// `product(sku:)`; null when there is none.
    pub async fn product(&self, sku: &str) -> Value {
        product(&self.app, &self.token, sku).await
    }

    /// The stock of the product with this SKU.
    pub async fn stock(&self, sku: &str) -> i64 {
        let p = self.product(sku).await;
        p["stock"]
            .as_i64()
            .unwrap_or_else(|| panic!("no {sku}: {p}"))
    }

    /// The whole ledger of a product, newest first, through `stockMovements`.
    pub async fn ledger(&self, product_id: &str) -> Vec<Value> {
        ledger(&self.app, &self.token, product_id).await
    }

    pub async fn set_stock(&self, input: Value) -> Value {
        set_stock(&self.app, &self.token, input).await
    }

    pub async fn adjust_stock(&self, input: Value) -> Value {
        adjust_stock(&self.app, &self.token, input).await
    }

    /// A shopper places an order on the store with `lines` (`[{sku, quantity}]`); its id
    /// (the order number here).
    pub async fn place(&self, lines: Value) -> i64 {
        self.place_with(lines, json!({})).await
    }

    /// Like [`Shop::place`] with extra fields such as `status_id`.
    pub async fn place_with(&self, lines: Value, extra: Value) -> i64 {
        let mut body = json!({ "lines": lines });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.app
            .sandbox_action(&self.app.store.hash, Method::POST, "orders", body)
            .await["id"]
            .as_i64()
            .unwrap()
    }

    /// The merchant sets an order's status on the store.
    pub async fn set_channel_status(&self, order: i64, status_id: i64) {
        self.app
            .sandbox_action(
                &self.app.store.hash,
                Method::PUT,
                &format!("orders/{order}/status"),
                json!({ "status_id": status_id }),
            )
            .await;
    }

    /// The merchant ships the whole quantity of the lines at `indexes` on the store.
    pub async fn ship_on_channel(&self, order: i64, indexes: &[usize]) {
        let app = &self.app;
        let lines = app
            .store_api(
                &app.store,
                Method::GET,
                &format!("v2/orders/{order}/products"),
                None,
            )
            .await;
        let lines = lines.as_array().unwrap();
        for &i in indexes {
            let l = &lines[i];
            app.store_api(
                &app.store,
                Method::POST,
                &format!("v2/orders/{order}/shipments"),
                Some(json!({
                    "order_address_id": l["order_address_id"],
                    "tracking_number": format!("TRK{order}{i}"),
                    "items": [{ "order_product_id": l["id"], "quantity": l["quantity"] }],
                })),
            )
            .await;
        }
    }

    /// The order with this number here (`orders(filter: {search})`); null when not imported.
    pub async fn order(&self, number: i64) -> Value {
        let wanted = number.to_string();
        let page = self
            .app
            .data(
                Some(&self.token),
                &format!("query($f: OrderFilterInput) {{ orders(first: 5, filter: $f) {{ nodes {{ {ORDER_FIELDS} }} }} }}"),
                json!({ "f": { "search": format!("#{number}") } }),
            )
            .await;
        page["orders"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["number"].as_str() == Some(wanted.as_str()))
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// `cancelOrder` on the order with this global id; its payload.
    pub async fn cancel(&self, order_id: &str) -> Value {
        cancel_order(&self.app, &self.token, order_id).await
    }

    /// The caller's user id.
    pub async fn me(&self) -> String {
        self.app
            .data(Some(&self.token), "{ me { id } }", json!({}))
            .await["me"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

pub const ORDER_FIELDS: &str =
    "id number status stockTaken restocked historical canceledHereAt customerMessage
    channelStatusId lines { sku quantity quantityShipped }";

pub async fn product(app: &TestApp, token: &str, sku: &str) -> Value {
    app.data(
        Some(token),
        &format!("query($sku: String) {{ product(sku: $sku) {{ {PRODUCT_FIELDS} }} }}"),
        json!({ "sku": sku }),
    )
    .await["product"]
        .clone()
}

pub async fn ledger(app: &TestApp, token: &str, product_id: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app
            .data(
                Some(token),
                &format!("query($id: ID!, $after: String) {{ stockMovements(productId: $id, first: 100, after: $after) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {MOVEMENT_FIELDS} }} }} }}"),
                json!({ "id": product_id, "after": after }),
            )
            .await["stockMovements"]
            .clone();
        all.extend(page["nodes"].as_array().unwrap().iter().cloned());
        if page["pageInfo"]["hasNextPage"] != true {
            assert_eq!(page["totalCount"], all.len(), "{page}");
            return all;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_string);
    }
}

const PAYLOAD: &str = "product { id sku stock } movement { id delta quantityAfter reason actorUserId integrationId orderId note } userErrors { field code message }";

pub async fn set_stock(app: &TestApp, token: &str, input: Value) -> Value {
    app.data(
        Some(token),
        &format!("mutation($i: SetStockInput!) {{ setStock(input: $i) {{ {PAYLOAD} }} }}"),
        json!({ "i": input }),
    )
    .await["setStock"]
        .clone()
}

pub async fn adjust_stock(app: &TestApp, token: &str, input: Value) -> Value {
    app.data(
        Some(token),
        &format!("mutation($i: AdjustStockInput!) {{ adjustStock(input: $i) {{ {PAYLOAD} }} }}"),
        json!({ "i": input }),
    )
    .await["adjustStock"]
        .clone()
}

pub async fn cancel_order(app: &TestApp, token: &str, order_id: &str) -> Value {
    app.data(
        Some(token),
        &format!("mutation($i: CancelOrderInput!) {{ cancelOrder(input: $i) {{ order {{ {ORDER_FIELDS} }} userErrors {{ field code message }} }} }}"),
        json!({ "i": { "orderId": order_id } }),
    )
    .await["cancelOrder"]
        .clone()
}

pub async fn delete_product(app: &TestApp, token: &str, input: Value) -> Value {
    app.data(
        Some(token),
        "mutation($i: DeleteProductInput!) { deleteProduct(input: $i) { deletedProductId userErrors { field code message } } }",
        json!({ "i": input }),
    )
    .await["deleteProduct"]
        .clone()
}

/// Lets the clock pass a whole second: the store's timestamps have second precision.
pub async fn a_second_passes() {
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
}

/// The field path of the payload's first user error.
pub fn error_field(payload: &Value) -> Value {
    payload["userErrors"][0]["field"].clone()
}

/// Checks that a ledger (newest first) explains `stock`: its deltas sum to it, each row's
/// figure is the previous one plus its delta, and the newest figure is the stock.
pub fn assert_ledger_explains(ledger: &[Value], stock: i64, what: &str) {
    let sum: i64 = ledger.iter().map(|m| m["delta"].as_i64().unwrap()).sum();
    assert_eq!(
        sum, stock,
        "{what}: the deltas sum to {sum}, the stock is {stock}"
    );
    assert_eq!(
        ledger.first().map(|m| m["quantityAfter"].as_i64().unwrap()),
        Some(stock),
        "{what}: the newest movement's figure"
    );
    let mut figure = 0;
    for m in ledger.iter().rev() {
        figure += m["delta"].as_i64().unwrap();
        assert_eq!(
            m["quantityAfter"], figure,
            "{what}: a gap in the ledger at {m}"
        );
    }
}
