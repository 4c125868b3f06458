//! Warehouse work: where each product lies (`binLocation`), set by staff through the API; pick
//! lists summing what orders need in walking order; packing slips of orders and of parcels.

use serde_json::{json, Value};

use crate::support::{a_second_passes, codes, get, shop, tool, Shop};

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

const LINK: &str = "mutation($i: CreateDocumentLinkInput!) { createDocumentLink(input: $i) {
    link { url fileName kind orderCount shipmentCount } userErrors { field code message } } }";

/// `createDocumentLink`; its payload.
async fn link(s: &Shop, input: Value) -> Value {
    s.app
        .data(Some(&s.token), LINK, json!({ "i": input }))
        .await["createDocumentLink"]
        .clone()
}

/// Follows a link; the PDF's text laid out as on paper (`pdftotext -layout`).
async fn download_layout(s: &Shop, payload: &Value) -> String {
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    let url = payload["link"]["url"].as_str().unwrap();
    let (status, kind, _, body) = get(&s.app, None, url).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(kind, "application/pdf");
    tool(&body, "pdftotext", &["-layout", "-enc", "UTF-8"])
}

/// The quantity on each pick line, by SKU, in the order the lines come: the first whole
/// number after the SKU on its row (names here have none).
fn picked(text: &str, skus: &[&str]) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for row in text.lines() {
        let words: Vec<&str> = row.split_whitespace().collect();
        let Some(at) = words.iter().position(|w| skus.contains(w)) else {
            continue;
        };
        let qty = words[at + 1..]
            .iter()
            .find_map(|w| w.parse::<i64>().ok())
            .unwrap_or_else(|| panic!("no quantity on {row:?}"));
        out.push((words[at].to_string(), qty));
    }
    out
}

#[tokio::test]
async fn a_pick_list_of_30_orders_sums_each_sku_exactly_walks_the_bins_and_takes_bundles_apart() {
    let s = shop("picking@example.com").await;
    let skus = ["PICK-1", "PICK-2", "PICK-3", "PICK-4", "PICK-5", "PICK-6"];
    let mut stock: Vec<(&str, i64)> = skus.iter().map(|k| (*k, 500)).collect();
    stock.push(("KIT", 0));
    s.stocked(&stock).await;
    for (sku, bin) in [("PICK-4", "A-01"), ("PICK-6", "a-02"), ("PICK-2", "B-07")] {
        let r = set(&s, &s.token, json!({ "sku": sku, "binLocation": bin })).await;
        assert_eq!(r["userErrors"], json!([]), "{r}");
    }
    let kit = s
        .app
        .data(
            Some(&s.token),
            "mutation($i: CreateBundleInput!) { createBundle(input: $i) { userErrors { code } } }",
            json!({ "i": { "sku": "KIT", "name": "Kit", "components": [
                { "sku": "PICK-5", "quantity": 2 }, { "sku": "PICK-1", "quantity": 1 }
            ] } }),
        )
        .await;
    assert_eq!(kit["createBundle"]["userErrors"], json!([]), "{kit}");
    a_second_passes().await;

    // 30 orders of one to three lines; what each still needs is summed here as the merchant
    // would count it.
    let all = [
        "PICK-1", "PICK-2", "PICK-3", "PICK-4", "PICK-5", "PICK-6", "KIT",
    ];
    let mut placed = Vec::new();
    for n in 0..30usize {
        let lines: Vec<Value> = (0..1 + n % 3)
            .map(
                |k| json!({ "sku": all[(n * 5 + k * 3) % all.len()], "quantity": 1 + (n + k) % 4 }),
            )
            .collect();
        let number = s.place(json!(lines)).await;
        placed.push((number, lines));
    }
    s.import("ORDERS").await;
    // One order canceled here, one with its first line shipped on the store.
    let canceled = placed[4].0;
    let id = s.order(canceled).await["id"].as_str().unwrap().to_string();
    let c = s.cancel(&id).await;
    assert_eq!(c["userErrors"], json!([]), "{c}");
    let partly = placed[7].0;
    s.ship_on_channel(partly, &[0]).await;
    s.import("ORDERS").await;

    let mut wanted: std::collections::BTreeMap<String, i64> = Default::default();
    for (number, lines) in &placed {
        for (i, l) in lines.iter().enumerate() {
            if *number == canceled || (*number == partly && i == 0) {
                continue;
            }
            let q = l["quantity"].as_i64().unwrap();
            match l["sku"].as_str().unwrap() {
                "KIT" => {
                    *wanted.entry("PICK-5".into()).or_default() += 2 * q;
                    *wanted.entry("PICK-1".into()).or_default() += q;
                }
                sku => *wanted.entry(sku.into()).or_default() += q,
            }
        }
    }

    // Every order of the store, named by a filter.
    let payload = link(
        &s,
        json!({ "kind": "PICK_LIST", "orderFilter": { "integrationIds": [s.gid] } }),
    )
    .await;
    assert_eq!(payload["link"]["orderCount"], 30, "{payload}");
    assert_eq!(payload["link"]["fileName"], "pick-list-30-orders.pdf");
    let text = download_layout(&s, &payload).await;
    // The bundle itself is never a line: its components are.
    let lines = picked(&text, &skus);
    let got: std::collections::BTreeMap<String, i64> = lines.iter().cloned().collect();
    assert_eq!(got, wanted, "{text}");
    assert_eq!(lines.len(), wanted.len(), "one line per product: {text}");
    // Bins first (A-01, a-02, B-07, compared without case), then by SKU.
    let order: Vec<&str> = lines.iter().map(|(k, _)| k.as_str()).collect();
    let walk = ["PICK-4", "PICK-6", "PICK-2", "PICK-1", "PICK-3", "PICK-5"];
    let expected: Vec<&str> = walk
        .iter()
        .copied()
        .filter(|k| wanted.contains_key(*k))
        .collect();
    assert_eq!(order, expected, "{text}");
    let units: i64 = wanted.values().sum();
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(&format!(
            "30 orders · {units} units · {} products",
            wanted.len()
        )),
        "{flat}"
    );
    assert!(flat.contains("for bundles: KIT"), "{flat}");
    assert!(
        flat.contains(&format!("Nothing to pick for: #{canceled}")),
        "{flat}"
    );

    // The same orders by id give the same list; a filter matching nothing is refused.
    let none = link(
        &s,
        json!({ "kind": "PICK_LIST", "orderFilter": { "status": ["SHIPPED"], "search": "no-such-order" } }),
    )
    .await;
    assert_eq!(codes(&none), ["NOT_FOUND"], "{none}");
    let both = link(
        &s,
        json!({ "kind": "PICK_LIST", "orderIds": [id], "orderFilter": { "integrationIds": [s.gid] } }),
    )
    .await;
    assert_eq!(codes(&both), ["INVALID"], "{both}");
    let on_labels = link(
        &s,
        json!({ "kind": "PICK_LIST", "orderIds": [id], "paperSize": "A6" }),
    )
    .await;
    assert_eq!(codes(&on_labels), ["INVALID"], "{on_labels}");
}

#[tokio::test]
async fn a_partial_shipments_packing_slip_lists_only_that_parcel_with_the_gift_message() {
    let s = shop("slips@example.com").await;
    s.stocked(&[("MUG", 20), ("CUP", 10), ("TEA", 10)]).await;
    a_second_passes().await;
    let number = s
        .place_with(
            json!([{ "sku": "MUG", "quantity": 3 }, { "sku": "CUP", "quantity": 2 }, { "sku": "TEA", "quantity": 1 }]),
            json!({ "customer_message": "Happy birthday, Ada!" }),
        )
        .await;
    s.import("ORDERS").await;
    let order = s.order(number).await;
    assert_eq!(order["customerMessage"], "Happy birthday, Ada!", "{order}");
    let order_id = order["id"].as_str().unwrap().to_string();
    let lines = s
        .app
        .data(
            Some(&s.token),
            "query($id: ID!) { order(id: $id) { lines { id sku } } }",
            json!({ "id": order_id }),
        )
        .await;
    let line = |sku: &str| {
        lines["order"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["sku"] == sku)
            .unwrap()["id"]
            .clone()
    };
    let shipped = s
        .app
        .data(
            Some(&s.token),
            "mutation($i: ShipOrdersInput!) { shipOrders(input: $i) { results { shipments { id } userErrors { code } } userErrors { code } } }",
            json!({ "i": { "shipments": [{ "orderId": order_id, "method": "MANUAL", "carrier": "Royal Mail",
                "trackingNumber": "RM123", "lines": [{ "lineId": line("MUG"), "quantity": 2 }, { "lineId": line("TEA"), "quantity": 1 }] }] } }),
        )
        .await;
    let shipment = shipped["shipOrders"]["results"][0]["shipments"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{shipped}"))
        .to_string();

    let payload = link(
        &s,
        json!({ "kind": "PACKING_SLIP", "shipmentIds": [shipment] }),
    )
    .await;
    assert_eq!(payload["link"]["shipmentCount"], 1, "{payload}");
    assert_eq!(
        payload["link"]["fileName"],
        "packing-slip-shipment-RM123.pdf"
    );
    let text = download_layout(&s, &payload).await;
    let parcel = picked(&text, &["MUG", "CUP", "TEA"]);
    assert_eq!(
        parcel,
        [("MUG".to_string(), 2), ("TEA".to_string(), 1)],
        "only the parcel's lines and quantities: {text}"
    );
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for wanted in [
        "Packing slip",
        &format!("Order #{number}"),
        "Happy birthday, Ada!",
        "Tracking: RM123",
        "part of your order",
    ] {
        assert!(flat.contains(wanted), "{wanted:?} in {flat}");
    }
    assert!(!flat.contains("Unit price"), "no prices by default: {flat}");

    // The order's own slip: what is still to send (1 MUG, 2 CUP).
    let payload = link(
        &s,
        json!({ "kind": "PACKING_SLIP", "orderIds": [order_id] }),
    )
    .await;
    assert_eq!(
        payload["link"]["fileName"],
        format!("packing-slip-order-{number}.pdf")
    );
    let text = download_layout(&s, &payload).await;
    assert_eq!(
        picked(&text, &["MUG", "CUP", "TEA"]),
        [("MUG".to_string(), 1), ("CUP".to_string(), 2)],
        "{text}"
    );
}

const MERGE: &str = "mutation($i: MergeOrdersInput!) { mergeOrders(input: $i) {
    merge { id orders { id number mergeId } } userErrors { field code message } } }";

/// Places a one-line order going to Ada at `street` and `postal`; its number.
async fn to_ada(s: &Shop, sku: &str, quantity: i64, street: &str, postal: &str) -> i64 {
    s.place_with(
        json!([{ "sku": sku, "quantity": quantity }]),
        json!({ "billing_address": {
            "first_name": "Ada", "last_name": "Lovelace", "company": "", "street_1": street,
            "street_2": "", "city": "London", "state": "", "zip": postal,
            "country": "United Kingdom", "country_iso2": "GB", "email": "ada@example.com"
        } }),
    )
    .await
}

#[tokio::test]
async fn two_orders_to_one_address_merge_ship_as_one_parcel_and_each_store_order_gets_its_shipment()
{
    let s = shop("merges@example.com").await;
    s.stocked(&[("MUG", 20), ("CUP", 10)]).await;
    a_second_passes().await;
    let a = to_ada(&s, "MUG", 1, "10 Downing St.", "SW1A 2AA").await;
    let b = to_ada(&s, "CUP", 2, "10  downing st", "sw1a2aa").await;
    let c = to_ada(&s, "MUG", 1, "11 Downing Street", "SW1A 2AA").await;
    s.import("ORDERS").await;
    let id = |o: Value| o["id"].as_str().unwrap().to_string();
    let (a_id, b_id, c_id) = (
        id(s.order(a).await),
        id(s.order(b).await),
        id(s.order(c).await),
    );
    let stock = (s.stock("MUG").await, s.stock("CUP").await);

    // The candidates: A and B (one address written two ways), not C.
    let found = s
        .app
        .data(
            Some(&s.token),
            "{ ordersMergeCandidates { orders { number } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        found["ordersMergeCandidates"],
        json!([{ "orders": [{ "number": a.to_string() }, { "number": b.to_string() }] }])
    );

    let merge = |ids: Value| {
        let s = &s;
        async move {
            s.app
                .data(Some(&s.token), MERGE, json!({ "i": { "orderIds": ids } }))
                .await["mergeOrders"]
                .clone()
        }
    };
    let other = merge(json!([a_id, c_id])).await;
    assert_eq!(codes(&other), ["DIFFERENT_ADDRESS"], "{other}");
    assert_eq!(other["userErrors"][0]["field"], json!(["orderIds", "1"]));
    assert_eq!(codes(&merge(json!([a_id])).await), ["REQUIRED"]);
    let merged = merge(json!([b_id, a_id])).await;
    assert_eq!(merged["userErrors"], json!([]), "{merged}");
    let merge_id = merged["merge"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        merged["merge"]["orders"],
        json!([
            { "id": a_id, "number": a.to_string(), "mergeId": merge_id },
            { "id": b_id, "number": b.to_string(), "mergeId": merge_id }
        ])
    );
    assert_eq!(codes(&merge(json!([b_id, c_id])).await), ["ALREADY_MERGED"]);
    assert_eq!(
        (s.stock("MUG").await, s.stock("CUP").await),
        stock,
        "merging moves no stock"
    );

    // Taken apart and merged again.
    let unmerge = |merge_id: String| {
        let s = &s;
        async move {
            s.app
                .data(
                    Some(&s.token),
                    "mutation($i: UnmergeOrdersInput!) { unmergeOrders(input: $i) { orders { number mergeId } userErrors { code } } }",
                    json!({ "i": { "mergeId": merge_id } }),
                )
                .await["unmergeOrders"]
                .clone()
        }
    };
    let apart = unmerge(merge_id.clone()).await;
    assert_eq!(apart["userErrors"], json!([]), "{apart}");
    assert_eq!(apart["orders"][0]["mergeId"], Value::Null);
    let merged = merge(json!([a_id, b_id])).await;
    let merge_id = merged["merge"]["id"].as_str().unwrap().to_string();

    // The packing slip of either order is the parcel's: both orders, both lines.
    let slip = link(&s, json!({ "kind": "PACKING_SLIP", "orderIds": [b_id] })).await;
    let text = download_layout(&s, &slip).await;
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&format!("Orders #{a}, #{b}")), "{flat}");
    assert_eq!(
        picked(&text, &["MUG", "CUP"]),
        [("MUG".to_string(), 1), ("CUP".to_string(), 2)],
        "{text}"
    );

    // Shipping one ships both: one tracking number, one shipment per order on the store.
    let shipped = s
        .app
        .data(
            Some(&s.token),
            "mutation($i: ShipOrdersInput!) { shipOrders(input: $i) { results { orderId order { status }
                shipments { id trackingNumber } userErrors { code } } userErrors { code } } }",
            json!({ "i": { "shipments": [{ "orderId": a_id, "method": "LABEL", "carrier": "DHL" }] } }),
        )
        .await["shipOrders"]
        .clone();
    let results = shipped["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{shipped}");
    assert_eq!(
        results[0]["orderId"],
        a_id.as_str(),
        "the named order first"
    );
    assert_eq!(results[1]["orderId"], b_id.as_str());
    let tracking = results[0]["shipments"][0]["trackingNumber"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(tracking.starts_with("OD"), "{tracking}");
    for r in results {
        assert_eq!(r["order"]["status"], "SHIPPED", "{r}");
        assert_eq!(r["shipments"].as_array().unwrap().len(), 1, "{r}");
        assert_eq!(r["shipments"][0]["trackingNumber"], tracking.as_str());
    }
    for number in [a, b] {
        crate::support::wait_until(
            "the store to have the order's shipment",
            std::time::Duration::from_secs(10),
            async || {
                let shipments = s
                    .app
                    .store_api(
                        &s.app.store,
                        reqwest::Method::GET,
                        &format!("v2/orders/{number}/shipments"),
                        None,
                    )
                    .await;
                shipments
                    .as_array()
                    .is_some_and(|l| l.len() == 1 && l[0]["tracking_number"] == tracking.as_str())
            },
        )
        .await;
    }
    // The parcel's label names both orders; the merge that went out stays.
    let shipment = results[0]["shipments"][0]["id"].as_str().unwrap();
    let label = link(&s, json!({ "kind": "LABEL", "shipmentIds": [shipment] })).await;
    let flat = download_layout(&s, &label)
        .await
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(flat.contains(&format!("{a}, {b}")), "{flat}");
    assert_eq!(codes(&unmerge(merge_id).await), ["ALREADY_SHIPPED"]);
    assert_eq!(
        codes(&merge(json!([c_id, a_id])).await),
        ["ALREADY_SHIPPED"]
    );
}

const BATCH: &str = "mutation($i: CreateBatchInput!) { createBatch(input: $i) {
    batch { id orderCount shippedCount pushes { pending pushed failed }
      orders { position number shipment { trackingNumber } userErrors { code } } }
    link { url fileName kind } userErrors { field code message } } }";

#[tokio::test]
async fn a_batch_of_100_orders_ships_97_reports_the_3_others_and_prints_194_pages_in_pick_list_order(
) {
    // Enough store quota for 100 shipment pushes at once.
    let app = crate::support::TestApp::builder()
        .sandbox(|c| c.quota = 10_000)
        .spawn()
        .await;
    let (token, integration) = app.connected("batches@example.com").await;
    let s = Shop {
        gid: format!("gid://orderdeck/Integration/{}", integration.id),
        app,
        token,
    };
    let skus = ["BAT-A", "BAT-B", "BAT-C", "BAT-D", "BAT-E"];
    s.stocked(&skus.map(|k| (k, 200))).await;
    // Walking order: A-1 (BAT-C), A-2 (BAT-A), B-1 (BAT-E), then no bin (BAT-B, BAT-D).
    for (sku, bin) in [("BAT-C", "A-1"), ("BAT-A", "A-2"), ("BAT-E", "B-1")] {
        let r = set(&s, &s.token, json!({ "sku": sku, "binLocation": bin })).await;
        assert_eq!(r["userErrors"], json!([]), "{r}");
    }
    a_second_passes().await;
    let mut placed = Vec::new();
    for i in 0..100usize {
        let lines = json!([{ "sku": skus[i % 5], "quantity": 1 }]);
        let number = if i == 10 {
            // Awaiting payment: not shippable yet.
            s.place_with(lines, json!({ "status_id": 1 })).await
        } else {
            s.place(lines).await
        };
        placed.push((number, skus[i % 5]));
    }
    s.import("ORDERS").await;
    let canceled = placed[20].0;
    let c = s
        .cancel(s.order(canceled).await["id"].as_str().unwrap())
        .await;
    assert_eq!(c["userErrors"], json!([]), "{c}");
    let shipped_on_store = placed[30].0;
    s.ship_on_channel(shipped_on_store, &[0]).await;
    s.import("ORDERS").await;

    let made = s
        .app
        .data(
            Some(&s.token),
            BATCH,
            json!({ "i": { "orderFilter": { "integrationIds": [s.gid] }, "method": "LABEL", "carrier": "Royal Mail", "service": "Tracked 48" } }),
        )
        .await["createBatch"]
        .clone();
    assert_eq!(made["userErrors"], json!([]), "{made}");
    let batch = &made["batch"];
    assert_eq!(
        (batch["orderCount"].clone(), batch["shippedCount"].clone()),
        (json!(100), json!(97)),
        "{batch}"
    );
    let mut refused: Vec<(String, String)> = batch["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["shipment"].is_null())
        .map(|o| {
            (
                o["number"].as_str().unwrap().to_string(),
                o["userErrors"][0]["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    refused.sort();
    let mut expected = vec![
        (placed[10].0.to_string(), "ORDER_NOT_SHIPPABLE".to_string()),
        (canceled.to_string(), "ORDER_CANCELED".to_string()),
        (shipped_on_store.to_string(), "NOTHING_TO_SHIP".to_string()),
    ];
    expected.sort();
    assert_eq!(refused, expected);

    // One PDF: a packing slip and a label per parcel, in pick-list order.
    assert_eq!(made["link"]["kind"], "BATCH");
    let url = made["link"]["url"].as_str().unwrap();
    let (status, _, _, pdf) = get(&s.app, None, url).await;
    assert_eq!(status, 200);
    let info = tool(&pdf, "pdfinfo", &[]);
    assert!(info.contains("Pages:           194"), "{info}");
    let text = tool(&pdf, "pdftotext", &["-enc", "UTF-8"]);
    let slips: Vec<i64> = text
        .split("Order #")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap()
        })
        .collect();
    let walk = ["BAT-C", "BAT-A", "BAT-E", "BAT-B", "BAT-D"];
    let mut wanted: Vec<(usize, i64)> = placed
        .iter()
        .filter(|(n, _)| ![placed[10].0, canceled, shipped_on_store].contains(n))
        .map(|(n, sku)| (walk.iter().position(|w| w == sku).unwrap(), *n))
        .collect();
    wanted.sort();
    assert_eq!(
        slips,
        wanted.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        "{text}"
    );

    // Printed again, and every push reaches the store.
    let again = link(&s, json!({ "kind": "BATCH", "batchId": batch["id"] })).await;
    assert_eq!(again["userErrors"], json!([]), "{again}");
    let (status, _, _, reprint) = get(&s.app, None, again["link"]["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert!(tool(&reprint, "pdfinfo", &[]).contains("Pages:           194"));
    let id = batch["id"].clone();
    crate::support::wait_until(
        "every shipment of the batch on the store",
        std::time::Duration::from_secs(30),
        async || {
            let b = s
                .app
                .data(
                    Some(&s.token),
                    "query($id: ID!) { batch(id: $id) { pushes { pending pushed failed } } }",
                    json!({ "id": id }),
                )
                .await;
            b["batch"]["pushes"] == json!({ "pending": 0, "pushed": 97, "failed": 0 })
        },
    )
    .await;
    let bad = link(
        &s,
        json!({ "kind": "BATCH", "batchId": batch["id"], "paperSize": "A4" }),
    )
    .await;
    assert_eq!(codes(&bad), ["INVALID"], "{bad}");
    let manual = s
        .app
        .data(
            Some(&s.token),
            BATCH,
            json!({ "i": { "orderIds": [s.order(placed[0].0).await["id"]], "method": "MANUAL" } }),
        )
        .await["createBatch"]
        .clone();
    assert_eq!(codes(&manual), ["INVALID"], "{manual}");
}

#[tokio::test]
async fn a_pick_list_shows_each_products_picture_fetched_once_and_prints_without_a_missing_one() {
    let s = shop("pictures@example.com").await;
    let pictures = format!("{}/_sandbox/pictures", s.app.sandbox.url);
    for (sku, images) in [
        ("PIC-1", json!([format!("{pictures}/mug.png")])),
        ("PIC-2", json!([format!("{pictures}/missing.png")])),
        ("PIC-3", json!([])),
    ] {
        s.app
            .sandbox_action(
                &s.app.store.hash,
                reqwest::Method::POST,
                "products",
                json!({ "name": format!("Product {sku}"), "sku": sku, "inventory_level": 20, "images": images }),
            )
            .await;
    }
    s.import("PRODUCTS").await;
    a_second_passes().await;
    let number = s
        .place(json!([
            { "sku": "PIC-1", "quantity": 1 }, { "sku": "PIC-2", "quantity": 2 }, { "sku": "PIC-3", "quantity": 3 }
        ]))
        .await;
    s.import("ORDERS").await;
    let order_id = s.order(number).await["id"].as_str().unwrap().to_string();

    for round in 0..2 {
        let payload = link(&s, json!({ "kind": "PICK_LIST", "orderIds": [order_id] })).await;
        assert_eq!(payload["userErrors"], json!([]), "{payload}");
        let (status, _, _, pdf) = get(&s.app, None, payload["link"]["url"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        let images = tool(&pdf, "pdfimages", &["-list"]);
        let rows: Vec<&str> = images.lines().skip(2).collect();
        // PIC-1's picture (32 × 32); PIC-2's cannot be fetched, PIC-3 has none.
        assert_eq!(rows.len(), 1, "round {round}: {images}");
        let cols: Vec<&str> = rows[0].split_whitespace().collect();
        assert_eq!((cols[3], cols[4]), ("32", "32"), "{images}");
        let text = download_layout(&s, &payload).await;
        assert_eq!(
            picked(&text, &["PIC-1", "PIC-2", "PIC-3"]),
            [
                ("PIC-1".to_string(), 1),
                ("PIC-2".to_string(), 2),
                ("PIC-3".to_string(), 3)
            ],
            "{text}"
        );
    }
    // Both picture URLs are remembered (one with its picture, one as failed): nothing is
    // fetched again for an hour.
    assert_eq!(s.app.rows("thumbnails").await, 2);
}

#[tokio::test]
async fn a_picture_on_a_private_address_is_not_fetched_unless_the_setting_allows_it() {
    let app = crate::support::TestApp::builder()
        .settings(|s| s.image_fetch_private = false)
        .spawn()
        .await;
    let (token, integration) = app.connected("private-pictures@example.com").await;
    let s = Shop {
        gid: format!("gid://orderdeck/Integration/{}", integration.id),
        app,
        token,
    };
    let url = format!("{}/_sandbox/pictures/mug.png", s.app.sandbox.url);
    s.app
        .sandbox_action(
            &s.app.store.hash,
            reqwest::Method::POST,
            "products",
            json!({ "name": "Mug", "sku": "LOCAL-1", "inventory_level": 5, "images": [url] }),
        )
        .await;
    s.import("PRODUCTS").await;
    a_second_passes().await;
    let number = s.place(json!([{ "sku": "LOCAL-1", "quantity": 1 }])).await;
    s.import("ORDERS").await;
    let order_id = s.order(number).await["id"].as_str().unwrap().to_string();
    let payload = link(&s, json!({ "kind": "PICK_LIST", "orderIds": [order_id] })).await;
    let (status, _, _, pdf) = get(&s.app, None, payload["link"]["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let images = tool(&pdf, "pdfimages", &["-list"]);
    assert_eq!(images.lines().skip(2).count(), 0, "{images}");
    assert_eq!(s.app.rows("thumbnails").await, 1, "remembered as failed");
}
