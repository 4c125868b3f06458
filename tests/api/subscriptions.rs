//! Subscriptions over `/graphql/ws` (`graphql-transport-ws`): events of the caller's account
//! only, after the change commits, on every replica of one PostgreSQL database.

use std::time::{Duration, Instant};

use reqwest::Method;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;

use crate::support::{a_second_passes, shop, TestApp};

const STOCK: &str = "subscription { stockChanged { product { sku stock } movement { delta reason quantityAfter } } }";
/// Nested fields of the event's order load without request loaders.
const ORDERS: &str =
    "subscription { orderChanged { id number status integration { id } lines { sku quantity } } }";

#[tokio::test]
async fn a_subscriber_gets_stock_changed_after_adjust_stock_and_nothing_of_another_account() {
    let a = shop("events-a@example.com").await;
    a.stocked(&[("MUG", 10)]).await;
    let mut own = a.app.subscribed(&a.token, STOCK).await;
    let mut mugs = a
        .app
        .subscribed(
            &a.token,
            "subscription { stockChanged(sku: \"MUG\") { product { sku } } }",
        )
        .await;
    let mut plates = a
        .app
        .subscribed(
            &a.token,
            "subscription { stockChanged(sku: \"PLATE\") { product { sku } } }",
        )
        .await;
    let other_token = a.app.signed_in("events-b@example.com").await;
    let mut other = a.app.subscribed(&other_token, STOCK).await;

    let adjusted = a
        .adjust_stock(json!({ "sku": "MUG", "delta": -3, "reason": "Broken" }))
        .await;
    assert_eq!(adjusted["userErrors"], json!([]), "{adjusted}");

    let event = own
        .event(Duration::from_secs(2))
        .await
        .expect("a stockChanged event");
    let change = &event["data"]["stockChanged"];
    assert_eq!(
        change["product"],
        json!({ "sku": "MUG", "stock": 7 }),
        "{event}"
    );
    assert_eq!(change["movement"]["delta"], -3);
    assert_eq!(change["movement"]["reason"], "MANUAL_ADJUST");
    assert!(
        other.event(Duration::from_millis(500)).await.is_none(),
        "another account heard of it"
    );
    // Subscriptions of one SKU hear only theirs.
    let mug = mugs
        .event(Duration::from_secs(2))
        .await
        .expect("MUG's change");
    assert_eq!(mug["data"]["stockChanged"]["product"]["sku"], "MUG");
    assert!(plates.event(Duration::from_millis(200)).await.is_none());

    // A refused change (below zero) publishes nothing.
    let refused = a
        .adjust_stock(json!({ "sku": "MUG", "delta": -100, "reason": "Too many" }))
        .await;
    assert_eq!(refused["userErrors"][0]["code"], "INSUFFICIENT_STOCK");
    assert!(own.event(Duration::from_millis(500)).await.is_none());
}

#[tokio::test]
async fn an_order_arriving_by_webhook_reaches_a_subscriber_within_a_second() {
    let app = TestApp::builder().public().spawn().await;
    let token = app.signed_in("events-hooks@example.com").await;
    let connected = app.connect(&token, json!({})).await;
    assert_eq!(
        connected["integration"]["webhooks"]["state"], "ACTIVE",
        "{connected}"
    );
    let mut sub = app.subscribed(&token, ORDERS).await;
    a_second_passes().await;

    let placed = Instant::now();
    let number = app
        .sandbox_action(&app.store.hash, Method::POST, "orders", json!({}))
        .await["id"]
        .as_i64()
        .unwrap();
    let event = sub
        .event(Duration::from_secs(5))
        .await
        .expect("an orderChanged event");
    let arrived = placed.elapsed();
    let order = &event["data"]["orderChanged"];
    assert_eq!(order["number"], number.to_string(), "{event}");
    assert!(event["errors"].is_null(), "{event}");
    assert_eq!(order["integration"]["id"], connected["integration"]["id"]);
    assert!(!order["lines"].as_array().unwrap().is_empty(), "{event}");
    assert!(arrived < Duration::from_secs(1), "{arrived:?}");
}

#[tokio::test]
async fn a_connection_without_a_valid_token_is_closed() {
    let app = crate::support::spawn_app().await;
    for token in [None, Some("odk_not-a-real-token")] {
        let mut ws = app.ws(token).await;
        let answer = ws.next(Duration::from_secs(5)).await.expect("an answer");
        assert_eq!(answer["type"], "closed", "{answer}");
        assert_eq!(answer["code"], 4403, "{answer}");
    }
}

#[tokio::test]
async fn an_event_written_by_one_server_reaches_a_subscriber_of_another_on_the_same_postgresql() {
    let a = shop("events-replica@example.com").await;
    a.stocked(&[("CUP", 4)]).await;
    if !a.app.state.events.across_replicas() {
        // SQLite serves one process: its events stay in that process.
        assert_eq!(
            a.app.state.db.get_database_backend(),
            sea_orm::DbBackend::Sqlite
        );
        return;
    }
    let replica = a.app.replica().await;
    let mut sub = replica.subscribed(&a.token, STOCK).await;
    // The replica's listener is up once a first event makes the round trip.
    let adjusted = a
        .adjust_stock(json!({ "sku": "CUP", "delta": 1, "reason": "Found" }))
        .await;
    assert_eq!(adjusted["userErrors"], json!([]), "{adjusted}");
    let event = sub
        .event(Duration::from_secs(3))
        .await
        .expect("the event, through NOTIFY");
    assert_eq!(
        event["data"]["stockChanged"]["product"]["stock"], 5,
        "{event}"
    );
}

#[tokio::test]
async fn a_stock_push_the_store_fails_reaches_a_push_failed_subscriber() {
    let s = shop("events-push@example.com").await;
    s.stocked(&[("MUG", 10)]).await;
    let mut sub = s
        .app
        .subscribed(
            &s.token,
            "subscription { pushFailed { listing { sku pushError } shipment { id } } }",
        )
        .await;
    s.app
        .faults(json!({ "error_rate": 1.0, "random_status": 503 }))
        .await;
    let adjusted = s
        .adjust_stock(json!({ "sku": "MUG", "delta": -1, "reason": "Sold at the counter" }))
        .await;
    assert_eq!(adjusted["userErrors"], json!([]), "{adjusted}");
    assert!(
        sub.event(Duration::from_millis(300)).await.is_none(),
        "nothing failed yet"
    );
    orderdeck::sync::push::run_once(&s.app.state, "test-worker")
        .await
        .unwrap();

    let event = sub
        .event(Duration::from_secs(3))
        .await
        .expect("a pushFailed event");
    let failure = &event["data"]["pushFailed"];
    assert_eq!(failure["listing"]["sku"], "MUG", "{event}");
    assert!(failure["listing"]["pushError"].is_string(), "{event}");
    assert!(failure["shipment"].is_null(), "{event}");
    s.app.clear_faults().await;
}

#[tokio::test]
async fn canceling_an_order_sends_the_order_and_the_stock_it_gave_back() {
    let s = shop("events-cancel@example.com").await;
    s.stocked(&[("MUG", 10)]).await;
    a_second_passes().await;
    let number = s.place(json!([{ "sku": "MUG", "quantity": 2 }])).await;
    s.import("ORDERS").await;
    let order = s.order(number).await;
    let mut stock = s.app.subscribed(&s.token, STOCK).await;
    let mut orders = s.app.subscribed(&s.token, ORDERS).await;

    let canceled = s.cancel(order["id"].as_str().unwrap()).await;
    assert_eq!(canceled["userErrors"], json!([]), "{canceled}");

    let o = orders
        .event(Duration::from_secs(2))
        .await
        .expect("orderChanged");
    assert_eq!(o["data"]["orderChanged"]["status"], "CANCELED", "{o}");
    let back = stock
        .event(Duration::from_secs(2))
        .await
        .expect("stockChanged");
    let change = &back["data"]["stockChanged"];
    assert_eq!(
        change["product"],
        json!({ "sku": "MUG", "stock": 10 }),
        "{back}"
    );
    assert_eq!(change["movement"]["delta"], 2);
    assert_eq!(change["movement"]["reason"], "ORDER_CANCELED");
}

/// The next `stockChanged` of `sub`: (sku, stock, delta, reason).
async fn next_stock(sub: &mut crate::support::WsClient) -> (String, i64, i64, String) {
    let e = sub
        .event(Duration::from_secs(3))
        .await
        .expect("a stockChanged event");
    let c = &e["data"]["stockChanged"];
    (
        c["product"]["sku"].as_str().unwrap().to_string(),
        c["product"]["stock"].as_i64().unwrap(),
        c["movement"]["delta"].as_i64().unwrap(),
        c["movement"]["reason"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn imports_send_the_stock_they_move_new_products_orders_taking_stock_and_orders_canceled_on_the_store(
) {
    let s = shop("events-imports@example.com").await;
    s.stocked(&[("MUG", 10)]).await;
    let mut sub = s.app.subscribed(&s.token, STOCK).await;
    a_second_passes().await;

    // A new product on the store: its starting figure.
    s.app
        .sandbox_action(
            &s.app.store.hash,
            Method::POST,
            "products",
            json!({ "name": "Plate", "sku": "PLATE", "inventory_level": 6 }),
        )
        .await;
    s.import("PRODUCTS").await;
    assert_eq!(
        next_stock(&mut sub).await,
        ("PLATE".into(), 6, 6, "INITIAL_IMPORT".into())
    );

    // An order placed on the store takes its lines' stock when imported.
    let number = s
        .place(json!([{ "sku": "MUG", "quantity": 2 }, { "sku": "PLATE", "quantity": 1 }]))
        .await;
    s.import("ORDERS").await;
    let mut taken = vec![next_stock(&mut sub).await, next_stock(&mut sub).await];
    taken.sort();
    assert_eq!(
        taken,
        [
            ("MUG".into(), 8, -2, "ORDER_PLACED".into()),
            ("PLATE".into(), 5, -1, "ORDER_PLACED".into())
        ]
    );

    // Canceled on the store: the stock comes back with the next import.
    s.app
        .sandbox_action(
            &s.app.store.hash,
            Method::PUT,
            &format!("orders/{number}/status"),
            json!({ "status_id": 5 }),
        )
        .await;
    s.import("ORDERS").await;
    let mut back = vec![next_stock(&mut sub).await, next_stock(&mut sub).await];
    back.sort();
    assert_eq!(
        back,
        [
            ("MUG".into(), 10, 2, "ORDER_RESTOCKED".into()),
            ("PLATE".into(), 6, 1, "ORDER_RESTOCKED".into())
        ]
    );
    assert!(sub.event(Duration::from_millis(500)).await.is_none());
}

#[tokio::test]
async fn a_subscriber_too_far_behind_is_dropped_with_a_clear_reason_and_others_keep_listening() {
    use orderdeck::services::events::{Event, BUFFERED};
    let a = shop("events-slow@example.com").await;
    a.stocked(&[("MUG", 10)]).await;
    // The test's database holds this one account and its one store.
    let account_id = orderdeck::entities::integration::Entity::find()
        .one(&a.app.state.db)
        .await
        .unwrap()
        .unwrap()
        .account_id;
    let mut slow = a.app.subscribed(&a.token, STOCK).await;
    a_second_passes().await;

    // More events at once than a subscriber may fall behind by: it cannot keep up.
    for n in 0..(2 * BUFFERED as i64) {
        a.app.state.events.deliver(Event::StockChanged {
            account_id,
            item_id: -1 - n,
            movement_id: -1,
        });
    }
    let error = slow
        .next(Duration::from_secs(5))
        .await
        .expect("the subscription's error");
    assert_eq!(error["type"], "next", "{error}");
    assert_eq!(
        error["payload"]["errors"][0]["extensions"]["code"], "SUBSCRIBER_TOO_SLOW",
        "{error}"
    );
    let mut closed = slow.next(Duration::from_secs(5)).await.unwrap();
    if closed["type"] == "complete" {
        closed = slow.next(Duration::from_secs(5)).await.unwrap();
    }
    assert_eq!(closed["type"], "closed", "{closed}");
    assert_eq!(closed["code"], 1008, "{closed}");
    assert!(
        closed["reason"].as_str().unwrap().starts_with("Too slow"),
        "{closed}"
    );

    // A new subscriber hears the next change as usual.
    let mut fresh = a.app.subscribed(&a.token, STOCK).await;
    a_second_passes().await;
    let adjusted = a
        .adjust_stock(json!({ "sku": "MUG", "delta": 1, "reason": "Found" }))
        .await;
    assert_eq!(adjusted["userErrors"], json!([]), "{adjusted}");
    let event = fresh
        .event(Duration::from_secs(3))
        .await
        .expect("a stockChanged event");
    assert_eq!(event["data"]["stockChanged"]["product"]["stock"], 11);
}
