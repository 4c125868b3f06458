//! `cancelOrder` and `deleteProduct` (docs/rules.md §4, §5) through the API: each order
//! status, a second cancel, later imports, and a product deleted here coming back.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{
    a_second_passes, assert_ledger_explains, codes, delete_product, error_field, shop, Shop,
    TestApp,
};

/// Requests other than reads that the sandbox store received (writes to the store).
fn store_writes(app: &TestApp) -> usize {
    orderdeck_sandbox::server::lock(&app.sandbox.state)
        .request_log
        .iter()
        .filter(|r| r.method != "GET")
        .count()
}

/// A shop with MUG (20) and CUP (10) imported, and an order of 3 MUG and 2 CUP placed and
/// imported (stock 17 and 8); the order's number and global id.
async fn ordered(email: &str, extra: Value) -> (Shop, i64, String) {
    let s = shop(email).await;
    s.stocked(&[("MUG", 20), ("CUP", 10)]).await;
    a_second_passes().await;
    let number = s
        .place_with(
            json!([{ "sku": "MUG", "quantity": 3 }, { "sku": "CUP", "quantity": 2 }]),
            extra,
        )
        .await;
    s.import("ORDERS").await;
    let o = s.order(number).await;
    assert_eq!(o["stockTaken"], true, "{o}");
    assert_eq!((s.stock("MUG").await, s.stock("CUP").await), (17, 8));
    let id = o["id"].as_str().unwrap().to_string();
    (s, number, id)
}

/// Every movement of MUG and CUP, newest first.
async fn ledgers(s: &Shop) -> (Vec<Value>, Vec<Value>) {
    let (mug, cup) = (s.product("MUG").await, s.product("CUP").await);
    (
        s.ledger(mug["id"].as_str().unwrap()).await,
        s.ledger(cup["id"].as_str().unwrap()).await,
    )
}

/// The order is `CANCELED` with nothing given back: the ledgers are `ledger` still and the
/// stock stays at what the order left (17 MUG, 8 CUP).
async fn assert_canceled_without_restock(s: &Shop, number: i64, ledger: &(Vec<Value>, Vec<Value>)) {
    let o = s.order(number).await;
    assert_eq!(
        (&o["status"], &o["restocked"]),
        (&json!("CANCELED"), &json!(false)),
        "{o}"
    );
    assert_eq!(&ledgers(s).await, ledger);
    assert_eq!((s.stock("MUG").await, s.stock("CUP").await), (17, 8));
}

// ---------------------------------------------------------------------------------------------
// cancelOrder
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn canceling_a_new_order_cancels_it_here_and_gives_back_what_it_took() {
    let (s, number, id) = ordered("cancel-new@example.com", json!({})).await;
    assert_eq!(s.order(number).await["status"], "NEW");

    let res = s.cancel(&id).await;

    assert_eq!(res["userErrors"], json!([]), "{res}");
    let o = &res["order"];
    assert_eq!(
        (&o["status"], &o["restocked"]),
        (&json!("CANCELED"), &json!(true))
    );
    assert!(o["canceledHereAt"].is_string(), "{o}");
    assert_eq!(s.order(number).await, *o);
    assert_eq!((s.stock("MUG").await, s.stock("CUP").await), (20, 10));
    let (mug, cup) = ledgers(&s).await;
    let me = s.me().await;
    for (ledger, back, stock) in [(&mug, 3, 20), (&cup, 2, 10)] {
        let m = &ledger[0];
        assert_eq!(
            (&m["reason"], &m["delta"], &m["orderId"], &m["actorUserId"]),
            (
                &json!("ORDER_CANCELED"),
                &json!(back),
                &json!(id),
                &json!(me)
            )
        );
        assert_ledger_explains(ledger, stock, "after the cancel");
    }
}

#[tokio::test]
async fn canceling_an_unpaid_order_gives_back_what_it_took() {
    let (s, number, id) = ordered("cancel-unpaid@example.com", json!({ "status_id": 7 })).await;
    assert_eq!(s.order(number).await["status"], "UNPAID");

    let res = s.cancel(&id).await;

    assert_eq!(res["userErrors"], json!([]), "{res}");
    assert_eq!(res["order"]["status"], "CANCELED");
    assert_eq!(res["order"]["restocked"], true);
    assert_eq!((s.stock("MUG").await, s.stock("CUP").await), (20, 10));
}

#[tokio::test]
async fn canceling_a_shipped_order_does_not_restock() {
    let (s, number, id) = ordered("cancel-shipped@example.com", json!({})).await;
    s.ship_on_channel(number, &[0, 1]).await;
    s.import("ORDERS").await;
    assert_eq!(s.order(number).await["status"], "SHIPPED");
    let before = ledgers(&s).await;

    let res = s.cancel(&id).await;

    assert_eq!(res["userErrors"], json!([]), "{res}");
    assert_eq!(res["order"]["status"], "CANCELED");
    assert_eq!(res["order"]["restocked"], false);
    assert!(res["order"]["canceledHereAt"].is_string());
    assert_eq!((s.stock("MUG").await, s.stock("CUP").await), (17, 8));
    assert_eq!(ledgers(&s).await, before);
}

#[tokio::test]
async fn canceling_a_partially_shipped_order_gives_back_only_what_had_not_shipped() {
    let (s, number, id) = ordered("cancel-partial@example.com", json!({})).await;
    // One of the 3 MUG ships; the 2 CUP do not.
    let lines = s
        .app
        .store_api(
            &s.app.store,
            Method::GET,
            &format!("v2/orders/{number}/products"),
            None,
        )
        .await;
    let mug = lines
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sku"] == "MUG")
        .unwrap()
        .clone();
    s.app
        .store_api(
            &s.app.store,
            Method::POST,
            &format!("v2/orders/{number}/shipments"),
            Some(json!({
                "order_address_id": mug["order_address_id"],
                "tracking_number": "TRK1",
                "items": [{ "order_product_id": mug["id"], "quantity": 1 }],
            })),
        )
        .await;
    s.import("ORDERS").await;
    assert_eq!(s.order(number).await["status"], "PARTIALLY_SHIPPED");

    let res = s.cancel(&id).await;

    assert_eq!(res["userErrors"], json!([]), "{res}");
    assert_eq!(res["order"]["status"], "CANCELED");
    assert_eq!(res["order"]["restocked"], true);
    assert_eq!((s.stock("MUG").await, s.stock("CUP").await), (19, 10));
    let (mug, cup) = ledgers(&s).await;
    assert_eq!(
        (&mug[0]["reason"], &mug[0]["delta"]),
        (&json!("ORDER_CANCELED"), &json!(2))
    );
    assert_eq!(
        (&cup[0]["reason"], &cup[0]["delta"]),
        (&json!("ORDER_CANCELED"), &json!(2))
    );
    assert_ledger_explains(&mug, 19, "MUG");
    assert_ledger_explains(&cup, 10, "CUP");
}

#[tokio::test]
async fn canceling_twice_changes_nothing_the_second_time() {
    let (s, _, id) = ordered("cancel-twice@example.com", json!({})).await;
    let first = s.cancel(&id).await;
    assert_eq!(first["userErrors"], json!([]), "{first}");
    let before = ledgers(&s).await;

    let second = s.cancel(&id).await;

    assert_eq!(second, first);
    assert_eq!(ledgers(&s).await, before);
    assert_eq!((s.stock("MUG").await, s.stock("CUP").await), (20, 10));
}

#[tokio::test]
async fn concurrent_cancels_of_one_order_give_back_once() {
    let (s, _, id) = ordered("cancel-race@example.com", json!({})).await;

    let results = futures_util::future::join_all((0..6).map(|_| s.cancel(&id))).await;

    for r in &results {
        assert_eq!(r["userErrors"], json!([]), "{r}");
        assert_eq!(r["order"]["status"], "CANCELED");
    }
    assert_eq!((s.stock("MUG").await, s.stock("CUP").await), (20, 10));
    let (mug, _) = ledgers(&s).await;
    assert_eq!(mug.len(), 3, "initial, placed, canceled");
}

#[tokio::test]
async fn an_order_canceled_on_the_channel_is_returned_unchanged() {
    let (s, number, id) = ordered("cancel-canceled@example.com", json!({})).await;
    s.set_channel_status(number, 5).await;
    s.import("ORDERS").await;
    let before = s.order(number).await;
    assert_eq!(
        (&before["status"], &before["restocked"]),
        (&json!("CANCELED"), &json!(true))
    );
    let ledger = ledgers(&s).await;

    let res = s.cancel(&id).await;

    assert_eq!(res["userErrors"], json!([]), "{res}");
    assert_eq!(res["order"], before);
    assert!(res["order"]["canceledHereAt"].is_null());
    assert_eq!(ledgers(&s).await, ledger);
    assert_eq!((s.stock("MUG").await, s.stock("CUP").await), (20, 10));
}

#[tokio::test]
async fn a_refunded_order_cannot_be_canceled() {
    let (s, number, id) = ordered("cancel-refunded@example.com", json!({})).await;
    s.set_channel_status(number, 4).await;
    s.import("ORDERS").await;
    let before = s.order(number).await;
    assert_eq!(before["status"], "REFUNDED");
    let ledger = ledgers(&s).await;

    let res = s.cancel(&id).await;

    assert_eq!(codes(&res), ["ORDER_NOT_CANCELABLE"], "{res}");
    assert_eq!(error_field(&res), json!(["orderId"]));
    assert!(res["order"].is_null());
    assert_eq!(s.order(number).await, before);
    assert_eq!(ledgers(&s).await, ledger);
}

#[tokio::test]
async fn an_unknown_or_malformed_order_id_is_not_found() {
    let (s, number, _) = ordered("cancel-unknown@example.com", json!({})).await;
    let before = s.order(number).await;

    for id in [
        "gid://orderdeck/Order/999999",
        "gid://orderdeck/Product/1",
        "nonsense",
    ] {
        let res = s.cancel(id).await;
        assert_eq!(codes(&res), ["NOT_FOUND"], "{res}");
        assert_eq!(error_field(&res), json!(["orderId"]));
    }
    assert_eq!(s.order(number).await, before);
}

#[tokio::test]
async fn canceling_an_order_whose_lines_took_no_stock_moves_nothing() {
    let s = shop("cancel-unlinked@example.com").await;
    s.stocked(&[("MUG", 20)]).await;
    s.app
        .sandbox_action(
            &s.app.store.hash,
            Method::POST,
            "products",
            json!({ "name": "Not imported", "sku": "ELSEWHERE", "inventory_level": 5 }),
        )
        .await;
    let number = s
        .place(json!([{ "sku": "ELSEWHERE", "quantity": 1 }]))
        .await;
    s.import("ORDERS").await;
    let o = s.order(number).await;
    assert_eq!(o["stockTaken"], true, "{o}");

    let res = s.cancel(o["id"].as_str().unwrap()).await;

    assert_eq!(res["userErrors"], json!([]), "{res}");
    assert_eq!(res["order"]["status"], "CANCELED");
    assert_eq!(res["order"]["restocked"], false);
    assert_eq!(s.stock("MUG").await, 20);
    assert_eq!(s.app.rows("stock_movements").await, 1);
}

#[tokio::test]
async fn canceling_sends_nothing_to_the_store() {
    let (s, number, id) = ordered("cancel-local@example.com", json!({})).await;
    let writes = store_writes(&s.app);

    let res = s.cancel(&id).await;

    assert_eq!(res["userErrors"], json!([]), "{res}");
    assert_eq!(store_writes(&s.app), writes);
    let on_store = s
        .app
        .store_api(
            &s.app.store,
            Method::GET,
            &format!("v2/orders/{number}"),
            None,
        )
        .await;
    assert_eq!(
        on_store["status_id"], 11,
        "still Awaiting Fulfillment on the store"
    );
}

#[tokio::test]
async fn an_import_after_a_local_cancel_keeps_it_canceled_and_moves_no_stock() {
    let (s, number, id) = ordered("cancel-import@example.com", json!({})).await;
    let canceled = s.cancel(&id).await["order"].clone();
    let ledger = ledgers(&s).await;

    // Still open on the store: imports see it unchanged, then shipped, then canceled there.
    s.import("ORDERS").await;
    assert_eq!(s.order(number).await, canceled);
    a_second_passes().await;
    s.ship_on_channel(number, &[0]).await;
    s.import("ORDERS").await;
    let after_ship = s.order(number).await;
    a_second_passes().await;
    s.set_channel_status(number, 5).await;
    s.import("ORDERS").await;
    let after_cancel = s.order(number).await;

    for o in [&after_ship, &after_cancel] {
        assert_eq!(
            (&o["status"], &o["restocked"], &o["canceledHereAt"]),
            (
                &json!("CANCELED"),
                &json!(true),
                &canceled["canceledHereAt"]
            ),
            "{o}"
        );
    }
    assert_eq!(
        after_cancel["channelStatusId"], 5,
        "the store's own status is kept"
    );
    assert_eq!(ledgers(&s).await, ledger);
    assert_eq!((s.stock("MUG").await, s.stock("CUP").await), (20, 10));
}

#[tokio::test]
async fn an_import_after_canceling_a_shipped_order_here_moves_no_stock() {
    let (s, number, id) = ordered("cancel-shipped-import@example.com", json!({})).await;
    s.ship_on_channel(number, &[0, 1]).await;
    s.import("ORDERS").await;
    s.cancel(&id).await;
    let ledger = ledgers(&s).await;

    a_second_passes().await;
    s.set_channel_status(number, 5).await;
    s.import("ORDERS").await;

    assert_canceled_without_restock(&s, number, &ledger).await;
}

#[tokio::test]
async fn an_order_shipped_here_and_canceled_on_the_store_before_the_shipment_reached_it_is_not_restocked(
) {
    let (s, number, id) = ordered("cancel-shipped-unpushed@example.com", json!({})).await;
    // The store fails while the shipment is sent: it stays here, waiting for a retry.
    s.app
        .faults(json!({ "error_rate": 1.0, "random_status": 500 }))
        .await;
    let shipped = s
        .app
        .data(
            Some(&s.token),
            "mutation($i: ShipOrdersInput!) { shipOrders(input: $i) { results { shipments { pushState } userErrors { code } } userErrors { code } } }",
            json!({ "i": { "shipments": [{ "orderId": id, "method": "LABEL" }] } }),
        )
        .await["shipOrders"]
        .clone();
    assert_eq!(shipped["results"][0]["userErrors"], json!([]), "{shipped}");
    assert_eq!(
        shipped["results"][0]["shipments"][0]["pushState"], "PENDING",
        "{shipped}"
    );
    s.app.clear_faults().await;
    let ledger = ledgers(&s).await;

    a_second_passes().await;
    s.set_channel_status(number, 5).await;
    s.import("ORDERS").await;

    assert_canceled_without_restock(&s, number, &ledger).await;
}

// ---------------------------------------------------------------------------------------------
// deleteProduct
// ---------------------------------------------------------------------------------------------

/// The SKUs `products` lists.
async fn listed_skus(s: &Shop) -> Vec<Value> {
    let page = s
        .app
        .data(
            Some(&s.token),
            "{ products(first: 50) { totalCount nodes { sku } } }",
            json!({}),
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

#[tokio::test]
async fn deleting_a_product_hides_it_here_and_leaves_the_store_alone() {
    let s = shop("delete@example.com").await;
    let ids = s.stocked(&[("MUG", 12), ("CUP", 4)]).await;
    let writes = store_writes(&s.app);

    let res = delete_product(&s.app, &s.token, json!({ "productId": ids["MUG"] })).await;

    assert_eq!(res["userErrors"], json!([]), "{res}");
    assert_eq!(res["deletedProductId"], ids["MUG"].as_str());
    assert!(s.product("MUG").await.is_null());
    let by_id = s
        .app
        .data(
            Some(&s.token),
            "query($id: ID) { product(id: $id) { id } }",
            json!({ "id": ids["MUG"] }),
        )
        .await;
    assert!(by_id["product"].is_null(), "{by_id}");
    assert_eq!(listed_skus(&s).await, vec![json!("CUP")]);
    assert_eq!(store_writes(&s.app), writes, "nothing sent to the store");
    let on_store = s
        .app
        .sandbox
        .with_store(&s.app.store.hash, |st| {
            st.products.values().filter(|p| p.sku == "MUG").count()
        })
        .unwrap();
    assert_eq!(on_store, 1, "the store keeps it");
}

#[tokio::test]
async fn a_product_deleted_here_comes_back_with_its_stock_and_ledger_at_the_next_product_import() {
    let s = shop("delete-back@example.com").await;
    let ids = s.stocked(&[("MUG", 12)]).await;
    s.adjust_stock(json!({ "sku": "MUG", "delta": 3, "reason": "Delivery" }))
        .await;
    let ledger = s.ledger(&ids["MUG"]).await;
    let res = delete_product(&s.app, &s.token, json!({ "sku": "MUG" })).await;
    assert_eq!(res["userErrors"], json!([]), "{res}");
    assert!(s.product("MUG").await.is_null());

    s.import("PRODUCTS").await;

    let back = s.product("MUG").await;
    assert_eq!(back["id"], ids["MUG"].as_str(), "the same product");
    assert_eq!(back["stock"], 15);
    // Its ledger is kept (the import may add a drift record: the store was never pushed to).
    let after = s.ledger(&ids["MUG"]).await;
    assert!(after.ends_with(&ledger), "{after:?}");
    assert_ledger_explains(&after, 15, "MUG");
    assert_eq!(listed_skus(&s).await, vec![json!("MUG")]);
}

#[tokio::test]
async fn deleting_an_unknown_or_already_deleted_product_is_not_found() {
    let s = shop("delete-unknown@example.com").await;
    let ids = s.stocked(&[("MUG", 12)]).await;
    let first = delete_product(&s.app, &s.token, json!({ "sku": "MUG" })).await;
    assert_eq!(first["userErrors"], json!([]), "{first}");

    for (input, field) in [
        (json!({ "sku": "MUG" }), "sku"),
        (json!({ "productId": ids["MUG"] }), "productId"),
        (json!({ "sku": "NO-SUCH" }), "sku"),
        (
            json!({ "productId": "gid://orderdeck/Product/999999" }),
            "productId",
        ),
        (json!({ "productId": "nonsense" }), "productId"),
    ] {
        let res = delete_product(&s.app, &s.token, input).await;
        assert_eq!(codes(&res), ["NOT_FOUND"], "{res}");
        assert_eq!(error_field(&res), json!([field]), "{res}");
        assert!(res["deletedProductId"].is_null());
    }
}

#[tokio::test]
async fn deleting_with_both_or_neither_product_id_and_sku_is_ambiguous() {
    let s = shop("delete-ambiguous@example.com").await;
    let ids = s.stocked(&[("MUG", 12)]).await;

    for input in [json!({}), json!({ "productId": ids["MUG"], "sku": "MUG" })] {
        let res = delete_product(&s.app, &s.token, input).await;
        assert_eq!(codes(&res), ["AMBIGUOUS_PRODUCT"], "{res}");
        assert_eq!(error_field(&res), json!(["productId"]));
    }
    assert_eq!(s.stock("MUG").await, 12);
}
