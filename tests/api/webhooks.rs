//! Order webhooks against the sandbox: registered on connect, an order placed on the store
//! arrives within seconds, duplicates and unsigned deliveries import nothing, disconnecting
//! removes the hooks, a hook the store turned off is put back by the next order import, and
//! deliveries (replayed, many at once, or sent at an odd time) cannot spend the store's quota.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{channel_stock, connect, create_product, sync, wait_for, TestApp};

const SECRET_HEADER: &str = "X-Orderdeck-Webhook-Secret";

/// The hooks the connected store holds for orderdeck's API account.
async fn store_hooks(app: &TestApp) -> Vec<Value> {
    let hooks = app
        .store_api(&app.store, Method::GET, "v3/hooks", None)
        .await;
    hooks["data"].as_array().cloned().unwrap_or_default()
}

/// The store turns `hook` off.
async fn turn_off(app: &TestApp, hook: &Value) {
    app.store_api(
        &app.store,
        Method::PUT,
        &format!("v3/hooks/{}", hook["id"]),
        Some(json!({ "is_active": false })),
    )
    .await;
}

/// A shopper places an order on the sandbox store; its id there.
async fn place_order(app: &TestApp) -> i64 {
    app.sandbox_action(&app.store.hash, Method::POST, "orders", json!({}))
        .await["id"]
        .as_i64()
        .unwrap()
}

/// The order with external id `external` as orderdeck shows it, once it is there (waiting
/// up to `within`); null when it never came.
async fn wait_for_order(
    app: &TestApp,
    token: &str,
    external: i64,
    status: Option<&str>,
    within: Duration,
) -> (Value, Duration) {
    let started = Instant::now();
    let want = external.to_string();
    loop {
        let found = app
            .data(
                Some(token),
                "{ orders(first: 50) { nodes { id number status } } }",
                json!({}),
            )
            .await["orders"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["number"].as_str() == Some(want.as_str()))
            .filter(|o| status.is_none_or(|s| o["status"] == s))
            .cloned();
        if let Some(o) = found {
            return (o, started.elapsed());
        }
        if started.elapsed() > within {
            return (Value::Null, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn webhook_runs(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    app.data(
        Some(token),
        "query($id: ID!) { syncRuns(integrationId: $id, first: 50) { nodes { kind trigger outcome created updated error } } }",
        json!({ "id": id }),
    )
    .await["syncRuns"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["trigger"] == "WEBHOOK")
        .cloned()
        .collect()
}

/// POSTs a delivery to orderdeck's webhook route.
async fn deliver(app: &TestApp, path_id: &str, secret: Option<&str>, body: &Value) -> u16 {
    let mut req = app
        .http
        .post(format!("{}/webhooks/bigcommerce/{path_id}", app.address))
        .json(body);
    if let Some(s) = secret {
        req = req.header(SECRET_HEADER, s);
    }
    req.send().await.unwrap().status().as_u16()
}

fn row_id(gid: &str) -> String {
    gid.rsplit('/').next().unwrap().to_string()
}

/// The secret the store's hooks carry.
async fn hook_secret(app: &TestApp) -> String {
    store_hooks(app).await[0]["headers"][SECRET_HEADER]
        .as_str()
        .unwrap()
        .to_string()
}

/// A `store/order/statusUpdated` delivery for `order`, sent at `created_at` (unix seconds).
fn order_delivery(app: &TestApp, order: i64, created_at: i64) -> Value {
    let data = json!({ "type": "order", "id": order });
    json!({
        "scope": "store/order/statusUpdated",
        "store_id": "1",
        "data": data,
        "hash": orderdeck_sandbox::hooks::sha1_hex(data.to_string().as_bytes()),
        "created_at": created_at,
        "producer": format!("stores/{}", app.store.hash),
    })
}

/// A public app with its store connected by `email`'s account; the integration's row id and
/// the hooks' secret.
async fn connected_hooks(email: &str) -> (TestApp, String, String) {
    let app = TestApp::builder().public().spawn().await;
    let token = app.signed_in(email).await;
    let connected = app.connect(&token, json!({})).await;
    let id = row_id(connected["integration"]["id"].as_str().unwrap());
    let secret = hook_secret(&app).await;
    (app, id, secret)
}

/// Sends `bodies` to integration `id`'s route all at once; asserts each is answered 200.
async fn deliver_together(app: &TestApp, id: &str, secret: &str, bodies: Vec<Value>) {
    let sent = bodies
        .iter()
        .map(|body| deliver(app, id, Some(secret), body));
    let answers = futures_util::future::join_all(sent).await;
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
}

/// Order reads the store received: single orders, lists and order lines.
fn order_calls(app: &TestApp) -> u64 {
    [
        "GET /v2/orders",
        "GET /v2/orders/{id}",
        "GET /v2/orders/{id}/products",
    ]
    .iter()
    .map(|endpoint| app.sandbox.count(&app.store.hash, endpoint))
    .sum()
}

/// Waits until orderdeck holds `count` orders (up to five seconds) and the merge window
/// has passed, asserts it holds exactly them; the order reads the store received.
async fn settled(app: &TestApp, count: i64) -> u64 {
    let started = Instant::now();
    while app.rows("orders").await < count && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The merge window passing is the point: no further order or store call may follow.
    tokio::time::sleep(SETTLE).await;
    assert_eq!(app.rows("orders").await, count);
    order_calls(app)
}

/// The merge window of webhook imports, and a margin for the import itself.
const SETTLE: Duration = Duration::from_millis(2_500);

#[tokio::test]
async fn connecting_registers_order_hooks_and_a_placed_order_arrives_within_two_seconds() {
    let app = TestApp::builder().public().spawn().await;
    let token = app.signed_in("hooks@example.com").await;
    let connected = app.connect(&token, json!({})).await;
    assert_eq!(connected["userErrors"], json!([]), "{connected}");
    let i = &connected["integration"];
    let id = i["id"].as_str().unwrap().to_string();
    assert_eq!(i["webhooks"]["state"], "ACTIVE", "{connected}");
    let destination = format!("{}/webhooks/bigcommerce/{}", app.address, row_id(&id));
    assert_eq!(i["webhooks"]["destination"], destination.as_str());

    let hooks = store_hooks(&app).await;
    let mut scopes: Vec<&str> = hooks.iter().map(|h| h["scope"].as_str().unwrap()).collect();
    scopes.sort();
    assert_eq!(scopes, ["store/order/created", "store/order/statusUpdated"]);
    for h in &hooks {
        assert_eq!(h["destination"], destination.as_str());
        assert_eq!(h["is_active"], true);
        let secret = h["headers"][SECRET_HEADER].as_str().unwrap();
        assert!(secret.len() >= 40, "{h}");
        assert!(
            !connected.to_string().contains(secret),
            "the secret never reaches the API"
        );
    }

    // No import is scheduled (the scheduler is off in tests): only the webhook brings it.
    let external = place_order(&app).await;
    let (order, took) = wait_for_order(&app, &token, external, None, Duration::from_secs(5)).await;
    assert!(!order.is_null(), "order {external} never arrived");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let runs = webhook_runs(&app, &token, &id).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["outcome"], "SUCCEEDED");
    assert_eq!(runs[0]["created"], 1);

    // A status change on the store follows within seconds too.
    app.sandbox_action(
        &app.store.hash,
        Method::PUT,
        &format!("orders/{external}/status"),
        json!({ "status_id": 5 }),
    )
    .await;
    let (canceled, took) = wait_for_order(
        &app,
        &token,
        external,
        Some("CANCELED"),
        Duration::from_secs(5),
    )
    .await;
    assert!(!canceled.is_null(), "the status change never arrived");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let integration = app
        .data(
            Some(&token),
            "query($id: ID!) { integration(id: $id) { webhooks { state lastDeliveryAt } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        !integration["integration"]["webhooks"]["lastDeliveryAt"].is_null(),
        "{integration}"
    );
}

#[tokio::test]
async fn a_duplicate_delivery_imports_nothing_twice() {
    let app = TestApp::builder()
        .public()
        .sandbox(|c| c.duplicate_hook_deliveries = true)
        .spawn()
        .await;
    let token = app.signed_in("dup@example.com").await;
    let connected = app.connect(&token, json!({})).await;
    let id = connected["integration"]["id"].as_str().unwrap().to_string();

    let external = place_order(&app).await;
    let (order, _) = wait_for_order(&app, &token, external, None, Duration::from_secs(5)).await;
    assert!(!order.is_null());
    // Both copies have arrived by now (they are sent together). Nothing to wait for: the
    // second copy must change nothing, and the sandbox keeps no log of its deliveries.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.rows("webhook_deliveries").await, 1);
    assert_eq!(webhook_runs(&app, &token, &id).await.len(), 1);
    assert_eq!(app.rows("orders").await, 1);

    // A copy replayed by hand later is recognised too (sent an hour ago: another event than
    // the store's).
    let hooks = store_hooks(&app).await;
    let secret = hooks[0]["headers"][SECRET_HEADER].as_str().unwrap();
    let data = json!({ "type": "order", "id": external });
    let body = json!({
        "scope": "store/order/created",
        "store_id": "1",
        "data": data,
        "hash": orderdeck_sandbox::hooks::sha1_hex(data.to_string().as_bytes()),
        "created_at": chrono::Utc::now().timestamp() - 3600,
        "producer": format!("stores/{}", app.store.hash),
    });
    assert_eq!(deliver(&app, &row_id(&id), Some(secret), &body).await, 200);
    assert_eq!(deliver(&app, &row_id(&id), Some(secret), &body).await, 200);
    // Its import may wait for the merge window of the first one; the window must pass
    // before the counts can show that nothing was imported twice.
    tokio::time::sleep(SETTLE).await;
    assert_eq!(app.rows("webhook_deliveries").await, 2);
    assert_eq!(webhook_runs(&app, &token, &id).await.len(), 2);
    assert_eq!(app.rows("orders").await, 1);
}

#[tokio::test]
async fn a_delivery_without_the_right_secret_or_for_another_store_is_refused() {
    let app = TestApp::builder().public().spawn().await;
    let token = app.signed_in("sec@example.com").await;
    let connected = app.connect(&token, json!({})).await;
    let id = row_id(connected["integration"]["id"].as_str().unwrap());
    let secret = store_hooks(&app).await[0]["headers"][SECRET_HEADER]
        .as_str()
        .unwrap()
        .to_string();
    let data = json!({ "type": "order", "id": 1 });
    let body = json!({
        "scope": "store/order/created", "store_id": "1", "data": data,
        "hash": "abc", "created_at": 5, "producer": format!("stores/{}", app.store.hash),
    });

    assert_eq!(deliver(&app, &id, None, &body).await, 401);
    assert_eq!(deliver(&app, &id, Some("wrong"), &body).await, 401);
    assert_eq!(
        deliver(&app, &id, Some(&secret[..secret.len() - 1]), &body).await,
        401
    );
    assert_eq!(deliver(&app, "999999", Some(&secret), &body).await, 401);
    assert_eq!(
        deliver(&app, "not-a-number", Some(&secret), &body).await,
        401
    );
    let mut foreign = body.clone();
    foreign["producer"] = json!("stores/someoneelse");
    assert_eq!(deliver(&app, &id, Some(&secret), &foreign).await, 400);
    let garbage = app
        .http
        .post(format!("{}/webhooks/bigcommerce/{id}", app.address))
        .header(SECRET_HEADER, &secret)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let huge = app
        .http
        .post(format!("{}/webhooks/bigcommerce/{id}", app.address))
        .header(SECRET_HEADER, &secret)
        .body(vec![b' '; 64 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    assert_eq!(app.rows("webhook_deliveries").await, 0);
    assert_eq!(app.rows("sync_runs").await, 0);
}

#[tokio::test]
async fn disconnecting_removes_the_hooks_and_a_hook_turned_off_is_put_back_by_the_next_import() {
    let app = TestApp::builder().public().spawn().await;
    let token = app.signed_in("off@example.com").await;
    let connected = app.connect(&token, json!({})).await;
    let id = connected["integration"]["id"].as_str().unwrap().to_string();

    // The store turns a hook off (as after two days of failed deliveries).
    turn_off(&app, &store_hooks(&app).await[0]).await;
    let runs = app.sync_now(&token, &id, Some("ORDERS")).await;
    assert_eq!(runs["runs"][0]["outcome"], "SUCCEEDED", "{runs}");
    let hooks = store_hooks(&app).await;
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    assert!(hooks.iter().all(|h| h["is_active"] == true), "{hooks:?}");
    // ...with a new secret that orderdeck accepts: an order still arrives.
    let external = place_order(&app).await;
    let (order, _) = wait_for_order(&app, &token, external, None, Duration::from_secs(5)).await;
    assert!(!order.is_null());

    let disconnected = app
        .data(
            Some(&token),
            "mutation($i: DisconnectIntegrationInput!) { disconnectIntegration(input: $i) { integration { status webhooks { state destination } } } }",
            json!({ "i": { "id": id } }),
        )
        .await;
    assert_eq!(
        disconnected["disconnectIntegration"]["integration"]["webhooks"],
        json!({ "state": "OFF", "destination": null }),
        "{disconnected}"
    );
    assert_eq!(store_hooks(&app).await, Vec::<Value>::new());
}

#[tokio::test]
async fn an_order_placed_on_one_store_lowers_the_other_stores_stock_within_seconds() {
    let app = TestApp::builder()
        .public()
        .sandbox(|c| {
            c.stores = 2;
            c.products = 0;
        })
        .settings(|s| {
            s.push_enabled = true;
            s.push_poll = Duration::from_millis(50);
        })
        .spawn()
        .await;
    let stores = app.sandbox.stores();
    let token = app.signed_in("two@example.com").await;
    let mut product_ids = Vec::new();
    for store in &stores {
        let p = create_product(
            &app,
            store,
            json!({ "name": "Mug", "sku": "MUG", "price": 12, "inventory_level": 10 }),
        )
        .await;
        product_ids.push(p["id"].as_i64().unwrap());
    }
    let a = connect(&app, &token, &stores[0], "A", true).await;
    let b = connect(&app, &token, &stores[1], "B", true).await;
    sync(&app, &token, &a, "PRODUCTS").await;
    sync(&app, &token, &b, "PRODUCTS").await;

    let started = Instant::now();
    app.sandbox_action(
        &stores[0].hash,
        Method::POST,
        "orders",
        json!({ "lines": [{ "sku": "MUG", "quantity": 2 }] }),
    )
    .await;
    wait_for(
        "store B to hold 8",
        Duration::from_secs(3),
        async || match channel_stock(&app, &stores[1], product_ids[1], None) {
            8 => Ok(()),
            held => Err(format!("store B still holds {held}")),
        },
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let stock = app
        .data(
            Some(&token),
            "{ product(sku: \"MUG\") { stock } }",
            json!({}),
        )
        .await;
    assert_eq!(stock["product"]["stock"], 8, "{stock}");
}

#[tokio::test]
async fn two_hundred_replays_of_one_delivery_import_the_order_once_with_a_handful_of_store_calls() {
    let (app, id, secret) = connected_hooks("replays@example.com").await;
    let external = place_order(&app).await;

    // The store's own delivery, and 200 copies each sent at another second (so none is a
    // duplicate of another), all at once.
    let now = chrono::Utc::now().timestamp();
    let replays = (0..200)
        .map(|n| order_delivery(&app, external, now - n))
        .collect();
    deliver_together(&app, &id, &secret, replays).await;
    let calls = settled(&app, 1).await;

    assert_eq!(app.rows("webhook_deliveries").await, 201);
    assert!(calls <= 5, "the store received {calls} order calls");
}

#[tokio::test]
async fn deliveries_for_twenty_orders_arriving_together_import_them_all_in_a_few_store_calls() {
    let (app, id, secret) = connected_hooks("twenty@example.com").await;
    // The store's own deliveries are off: the test sends them, all together.
    for hook in store_hooks(&app).await {
        turn_off(&app, &hook).await;
    }
    let mut orders = Vec::new();
    for _ in 0..20 {
        orders.push(place_order(&app).await);
    }

    let now = chrono::Utc::now().timestamp();
    let deliveries = orders
        .iter()
        .map(|order| order_delivery(&app, *order, now))
        .collect();
    deliver_together(&app, &id, &secret, deliveries).await;
    let calls = settled(&app, 20).await;

    // The first delivery's order at once, the others merged into the next window's one list
    // call (one more if a slow machine spread the deliveries over two windows).
    assert!(calls <= 3, "the store received {calls} order calls");
}

#[tokio::test]
async fn a_delivery_sent_far_in_the_future_or_too_long_ago_is_refused_without_a_store_call() {
    let (app, id, secret) = connected_hooks("skew@example.com").await;
    let now = chrono::Utc::now().timestamp();

    for created_at in [
        now + 10 * 60,
        now + 365 * 86_400,
        i64::MAX,
        now - 8 * 86_400,
        1,
    ] {
        let body = order_delivery(&app, 1, created_at);
        assert_eq!(
            deliver(&app, &id, Some(&secret), &body).await,
            400,
            "created_at {created_at}"
        );
    }
    assert_eq!(settled(&app, 0).await, 0);

    assert_eq!(app.rows("webhook_deliveries").await, 0);
    assert_eq!(app.rows("sync_runs").await, 0);
}
