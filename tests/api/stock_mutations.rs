//! `setStock` and `adjustStock` (docs/rules.md §4) through the API: validation, the
//! idempotency key, compare-and-set, negative stock, and the ledger under concurrency and
//! under a randomized mix of mutations, imports and cancels. Products come from the sandbox
//! store through `syncNow`; every assertion reads the GraphQL API.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::support::{
    a_second_passes, adjust_stock, assert_ledger_explains, codes, delete_product, error_field,
    product, shop, Shop,
};

// ---------------------------------------------------------------------------------------------
// Changing stock
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn set_stock_by_sku_sets_the_figure_and_records_a_manual_set_by_the_user() {
    let s = shop("set@example.com").await;
    let ids = s.stocked(&[("MUG", 12)]).await;

    let res = s
        .set_stock(json!({ "sku": "MUG", "quantity": 30, "reason": "Stock count" }))
        .await;

    assert_eq!(res["userErrors"], json!([]), "{res}");
    assert_eq!(res["product"]["stock"], 30);
    assert_eq!(res["product"]["id"], ids["MUG"].as_str());
    let m = &res["movement"];
    assert_eq!(
        (&m["delta"], &m["quantityAfter"], &m["reason"], &m["note"]),
        (
            &json!(18),
            &json!(30),
            &json!("MANUAL_SET"),
            &json!("Stock count")
        )
    );
    assert_eq!(m["actorUserId"], s.me().await.as_str());
    assert!(
        m["orderId"].is_null() && m["integrationId"].is_null(),
        "{m}"
    );
    assert_eq!(s.stock("MUG").await, 30);
    let ledger = s.ledger(&ids["MUG"]).await;
    assert_eq!(ledger[0]["id"], m["id"]);
    assert_ledger_explains(&ledger, 30, "MUG");
}

#[tokio::test]
async fn adjust_stock_by_product_id_adds_the_delta_and_records_a_manual_adjust_by_the_user() {
    let s = shop("adjust@example.com").await;
    let ids = s.stocked(&[("MUG", 12)]).await;

    let taken = s
        .adjust_stock(json!({ "productId": ids["MUG"], "delta": -5, "reason": "Broken" }))
        .await;
    let added = s
        .adjust_stock(json!({ "productId": ids["MUG"], "delta": 3, "reason": "Found" }))
        .await;

    assert_eq!(taken["userErrors"], json!([]), "{taken}");
    assert_eq!(added["userErrors"], json!([]), "{added}");
    assert_eq!(
        (
            &taken["movement"]["delta"],
            &taken["movement"]["quantityAfter"]
        ),
        (&json!(-5), &json!(7))
    );
    assert_eq!(added["product"]["stock"], 10);
    assert_eq!(added["movement"]["reason"], "MANUAL_ADJUST");
    assert_eq!(added["movement"]["note"], "Found");
    assert_eq!(added["movement"]["actorUserId"], s.me().await.as_str());
    assert_eq!(s.stock("MUG").await, 10);
    let ledger = s.ledger(&ids["MUG"]).await;
    assert_eq!(ledger.len(), 3);
    assert_ledger_explains(&ledger, 10, "MUG");
}

/// Sends the same refused input to both mutations and checks nothing changed.
async fn refused_by_both(s: &Shop, sku: &str, input: Value, code: &str, field: Value) {
    let before = s.product(sku).await;
    let ledger = s.ledger(before["id"].as_str().unwrap()).await;
    let mut set = input.clone();
    set["quantity"] = json!(5);
    let mut adjust = input;
    adjust["delta"] = json!(5);
    for res in [s.set_stock(set).await, s.adjust_stock(adjust).await] {
        assert_eq!(codes(&res), [code], "{res}");
        assert_eq!(error_field(&res), field, "{res}");
        assert!(
            res["product"].is_null() && res["movement"].is_null(),
            "{res}"
        );
    }
    assert_eq!(s.product(sku).await, before);
    assert_eq!(s.ledger(before["id"].as_str().unwrap()).await, ledger);
}

#[tokio::test]
async fn giving_both_a_product_id_and_a_sku_is_ambiguous() {
    let s = shop("both@example.com").await;
    let ids = s.stocked(&[("MUG", 12)]).await;

    refused_by_both(
        &s,
        "MUG",
        json!({ "productId": ids["MUG"], "sku": "MUG", "reason": "x" }),
        "AMBIGUOUS_PRODUCT",
        json!(["productId"]),
    )
    .await;
}

#[tokio::test]
async fn giving_neither_a_product_id_nor_a_sku_is_ambiguous() {
    let s = shop("neither@example.com").await;
    s.stocked(&[("MUG", 12)]).await;

    refused_by_both(
        &s,
        "MUG",
        json!({ "reason": "x" }),
        "AMBIGUOUS_PRODUCT",
        json!(["productId"]),
    )
    .await;
}

#[tokio::test]
async fn an_unknown_sku_is_not_found() {
    let s = shop("unknown-sku@example.com").await;
    s.stocked(&[("MUG", 12)]).await;

    refused_by_both(
        &s,
        "MUG",
        json!({ "sku": "NO-SUCH", "reason": "x" }),
        "NOT_FOUND",
        json!(["sku"]),
    )
    .await;
}

#[tokio::test]
async fn an_unknown_or_malformed_product_id_is_not_found() {
    let s = shop("unknown-id@example.com").await;
    s.stocked(&[("MUG", 12)]).await;

    for id in [
        "gid://orderdeck/Product/999999",
        "gid://orderdeck/Order/1",
        "nonsense",
    ] {
        refused_by_both(
            &s,
            "MUG",
            json!({ "productId": id, "reason": "x" }),
            "NOT_FOUND",
            json!(["productId"]),
        )
        .await;
    }
}

#[tokio::test]
async fn a_deleted_product_is_not_found_by_id_or_by_sku() {
    let s = shop("deleted@example.com").await;
    let ids = s.stocked(&[("MUG", 12), ("CUP", 4)]).await;
    let deleted = delete_product(&s.app, &s.token, json!({ "sku": "MUG" })).await;
    assert_eq!(deleted["userErrors"], json!([]), "{deleted}");
    let cup = s.product("CUP").await;

    for (input, field) in [
        (json!({ "productId": ids["MUG"] }), "productId"),
        (json!({ "sku": "MUG" }), "sku"),
    ] {
        let mut set = input.clone();
        set["quantity"] = json!(1);
        set["reason"] = json!("x");
        let mut adjust = input;
        adjust["delta"] = json!(1);
        adjust["reason"] = json!("x");
        for res in [s.set_stock(set).await, s.adjust_stock(adjust).await] {
            assert_eq!(codes(&res), ["NOT_FOUND"], "{res}");
            assert_eq!(error_field(&res), json!([field]), "{res}");
        }
    }
    assert_eq!(s.product("CUP").await, cup);
    assert_eq!(s.ledger(&ids["MUG"]).await.len(), 1, "nothing recorded");
}

#[tokio::test]
async fn a_blank_reason_is_required() {
    let s = shop("no-reason@example.com").await;
    s.stocked(&[("MUG", 12)]).await;

    refused_by_both(
        &s,
        "MUG",
        json!({ "sku": "MUG", "reason": "   " }),
        "REQUIRED",
        json!(["reason"]),
    )
    .await;
}

#[tokio::test]
async fn a_reason_longer_than_200_characters_is_too_long_and_200_are_accepted() {
    let s = shop("long-reason@example.com").await;
    s.stocked(&[("MUG", 12)]).await;

    refused_by_both(
        &s,
        "MUG",
        json!({ "sku": "MUG", "reason": "é".repeat(201) }),
        "TOO_LONG",
        json!(["reason"]),
    )
    .await;
    let ok = s
        .adjust_stock(json!({ "sku": "MUG", "delta": 1, "reason": "é".repeat(200) }))
        .await;
    assert_eq!(ok["userErrors"], json!([]), "{ok}");
    assert_eq!(ok["movement"]["note"], "é".repeat(200));
}

#[tokio::test]
async fn an_idempotency_key_longer_than_200_characters_is_too_long() {
    let s = shop("long-key@example.com").await;
    s.stocked(&[("MUG", 12)]).await;

    refused_by_both(
        &s,
        "MUG",
        json!({ "sku": "MUG", "reason": "x", "idempotencyKey": "k".repeat(201) }),
        "TOO_LONG",
        json!(["idempotencyKey"]),
    )
    .await;
    let ok = s
        .adjust_stock(
            json!({ "sku": "MUG", "delta": 1, "reason": "x", "idempotencyKey": "k".repeat(200) }),
        )
        .await;
    assert_eq!(ok["userErrors"], json!([]), "{ok}");
}

#[tokio::test]
async fn a_blank_idempotency_key_is_invalid() {
    let s = shop("blank-key@example.com").await;
    s.stocked(&[("MUG", 12)]).await;

    refused_by_both(
        &s,
        "MUG",
        json!({ "sku": "MUG", "reason": "x", "idempotencyKey": " " }),
        "INVALID",
        json!(["idempotencyKey"]),
    )
    .await;
}

#[tokio::test]
async fn a_delta_of_zero_is_invalid() {
    let s = shop("zero@example.com").await;
    let ids = s.stocked(&[("MUG", 12)]).await;

    let res = s
        .adjust_stock(json!({ "sku": "MUG", "delta": 0, "reason": "nothing" }))
        .await;

    assert_eq!(codes(&res), ["INVALID"], "{res}");
    assert_eq!(error_field(&res), json!(["delta"]));
    assert_eq!(s.stock("MUG").await, 12);
    assert_eq!(s.ledger(&ids["MUG"]).await.len(), 1);
}

#[tokio::test]
async fn a_figure_or_delta_beyond_a_billion_either_way_is_invalid() {
    let s = shop("huge@example.com").await;
    let ids = s.stocked(&[("MUG", 12)]).await;

    let set = s
        .set_stock(json!({ "sku": "MUG", "quantity": 2_000_000_000_i64, "reason": "x" }))
        .await;
    let adjust = s
        .adjust_stock(
            json!({ "sku": "MUG", "delta": i64::MIN, "reason": "x", "allowNegative": true }),
        )
        .await;

    assert_eq!(codes(&set), ["INVALID"], "{set}");
    assert_eq!(error_field(&set), json!(["quantity"]));
    assert_eq!(codes(&adjust), ["INVALID"], "{adjust}");
    assert_eq!(error_field(&adjust), json!(["delta"]));
    assert_eq!(s.stock("MUG").await, 12);
    assert_eq!(s.ledger(&ids["MUG"]).await.len(), 1);
}

#[tokio::test]
async fn setting_the_figure_it_already_has_records_a_movement_of_zero() {
    let s = shop("same@example.com").await;
    let ids = s.stocked(&[("MUG", 12)]).await;

    let res = s
        .set_stock(json!({ "sku": "MUG", "quantity": 12, "reason": "Counted, all there" }))
        .await;

    assert_eq!(res["userErrors"], json!([]), "{res}");
    assert_eq!(
        (&res["movement"]["delta"], &res["movement"]["quantityAfter"]),
        (&json!(0), &json!(12))
    );
    assert_ledger_explains(&s.ledger(&ids["MUG"]).await, 12, "MUG");
}

// ---------------------------------------------------------------------------------------------
// Idempotency
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_retried_adjustment_with_the_same_key_applies_once_and_returns_the_first_movement() {
    let s = shop("retry-adjust@example.com").await;
    let ids = s.stocked(&[("MUG", 12)]).await;
    let input = json!({ "sku": "MUG", "delta": -2, "reason": "Sold at the fair", "idempotencyKey": "fair-1" });

    let first = s.adjust_stock(input.clone()).await;
    let second = s.adjust_stock(input.clone()).await;
    // The same change named by id instead of SKU is the same change.
    let mut by_id = input;
    by_id.as_object_mut().unwrap().remove("sku");
    by_id["productId"] = json!(ids["MUG"]);
    let third = s.adjust_stock(by_id).await;

    assert_eq!(first["userErrors"], json!([]), "{first}");
    assert_eq!(second, first);
    assert_eq!(third, first);
    assert_eq!(s.stock("MUG").await, 10);
    assert_eq!(s.ledger(&ids["MUG"]).await.len(), 2);
}

#[tokio::test]
async fn a_retried_set_with_the_same_key_applies_once_even_after_the_stock_moved_on() {
    let s = shop("retry-set@example.com").await;
    let ids = s.stocked(&[("MUG", 12)]).await;
    let input = json!({ "sku": "MUG", "quantity": 20, "reason": "Count", "idempotencyKey": "count-7", "expectedQuantity": 12 });

    let first = s.set_stock(input.clone()).await;
    s.adjust_stock(json!({ "sku": "MUG", "delta": -1, "reason": "Sold" }))
        .await;
    let retry = s.set_stock(input).await;

    assert_eq!(first["userErrors"], json!([]), "{first}");
    assert_eq!(retry["userErrors"], json!([]), "{retry}");
    assert_eq!(retry["movement"], first["movement"]);
    assert_eq!(retry["product"]["stock"], 19, "the product as it is now");
    assert_eq!(s.stock("MUG").await, 19);
    assert_eq!(s.ledger(&ids["MUG"]).await.len(), 3);
}

#[tokio::test]
async fn concurrent_retries_with_the_same_key_apply_once() {
    let s = shop("retry-race@example.com").await;
    let ids = s.stocked(&[("MUG", 12)]).await;
    let input =
        json!({ "sku": "MUG", "delta": 5, "reason": "Delivery", "idempotencyKey": "delivery-1" });

    let results = join_all((0..8).map(|_| s.adjust_stock(input.clone()))).await;

    for r in &results {
        assert_eq!(r["userErrors"], json!([]), "{r}");
        assert_eq!(r["movement"], results[0]["movement"]);
    }
    assert_eq!(s.stock("MUG").await, 17);
    assert_eq!(s.ledger(&ids["MUG"]).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_sharing_a_key_for_two_products_apply_one_and_refuse_the_other() {
    let s = shop("key-race@example.com").await;
    let ids = s.stocked(&[("MUG", 100), ("CUP", 100)]).await;

    for round in 0..10 {
        let key = format!("shared-{round}");
        let (mug, cup) = tokio::join!(
            s.adjust_stock(
                json!({ "sku": "MUG", "delta": 1, "reason": "x", "idempotencyKey": key })
            ),
            s.adjust_stock(
                json!({ "sku": "CUP", "delta": 1, "reason": "x", "idempotencyKey": key })
            ),
        );
        let mut outcomes = vec![codes(&mug), codes(&cup)];
        outcomes.sort();
        assert_eq!(
            outcomes,
            vec![vec![], vec!["IDEMPOTENCY_KEY_REUSED".to_string()]],
            "{mug} {cup}"
        );
    }

    let (mug, cup) = (s.stock("MUG").await, s.stock("CUP").await);
    assert_eq!(mug + cup, 210);
    assert_ledger_explains(&s.ledger(&ids["MUG"]).await, mug, "MUG");
    assert_ledger_explains(&s.ledger(&ids["CUP"]).await, cup, "CUP");
}

#[tokio::test]
async fn the_same_key_with_a_different_input_is_refused_as_reused() {
    let s = shop("reused@example.com").await;
    let ids = s.stocked(&[("MUG", 12), ("CUP", 5)]).await;
    let first = s
        .adjust_stock(
            json!({ "sku": "MUG", "delta": 2, "reason": "Delivery", "idempotencyKey": "k1" }),
        )
        .await;
    assert_eq!(first["userErrors"], json!([]), "{first}");
    let (mug, cup) = (s.product("MUG").await, s.product("CUP").await);

    let other_delta = s
        .adjust_stock(
            json!({ "sku": "MUG", "delta": 3, "reason": "Delivery", "idempotencyKey": "k1" }),
        )
        .await;
    let other_product = s
        .adjust_stock(
            json!({ "sku": "CUP", "delta": 2, "reason": "Delivery", "idempotencyKey": "k1" }),
        )
        .await;
    let other_reason = s
        .adjust_stock(
            json!({ "sku": "MUG", "delta": 2, "reason": "Return", "idempotencyKey": "k1" }),
        )
        .await;
    let other_mutation = s
        .set_stock(
            json!({ "sku": "MUG", "quantity": 14, "reason": "Delivery", "idempotencyKey": "k1" }),
        )
        .await;
    let other_expectation = s
        .adjust_stock(json!({ "sku": "MUG", "delta": 2, "reason": "Delivery", "idempotencyKey": "k1", "expectedQuantity": 99 }))
        .await;

    for res in [
        other_delta,
        other_product,
        other_reason,
        other_mutation,
        other_expectation,
    ] {
        assert_eq!(codes(&res), ["IDEMPOTENCY_KEY_REUSED"], "{res}");
        assert_eq!(error_field(&res), json!(["idempotencyKey"]));
        assert!(res["movement"].is_null(), "{res}");
    }
    assert_eq!(s.product("MUG").await, mug);
    assert_eq!(s.product("CUP").await, cup);
    assert_eq!(s.ledger(&ids["MUG"]).await.len(), 2);
    assert_eq!(s.ledger(&ids["CUP"]).await.len(), 1);
}

#[tokio::test]
async fn idempotency_keys_belong_to_their_account() {
    let s = shop("keys-a@example.com").await;
    s.stocked(&[("MUG", 12)]).await;
    let token_b = s.app.signed_in("keys-b@example.com").await;
    s.app.connect(&token_b, json!({ "alias": "B" })).await;
    let gid_b = s
        .app
        .data(
            Some(&token_b),
            "{ integrations { nodes { id } } }",
            json!({}),
        )
        .await["integrations"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let run = s.app.sync_now(&token_b, &gid_b, Some("PRODUCTS")).await;
    assert_eq!(run["runs"][0]["outcome"], "SUCCEEDED", "{run}");
    let input =
        json!({ "sku": "MUG", "delta": 1, "reason": "Delivery", "idempotencyKey": "shared" });

    let a = s.adjust_stock(input.clone()).await;
    let b = adjust_stock(&s.app, &token_b, input).await;

    assert_eq!(a["userErrors"], json!([]), "{a}");
    assert_eq!(b["userErrors"], json!([]), "{b}");
    assert_ne!(a["movement"]["id"], b["movement"]["id"]);
    assert_eq!(s.stock("MUG").await, 13);
    assert_eq!(product(&s.app, &token_b, "MUG").await["stock"], 13);
}

// ---------------------------------------------------------------------------------------------
// Compare-and-set and negative stock
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_stale_expected_quantity_is_a_conflict_naming_the_current_figure() {
    let s = shop("cas@example.com").await;
    s.stocked(&[("MUG", 12)]).await;

    refused_by_both(
        &s,
        "MUG",
        json!({ "sku": "MUG", "reason": "Count", "expectedQuantity": 11 }),
        "CONFLICT",
        json!(["expectedQuantity"]),
    )
    .await;
    let res = s
        .set_stock(
            json!({ "sku": "MUG", "quantity": 3, "reason": "Count", "expectedQuantity": 10 }),
        )
        .await;
    assert!(
        res["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("12"),
        "{res}"
    );
}

#[tokio::test]
async fn a_current_expected_quantity_lets_the_change_through() {
    let s = shop("cas-ok@example.com").await;
    s.stocked(&[("MUG", 12)]).await;

    let set = s
        .set_stock(
            json!({ "sku": "MUG", "quantity": 20, "reason": "Count", "expectedQuantity": 12 }),
        )
        .await;
    let adjust = s
        .adjust_stock(
            json!({ "sku": "MUG", "delta": -4, "reason": "Sold", "expectedQuantity": 20 }),
        )
        .await;

    assert_eq!(set["userErrors"], json!([]), "{set}");
    assert_eq!(adjust["userErrors"], json!([]), "{adjust}");
    assert_eq!(s.stock("MUG").await, 16);
}

#[tokio::test]
async fn an_adjustment_below_zero_is_refused_as_insufficient_stock() {
    let s = shop("short@example.com").await;
    let ids = s.stocked(&[("MUG", 3)]).await;

    let res = s
        .adjust_stock(json!({ "sku": "MUG", "delta": -4, "reason": "Sold" }))
        .await;
    let to_zero = s
        .adjust_stock(json!({ "sku": "MUG", "delta": -3, "reason": "Sold" }))
        .await;

    assert_eq!(codes(&res), ["INSUFFICIENT_STOCK"], "{res}");
    assert_eq!(error_field(&res), json!(["delta"]));
    assert_eq!(
        to_zero["userErrors"],
        json!([]),
        "down to zero is fine: {to_zero}"
    );
    assert_eq!(s.stock("MUG").await, 0);
    assert_eq!(s.ledger(&ids["MUG"]).await.len(), 2);
}

#[tokio::test]
async fn an_adjustment_below_zero_goes_through_when_allowed() {
    let s = shop("negative@example.com").await;
    let ids = s.stocked(&[("MUG", 3)]).await;

    let res = s
        .adjust_stock(
            json!({ "sku": "MUG", "delta": -5, "reason": "Oversold", "allowNegative": true }),
        )
        .await;

    assert_eq!(res["userErrors"], json!([]), "{res}");
    assert_eq!(res["movement"]["quantityAfter"], -2);
    assert_eq!(s.stock("MUG").await, -2);
    assert_ledger_explains(&s.ledger(&ids["MUG"]).await, -2, "MUG");
}

#[tokio::test]
async fn setting_a_negative_figure_needs_allow_negative() {
    let s = shop("set-negative@example.com").await;
    s.stocked(&[("MUG", 3)]).await;

    let refused = s
        .set_stock(json!({ "sku": "MUG", "quantity": -1, "reason": "Owed" }))
        .await;
    assert_eq!(codes(&refused), ["INSUFFICIENT_STOCK"], "{refused}");
    assert_eq!(error_field(&refused), json!(["quantity"]));
    assert_eq!(s.stock("MUG").await, 3);

    let allowed = s
        .set_stock(json!({ "sku": "MUG", "quantity": -1, "reason": "Owed", "allowNegative": true }))
        .await;
    assert_eq!(allowed["userErrors"], json!([]), "{allowed}");
    assert_eq!(s.stock("MUG").await, -1);
}

#[tokio::test]
async fn a_refused_change_queues_no_push_and_an_accepted_one_does() {
    let s = shop("queue@example.com").await;
    s.stocked(&[("MUG", 3)]).await;
    let queued = s.app.rows("push_queue").await;

    s.adjust_stock(json!({ "sku": "MUG", "delta": -4, "reason": "Sold" }))
        .await;
    s.set_stock(json!({ "sku": "MUG", "quantity": 1, "reason": "Count", "expectedQuantity": 2 }))
        .await;
    assert_eq!(s.app.rows("push_queue").await, queued);

    s.adjust_stock(json!({ "sku": "MUG", "delta": 1, "reason": "Found" }))
        .await;
    assert!(s.app.rows("push_queue").await > queued);
}

// ---------------------------------------------------------------------------------------------
// Acceptance: stock changes end to end
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_adjust_stock_calls_racing_concurrent_order_imports_on_one_sku_end_at_the_exact_expected_figure_with_a_complete_ledger(
) {
    let s = shop("race@example.com").await;
    let ids = s.stocked(&[("RACE", 1000)]).await;
    a_second_passes().await;
    let deltas: Vec<i64> = (1..=50)
        .map(|i| if i % 3 == 0 { -(i % 7 + 1) } else { i % 5 + 1 })
        .collect();

    // Fired together, in waves spread over the imports' time; the later half waits until the
    // first import has finished, so that orders are taken between adjustments however slow
    // the machine.
    let (first_import, imported) = tokio::sync::watch::channel(false);
    let adjusts = join_all(deltas.iter().enumerate().map(|(i, d)| {
        let s = &s;
        let mut imported = imported.clone();
        async move {
            let wave = u64::try_from(i % 10).unwrap();
            if wave >= 5 {
                imported.wait_for(|done| *done).await.unwrap();
            }
            // Spreading the waves over time is the point.
            tokio::time::sleep(std::time::Duration::from_millis(wave * 60)).await;
            s.adjust_stock(json!({ "sku": "RACE", "delta": d, "reason": format!("race {i}"), "idempotencyKey": format!("race-{i}") }))
                .await
        }
    }));
    let shopping_and_importing = async {
        let mut ordered = Vec::new();
        let mut runs = Vec::new();
        for round in 0..5_i64 {
            for q in 1..=2_i64 {
                let quantity = round + q;
                s.place(json!([{ "sku": "RACE", "quantity": quantity }]))
                    .await;
                ordered.push(quantity);
            }
            runs.push(s.app.sync_now(&s.token, &s.gid, Some("ORDERS")).await);
            first_import.send_replace(true);
        }
        (ordered, runs)
    };
    let (results, (ordered, runs)) = tokio::join!(adjusts, shopping_and_importing);
    s.import("ORDERS").await;

    for r in &results {
        assert_eq!(r["userErrors"], json!([]), "{r}");
    }
    for r in &runs {
        assert_eq!(r["runs"][0]["outcome"], "SUCCEEDED", "{r}");
    }
    let expected = 1000 + deltas.iter().sum::<i64>() - ordered.iter().sum::<i64>();
    assert_eq!(s.stock("RACE").await, expected);
    let ledger = s.ledger(&ids["RACE"]).await;
    assert_eq!(ledger.len(), 1 + deltas.len() + ordered.len());
    assert_ledger_explains(&ledger, expected, "RACE");
    let count = |reason: &str| ledger.iter().filter(|m| m["reason"] == reason).count();
    assert_eq!(
        (
            count("INITIAL_IMPORT"),
            count("MANUAL_ADJUST"),
            count("ORDER_PLACED")
        ),
        (1, 50, ordered.len())
    );
    for r in &results {
        assert!(
            ledger.iter().any(|m| m["id"] == r["movement"]["id"]),
            "{r} is not in the ledger"
        );
    }
    // They did race: orders were taken between the first and the last adjustment.
    let order: Vec<&str> = ledger
        .iter()
        .rev()
        .map(|m| m["reason"].as_str().unwrap())
        .collect();
    let first_adjust = order.iter().position(|r| *r == "MANUAL_ADJUST").unwrap();
    let last_adjust = order.iter().rposition(|r| *r == "MANUAL_ADJUST").unwrap();
    assert!(
        order[first_adjust..last_adjust].contains(&"ORDER_PLACED"),
        "no import ran during the adjustments: {order:?}"
    );
}

/// One random step of the replay.
#[derive(Debug, Clone, Copy)]
enum Step {
    Set,
    Adjust,
    Retry,
    Place,
    ImportOrders,
    ImportProducts,
    Cancel,
    ChannelChange,
}

#[tokio::test]
async fn a_randomized_replay_of_mutations_imports_and_cancels_leaves_every_ledger_summing_to_its_stock(
) {
    let s = shop("replay@example.com").await;
    let skus = ["R-A", "R-B", "R-C", "R-D"];
    let ids = s
        .stocked(&skus.iter().map(|k| (*k, 500)).collect::<Vec<_>>())
        .await;
    a_second_passes().await;
    let mut rng = StdRng::seed_from_u64(0x5eed_0005);
    let steps = [
        Step::Set,
        Step::Adjust,
        Step::Adjust,
        Step::Retry,
        Step::Place,
        Step::Place,
        Step::ImportOrders,
        Step::ImportProducts,
        Step::Cancel,
        Step::ChannelChange,
    ];
    let mut placed: Vec<i64> = Vec::new();
    let mut untouched: Vec<i64> = Vec::new();
    let mut keyed: Vec<(bool, Value, Value)> = Vec::new(); // (set?, input, first movement)
    let mut log = Vec::new();

    for n in 0..100 {
        let step = steps[rng.gen_range(0..steps.len())];
        let sku = skus[rng.gen_range(0..skus.len())];
        log.push(format!("{n}: {step:?} {sku}"));
        match step {
            Step::Set | Step::Adjust => {
                let allow = rng.gen_bool(0.3);
                let key = rng.gen_bool(0.5).then(|| format!("replay-{n}"));
                let set = matches!(step, Step::Set);
                let mut input = json!({ "sku": sku, "reason": format!("step {n}"), "allowNegative": allow, "idempotencyKey": key });
                let res = if set {
                    input["quantity"] = json!(rng.gen_range(-5..=60));
                    s.set_stock(input.clone()).await
                } else {
                    let delta = [-1, 1][rng.gen_range(0..2)] * rng.gen_range(1..=20);
                    input["delta"] = json!(delta);
                    s.adjust_stock(input.clone()).await
                };
                let c = codes(&res);
                assert!(
                    c.is_empty() || (c == ["INSUFFICIENT_STOCK"] && !allow),
                    "{}: {res}",
                    log.join("\n")
                );
                if c.is_empty() && key.is_some() {
                    keyed.push((set, input, res["movement"].clone()));
                }
            }
            Step::Retry => {
                if keyed.is_empty() {
                    continue;
                }
                let (set, input, first) = keyed[rng.gen_range(0..keyed.len())].clone();
                let res = if set {
                    s.set_stock(input).await
                } else {
                    s.adjust_stock(input).await
                };
                assert_eq!(res["movement"], first, "{}: {res}", log.join("\n"));
            }
            Step::Place => {
                let mut lines = vec![json!({ "sku": sku, "quantity": rng.gen_range(1..=3) })];
                if rng.gen_bool(0.5) {
                    let other = skus[rng.gen_range(0..skus.len())];
                    lines.push(json!({ "sku": other, "quantity": rng.gen_range(1..=3) }));
                }
                let number = s.place(json!(lines)).await;
                placed.push(number);
                untouched.push(number);
            }
            Step::ImportOrders => {
                s.import("ORDERS").await;
            }
            Step::ImportProducts => {
                s.import("PRODUCTS").await;
            }
            Step::Cancel => {
                if placed.is_empty() {
                    continue;
                }
                let number = placed[rng.gen_range(0..placed.len())];
                let o = s.order(number).await;
                if o.is_null() {
                    continue;
                }
                let res = s.cancel(o["id"].as_str().unwrap()).await;
                let c = codes(&res);
                assert!(
                    c.is_empty() || (c == ["ORDER_NOT_CANCELABLE"] && o["status"] == "REFUNDED"),
                    "{}: {res}",
                    log.join("\n")
                );
            }
            Step::ChannelChange => {
                // The merchant acts once per order (a canceled order cannot ship, and so on).
                if untouched.is_empty() {
                    continue;
                }
                let number = untouched.swap_remove(rng.gen_range(0..untouched.len()));
                match rng.gen_range(0..4) {
                    0 => s.set_channel_status(number, 5).await,
                    1 => s.set_channel_status(number, 4).await,
                    2 => s.ship_on_channel(number, &[0]).await,
                    _ => s.set_channel_status(number, 2).await,
                }
            }
        }
    }
    s.import("ORDERS").await;
    s.import("PRODUCTS").await;

    let mut moved_by = BTreeMap::new();
    for sku in skus {
        let stock = s.stock(sku).await;
        let ledger = s.ledger(&ids[sku]).await;
        assert_ledger_explains(&ledger, stock, &format!("{sku} after\n{}", log.join("\n")));
        for m in &ledger {
            *moved_by
                .entry(m["reason"].as_str().unwrap().to_string())
                .or_insert(0) += 1;
        }
    }
    // The seed exercises every kind of change.
    for reason in [
        "INITIAL_IMPORT",
        "MANUAL_SET",
        "MANUAL_ADJUST",
        "ORDER_PLACED",
        "ORDER_CANCELED",
        "ORDER_RESTOCKED",
    ] {
        assert!(
            moved_by.contains_key(reason),
            "no {reason}: {moved_by:?}\n{}",
            log.join("\n")
        );
    }
}
