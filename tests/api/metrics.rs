//! `GET /metrics`: off without `ORDERDECK_METRICS_BIND` and never on the API's address; with
//! it, the series move as orders are imported, stock is pushed, webhooks are refused and a
//! store answers 429.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::support::{connect, create_product, sync, wait_until, TestApp};

/// An app with metrics on (and the push worker running), its metrics on their own port.
async fn metrics_app() -> TestApp {
    TestApp::builder()
        .settings(|s| {
            s.metrics_bind = Some("127.0.0.1:0".into());
            s.push_enabled = true;
            s.push_poll = Duration::from_millis(50);
        })
        .sandbox(|c| c.window = Duration::from_secs(2))
        .spawn()
        .await
}

/// The scraped text.
async fn scrape(app: &TestApp) -> String {
    let address = app.metrics_address.as_ref().expect("metrics are on");
    let res = app
        .http
        .get(format!("{address}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    res.text().await.unwrap()
}

/// The value of one series (its name and labels exactly as printed, labels in name order),
/// `None` when it is absent.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

/// The sum of every series whose line starts with `prefix`.
fn total(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The integration's row id from its global id.
fn row(gid: &str) -> String {
    gid.rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn metrics_are_not_served_without_their_setting_nor_ever_on_the_api_address() {
    let app = TestApp::builder().spawn().await;
    assert!(app.metrics_address.is_none());
    assert!(!app.state.metrics.enabled());
    let res = app
        .http
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    let on = metrics_app().await;
    let res = on
        .http
        .get(format!("{}/metrics", on.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        404,
        "the API's address never serves the metrics"
    );
    let text = scrape(&on).await;
    assert!(
        text.contains(&format!(
            "orderdeck_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    assert!(
        value(&text, r#"orderdeck_db_connections{state="idle"}"#).is_some(),
        "{text}"
    );
}

#[tokio::test]
async fn an_import_a_push_and_a_refused_webhook_move_their_series() {
    let app = metrics_app().await;
    let token = app.signed_in("metrics@example.com").await;
    let store = app.store.clone();
    create_product(
        &app,
        &store,
        json!({ "name": "Mug", "sku": "MET-1", "inventory_level": 5 }),
    )
    .await;
    let gid = connect(&app, &token, &store, "Shop", true).await;
    let id = row(&gid);
    sync(&app, &token, &gid, "PRODUCTS").await;
    app.sandbox_action(
        &store.hash,
        Method::POST,
        "orders",
        json!({ "lines": [{ "sku": "MET-1", "quantity": 2 }] }),
    )
    .await;
    sync(&app, &token, &gid, "ORDERS").await;

    let text = scrape(&app).await;
    let imported = format!(r#"orderdeck_orders_imported_total{{integration="{id}"}}"#);
    assert_eq!(value(&text, &imported), Some(1.0), "{text}");
    assert_eq!(
        value(
            &text,
            r#"orderdeck_sync_runs_total{kind="orders",outcome="succeeded",trigger="manual"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            r#"orderdeck_sync_run_duration_seconds_count{kind="products"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        value(
            &text,
            r#"orderdeck_bigcommerce_calls_total{endpoint="orders",status="200"}"#
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        value(
            &text,
            &format!(r#"orderdeck_bigcommerce_requests_left{{integration="{id}"}}"#)
        )
        .is_some_and(|n| n > 0.0),
        "{text}"
    );
    let age = value(
        &text,
        &format!(r#"orderdeck_order_import_age_seconds{{integration="{id}"}}"#),
    );
    assert!(age.is_some_and(|s| s < 60.0), "{text}");
    assert_eq!(
        value(
            &text,
            &format!(r#"orderdeck_store_health{{integration="{id}",state="healthy"}}"#)
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        value(
            &text,
            r#"orderdeck_http_requests_total{method="POST",route="/graphql",status="200"}"#
        )
        .is_some_and(|n| n >= 4.0),
        "{text}"
    );

    // A named operation is counted by its name; its push, once sent, is counted too.
    let sent =
        format!(r#"orderdeck_pushes_total{{integration="{id}",kind="stock",outcome="sent"}}"#);
    let depth = format!(r#"orderdeck_stock_push_queue_depth{{integration="{id}"}}"#);
    // The order's own push (if any) first.
    wait_until("the queue to drain", Duration::from_secs(20), async || {
        value(&scrape(&app).await, &depth) == Some(0.0)
    })
    .await;
    let before = value(&scrape(&app).await, &sent).unwrap_or(0.0);
    let adjusted = app
        .data(
            Some(&token),
            "mutation FoundOne { adjustStock(input: { sku: \"MET-1\", delta: 1, reason: \"Found\" }) { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        adjusted["adjustStock"]["userErrors"],
        json!([]),
        "{adjusted}"
    );
    wait_until(
        "the push to be counted",
        Duration::from_secs(20),
        async || {
            let text = scrape(&app).await;
            value(&text, &sent).is_some_and(|n| n > before) && value(&text, &depth) == Some(0.0)
        },
    )
    .await;
    let text = scrape(&app).await;
    assert_eq!(
        value(
            &text,
            r#"orderdeck_graphql_operations_total{operation="FoundOne",outcome="ok"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        value(
            &text,
            r#"orderdeck_bigcommerce_calls_total{endpoint="inventory",status="200"}"#
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );

    // A delivery without the secret header is refused, and counted as such.
    let refused = r#"orderdeck_webhook_deliveries_total{outcome="refused"}"#;
    assert_eq!(value(&text, refused), None, "{text}");
    let res = app
        .http
        .post(format!("{}/webhooks/bigcommerce/{id}", app.address))
        .json(
            &json!({ "scope": "store/order/created", "hash": "x", "created_at": 0,
            "producer": format!("stores/{}", store.hash), "data": { "type": "order", "id": 1 } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let text = scrape(&app).await;
    assert_eq!(value(&text, refused), Some(1.0), "{text}");
    assert!(
        value(
            &text,
            r#"orderdeck_http_requests_total{method="POST",route="/webhooks/bigcommerce/{id}",status="401"}"#
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    // Paths no route has are one label, whatever the path.
    app.http
        .get(format!("{}/no/such/page/12345", app.address))
        .send()
        .await
        .unwrap();
    let text = scrape(&app).await;
    assert!(!text.contains("12345"), "{text}");
    assert!(
        value(
            &text,
            r#"orderdeck_http_requests_total{method="GET",route="unmatched",status="404"}"#
        )
        .is_some(),
        "{text}"
    );
}

#[tokio::test]
async fn a_429_from_the_store_is_counted_and_its_quota_shows_empty() {
    let app = metrics_app().await;
    let token = app.signed_in("metrics-429@example.com").await;
    let store = app.store.clone();
    let gid = connect(&app, &token, &store, "Shop", true).await;
    let id = row(&gid);
    app.sandbox_action(&store.hash, Method::PUT, "quota", json!({ "quota": 0 }))
        .await;
    let left = format!(r#"orderdeck_bigcommerce_requests_left{{integration="{id}"}}"#);
    let run = sync(&app, &token, &gid, "PRODUCTS");
    let watch = async {
        wait_until("the 429 to show", Duration::from_secs(10), async || {
            value(&scrape(&app).await, &left) == Some(0.0)
        })
        .await;
        let text = scrape(&app).await;
        app.sandbox_action(&store.hash, Method::PUT, "quota", json!({ "quota": 150 }))
            .await;
        text
    };
    let ((), text) = tokio::join!(run, watch);
    // Whichever endpoint the import called first.
    assert!(
        total(&text, "orderdeck_bigcommerce_rate_limited_total{") >= 1.0,
        "{text}"
    );
    assert!(
        total(&text, "orderdeck_bigcommerce_calls_total{")
            > total(&text, "orderdeck_bigcommerce_rate_limited_total{"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("orderdeck_bigcommerce_calls_total{")
                && l.contains(r#"status="429""#)),
        "{text}"
    );
}
