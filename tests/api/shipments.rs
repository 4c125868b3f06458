//! `shipOrders` (docs/rules.md §6) against the sandbox: full, partial and bulk
//! shipments, every refusal with its own code and nothing saved, the push to the store
//! (failing, lost answers, refusals) reaching it exactly once, and the order's status agreeing
//! on both sides, also after an import.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{a_second_passes, codes, shop, Shop};

const SHIPMENT_FIELDS: &str = "id orderId method carrier service trackingNumber trackingUrl
    storeProvider storeTrackingCarrier weight contactPhone contactEmail
    customs { totalValue { amount currencyCode } originCountry destinationCountry iossNumber items { description sku quantity value { amount } } }
    lines { lineId sku name quantity }
    pushState pushAttempts pushError pushRetryAt pushedAt storeShipmentId createdAt";

const SHIP: &str = "mutation($i: ShipOrdersInput!) { shipOrders(input: $i) {
    results { orderId order { id status lines { id sku quantity quantityShipped } } shipments { SHIPMENT } userErrors { field code message } }
    userErrors { field code message } } }";

/// A shop with MUG (20) and CUP (10), and `orders` orders of 3 MUG and 2 CUP placed and
/// imported: their numbers and global ids.
async fn shop_with_orders(email: &str, orders: usize) -> (Shop, Vec<(i64, String)>) {
    let s = shop(email).await;
    s.stocked(&[("MUG", 20), ("CUP", 10)]).await;
    a_second_passes().await;
    let mut numbers = Vec::new();
    for _ in 0..orders {
        numbers.push(
            s.place(json!([{ "sku": "MUG", "quantity": 3 }, { "sku": "CUP", "quantity": 2 }]))
                .await,
        );
    }
    s.import("ORDERS").await;
    let mut out = Vec::new();
    for n in numbers {
        let id = s.order(n).await["id"].as_str().unwrap().to_string();
        out.push((n, id));
    }
    (s, out)
}

/// `shipOrders` with these shipment inputs; its payload.
async fn ship(s: &Shop, shipments: Value) -> Value {
    s.app
        .data(
            Some(&s.token),
            &SHIP.replace("SHIPMENT", SHIPMENT_FIELDS),
            json!({ "i": { "shipments": shipments } }),
        )
        .await["shipOrders"]
        .clone()
}

/// The order's lines here (`id`, `sku`, `quantity`, `quantityShipped`) by SKU.
async fn line_id(s: &Shop, order_id: &str, sku: &str) -> String {
    let o = s
        .app
        .data(
            Some(&s.token),
            "query($id: ID!) { order(id: $id) { lines { id sku } } }",
            json!({ "id": order_id }),
        )
        .await;
    o["order"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sku"] == sku)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The order and its shipments as `order(id)` shows them.
async fn order_with_shipments(s: &Shop, order_id: &str) -> Value {
    s.app
        .data(
            Some(&s.token),
            &format!("query($id: ID!) {{ order(id: $id) {{ status shippedAt lines {{ sku quantity quantityShipped }} shipments {{ {SHIPMENT_FIELDS} }} }} }}"),
            json!({ "id": order_id }),
        )
        .await["order"]
        .clone()
}

/// The sandbox store's view of an order: its status id and shipments.
async fn store_order(s: &Shop, number: i64) -> (i64, Vec<Value>) {
    let o = s
        .app
        .store_api(
            &s.app.store,
            Method::GET,
            &format!("v2/orders/{number}"),
            None,
        )
        .await;
    let shipments = s
        .app
        .store_api(
            &s.app.store,
            Method::GET,
            &format!("v2/orders/{number}/shipments"),
            None,
        )
        .await;
    (
        o["status_id"].as_i64().unwrap(),
        shipments.as_array().cloned().unwrap_or_default(),
    )
}

/// Shipment creations the sandbox store received.
fn shipment_posts(s: &Shop) -> u64 {
    s.app
        .sandbox
        .count(&s.app.store.hash, "POST /v2/orders/{id}/shipments")
}

/// Runs the push worker's pass until `done` holds for the order (at most 20 s).
async fn push_until(s: &Shop, order_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        orderdeck::sync::push::run_once(&s.app.state, "test-worker")
            .await
            .unwrap();
        let o = order_with_shipments(s, order_id).await;
        if done(&o) {
            return o;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "not done: {o}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn result(payload: &Value, i: usize) -> &Value {
    &payload["results"][i]
}

#[tokio::test]
async fn shipping_a_whole_order_ships_it_here_and_on_the_store() {
    let (s, orders) = shop_with_orders("ship-full@example.com", 1).await;
    let (number, id) = &orders[0];

    let res = ship(
        &s,
        json!([{ "orderId": id, "method": "MANUAL", "carrier": "UPS", "service": "Ground", "trackingNumber": "1Z999AA10123456784" }]),
    )
    .await;

    assert_eq!(res["userErrors"], json!([]), "{res}");
    let r = result(&res, 0);
    assert_eq!(r["userErrors"], json!([]), "{res}");
    assert_eq!(r["order"]["status"], "SHIPPED");
    for l in r["order"]["lines"].as_array().unwrap() {
        assert_eq!(l["quantityShipped"], l["quantity"], "{l}");
    }
    let shipments = r["shipments"].as_array().unwrap();
    assert_eq!(shipments.len(), 1);
    let sh = &shipments[0];
    assert_eq!(
        (
            &sh["method"],
            &sh["carrier"],
            &sh["storeProvider"],
            &sh["pushState"]
        ),
        (
            &json!("MANUAL"),
            &json!("UPS"),
            &json!("ups"),
            &json!("PUSHED")
        ),
        "{sh}"
    );
    assert_eq!(sh["pushAttempts"], 1);
    assert_eq!(sh["lines"].as_array().unwrap().len(), 2);
    let (status, on_store) = store_order(&s, *number).await;
    assert_eq!(status, 2, "the store's order is Shipped");
    assert_eq!(on_store.len(), 1);
    assert_eq!(
        on_store[0]["id"].to_string(),
        sh["storeShipmentId"].as_str().unwrap()
    );
    assert_eq!(on_store[0]["tracking_number"], "1Z999AA10123456784");
    assert_eq!(on_store[0]["shipping_provider"], "ups");

    // The next import agrees.
    s.import("ORDERS").await;
    let o = order_with_shipments(&s, id).await;
    assert_eq!(o["status"], "SHIPPED", "{o}");
    assert!(o["shippedAt"].is_string());
    assert_eq!(o["shipments"].as_array().unwrap().len(), 1);
    // The order list shows the same shipments with their lines (fetched once for the page).
    let list = s
        .app
        .data(
            Some(&s.token),
            &format!(
                "{{ orders(first: 10) {{ nodes {{ id shipments {{ {SHIPMENT_FIELDS} }} }} }} }}"
            ),
            json!({}),
        )
        .await;
    let node = list["orders"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == *id)
        .unwrap();
    assert_eq!(node["shipments"], o["shipments"]);
}

#[tokio::test]
async fn two_partial_shipments_complete_an_order() {
    let (s, orders) = shop_with_orders("ship-partial@example.com", 1).await;
    let (number, id) = &orders[0];
    let mug = line_id(&s, id, "MUG").await;

    let first = ship(
        &s,
        json!([{ "orderId": id, "method": "MANUAL", "carrier": "Royal Mail", "trackingNumber": "RM1", "lines": [{ "lineId": mug, "quantity": 1 }] }]),
    )
    .await;

    let r = result(&first, 0);
    assert_eq!(r["userErrors"], json!([]), "{first}");
    assert_eq!(r["order"]["status"], "PARTIALLY_SHIPPED");
    assert_eq!(r["shipments"][0]["storeProvider"], "royalmail");
    assert_eq!(store_order(&s, *number).await.0, 3, "Partially Shipped");

    let second = ship(
        &s,
        json!([{ "orderId": id, "method": "MANUAL", "carrier": "Royal Mail", "trackingNumber": "RM2" }]),
    )
    .await;

    let r = result(&second, 0);
    assert_eq!(r["userErrors"], json!([]), "{second}");
    assert_eq!(r["order"]["status"], "SHIPPED");
    let lines: Vec<(String, i64)> = r["shipments"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().to_string(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, [("MUG".to_string(), 2), ("CUP".to_string(), 2)]);
    let (status, on_store) = store_order(&s, *number).await;
    assert_eq!((status, on_store.len()), (2, 2));
    s.import("ORDERS").await;
    assert_eq!(order_with_shipments(&s, id).await["status"], "SHIPPED");
}

#[tokio::test]
async fn shipping_more_than_remains_is_refused_and_saves_nothing() {
    let (s, orders) = shop_with_orders("ship-over@example.com", 1).await;
    let (number, id) = &orders[0];
    let mug = line_id(&s, id, "MUG").await;
    let before = order_with_shipments(&s, id).await;

    let res = ship(
        &s,
        json!([{ "orderId": id, "method": "MANUAL", "carrier": "UPS", "trackingNumber": "1Z1", "lines": [{ "lineId": mug, "quantity": 4 }] }]),
    )
    .await;

    let r = result(&res, 0);
    assert_eq!(codes(r), ["QUANTITY_EXCEEDS_UNSHIPPED"], "{res}");
    assert_eq!(
        r["userErrors"][0]["field"],
        json!(["lines", "0", "quantity"])
    );
    assert!(r["order"].is_null() && r["shipments"] == json!([]));
    assert_eq!(order_with_shipments(&s, id).await, before);
    assert_eq!(s.app.rows("shipments").await, 0);
    assert_eq!(store_order(&s, *number).await, (11, vec![]));
}

#[tokio::test]
async fn each_refusal_has_its_own_code() {
    let (s, orders) = shop_with_orders("ship-codes@example.com", 2).await;
    let (_, id) = &orders[0];
    let (_, other) = &orders[1];
    let other_line = line_id(&s, other, "MUG").await;
    let manual = |extra: Value| {
        let mut v =
            json!({ "orderId": id, "method": "MANUAL", "carrier": "UPS", "trackingNumber": "1Z1" });
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };

    let res = ship(
        &s,
        json!([
            manual(json!({ "lines": [{ "lineId": other_line, "quantity": 1 }] })),
            manual(json!({ "trackingNumber": "X".repeat(51) })),
            manual(json!({ "carrier": "  " })),
            manual(json!({ "orderId": "gid://orderdeck/Order/999999" })),
            manual(json!({ "lines": [{ "lineId": "nonsense", "quantity": 1 }] })),
            manual(json!({ "lines": [{ "lineId": other_line, "quantity": 0 }] })),
            { "orderId": id, "method": "LABEL", "trackingNumber": "Ä".repeat(3) },
            { "orderId": id, "method": "LABEL", "weight": "-1" },
        ]),
    )
    .await;

    let got: Vec<Vec<String>> = (0..8).map(|i| codes(result(&res, i))).collect();
    assert_eq!(
        got,
        [
            vec!["UNKNOWN_LINE"],
            vec!["TRACKING_NUMBER_TOO_LONG"],
            vec!["REQUIRED"],
            vec!["NOT_FOUND"],
            vec!["UNKNOWN_LINE"],
            vec!["INVALID"],
            vec!["INVALID"],
            vec!["INVALID"],
        ],
        "{res}"
    );
    assert_eq!(s.app.rows("shipments").await, 0);
    assert_eq!(shipment_posts(&s), 0);

    // A shipped order has nothing left; a canceled one cannot ship.
    let shipped = ship(&s, json!([manual(json!({}))])).await;
    assert_eq!(result(&shipped, 0)["userErrors"], json!([]), "{shipped}");
    let again = ship(&s, json!([manual(json!({}))])).await;
    assert_eq!(codes(result(&again, 0)), ["NOTHING_TO_SHIP"]);
    s.cancel(other).await;
    let canceled = ship(&s, json!([{ "orderId": other, "method": "LABEL" }])).await;
    assert_eq!(codes(result(&canceled, 0)), ["ORDER_CANCELED"]);
    let none = ship(&s, json!([])).await;
    assert_eq!(codes(&none), ["REQUIRED"]);
}

#[tokio::test]
async fn a_bulk_call_ships_the_good_orders_and_refuses_the_bad_one() {
    let (s, orders) = shop_with_orders("ship-bulk@example.com", 3).await;
    s.cancel(&orders[1].1).await;

    let res = ship(
        &s,
        json!(orders
            .iter()
            .map(|(_, id)| json!({ "orderId": id, "method": "LABEL", "carrier": "DHL Express" }))
            .collect::<Vec<_>>()),
    )
    .await;

    assert_eq!(res["userErrors"], json!([]), "{res}");
    assert_eq!(codes(result(&res, 1)), ["ORDER_CANCELED"], "{res}");
    assert_eq!(result(&res, 1)["orderId"], orders[1].1.as_str());
    for i in [0, 2] {
        let r = result(&res, i);
        assert_eq!(r["userErrors"], json!([]), "{res}");
        assert_eq!(r["order"]["status"], "SHIPPED");
        let sh = &r["shipments"][0];
        assert_eq!(sh["pushState"], "PUSHED", "{sh}");
        assert_eq!(sh["storeTrackingCarrier"], "dhl");
        let tracking = sh["trackingNumber"].as_str().unwrap();
        assert!(
            tracking.len() == 13 && tracking.starts_with("OD"),
            "a generated reference: {tracking}"
        );
        let (status, on_store) = store_order(&s, orders[i].0).await;
        assert_eq!(status, 2);
        assert_eq!(on_store[0]["tracking_number"], tracking);
    }
    assert_eq!(store_order(&s, orders[1].0).await, (11, vec![]));
    assert_eq!(shipment_posts(&s), 2);
}

#[tokio::test]
async fn a_push_failing_twice_then_succeeding_reaches_the_store_exactly_once() {
    let (s, orders) = shop_with_orders("ship-retry@example.com", 1).await;
    let (number, id) = &orders[0];
    // The stock the order took is pushed first, so the failures below hit the shipment.
    orderdeck::sync::push::run_once(&s.app.state, "test-worker")
        .await
        .unwrap();
    // The first POST fails; the second attempt's look at the store passes and its POST fails.
    s.app.faults(json!({ "schedule": [500, 0, 503] })).await;

    let res = ship(
        &s,
        json!([{ "orderId": id, "method": "MANUAL", "carrier": "UPS", "trackingNumber": "1Z2" }]),
    )
    .await;

    let r = result(&res, 0);
    assert_eq!(r["userErrors"], json!([]), "{res}");
    assert_eq!(
        r["order"]["status"], "SHIPPED",
        "shipped here whatever the store says"
    );
    let sh = &r["shipments"][0];
    assert_eq!(
        (&sh["pushState"], &sh["pushAttempts"]),
        (&json!("PENDING"), &json!(1))
    );
    assert!(
        sh["pushError"].is_string() && sh["pushRetryAt"].is_string(),
        "{sh}"
    );
    // (The store is not looked at here: that call would take the second injected failure.)

    let o = push_until(&s, id, |o| o["shipments"][0]["pushState"] == "PUSHED").await;

    let sh = &o["shipments"][0];
    assert_eq!(sh["pushAttempts"], 3, "{sh}");
    assert!(sh["pushError"].is_null() && sh["pushRetryAt"].is_null());
    let (status, on_store) = store_order(&s, *number).await;
    assert_eq!((status, on_store.len()), (2, 1), "exactly once");
    assert_eq!(
        shipment_posts(&s),
        3,
        "two refused by the faults, one created"
    );
    s.import("ORDERS").await;
    assert_eq!(order_with_shipments(&s, id).await["status"], "SHIPPED");
}

#[tokio::test]
async fn a_shipment_whose_answer_was_lost_is_found_on_the_store_and_not_sent_again() {
    let (s, orders) = shop_with_orders("ship-lost@example.com", 1).await;
    let (number, id) = &orders[0];
    s.app.faults(json!({ "lose_responses": 1 })).await;

    let res = ship(
        &s,
        json!([{ "orderId": id, "method": "MANUAL", "carrier": "FedEx", "trackingNumber": "FX1" }]),
    )
    .await;

    let sh = &result(&res, 0)["shipments"][0];
    assert_eq!(sh["pushState"], "PENDING", "{res}");
    assert_eq!(
        store_order(&s, *number).await.1.len(),
        1,
        "the store has it already"
    );

    let o = push_until(&s, id, |o| o["shipments"][0]["pushState"] == "PUSHED").await;

    let (_, on_store) = store_order(&s, *number).await;
    assert_eq!(on_store.len(), 1, "never sent twice");
    assert_eq!(shipment_posts(&s), 1);
    assert_eq!(
        on_store[0]["id"].to_string(),
        o["shipments"][0]["storeShipmentId"].as_str().unwrap()
    );
}

#[tokio::test]
async fn a_shipment_the_store_refuses_is_kept_failed_until_retried() {
    let (s, orders) = shop_with_orders("ship-refused@example.com", 1).await;
    let (number, id) = &orders[0];
    // The merchant shipped the mugs on the store itself; orderdeck has not imported it yet.
    s.ship_on_channel(*number, &[0]).await;

    let res = ship(
        &s,
        json!([{ "orderId": id, "method": "MANUAL", "carrier": "UPS", "trackingNumber": "1Z3" }]),
    )
    .await;

    let sh = &result(&res, 0)["shipments"][0];
    assert_eq!(sh["pushState"], "FAILED", "{res}");
    assert!(sh["pushError"].as_str().unwrap().contains("400"), "{sh}");
    assert!(sh["pushRetryAt"].is_null());
    // The worker leaves it alone.
    orderdeck::sync::push::run_once(&s.app.state, "test-worker")
        .await
        .unwrap();
    assert_eq!(shipment_posts(&s), 2);

    const RETRY: &str = "mutation($i: RetryShipmentPushInput!) { retryShipmentPush(input: $i) { shipment { pushState pushAttempts } userErrors { field code } } }";
    let retried = s
        .app
        .data(
            Some(&s.token),
            RETRY,
            json!({ "i": { "shipmentId": sh["id"] } }),
        )
        .await;
    let p = &retried["retryShipmentPush"];
    assert_eq!(p["userErrors"], json!([]), "{retried}");
    assert_eq!(
        (&p["shipment"]["pushState"], &p["shipment"]["pushAttempts"]),
        (&json!("FAILED"), &json!(2))
    );
    assert_eq!(shipment_posts(&s), 3);
    let again = s
        .app
        .data(
            Some(&s.token),
            RETRY,
            json!({ "i": { "shipmentId": sh["id"] } }),
        )
        .await;
    assert_eq!(
        again["retryShipmentPush"]["shipment"]["pushState"], "FAILED",
        "{again}"
    );
}

#[tokio::test]
async fn an_import_before_the_push_keeps_what_shipped_here() {
    let (s, orders) = shop_with_orders("ship-import@example.com", 1).await;
    let (number, id) = &orders[0];
    let mug = line_id(&s, id, "MUG").await;
    s.app.faults(json!({ "schedule": [503] })).await;
    let res = ship(
        &s,
        json!([{ "orderId": id, "method": "MANUAL", "carrier": "UPS", "trackingNumber": "1Z4", "lines": [{ "lineId": mug, "quantity": 3 }] }]),
    )
    .await;
    assert_eq!(
        result(&res, 0)["shipments"][0]["pushState"],
        "PENDING",
        "{res}"
    );

    s.import("ORDERS").await;

    let o = order_with_shipments(&s, id).await;
    assert_eq!(o["status"], "PARTIALLY_SHIPPED", "{o}");
    let mugs = o["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sku"] == "MUG")
        .unwrap()
        .clone();
    assert_eq!(mugs["quantityShipped"], 3);
    let o = push_until(&s, id, |o| o["shipments"][0]["pushState"] == "PUSHED").await;
    assert_eq!(o["status"], "PARTIALLY_SHIPPED");
    s.import("ORDERS").await;
    let o = order_with_shipments(&s, id).await;
    assert_eq!(o["status"], "PARTIALLY_SHIPPED");
    assert_eq!(store_order(&s, *number).await.0, 3);
}

#[tokio::test]
async fn repeating_a_call_with_its_idempotency_key_ships_nothing_twice() {
    let (s, orders) = shop_with_orders("ship-idem@example.com", 2).await;
    let (number, id) = &orders[0];
    let input =
        json!([{ "orderId": id, "method": "LABEL", "idempotencyKey": "pack-station-1/42" }]);

    let first = ship(&s, input.clone()).await;
    let again = ship(&s, input).await;

    assert_eq!(result(&first, 0)["userErrors"], json!([]), "{first}");
    assert_eq!(
        result(&again, 0)["shipments"][0]["id"],
        result(&first, 0)["shipments"][0]["id"],
        "{again}"
    );
    assert_eq!(store_order(&s, *number).await.1.len(), 1);
    let reused = ship(
        &s,
        json!([{ "orderId": orders[1].1, "method": "LABEL", "idempotencyKey": "pack-station-1/42" }]),
    )
    .await;
    assert_eq!(codes(result(&reused, 0)), ["IDEMPOTENCY_KEY_REUSED"]);
}

#[tokio::test]
async fn two_concurrent_shipments_of_a_whole_order_ship_it_once() {
    let (s, orders) = shop_with_orders("ship-race@example.com", 1).await;
    let (number, id) = &orders[0];
    let input =
        json!([{ "orderId": id, "method": "MANUAL", "carrier": "UPS", "trackingNumber": "1Z5" }]);

    let (a, b) = tokio::join!(ship(&s, input.clone()), ship(&s, input));

    let mut got = vec![codes(result(&a, 0)), codes(result(&b, 0))];
    got.sort();
    assert_eq!(
        got,
        [vec![], vec!["NOTHING_TO_SHIP".to_string()]],
        "{a} {b}"
    );
    assert_eq!(store_order(&s, *number).await.1.len(), 1);
}

#[tokio::test]
async fn an_international_shipment_carries_the_contact_rule_and_a_customs_declaration() {
    let (s, orders) = shop_with_orders("ship-customs@example.com", 1).await;
    let (_, id) = &orders[0];
    let o = s
        .app
        .data(
            Some(&s.token),
            "query($id: ID!) { order(id: $id) { customerPhone shippingAddresses { address { countryCode phone email } } } }",
            json!({ "id": id }),
        )
        .await;
    let destination = o["order"]["shippingAddresses"][0]["address"]["countryCode"]
        .as_str()
        .unwrap()
        .to_string();
    // A sender in another country than the parcel's destination, outside the EU.
    let origin = if destination == "US" { "CA" } else { "US" };
    let updated = s
        .app
        .data(
            Some(&s.token),
            "mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) { userErrors { field code message } } }",
            json!({ "i": {
                "id": s.gid,
                "iossNumber": "IM2760000742",
                "phone": "+1 555 0100",
                "email": "dispatch@example.com",
                "phoneMode": "OVERWRITE",
                "emailMode": "OVERWRITE",
                "returnAddress": { "name": "Returns", "street1": "1 Dock Road", "city": "Springfield", "postalCode": "12345", "countryCode": origin },
            } }),
        )
        .await;
    assert_eq!(
        updated["updateIntegration"]["userErrors"],
        json!([]),
        "{updated}"
    );

    let res = ship(&s, json!([{ "orderId": id, "method": "LABEL" }])).await;

    let sh = &result(&res, 0)["shipments"][0];
    assert_eq!(
        (&sh["contactPhone"], &sh["contactEmail"]),
        (&json!("+1 555 0100"), &json!("dispatch@example.com")),
        "{sh}"
    );
    let customs = &sh["customs"];
    assert_eq!(customs["originCountry"], origin, "{sh}");
    assert_eq!(customs["destinationCountry"], destination.as_str());
    assert_eq!(customs["items"].as_array().unwrap().len(), 2);
    let eu = [
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
        "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    ];
    let expected_ioss = if eu.contains(&destination.as_str()) {
        json!("IM2760000742")
    } else {
        Value::Null
    };
    assert_eq!(customs["iossNumber"], expected_ioss);
}
