//! Webhooks API and deliveries (docs/bigcommerce.md §10, §12).

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use orderdeck_sandbox::hooks::sha1_hex;
use orderdeck_sandbox::model::Tracking;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{sandbox, sandbox_with, Answer, Sbx};

/// One delivery a receiver accepted: lower-cased headers and the parsed body.
#[derive(Clone, Debug)]
struct Delivery {
    headers: BTreeMap<String, String>,
    body: Value,
}

/// A local webhook receiver: answers 500 to the first `fail_first` requests, then 200.
struct Receiver {
    url: String,
    attempts: Arc<AtomicUsize>,
    accepted: Arc<Mutex<Vec<Delivery>>>,
}

struct ReceiverState {
    fail_first: usize,
    attempts: Arc<AtomicUsize>,
    accepted: Arc<Mutex<Vec<Delivery>>>,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<ReceiverState>,
) -> HttpResponse {
    let attempt = state.attempts.fetch_add(1, Ordering::SeqCst) + 1;
    if attempt <= state.fail_first {
        return HttpResponse::InternalServerError().finish();
    }
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state
        .accepted
        .lock()
        .unwrap()
        .push(Delivery { headers, body });
    HttpResponse::Ok().finish()
}

async fn receiver(fail_first: usize) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let attempts = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let data = web::Data::new(ReceiverState {
        fail_first,
        attempts: attempts.clone(),
        accepted: accepted.clone(),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(receive))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    Receiver {
        url: format!("http://{addr}/hook"),
        attempts,
        accepted,
    }
}

impl Receiver {
    fn accepted(&self) -> Vec<Delivery> {
        self.accepted.lock().unwrap().clone()
    }
    fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }
    /// Waits up to `secs` for at least `n` accepted deliveries.
    async fn wait_for(&self, n: usize, secs: u64) -> Vec<Delivery> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if self.accepted.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.accepted()
    }
}

async fn create(sbx: &Sbx, scope: &str, destination: &str) -> Answer {
    sbx.post(
        "/v3/hooks",
        json!({ "scope": scope, "destination": destination, "is_active": true }),
    )
    .await
}

/// The id of a product tracked by product.
fn product_tracked(sbx: &Sbx) -> i64 {
    sbx.handle
        .with_store(&sbx.store.hash, |s| {
            s.products
                .values()
                .find(|p| p.inventory_tracking == Tracking::Product && !p.has_options())
                .map(|p| p.id)
                .unwrap()
        })
        .unwrap()
}

async fn set_stock(sbx: &Sbx, pid: i64, quantity: i64) {
    let a = sbx
        .put(
            "/v3/inventory/adjustments/absolute",
            json!({ "items": [{ "location_id": 1, "product_id": pid, "quantity": quantity }] }),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
}

#[tokio::test]
async fn creating_a_hook_answers_it_with_the_callers_client_id() {
    let sbx = sandbox().await;
    let a = sbx
        .post(
            "/v3/hooks",
            json!({
                "scope": "store/order/created",
                "destination": "https://example.com/hooks",
                "is_active": true,
                "headers": { "X-Custom": "secret" }
            }),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let d = &a.json["data"];
    assert!(d["id"].is_i64());
    assert_eq!(d["client_id"], sbx.store.client_id.as_str());
    assert_eq!(d["store_hash"], sbx.store.hash.as_str());
    assert!(d["created_at"].is_i64());
    assert!(d["updated_at"].is_i64());
    assert_eq!(d["scope"], "store/order/created");
    assert_eq!(d["destination"], "https://example.com/hooks");
    assert_eq!(d["is_active"], true);
    assert_eq!(d["headers"], json!({ "X-Custom": "secret" }));
    assert_eq!(a.json["meta"], json!({}));
}

#[tokio::test]
async fn hooks_can_be_listed_read_updated_and_deleted() {
    let sbx = sandbox().await;
    let a = create(&sbx, "store/order/created", "https://example.com/a").await;
    let id = a.json["data"]["id"].as_i64().unwrap();
    create(&sbx, "store/product/*", "https://example.com/b").await;

    let list = sbx.get("/v3/hooks").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json["data"].as_array().unwrap().len(), 2);
    assert_eq!(list.json["meta"]["pagination"]["total"], 2);

    let one = sbx.get(&format!("/v3/hooks/{id}")).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json["data"]["id"], id);

    let put = sbx
        .put(
            &format!("/v3/hooks/{id}"),
            json!({ "is_active": false, "headers": { "X-A": "1" } }),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.json["data"]["is_active"], false);
    assert_eq!(put.json["data"]["headers"], json!({ "X-A": "1" }));
    assert_eq!(put.json["data"]["scope"], "store/order/created");

    let active = sbx.get("/v3/hooks?is_active=true").await;
    assert_eq!(active.json["data"].as_array().unwrap().len(), 1);
    let by_scope = sbx.get("/v3/hooks?scope=store/order/created").await;
    assert_eq!(by_scope.json["data"][0]["id"], id);
    let by_dest = sbx.get("/v3/hooks?destination=https://example.com/b").await;
    assert_eq!(by_dest.json["data"].as_array().unwrap().len(), 1);
    let paged = sbx.get("/v3/hooks?limit=1&page=2").await;
    assert_eq!(paged.json["data"].as_array().unwrap().len(), 1);

    let del = sbx.delete(&format!("/v3/hooks/{id}")).await;
    assert_eq!(del.status, StatusCode::OK);
    assert_eq!(del.json["data"]["id"], id);
    let gone = sbx.get(&format!("/v3/hooks/{id}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let gone = sbx.delete(&format!("/v3/hooks/{id}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        sbx.get("/v3/hooks").await.json["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let wrong = sbx.post(&format!("/v3/hooks/{id}"), json!({})).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn one_hook_per_destination_and_ten_per_scope() {
    let sbx = sandbox().await;
    let a = create(&sbx, "store/order/created", "https://example.com/0").await;
    assert_eq!(a.status, StatusCode::OK);
    let dup = create(&sbx, "store/order/created", "https://example.com/0").await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.json["status"], 409);
    for i in 1..10 {
        let a = create(
            &sbx,
            "store/order/created",
            &format!("https://example.com/{i}"),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
    }
    let eleventh = create(&sbx, "store/order/created", "https://example.com/10").await;
    assert_eq!(eleventh.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(eleventh.json["status"], 422);
    // Another scope has its own allowance.
    let other = create(&sbx, "store/order/updated", "https://example.com/0").await;
    assert_eq!(other.status, StatusCode::OK);

    // Moving a hook onto an existing (scope, destination) is refused as well.
    let id = other.json["data"]["id"].as_i64().unwrap();
    let put = sbx
        .put(
            &format!("/v3/hooks/{id}"),
            json!({ "scope": "store/order/created" }),
        )
        .await;
    assert_eq!(put.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn hooks_are_visible_only_to_the_account_that_created_them() {
    let sbx = sandbox().await;
    let mine = create(&sbx, "store/order/created", "https://example.com/x").await;
    let id = mine.json["data"]["id"].as_i64().unwrap();
    let other = sbx.store.read_only_token.clone();

    let list = sbx.call_as(&other, Method::GET, "/v3/hooks", None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json["data"], json!([]));
    for method in [Method::GET, Method::DELETE] {
        let a = sbx
            .call_as(&other, method, &format!("/v3/hooks/{id}"), None)
            .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
    }
    let a = sbx
        .call_as(
            &other,
            Method::PUT,
            &format!("/v3/hooks/{id}"),
            Some(json!({ "is_active": false })),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);

    // The other account may register the same scope and destination for itself.
    let theirs = sbx
        .call_as(
            &other,
            Method::POST,
            "/v3/hooks",
            Some(json!({ "scope": "store/order/created", "destination": "https://example.com/x" })),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.text);
    assert_ne!(
        theirs.json["data"]["client_id"],
        sbx.store.client_id.as_str()
    );
    let list = sbx.call_as(&other, Method::GET, "/v3/hooks", None).await;
    assert_eq!(list.json["data"].as_array().unwrap().len(), 1);
    let mine = sbx.get(&format!("/v3/hooks/{id}")).await;
    assert_eq!(mine.json["data"]["is_active"], true);
}

#[tokio::test]
async fn destinations_must_be_https_on_port_443_unless_insecure_hooks_are_allowed() {
    let sbx = sandbox_with(|c| c.allow_insecure_hooks = false).await;
    for destination in [
        "http://example.com/hook",
        "https://example.com:8443/hook",
        "ftp://example.com/hook",
        "not a url",
    ] {
        let a = create(&sbx, "store/order/created", destination).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{destination}");
        assert!(a.json["errors"]["destination"].is_string(), "{}", a.text);
    }
    let ok = create(&sbx, "store/order/created", "https://example.com:443/hook").await;
    assert_eq!(ok.status, StatusCode::OK);

    let insecure = sandbox().await;
    let ok = create(&insecure, "store/order/created", "http://127.0.0.1:9/hook").await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn scope_and_destination_are_required_and_scopes_must_exist() {
    let sbx = sandbox().await;
    let a = sbx
        .post("/v3/hooks", json!({ "scope": "store/order/created" }))
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.json["errors"]["destination"].is_string());
    let a = sbx
        .post("/v3/hooks", json!({ "destination": "https://example.com" }))
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.json["errors"]["scope"].is_string());
    for scope in ["store/order/nothing", "store/*", "orders"] {
        let a = create(&sbx, scope, "https://example.com").await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{scope}");
    }
    for scope in ["store/order/*", "store/sku/*", "store/shipment/created"] {
        let a = create(&sbx, scope, "https://example.com").await;
        assert_eq!(a.status, StatusCode::OK, "{scope}");
    }
    let a = sbx.post("/v3/hooks", json!(["not", "an", "object"])).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_inventory_write_is_delivered_to_a_matching_hook() {
    let sbx = sandbox().await;
    let rx = receiver(0).await;
    let other = receiver(0).await;
    let a = sbx
        .post(
            "/v3/hooks",
            json!({
                "scope": "store/product/inventory/updated",
                "destination": rx.url,
                "is_active": true,
                "headers": { "X-Secret": "s3cret" }
            }),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let a = create(&sbx, "store/order/created", &other.url).await;
    assert_eq!(a.status, StatusCode::OK);

    let pid = product_tracked(&sbx);
    set_stock(&sbx, pid, 33).await;
    let got = rx.wait_for(1, 3).await;
    assert_eq!(got.len(), 1);
    let d = &got[0];
    assert_eq!(
        d.headers.get("x-secret").map(String::as_str),
        Some("s3cret")
    );
    assert!(d.headers["content-type"].starts_with("application/json"));
    let store_id = sbx
        .handle
        .with_store(&sbx.store.hash, |s| s.store_id)
        .unwrap();
    let b = &d.body;
    assert_eq!(b["scope"], "store/product/inventory/updated");
    assert_eq!(b["store_id"], store_id.to_string());
    assert_eq!(b["producer"], format!("stores/{}", sbx.store.hash));
    assert!(b["created_at"].is_i64());
    assert_eq!(
        b["data"],
        json!({
            "type": "product",
            "id": pid,
            "inventory": { "product_id": pid, "method": "absolute", "value": 33 }
        })
    );
    let hash = b["hash"].as_str().unwrap();
    assert_eq!(hash.len(), 40);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(hash, sha1_hex(b["data"].to_string().as_bytes()));

    // A hook for another scope gets nothing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(other.attempts(), 0);
    assert_eq!(rx.attempts(), 1);
}

#[tokio::test]
async fn a_variant_adjustment_reaches_a_wildcard_sku_hook() {
    let sbx = sandbox().await;
    let rx = receiver(0).await;
    let a = create(&sbx, "store/sku/*", &rx.url).await;
    assert_eq!(a.status, StatusCode::OK);
    let (pid, vid) = sbx
        .handle
        .with_store(&sbx.store.hash, |s| {
            s.products
                .values()
                .find(|p| p.inventory_tracking == Tracking::Variant && p.has_options())
                .map(|p| (p.id, p.variants[0].id))
                .unwrap()
        })
        .unwrap();
    sbx.handle
        .with_store(&sbx.store.hash, |s| {
            let p = s.products.get_mut(&pid).unwrap();
            p.variants[0].inventory_level = 10;
        })
        .unwrap();
    let a = sbx
        .post(
            "/v3/inventory/adjustments/relative",
            json!({ "items": [{ "location_id": 1, "variant_id": vid, "quantity": -2 }] }),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let got = rx.wait_for(1, 3).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body["scope"], "store/sku/inventory/updated");
    assert_eq!(
        got[0].body["data"],
        json!({
            "type": "sku",
            "id": vid,
            "inventory": { "product_id": pid, "method": "relative", "value": -2, "variant_id": vid }
        })
    );
}

#[tokio::test]
async fn a_failed_delivery_is_retried_until_it_succeeds_once() {
    let sbx = sandbox_with(|c| c.hook_retry_base = Duration::from_millis(50)).await;
    let rx = receiver(2).await;
    let a = create(&sbx, "store/product/inventory/updated", &rx.url).await;
    let id = a.json["data"]["id"].as_i64().unwrap();
    let pid = product_tracked(&sbx);
    set_stock(&sbx, pid, 4).await;
    let got = rx.wait_for(1, 3).await;
    assert_eq!(got.len(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.attempts(), 3);
    assert_eq!(rx.accepted().len(), 1);
    let hook = sbx.get(&format!("/v3/hooks/{id}")).await;
    assert_eq!(hook.json["data"]["is_active"], true);
}

#[tokio::test]
async fn a_hook_that_keeps_failing_is_deactivated() {
    let sbx = sandbox_with(|c| c.hook_retry_base = Duration::from_millis(10)).await;
    let rx = receiver(usize::MAX).await;
    let a = create(&sbx, "store/product/inventory/updated", &rx.url).await;
    let id = a.json["data"]["id"].as_i64().unwrap();
    let pid = product_tracked(&sbx);
    set_stock(&sbx, pid, 4).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut active = Value::Bool(true);
    while Instant::now() < deadline {
        active = sbx.get(&format!("/v3/hooks/{id}")).await.json["data"]["is_active"].clone();
        if active == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(active, false);
    assert_eq!(rx.attempts(), 6);

    // An inactive hook receives nothing more.
    set_stock(&sbx, pid, 5).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.attempts(), 6);
}
