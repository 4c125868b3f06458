//! Stock counts from a CSV file (docs/rules.md §4): a dry run lists every row's outcome and
//! changes nothing; a real run applies the valid rows in one transaction, once per file, and
//! the stores receive them as one burst. And the stock export.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{codes, connect, download, send_multipart, sync, wait_until, TestApp};

const IMPORT: &str = "mutation($input: ImportStockCountsInput!) { importStockCounts(input: $input) { result { mode dryRun applied rowCount okCount changedCount problemCount problems { line sku status before after } rows(first: 2) { line sku status before after } fileSha256 } userErrors { field code message } } }";
const PUSHED_ENDPOINT: &str = "PUT /v3/inventory/adjustments/absolute";

async fn import(
    app: &TestApp,
    token: &str,
    csv: &str,
    mode: &str,
    dry_run: bool,
    force: bool,
) -> Value {
    let res = send_multipart(
        app,
        Some(token),
        IMPORT,
        json!({ "input": { "file": null, "mode": mode, "dryRun": dry_run, "force": force, "reason": "Year-end count" } }),
        csv.as_bytes().to_vec(),
        "count.csv",
        "text/csv",
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["importStockCounts"].clone()
}

/// (SKU, figure) of every product, straight from the database.
async fn figures(app: &TestApp) -> HashMap<String, i64> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = &app.state.db;
    db.query_all(Statement::from_string(
        db.get_database_backend(),
        "SELECT sku, quantity FROM inventory_items WHERE sku IS NOT NULL",
    ))
    .await
    .unwrap()
    .into_iter()
    .map(|r| {
        (
            r.try_get("", "sku").unwrap(),
            r.try_get("", "quantity").unwrap(),
        )
    })
    .collect()
}

/// Listings that a stock push reaches (tracked, not missing), per integration id, for these SKUs.
async fn pushable(
    app: &TestApp,
    skus: &HashMap<String, i64>,
) -> HashMap<i64, Vec<(String, i64, i64, bool)>> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = &app.state.db;
    let mut out: HashMap<i64, Vec<(String, i64, i64, bool)>> = HashMap::new();
    for r in db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT l.integration_id, l.sku, l.external_product_id, l.external_variant_id, l.tracking FROM listings l WHERE l.tracking <> 'NONE' AND l.missing_since IS NULL AND l.sku IS NOT NULL",
        ))
        .await
        .unwrap()
    {
        let sku: String = r.try_get("", "sku").unwrap();
        if !skus.contains_key(&sku) {
            continue;
        }
        let tracking: String = r.try_get("", "tracking").unwrap();
        out.entry(r.try_get("", "integration_id").unwrap()).or_default().push((
            sku,
            r.try_get("", "external_product_id").unwrap(),
            r.try_get("", "external_variant_id").unwrap(),
            tracking == "VARIANT",
        ));
    }
    out
}

#[tokio::test]
async fn a_10000_row_count_with_3_bad_rows_is_checked_then_applied_once_and_reaches_both_stores_in_few_calls(
) {
    let app = TestApp::builder()
        .sandbox(|c| {
            c.stores = 2;
            c.products = 6_000;
            c.orders = 0;
            c.shared_catalogue = true;
        })
        .settings(|s| {
            s.push_enabled = true;
            s.push_poll = Duration::from_millis(50);
            // A call carrying 2,000 levels may take the loaded test machine longer than the
            // tests' usual 1.5 s; a timed-out call is sent again (levels are absolute), which
            // would count twice here.
            s.bigcommerce_timeout = Duration::from_secs(30);
            // `syncNow` imports 6,000 products with their variants into each store's listings
            // within the request: a debug build on PostgreSQL on a loaded machine takes longer
            // than the usual 30 s budget.
            s.request_timeout = Duration::from_secs(600);
        })
        .spawn()
        .await;
    let token = app.signed_in("counts@example.com").await;
    let stores = app.sandbox.stores();
    let mut integrations = Vec::new();
    for (i, store) in stores.iter().enumerate() {
        let id = connect(&app, &token, store, &format!("Store {}", i + 1), true).await;
        sync(&app, &token, &id, "PRODUCTS").await;
        integrations.push(id);
    }
    wait_until(
        "the imports' pushes to drain",
        Duration::from_secs(60),
        async || app.rows("push_queue").await == 0,
    )
    .await;
    let listed = figures(&app).await;
    let mut skus: Vec<&String> = listed.keys().collect();
    skus.sort();
    assert!(skus.len() >= 10_000, "only {} SKUs", skus.len());
    // A bundle of two products.
    let bundle = app
        .data(
            Some(&token),
            "mutation($i: CreateBundleInput!) { createBundle(input: $i) { userErrors { code } } }",
            json!({ "i": { "sku": "GIFT-BOX", "name": "Gift box", "components": [
                { "sku": skus[0], "quantity": 1 }, { "sku": skus[1], "quantity": 1 }
            ] } }),
        )
        .await;
    assert_eq!(bundle["createBundle"]["userErrors"], json!([]), "{bundle}");
    let before = figures(&app).await;

    // 9,997 good rows, and three bad ones at lines 101, 5001 and 10001.
    let mut wanted: HashMap<String, i64> = HashMap::new();
    let mut csv = String::from("\u{feff}sku;quantity\r\n");
    let mut good = skus.iter().take(9_997);
    for n in 0..10_000 {
        let line = n + 2;
        match line {
            101 => csv.push_str("NO-SUCH-SKU;4\r\n"),
            5001 => csv.push_str(&format!("{};four\r\n", skus[9_998])),
            10001 => csv.push_str("GIFT-BOX;9\r\n"),
            _ => {
                let sku = good.next().unwrap();
                let q = 1000 + (n as i64 % 37);
                wanted.insert(sku.to_string(), q);
                csv.push_str(&format!("{sku};{q}\r\n"));
            }
        }
    }
    let movements = app.rows("stock_movements").await;

    let dry = import(&app, &token, &csv, "SET", true, false).await;
    assert_eq!(dry["userErrors"], json!([]), "{dry}");
    let r = &dry["result"];
    assert_eq!(
        (
            r["dryRun"].clone(),
            r["applied"].clone(),
            r["rowCount"].clone(),
            r["okCount"].clone(),
            r["problemCount"].clone()
        ),
        (
            json!(true),
            json!(false),
            json!(10_000),
            json!(9_997),
            json!(3)
        ),
        "{r}"
    );
    let problems: Vec<(i64, &str)> = r["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["line"].as_i64().unwrap(), p["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        problems,
        [
            (101, "UNKNOWN_SKU"),
            (5001, "INVALID_QUANTITY"),
            (10001, "BUNDLE_STOCK_IS_COMPUTED")
        ]
    );
    let first = &r["rows"][0];
    assert_eq!(first["before"], before[first["sku"].as_str().unwrap()]);
    assert_eq!(first["after"], 1000);
    assert_eq!(
        app.rows("stock_movements").await,
        movements,
        "a dry run changes nothing"
    );
    assert!(figures(&app).await == before, "a dry run changed figures");

    let calls_before: Vec<u64> = stores
        .iter()
        .map(|s| app.sandbox.count(&s.hash, PUSHED_ENDPOINT))
        .collect();
    let applied = import(&app, &token, &csv, "SET", false, false).await;
    assert_eq!(applied["userErrors"], json!([]), "{applied}");
    assert_eq!(applied["result"]["applied"], true);
    assert_eq!(applied["result"]["okCount"], 9_997);
    let after = figures(&app).await;
    for (sku, q) in &wanted {
        assert_eq!(after[sku], *q, "{sku}");
    }
    // Every store holds every figure, sent in as few calls as its listings need.
    let reached = pushable(&app, &wanted).await;
    wait_until(
        "both stores to hold the counted figures",
        Duration::from_secs(60),
        async || app.rows("push_queue").await == 0,
    )
    .await;
    for (i, store) in stores.iter().enumerate() {
        let integration_id: i64 = integrations[i].rsplit('/').next().unwrap().parse().unwrap();
        let listings = &reached[&integration_id];
        assert!(listings.len() > 4_000, "{} listings", listings.len());
        app.sandbox
            .with_store(&store.hash, |s| {
                for (sku, product, variant, per_variant) in listings {
                    let p = &s.products[product];
                    let held = if *per_variant {
                        p.variants
                            .iter()
                            .find(|v| v.id == *variant)
                            .unwrap()
                            .inventory_level
                    } else {
                        p.inventory_level
                    };
                    assert_eq!(held, wanted[sku], "{sku} on store {}", i + 1);
                }
            })
            .unwrap();
        let calls = app.sandbox.count(&store.hash, PUSHED_ENDPOINT) - calls_before[i];
        let floor = listings.len().div_ceil(2_000) as u64;
        assert!(
            calls <= floor,
            "store {}: {calls} calls for {} listings; all calls: {:?}",
            i + 1,
            listings.len(),
            app.sandbox.with_store(&store.hash, |s| s.counters.clone())
        );
    }

    // The same file again: refused, unless forced.
    let again = import(&app, &token, &csv, "SET", false, false).await;
    assert_eq!(codes(&again), ["IDEMPOTENCY_KEY_REUSED"], "{again}");
    let forced = import(&app, &token, &csv, "SET", false, true).await;
    assert_eq!(forced["userErrors"], json!([]), "{forced}");
    assert_eq!(forced["result"]["changedCount"], 0);
}

#[tokio::test]
async fn a_file_without_its_header_or_with_duplicates_is_answered_row_by_row_or_as_a_whole() {
    let s = crate::support::shop("counts-errors@example.com").await;
    s.stocked(&[("MUG", 10), ("PLATE", 4)]).await;
    let no_header = import(&s.app, &s.token, "MUG,5\nPLATE,3\n", "SET", false, false).await;
    assert_eq!(codes(&no_header), ["INVALID_FILE"], "{no_header}");
    let adjusted = import(
        &s.app,
        &s.token,
        "sku,quantity,note\nMUG,-3,broken\nPLATE,2,\nPLATE,1,\n\"MUG\",x,\n",
        "ADJUST",
        false,
        false,
    )
    .await;
    assert_eq!(adjusted["userErrors"], json!([]), "{adjusted}");
    let statuses: Vec<&str> = adjusted["result"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "DUPLICATE_SKU",
            "DUPLICATE_SKU",
            "DUPLICATE_SKU",
            "DUPLICATE_SKU"
        ]
    );
    assert_eq!(s.stock("MUG").await, 10);
    let taken = import(
        &s.app,
        &s.token,
        "sku,quantity\nMUG,-3\nPLATE,-5\n",
        "ADJUST",
        false,
        false,
    )
    .await;
    assert_eq!(taken["result"]["okCount"], 1, "{taken}");
    assert_eq!(taken["result"]["problems"][0]["status"], "INVALID_QUANTITY");
    assert_eq!(s.stock("MUG").await, 7);
    assert_eq!(s.stock("PLATE").await, 4);
    let ledger = s
        .ledger(s.product("MUG").await["id"].as_str().unwrap())
        .await;
    assert_eq!(ledger[0]["reason"], "COUNT_ADJUST");
    assert_eq!(ledger[0]["note"], "Year-end count");

    // The export: every product with its figure, no token needed to follow the link.
    let link = s
        .app
        .data(
            Some(&s.token),
            "mutation { exportStock { link { url expiresAt } userErrors { code } } }",
            json!({}),
        )
        .await;
    let url = link["exportStock"]["link"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let res = download(&s.app, None, &url).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let body = res.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert!(
        lines[0].starts_with("sku,name,stock,low_stock_threshold,bundle,pushed:"),
        "{body}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("MUG,Product MUG,7,,no,")),
        "{body}"
    );
    let altered = download(&s.app, None, &format!("{url}x")).await;
    assert_eq!(altered.status(), 403);
}
