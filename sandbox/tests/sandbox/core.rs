//! The guard (auth, scopes, read-only, content type, rate limit, faults, counters, log), the
//! information endpoints and the `/_sandbox` controls (docs/bigcommerce.md §1, §6, §7, §12).

use std::time::{Duration, Instant};

use orderdeck_sandbox::config::UnknownStore;
use orderdeck_sandbox::seed;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{answer, sandbox, sandbox_with, Answer, Sbx};

const RATE_HEADERS: [&str; 4] = [
    "x-rate-limit-time-window-ms",
    "x-rate-limit-time-reset-ms",
    "x-rate-limit-requests-quota",
    "x-rate-limit-requests-left",
];

fn assert_v3_error(res: &Answer, status: u16) {
    assert_eq!(res.status.as_u16(), status, "{}", res.text);
    assert_eq!(res.json["status"], status, "{}", res.text);
    assert!(res.json["title"].is_string(), "{}", res.text);
    assert!(res.json["type"].is_string(), "{}", res.text);
}

fn assert_scope_error(res: &Answer) {
    assert_v3_error(res, 403);
    assert_eq!(
        res.json["title"],
        "You don't have a required scope to access the endpoint"
    );
    assert_eq!(res.json["errors"], json!({}));
}

fn header_number(res: &Answer, name: &str) -> i64 {
    res.header(name)
        .unwrap_or_else(|| panic!("{name} missing"))
        .parse()
        .unwrap()
}

/// Sends a request with arbitrary headers to the first store.
async fn send(sbx: &Sbx, method: Method, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = sbx.http.request(method, sbx.api(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    answer(req.send().await.unwrap()).await
}

async fn set_faults(sbx: &Sbx, faults: Value) {
    let res = sbx
        .control(
            Method::PUT,
            &format!("/_sandbox/stores/{}/faults", sbx.store.hash),
            Some(faults),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
}

#[tokio::test]
async fn the_store_endpoint_answers_the_store_with_its_hash_as_id() {
    let sbx = sandbox().await;
    let res = sbx.get("v2/store").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json["id"], sbx.store.hash.as_str());
    assert_eq!(res.json["name"], sbx.store.name.as_str());
    assert_eq!(res.json["name"], "Sandbox Store 1");
    let currency = res.json["currency"].as_str().unwrap();
    assert_eq!(currency.len(), 3);
    assert!(res.json["store_id"].is_i64());
    assert!(res.json["secure_url"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    assert!(res
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
}

#[tokio::test]
async fn the_time_endpoint_answers_unix_seconds() {
    let sbx = sandbox().await;
    let res = sbx.get("v2/time").await;
    assert_eq!(res.status, StatusCode::OK);
    let time = res.json["time"].as_i64().unwrap();
    assert!((time - chrono::Utc::now().timestamp()).abs() < 60);
}

#[tokio::test]
async fn a_missing_token_is_refused_with_401_and_the_v3_body() {
    let sbx = sandbox().await;
    let res = send(
        &sbx,
        Method::GET,
        "v2/store",
        &[("Accept", "application/json")],
    )
    .await;
    assert_v3_error(&res, 401);
    assert!(res.json["title"]
        .as_str()
        .unwrap()
        .starts_with("Unauthorized"));
}

#[tokio::test]
async fn an_unknown_token_is_refused_with_401() {
    let sbx = sandbox().await;
    let res = sbx
        .call_as("not-a-token", Method::GET, "v2/store", None)
        .await;
    assert_v3_error(&res, 401);
    // A token of another store does not open this one.
    let other = sbx.handle.stores()[1].access_token.clone();
    let res = sbx.call_as(&other, Method::GET, "v2/store", None).await;
    assert_v3_error(&res, 401);
}

#[tokio::test]
async fn an_unknown_store_hash_answers_403_with_the_scope_body_by_default() {
    let sbx = sandbox().await;
    let res = answer(
        sbx.http
            .get(format!("{}/stores/nosuch123/v2/store", sbx.handle.url))
            .header("X-Auth-Token", &sbx.store.access_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_scope_error(&res);
}

#[tokio::test]
async fn an_unknown_store_hash_can_answer_404_instead() {
    let sbx = sandbox_with(|c| c.unknown_store = UnknownStore::NotFound).await;
    let res = answer(
        sbx.http
            .get(format!("{}/stores/nosuch123/v2/store", sbx.handle.url))
            .header("X-Auth-Token", &sbx.store.access_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(res.json.is_null(), "not JSON: {}", res.text);
    // Known stores still answer.
    assert_eq!(sbx.get("v2/store").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_token_without_the_scope_is_refused_with_403() {
    let sbx = sandbox().await;
    sbx.handle.with_store(&sbx.store.hash, |s| {
        s.accounts
            .push(seed::account("c".into(), "t".into(), &["store_v2_orders"]))
    });
    let res = sbx.call_as("t", Method::GET, "v2/store", None).await;
    assert_scope_error(&res);
    let res = sbx.call_as("t", Method::GET, "v2/time", None).await;
    assert_scope_error(&res);
    // The information-only token reads the store but not the catalog.
    let info = sbx.store.info_only_token.clone();
    assert_eq!(
        sbx.call_as(&info, Method::GET, "v2/store", None)
            .await
            .status,
        StatusCode::OK
    );
    let res = sbx
        .call_as(&info, Method::GET, "v3/catalog/products", None)
        .await;
    assert_scope_error(&res);
}

#[tokio::test]
async fn a_read_only_token_reads_but_cannot_write() {
    let sbx = sandbox().await;
    let token = sbx.store.read_only_token.clone();
    assert_eq!(
        sbx.call_as(&token, Method::GET, "v2/store", None)
            .await
            .status,
        StatusCode::OK
    );
    for method in [Method::PUT, Method::POST, Method::DELETE] {
        let res = sbx
            .call_as(
                &token,
                method.clone(),
                "v3/catalog/products",
                Some(json!([{ "id": 1, "name": "x" }])),
            )
            .await;
        assert_scope_error(&res);
    }
    let res = sbx
        .call_as(
            &token,
            Method::PUT,
            "v2/orders/1",
            Some(json!({ "status_id": 2 })),
        )
        .await;
    assert_scope_error(&res);
}

#[tokio::test]
async fn x_auth_client_is_ignored() {
    let sbx = sandbox().await;
    let token = sbx.store.access_token.clone();
    let res = send(
        &sbx,
        Method::GET,
        "v2/store",
        &[
            ("X-Auth-Token", &token),
            ("X-Auth-Client", "some-other-client"),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    let res = send(
        &sbx,
        Method::GET,
        "v2/store",
        &[("X-Auth-Client", &sbx.store.client_id)],
    )
    .await;
    assert_eq!(
        res.status,
        StatusCode::UNAUTHORIZED,
        "the client id alone is no credential"
    );
}

#[tokio::test]
async fn header_names_are_case_insensitive_and_answered_in_lower_case() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sbx = sandbox().await;
    let addr = sbx.handle.url.trim_start_matches("http://").to_string();
    for name in ["X-AUTH-TOKEN", "x-auth-token", "X-Auth-Token"] {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let request = format!(
            "GET /stores/{}/v2/store HTTP/1.1\r\nHost: {addr}\r\n{name}: {}\r\nACCEPT: application/json\r\nConnection: close\r\n\r\n",
            sbx.store.hash, sbx.store.access_token
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let text = String::from_utf8_lossy(&raw);
        assert!(text.starts_with("HTTP/1.1 200"), "{name}: {text}");
        assert!(text.contains("\r\nx-rate-limit-requests-left: "), "{text}");
    }
}

#[tokio::test]
async fn a_write_without_a_json_content_type_is_refused_with_415() {
    let sbx = sandbox().await;
    let token = sbx.store.access_token.clone();
    for method in [Method::POST, Method::PUT] {
        let res = answer(
            sbx.http
                .request(method.clone(), sbx.api("v3/catalog/products"))
                .header("X-Auth-Token", &token)
                .header("Content-Type", "text/plain")
                .body("{}")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_v3_error(&res, 415);
        let res = answer(
            sbx.http
                .request(method, sbx.api("v3/catalog/products"))
                .header("X-Auth-Token", &token)
                .body("{}")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    // On v2 paths the body is a v2 array.
    let res = answer(
        sbx.http
            .post(sbx.api("v2/orders/1/shipments"))
            .header("X-Auth-Token", &token)
            .header("Content-Type", "application/xml")
            .body("<x/>")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(res.json[0]["status"], 415, "{}", res.text);
}

#[tokio::test]
async fn every_answer_carries_the_four_rate_limit_headers() {
    let sbx = sandbox().await;
    let first = sbx.get("v2/store").await;
    for name in RATE_HEADERS {
        assert!(first.header(name).is_some(), "{name} missing");
    }
    assert_eq!(header_number(&first, "x-rate-limit-time-window-ms"), 30_000);
    assert_eq!(header_number(&first, "x-rate-limit-requests-quota"), 150);
    assert_eq!(header_number(&first, "x-rate-limit-requests-left"), 149);
    let reset = header_number(&first, "x-rate-limit-time-reset-ms");
    assert!((0..=30_000).contains(&reset));

    let second = sbx.get("v2/time").await;
    assert_eq!(header_number(&second, "x-rate-limit-requests-left"), 148);
    // Errors of authenticated requests carry them too.
    let missing = sbx.get("v2/no-such-thing").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(header_number(&missing, "x-rate-limit-requests-left"), 147);
    let unsupported = answer(
        sbx.http
            .post(sbx.api("v3/catalog/products"))
            .header("X-Auth-Token", &sbx.store.access_token)
            .body("x")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(unsupported.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    for name in RATE_HEADERS {
        assert!(unsupported.header(name).is_some(), "{name} missing on 415");
    }
}

#[tokio::test]
async fn an_exhausted_quota_answers_429_with_retry_after() {
    let sbx = sandbox_with(|c| {
        c.quota = 3;
    })
    .await;
    for left in [2, 1, 0] {
        let res = sbx.get("v2/store").await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(header_number(&res, "x-rate-limit-requests-left"), left);
    }
    let limited = sbx.get("v2/store").await;
    assert_v3_error(&limited, 429);
    assert_eq!(header_number(&limited, "x-rate-limit-requests-left"), 0);
    assert_eq!(header_number(&limited, "x-rate-limit-requests-quota"), 3);
    let retry = header_number(&limited, "x-retry-after");
    assert!((1..=30).contains(&retry), "{retry}");
    // The quota is per store.
    let other = sbx.handle.stores()[1].clone();
    let res = answer(
        sbx.http
            .get(format!("{}/stores/{}/v2/store", sbx.handle.url, other.hash))
            .header("X-Auth-Token", &other.access_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
}

#[tokio::test]
async fn the_quota_refills_when_the_window_ends() {
    let window = Duration::from_millis(500);
    let sbx = sandbox_with(|c| {
        c.quota = 2;
        c.window = window;
    })
    .await;
    // Loop rather than count: on a busy machine a window may end in the middle.
    let mut limited = None;
    for _ in 0..20 {
        let res = sbx.get("v2/time").await;
        if res.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(res);
            break;
        }
    }
    let limited = limited.expect("the quota ran out");
    assert_eq!(header_number(&limited, "x-rate-limit-time-window-ms"), 500);
    assert!(header_number(&limited, "x-rate-limit-time-reset-ms") <= 500);
    tokio::time::sleep(window + Duration::from_millis(100)).await;
    let res = sbx.get("v2/time").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(header_number(&res, "x-rate-limit-requests-left"), 1);
}

#[tokio::test]
async fn the_quota_control_changes_a_stores_quota() {
    let sbx = sandbox().await;
    let res = sbx
        .control(
            Method::PUT,
            &format!("/_sandbox/stores/{}/quota", sbx.store.hash),
            Some(json!({ "quota": 1 })),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(sbx.get("v2/time").await.status, StatusCode::OK);
    assert_eq!(
        sbx.get("v2/time").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn scheduled_faults_answer_their_statuses_in_order_then_normally() {
    let sbx = sandbox().await;
    set_faults(&sbx, json!({ "schedule": [503, 429] })).await;
    let first = sbx.get("v2/store").await;
    assert_eq!(first.status, StatusCode::SERVICE_UNAVAILABLE);
    let second = sbx.get("v2/store").await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(second.header("x-retry-after").is_some());
    for name in RATE_HEADERS {
        assert!(second.header(name).is_some(), "{name} missing");
    }
    let third = sbx.get("v2/store").await;
    assert_eq!(third.status, StatusCode::OK);
    assert_eq!(third.json["id"], sbx.store.hash.as_str());
}

#[tokio::test]
async fn injected_latency_delays_answers_until_cleared() {
    let sbx = sandbox().await;
    set_faults(&sbx, json!({ "latency_ms": 400 })).await;
    let started = Instant::now();
    assert_eq!(sbx.get("v2/time").await.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(400));
    let res = sbx
        .control(
            Method::DELETE,
            &format!("/_sandbox/stores/{}/faults", sbx.store.hash),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let started = Instant::now();
    assert_eq!(sbx.get("v2/time").await.status, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(400));
}

#[tokio::test]
async fn a_dropped_connection_is_a_client_error() {
    let sbx = sandbox().await;
    set_faults(&sbx, json!({ "drop_connections": 1 })).await;
    let failed = match sbx
        .http
        .get(sbx.api("v2/store"))
        .header("X-Auth-Token", &sbx.store.access_token)
        .send()
        .await
    {
        Err(_) => true,
        Ok(res) => res.text().await.is_err(),
    };
    assert!(failed, "the request should fail at the transport level");
    assert_eq!(sbx.get("v2/store").await.status, StatusCode::OK);
}

#[tokio::test]
async fn malformed_json_is_answered_once_then_valid_json() {
    let sbx = sandbox().await;
    set_faults(&sbx, json!({ "malformed_json": 1 })).await;
    let res = sbx.get("v2/store").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(!res.text.is_empty());
    assert!(serde_json::from_str::<Value>(&res.text).is_err());
    let res = sbx.get("v2/store").await;
    assert_eq!(res.json["id"], sbx.store.hash.as_str());
}

#[tokio::test]
async fn counters_count_requests_per_endpoint() {
    let sbx = sandbox().await;
    sbx.get("v2/store").await;
    sbx.get("v2/store").await;
    sbx.get("v2/time").await;
    sbx.call_as("bad-token", Method::GET, "v2/store", None)
        .await;
    let res = sbx
        .control(
            Method::GET,
            &format!("/_sandbox/stores/{}/counters", sbx.store.hash),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json["endpoints"]["GET /v2/store"], 3);
    assert_eq!(res.json["endpoints"]["GET /v2/time"], 1);
    assert_eq!(res.json["total"], 4);
    assert_eq!(sbx.handle.count(&sbx.store.hash, "GET /v2/store"), 3);
    assert_eq!(sbx.handle.count(&sbx.store.hash, "GET /v2/orders"), 0);
    let unknown = sbx
        .control(Method::GET, "/_sandbox/stores/nosuch/counters", None)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_request_log_lists_requests_by_store() {
    let sbx = sandbox().await;
    sbx.get("v2/store").await;
    sbx.call_as("bad-token", Method::GET, "v2/time", None).await;
    let other = sbx.handle.stores()[1].clone();
    sbx.http
        .get(format!("{}/stores/{}/v2/time", sbx.handle.url, other.hash))
        .header("X-Auth-Token", &other.access_token)
        .send()
        .await
        .unwrap();
    let res = sbx
        .control(
            Method::GET,
            &format!("/_sandbox/requests?store={}", sbx.store.hash),
            None,
        )
        .await;
    let entries = res.json.as_array().unwrap();
    assert_eq!(entries.len(), 2, "{}", res.text);
    assert_eq!(entries[0]["method"], "GET");
    assert_eq!(entries[0]["path"], "/v2/store");
    assert_eq!(entries[0]["status"], 200);
    assert_eq!(entries[1]["path"], "/v2/time");
    assert_eq!(entries[1]["status"], 401);
    assert!(entries
        .iter()
        .all(|e| e["store"] == sbx.store.hash.as_str()));
    let all = sbx.control(Method::GET, "/_sandbox/requests", None).await;
    assert_eq!(all.json.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn a_store_created_from_a_test_works_at_once_with_its_credentials() {
    let sbx = sandbox().await;
    let res = sbx
        .control(
            Method::POST,
            "/_sandbox/stores",
            Some(json!({ "name": "Fresh Shop", "products": 3, "orders": 2 })),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let hash = res.json["hash"].as_str().unwrap();
    assert_eq!(res.json["products"], 3);
    assert_eq!(res.json["orders"], 2);
    let token = res.json["api_accounts"][0]["access_token"]
        .as_str()
        .unwrap();
    let store = answer(
        sbx.http
            .get(format!("{}/stores/{hash}/v2/store", sbx.handle.url))
            .header("X-Auth-Token", token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(store.status, StatusCode::OK);
    assert_eq!(store.json["id"], hash);
    assert_eq!(store.json["name"], "Fresh Shop");
    // The Rust handle does the same in one line.
    let added = sbx.handle.add_store(0, 0);
    let res = answer(
        sbx.http
            .get(format!("{}/stores/{}/v2/store", sbx.handle.url, added.hash))
            .header("X-Auth-Token", &added.access_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json["name"], added.name.as_str());
    assert_eq!(sbx.handle.stores().len(), 4);
    let listed = sbx.control(Method::GET, "/_sandbox/stores", None).await;
    assert_eq!(listed.json.as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn reset_restores_the_seeded_data() {
    let sbx = sandbox().await;
    let hash = sbx.store.hash.clone();
    let orders = sbx.handle.with_store(&hash, |s| s.orders.len()).unwrap();
    sbx.handle.with_store(&hash, |s| {
        s.name = "Renamed".into();
        s.orders.clear();
    });
    sbx.handle.add_store(0, 0);
    assert_eq!(sbx.get("v2/store").await.json["name"], "Renamed");
    let res = sbx.control(Method::POST, "/_sandbox/reset", None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert_eq!(sbx.get("v2/store").await.json["name"], "Sandbox Store 1");
    assert_eq!(
        sbx.handle.with_store(&hash, |s| s.orders.len()).unwrap(),
        orders
    );
    assert_eq!(sbx.handle.stores().len(), 2);
    // The request log starts over (only the request above is in it).
    let log = sbx.control(Method::GET, "/_sandbox/requests", None).await;
    assert_eq!(log.json.as_array().unwrap().len(), 1);
}

/// What must be equal between two sandboxes of one seed (dates count back from the start
/// time, so they are left out).
fn fingerprint(sbx: &Sbx) -> Vec<Value> {
    sbx.handle
        .stores()
        .iter()
        .map(|c| {
            sbx.handle
                .with_store(&c.hash, |s| {
                    json!({
                        "credentials": c,
                        "currency": s.currency,
                        "products": s.products.values().map(|p| json!([p.id, p.name, p.sku, p.price.to_string(), p.inventory_level, p.variants.len()])).collect::<Vec<_>>(),
                        "orders": s.orders.values().map(|o| json!([o.id, o.status_id, o.billing_address.email, o.products.iter().map(|l| [l.product_id, l.quantity]).collect::<Vec<_>>()])).collect::<Vec<_>>(),
                    })
                })
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn the_same_seed_gives_the_same_stores_and_another_seed_other_ones() {
    let a = sandbox_with(|c| c.seed = 7).await;
    let b = sandbox_with(|c| c.seed = 7).await;
    let c = sandbox_with(|c| c.seed = 8).await;
    assert_eq!(fingerprint(&a), fingerprint(&b));
    assert_eq!(a.store.hash, b.store.hash);
    assert_eq!(a.get("v2/store").await.json, b.get("v2/store").await.json);
    let hashes = |s: &Sbx| {
        s.handle
            .stores()
            .into_iter()
            .map(|c| c.hash)
            .collect::<Vec<_>>()
    };
    assert_ne!(hashes(&a), hashes(&c));
    assert_ne!(fingerprint(&a), fingerprint(&c));
    // Stores added later are deterministic too.
    assert_eq!(a.handle.add_store(2, 2).hash, b.handle.add_store(2, 2).hash);
}
