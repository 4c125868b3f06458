//! Warehouse work: where each product lies (`binLocation`), set by staff through the API.

use serde_json::{json, Value};

use crate::support::{codes, shop, Shop};

const SET: &str = "mutation($i: SetBinLocationInput!) { setBinLocation(input: $i) { product { sku binLocation } userErrors { field code } } }";

async fn set(s: &Shop, token: &str, input: Value) -> Value {
    s.app.data(Some(token), SET, json!({ "i": input })).await["setBinLocation"].clone()
}

#[tokio::test]
async fn staff_record_where_a_product_lies_and_a_blank_or_long_bin_is_refused() {
    let s = shop("bins@example.com").await;
    s.stocked(&[("MUG", 10)]).await;
    let staff = s
        .app
        .member(&s.token, "bins-staff@example.com", "STAFF")
        .await;

    let placed = set(
        &s,
        &staff,
        json!({ "sku": "MUG", "binLocation": "  A-03-2 " }),
    )
    .await;
    assert_eq!(placed["userErrors"], json!([]), "{placed}");
    assert_eq!(
        placed["product"],
        json!({ "sku": "MUG", "binLocation": "A-03-2" })
    );

    let blank = set(&s, &staff, json!({ "sku": "MUG", "binLocation": "  " })).await;
    assert_eq!(codes(&blank), ["INVALID"], "{blank}");
    let long = set(
        &s,
        &staff,
        json!({ "sku": "MUG", "binLocation": "B".repeat(51) }),
    )
    .await;
    assert_eq!(codes(&long), ["TOO_LONG"], "{long}");
    let unknown = set(
        &s,
        &staff,
        json!({ "sku": "NO-SUCH", "binLocation": "C-1" }),
    )
    .await;
    assert_eq!(codes(&unknown), ["NOT_FOUND"], "{unknown}");
    let read = s
        .app
        .data(
            Some(&s.token),
            "{ product(sku: \"MUG\") { binLocation } }",
            json!({}),
        )
        .await;
    assert_eq!(
        read["product"]["binLocation"], "A-03-2",
        "nothing changed on refusals"
    );

    let cleared = set(&s, &staff, json!({ "sku": "MUG", "binLocation": null })).await;
    assert_eq!(cleared["product"]["binLocation"], Value::Null, "{cleared}");
}
