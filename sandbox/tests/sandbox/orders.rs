//! The Orders V2 API: lists, filters, sort, paging, the order representation, includes,
//! counts, statuses, products, shipping addresses and shipments, and the merchant actions
//! under `/_sandbox/` (docs/bigcommerce.md §2, §3, §7, §11, §12).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use chrono::{DateTime, SecondsFormat, Utc};
use orderdeck_sandbox::config::OverLimit;
use orderdeck_sandbox::model::{status_name, Order};
use orderdeck_sandbox::seed;
use orderdeck_sandbox::server::lock;
use rand::rngs::StdRng;
use rand::SeedableRng;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{sandbox, sandbox_with, Answer, Sbx};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A v2 money string: digits, a dot and exactly 4 decimals.
fn is_money(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    let s = s.strip_prefix('-').unwrap_or(s);
    match s.split_once('.') {
        Some((int, dec)) => {
            !int.is_empty()
                && int.chars().all(|c| c.is_ascii_digit())
                && dec.len() == 4
                && dec.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// An RFC 2822 date in UTC.
fn is_rfc2822_utc(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| DateTime::parse_from_rfc2822(s).is_ok() && s.ends_with("+0000"))
}

fn date(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc2822(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn ids(list: &Answer) -> Vec<i64> {
    list.json
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect()
}

fn assert_v2_error(res: &Answer, status: u16) {
    assert_eq!(res.status.as_u16(), status, "{}", res.text);
    let first = &res.json[0];
    assert_eq!(first["status"], json!(status), "{}", res.text);
    assert!(first["message"].is_string(), "{}", res.text);
}

/// The first store's orders that are not archived, by id.
fn live_orders(sbx: &Sbx) -> Vec<Order> {
    sbx.handle
        .with_store(&sbx.store.hash, |s| {
            s.orders
                .values()
                .filter(|o| !o.is_deleted)
                .cloned()
                .collect()
        })
        .unwrap()
}

/// Adds an order of `lines` random lines in `status`, created now, with nothing shipped and a
/// single shipping address.
fn add_order(sbx: &Sbx, lines: usize, status: i64) -> i64 {
    sbx.handle
        .with_store(&sbx.store.hash, |s| {
            let sellable = seed::sellables(s);
            let mut rng = StdRng::seed_from_u64(lines as u64 * 31 + status as u64);
            let mut order =
                seed::random_order(&mut rng, s, &sellable, Utc::now(), status, lines).unwrap();
            order.shipping_addresses.truncate(1);
            let address = order.shipping_addresses[0].id;
            for line in &mut order.products {
                line.order_address_id = address;
            }
            let id = order.id;
            s.orders.insert(id, order);
            id
        })
        .unwrap()
}

/// Adds an order with two shipping addresses, lines spread over both.
fn add_two_address_order(sbx: &Sbx) -> i64 {
    sbx.handle
        .with_store(&sbx.store.hash, |s| {
            let sellable = seed::sellables(s);
            let mut rng = StdRng::seed_from_u64(7);
            let mut order = seed::random_order(&mut rng, s, &sellable, Utc::now(), 11, 4).unwrap();
            if order.shipping_addresses.len() < 2 {
                let mut second = order.shipping_addresses[0].clone();
                second.id = s.new_id();
                second.address.city = "Second City".into();
                order.shipping_addresses.push(second);
            }
            let addresses: Vec<i64> = order.shipping_addresses.iter().map(|a| a.id).collect();
            for (i, line) in order.products.iter_mut().enumerate() {
                line.order_address_id = addresses[i % 2];
            }
            let id = order.id;
            s.orders.insert(id, order);
            id
        })
        .unwrap()
}

/// `(order_product_id, order_address_id, quantity)` of an order's lines, via the API.
async fn lines(sbx: &Sbx, order: i64) -> Vec<(i64, i64, i64)> {
    let res = sbx
        .get(&format!("v2/orders/{order}/products?limit=250"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.json
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_i64().unwrap(),
                p["order_address_id"].as_i64().unwrap(),
                p["quantity"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// A shipment body shipping `items` to `address`.
fn shipment(address: i64, items: &[(i64, i64)]) -> Value {
    json!({
        "order_address_id": address,
        "tracking_number": "1Z999AA10123456784",
        "shipping_method": "Flat Rate",
        "shipping_provider": "ups",
        "tracking_carrier": "",
        "comments": "Packed with care",
        "items": items
            .iter()
            .map(|(id, q)| json!({"order_product_id": id, "quantity": q}))
            .collect::<Vec<_>>(),
    })
}

/// Webhook deliveries received by a local endpoint, plus the events still queued.
struct Events {
    received: Arc<Mutex<Vec<Value>>>,
}

/// Registers hooks for order and shipment events pointing at a local receiver. (When the
/// Webhooks API refuses, only the queued events are looked at.)
async fn watch_events(sbx: &Sbx) -> Events {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::new(move || {
        let sink = sink.clone();
        App::new().default_service(web::to(move |body: web::Bytes| {
            let sink = sink.clone();
            async move {
                if let Ok(v) = serde_json::from_slice::<Value>(&body) {
                    sink.lock().unwrap().push(v);
                }
                HttpResponse::Ok().finish()
            }
        }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    for scope in [
        "store/order/*",
        "store/shipment/*",
        "store/product/*",
        "store/sku/*",
    ] {
        sbx.post(
            "v3/hooks",
            json!({
                "scope": scope,
                "destination": format!("http://{addr}/hook"),
                "is_active": true,
            }),
        )
        .await;
    }
    Events { received }
}

impl Events {
    fn seen(&self, sbx: &Sbx) -> Vec<(String, Value)> {
        let mut all: Vec<(String, Value)> = lock(&sbx.handle.state)
            .events
            .iter()
            .filter(|e| e.store == sbx.store.hash)
            .map(|e| (e.scope.clone(), e.data.clone()))
            .collect();
        all.extend(self.received.lock().unwrap().iter().map(|p| {
            (
                p["scope"].as_str().unwrap_or_default().to_string(),
                p["data"].clone(),
            )
        }));
        all
    }

    /// Waits (up to 5 s) for an event of `scope` whose data satisfies `pred`.
    async fn wait(&self, sbx: &Sbx, scope: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            if let Some((_, data)) = self
                .seen(sbx)
                .into_iter()
                .find(|(s, d)| s == scope && pred(d))
            {
                return data;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "no {scope} event; seen: {:?}",
                self.seen(sbx)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lists, paging, filters, sort
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn paging_with_limit_250_until_204_returns_every_live_order_exactly_once() {
    let sbx = sandbox_with(|c| c.orders = 320).await;
    let archived = live_orders(&sbx)[5].id;
    assert_eq!(
        sbx.delete(&format!("v2/orders/{archived}")).await.status,
        StatusCode::NO_CONTENT
    );
    let mut seen = Vec::new();
    let mut page = 1;
    loop {
        let res = sbx.get(&format!("v2/orders?limit=250&page={page}")).await;
        if res.status == StatusCode::NO_CONTENT {
            assert!(res.text.is_empty());
            break;
        }
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert!(res.json.is_array(), "a bare array");
        assert!(ids(&res).len() <= 250);
        seen.extend(ids(&res));
        page += 1;
        assert!(page < 10);
    }
    assert_eq!(page, 3, "two pages, then 204");
    let expected: Vec<i64> = live_orders(&sbx).iter().map(|o| o.id).collect();
    assert_eq!(expected.len(), 319);
    assert_eq!(seen, expected, "every live order once, in id order");
    assert!(!seen.contains(&archived));
}

#[tokio::test]
async fn a_page_past_the_end_answers_204_with_an_empty_body() {
    let sbx = sandbox().await;
    let res = sbx.get("v2/orders?page=50&limit=50").await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert!(res.text.is_empty());
    assert!(res.header("x-rate-limit-requests-left").is_some());
}

#[tokio::test]
async fn an_empty_filter_result_answers_204_with_an_empty_body() {
    let sbx = sandbox().await;
    let res = sbx.get("v2/orders?min_id=999999999").await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert!(res.text.is_empty());
}

#[tokio::test]
async fn the_default_page_holds_50_orders_and_limits_above_250_are_clamped() {
    let sbx = sandbox_with(|c| c.orders = 300).await;
    assert_eq!(ids(&sbx.get("v2/orders").await).len(), 50);
    assert_eq!(ids(&sbx.get("v2/orders?limit=1000").await).len(), 250);
    let second = sbx.get("v2/orders?limit=50&page=2").await;
    let all: Vec<i64> = live_orders(&sbx).iter().map(|o| o.id).collect();
    assert_eq!(ids(&second), all[50..100].to_vec());
}

#[tokio::test]
async fn limits_above_250_are_refused_with_413_when_configured() {
    let sbx = sandbox_with(|c| c.over_limit = OverLimit::Refuse).await;
    assert_v2_error(&sbx.get("v2/orders?limit=251").await, 413);
    assert_eq!(sbx.get("v2/orders?limit=250").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_bad_page_or_limit_is_a_400_v2_error() {
    let sbx = sandbox().await;
    assert_v2_error(&sbx.get("v2/orders?page=0").await, 400);
    assert_v2_error(&sbx.get("v2/orders?limit=abc").await, 400);
}

#[tokio::test]
async fn orders_sort_by_id_ascending_by_default_and_by_any_field_on_request() {
    let sbx = sandbox().await;
    let asc = ids(&sbx.get("v2/orders?limit=250").await);
    let mut sorted = asc.clone();
    sorted.sort();
    assert_eq!(asc, sorted);

    let desc = ids(&sbx.get("v2/orders?limit=250&sort=id:desc").await);
    sorted.reverse();
    assert_eq!(desc, sorted);

    let res = sbx.get("v2/orders?limit=250&sort=date_modified:desc").await;
    let dates: Vec<DateTime<Utc>> = res
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|o| date(&o["date_modified"]))
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]));

    let res = sbx.get("v2/orders?limit=250&sort=status_id").await;
    let statuses: Vec<i64> = res
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status_id"].as_i64().unwrap())
        .collect();
    assert!(statuses.windows(2).all(|w| w[0] <= w[1]));

    let res = sbx.get("v2/orders?limit=250&sort=customer_id:asc").await;
    let customers: Vec<i64> = res
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["customer_id"].as_i64().unwrap())
        .collect();
    assert!(customers.windows(2).all(|w| w[0] <= w[1]));
}

#[tokio::test]
async fn an_unknown_sort_field_is_a_400_v2_error() {
    let sbx = sandbox().await;
    assert_v2_error(&sbx.get("v2/orders?sort=total:desc").await, 400);
    assert_v2_error(&sbx.get("v2/orders?sort=id:sideways").await, 400);
}

#[tokio::test]
async fn date_modified_filters_accept_rfc2822_and_iso8601_and_are_inclusive() {
    let sbx = sandbox().await;
    let orders = live_orders(&sbx);
    let mut dates: Vec<DateTime<Utc>> = orders.iter().map(|o| o.date_modified).collect();
    dates.sort();
    let (low, high) = (dates[20], dates[80]);
    let expected: BTreeSet<i64> = orders
        .iter()
        .filter(|o| o.date_modified >= low && o.date_modified <= high)
        .map(|o| o.id)
        .collect();
    let rfc = format!(
        "v2/orders?limit=250&min_date_modified={}&max_date_modified={}",
        urlencode(&low.to_rfc2822()),
        urlencode(&high.to_rfc2822())
    );
    let iso = format!(
        "v2/orders?limit=250&min_date_modified={}&max_date_modified={}",
        urlencode(
            &low.with_timezone(&chrono::FixedOffset::west_opt(4 * 3600).unwrap())
                .to_rfc3339_opts(SecondsFormat::Millis, false)
        ),
        urlencode(&high.to_rfc3339_opts(SecondsFormat::Secs, true))
    );
    for query in [rfc, iso] {
        let got: BTreeSet<i64> = ids(&sbx.get(&query).await).into_iter().collect();
        assert_eq!(got, expected, "{query}");
    }
    // Both bounds on one instant: the orders modified exactly then.
    let exact = format!(
        "v2/orders?min_date_modified={0}&max_date_modified={0}",
        urlencode(&low.to_rfc2822())
    );
    let got = ids(&sbx.get(&exact).await);
    assert!(!got.is_empty());
    assert!(got
        .iter()
        .all(|id| orders.iter().any(|o| o.id == *id && o.date_modified == low)));
}

#[tokio::test]
async fn date_created_filters_bound_the_creation_date() {
    let sbx = sandbox().await;
    let orders = live_orders(&sbx);
    let mut dates: Vec<DateTime<Utc>> = orders.iter().map(|o| o.date_created).collect();
    dates.sort();
    let cut = dates[60];
    let query = format!(
        "v2/orders?limit=250&min_date_created={}",
        urlencode(&cut.to_rfc3339())
    );
    let got = ids(&sbx.get(&query).await);
    let expected: Vec<i64> = orders
        .iter()
        .filter(|o| o.date_created >= cut)
        .map(|o| o.id)
        .collect();
    assert_eq!(got, expected);
    let query = format!(
        "v2/orders?limit=250&max_date_created={}",
        urlencode(&cut.to_rfc2822())
    );
    let got = ids(&sbx.get(&query).await);
    assert!(got
        .iter()
        .all(|id| orders.iter().any(|o| o.id == *id && o.date_created <= cut)));
}

#[tokio::test]
async fn an_unparseable_date_filter_is_a_400_v2_error() {
    let sbx = sandbox().await;
    assert_v2_error(&sbx.get("v2/orders?min_date_modified=yesterday").await, 400);
    assert_v2_error(&sbx.get("v2/orders?min_id=ten").await, 400);
}

#[tokio::test]
async fn status_id_and_id_range_filters_narrow_the_list() {
    let sbx = sandbox().await;
    let orders = live_orders(&sbx);
    let got = ids(&sbx.get("v2/orders?limit=250&status_id=11").await);
    let expected: Vec<i64> = orders
        .iter()
        .filter(|o| o.status_id == 11)
        .map(|o| o.id)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(got, expected);

    let (min, max) = (orders[10].id, orders[30].id);
    let got = ids(&sbx
        .get(&format!("v2/orders?limit=250&min_id={min}&max_id={max}"))
        .await);
    assert_eq!(got.len(), 21);
    assert_eq!((got[0], got[20]), (min, max));
}

#[tokio::test]
async fn incomplete_orders_are_listed_too() {
    let sbx = sandbox().await;
    let id = add_order(&sbx, 2, 0);
    let res = sbx.get("v2/orders?status_id=0&limit=250").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(ids(&res).contains(&id));
    let all = ids(&sbx.get("v2/orders?limit=250").await);
    assert!(all.contains(&id));
}

#[tokio::test]
async fn customer_email_and_total_filters_match_the_order() {
    let sbx = sandbox().await;
    let orders = live_orders(&sbx);
    let sample = orders.iter().find(|o| o.customer_id != 0).unwrap();

    let got = ids(&sbx
        .get(&format!(
            "v2/orders?limit=250&customer_id={}",
            sample.customer_id
        ))
        .await);
    assert!(got.contains(&sample.id));
    assert!(got.iter().all(|id| orders
        .iter()
        .any(|o| o.id == *id && o.customer_id == sample.customer_id)));

    let res = sbx
        .get(&format!(
            "v2/orders?email={}",
            urlencode(&sample.billing_address.email)
        ))
        .await;
    assert!(ids(&res).contains(&sample.id));
    for o in res.json.as_array().unwrap() {
        assert_eq!(
            o["billing_address"]["email"],
            json!(sample.billing_address.email)
        );
    }

    let total = sample.total_inc_tax();
    let res = sbx
        .get(&format!(
            "v2/orders?limit=250&min_total={total}&max_total={total}"
        ))
        .await;
    assert!(ids(&res).contains(&sample.id));
    for o in res.json.as_array().unwrap() {
        assert_eq!(
            o["total_inc_tax"].as_str().unwrap().parse::<f64>().unwrap(),
            total.to_string().parse::<f64>().unwrap()
        );
    }
    let res = sbx.get("v2/orders?limit=250&min_total=100").await;
    for o in res.json.as_array().unwrap() {
        assert!(o["total_inc_tax"].as_str().unwrap().parse::<f64>().unwrap() >= 100.0);
    }
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)])
        .unwrap()
        .trim_start_matches("v=")
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Representation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn orders_carry_money_as_four_decimal_strings_and_rfc2822_dates() {
    let sbx = sandbox().await;
    let res = sbx.get("v2/orders?limit=250").await;
    for o in res.json.as_array().unwrap() {
        for field in [
            "subtotal_ex_tax",
            "subtotal_inc_tax",
            "subtotal_tax",
            "base_shipping_cost",
            "shipping_cost_ex_tax",
            "shipping_cost_inc_tax",
            "total_ex_tax",
            "total_inc_tax",
            "total_tax",
            "refunded_amount",
            "discount_amount",
            "store_credit_amount",
        ] {
            assert!(is_money(&o[field]), "{field}: {}", o[field]);
        }
        assert_eq!(o["currency_exchange_rate"], json!("1.0000000000"));
        assert!(is_rfc2822_utc(&o["date_created"]), "{}", o["date_created"]);
        assert!(is_rfc2822_utc(&o["date_modified"]));
        assert!(o["id"].is_i64() && o["customer_id"].is_i64());
        assert!(o["items_total"].is_i64() && o["items_shipped"].is_i64());
        assert_eq!(o["is_deleted"], json!(false));
        assert!(o["currency_code"].is_string());
    }
    let sample = &res.json[0];
    let id = sample["id"].as_i64().unwrap();
    let order = live_orders(&sbx).into_iter().find(|o| o.id == id).unwrap();
    assert_eq!(
        sample["total_inc_tax"],
        json!(format!("{:.4}", order.total_inc_tax()))
    );
    assert_eq!(sample["items_total"], json!(order.items_total()));
}

#[tokio::test]
async fn date_shipped_is_empty_until_the_order_is_fully_shipped() {
    let sbx = sandbox().await;
    let res = sbx.get("v2/orders?limit=250").await;
    let orders = live_orders(&sbx);
    let mut shipped = 0;
    for o in res.json.as_array().unwrap() {
        let model = orders
            .iter()
            .find(|m| m.id == o["id"].as_i64().unwrap())
            .unwrap();
        if model.items_shipped() < model.items_total() {
            assert_eq!(o["date_shipped"], json!(""), "order {}", model.id);
        } else {
            shipped += 1;
            assert!(is_rfc2822_utc(&o["date_shipped"]), "{}", o["date_shipped"]);
        }
    }
    assert!(shipped > 0);
    let fresh = add_order(&sbx, 2, 11);
    let res = sbx.get(&format!("v2/orders/{fresh}")).await;
    assert_eq!(res.json["date_shipped"], json!(""));
    assert_eq!(res.json["items_shipped"], json!(0));
}

#[tokio::test]
async fn the_status_string_matches_the_status_id_and_contacts_live_in_billing_address() {
    let sbx = sandbox().await;
    let res = sbx.get("v2/orders?limit=250").await;
    let mut statuses = BTreeSet::new();
    for o in res.json.as_array().unwrap() {
        let status = o["status_id"].as_i64().unwrap();
        statuses.insert(status);
        assert_eq!(o["status"], json!(status_name(status)));
        let billing = &o["billing_address"];
        assert!(billing["email"].as_str().unwrap().contains('@'));
        assert!(billing["phone"].is_string());
        assert!(billing["form_fields"].is_array());
        assert!(o.get("email").is_none(), "no top-level email");
    }
    assert!(statuses.len() > 5);
}

#[tokio::test]
async fn sub_resource_links_point_at_the_sandbox_with_the_shippingaddresses_quirk() {
    let sbx = sandbox().await;
    let res = sbx.get("v2/orders?limit=1").await;
    let o = &res.json[0];
    let id = o["id"].as_i64().unwrap();
    let base = format!("{}/stores/{}/v2", sbx.handle.url, sbx.store.hash);
    assert_eq!(
        o["products"],
        json!({
            "url": format!("{base}/orders/{id}/products"),
            "resource": format!("/orders/{id}/products"),
        })
    );
    assert_eq!(
        o["shipping_addresses"],
        json!({
            "url": format!("{base}/orders/{id}/shippingaddresses"),
            "resource": format!("/orders/{id}/shippingaddresses"),
        })
    );
    assert_eq!(
        o["coupons"]["resource"],
        json!(format!("/orders/{id}/coupons"))
    );
    // The links answer.
    let products = sbx
        .http
        .get(o["products"]["url"].as_str().unwrap())
        .header("X-Auth-Token", &sbx.store.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(products.status(), StatusCode::OK);
    let addresses = sbx
        .get(&format!(
            "v2{}",
            o["shipping_addresses"]["resource"].as_str().unwrap()
        ))
        .await;
    assert_eq!(addresses.status, StatusCode::OK);
    let coupons = sbx.get(&format!("v2/orders/{id}/coupons")).await;
    assert_eq!(coupons.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn get_order_by_id_answers_the_order_and_unknown_ids_a_v2_404() {
    let sbx = sandbox().await;
    let first = live_orders(&sbx)[0].id;
    let res = sbx.get(&format!("v2/orders/{first}")).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json["id"], json!(first));
    assert!(res.json.get("consignments").is_none());
    let res = sbx.get("v2/orders/999999999").await;
    assert_v2_error(&res, 404);
    assert_eq!(
        res.json,
        json!([{"status": 404, "message": "The requested resource was not found."}])
    );
    assert_v2_error(&sbx.get("v2/orders/not-a-number").await, 404);
}

// ---------------------------------------------------------------------------------------------
// Includes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn consignment_line_items_are_capped_at_50_with_a_warning() {
    let sbx = sandbox().await;
    let id = add_order(&sbx, 55, 11);
    let res = sbx
        .get(&format!(
            "v2/orders/{id}?include=consignments.line_items&consignment_structure=object"
        ))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let consignments = &res.json["consignments"];
    assert_eq!(consignments["pickups"], json!([]));
    assert_eq!(consignments["downloads"], json!([]));
    assert_eq!(consignments["email"], json!({"gift_certificates": []}));
    let shipping = consignments["shipping"].as_array().unwrap();
    assert_eq!(shipping.len(), 1);
    let c = &shipping[0];
    let items = c["line_items"].as_array().unwrap();
    assert_eq!(items.len(), 50);
    assert!(c["__warning__"]["message"].is_string());
    assert_eq!(items[0]["order_id"], json!(id));
    assert!(is_money(&items[0]["price_inc_tax"]));
    assert_eq!(items[0]["type"], json!("physical"));
    // Address fields, numbers for costs, item counts of all 55 lines.
    assert!(c["first_name"].is_string() && c["country_iso2"].is_string());
    assert!(c["email"].is_string());
    assert!(c["cost_inc_tax"].is_number() && c["base_cost"].is_number());
    let total: i64 = lines(&sbx, id).await.iter().map(|l| l.2).sum();
    assert_eq!(c["items_total"], json!(total));
    assert_eq!(c["items_shipped"], json!(0));
    // The products endpoint has all 55.
    assert_eq!(lines(&sbx, id).await.len(), 55);

    // The list carries the same include.
    let res = sbx
        .get(&format!(
            "v2/orders?min_id={id}&max_id={id}\
             &include=consignments.line_items&consignment_structure=object"
        ))
        .await;
    assert_eq!(
        res.json[0]["consignments"]["shipping"][0]["line_items"]
            .as_array()
            .unwrap()
            .len(),
        50
    );
}

#[tokio::test]
async fn small_consignments_embed_every_line_without_a_warning() {
    let sbx = sandbox().await;
    let id = add_order(&sbx, 3, 11);
    let res = sbx
        .get(&format!(
            "v2/orders/{id}?include=consignments.line_items&consignment_structure=object"
        ))
        .await;
    let c = &res.json["consignments"]["shipping"][0];
    assert_eq!(c["line_items"].as_array().unwrap().len(), 3);
    assert!(c.get("__warning__").is_none());
}

#[tokio::test]
async fn plain_include_consignments_gives_line_item_links() {
    let sbx = sandbox().await;
    let id = add_order(&sbx, 3, 11);
    let res = sbx
        .get(&format!(
            "v2/orders/{id}?include=consignments&consignment_structure=object"
        ))
        .await;
    let items = res.json["consignments"]["shipping"][0]["line_items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(items.len(), 3);
    let line = lines(&sbx, id).await[0].0;
    assert_eq!(
        items[0]["resource"],
        json!(format!("/orders/{id}/products/{line}"))
    );
    assert!(items[0]["url"]
        .as_str()
        .unwrap()
        .starts_with(&sbx.handle.url));
    let one = sbx
        .get(&format!("v2{}", items[0]["resource"].as_str().unwrap()))
        .await;
    assert_eq!(one.json["id"], json!(line));

    // Without consignment_structure=object, `consignments` is a link.
    let res = sbx
        .get(&format!("v2/orders/{id}?include=consignments"))
        .await;
    assert_eq!(
        res.json["consignments"]["resource"],
        json!(format!("/orders/{id}/consignments"))
    );
}

// ---------------------------------------------------------------------------------------------
// Count and statuses
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn count_returns_the_total_and_per_status_counts_with_sort_order() {
    let sbx = sandbox().await;
    let orders = live_orders(&sbx);
    let res = sbx.get("v2/orders/count").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json["count"], json!(orders.len()));
    let statuses = res.json["statuses"].as_array().unwrap();
    assert_eq!(statuses.len(), 15);
    let mut sum = 0;
    for s in statuses {
        let id = s["id"].as_i64().unwrap();
        for field in ["name", "system_label", "custom_label", "system_description"] {
            assert!(s[field].is_string(), "{field}");
        }
        assert_eq!(s["name"], json!(status_name(id)));
        assert!(s["sort_order"].is_i64());
        let expected = orders.iter().filter(|o| o.status_id == id).count();
        assert_eq!(s["count"], json!(expected), "status {id}");
        sum += expected;
    }
    assert_eq!(sum, orders.len());

    let filtered = sbx.get("v2/orders/count?status_id=2").await;
    let expected = orders.iter().filter(|o| o.status_id == 2).count();
    assert_eq!(filtered.json["count"], json!(expected));
}

#[tokio::test]
async fn order_statuses_lists_the_15_statuses_with_their_order_field() {
    let sbx = sandbox().await;
    let res = sbx.get("v2/order_statuses").await;
    assert_eq!(res.status, StatusCode::OK);
    let list = res.json.as_array().unwrap();
    assert_eq!(list.len(), 15);
    let expected_order = [
        (0, 0),
        (1, 1),
        (7, 2),
        (11, 3),
        (9, 4),
        (8, 5),
        (3, 6),
        (10, 7),
        (2, 8),
        (5, 9),
        (6, 10),
        (4, 11),
        (13, 12),
        (12, 13),
        (14, 14),
    ];
    for (id, order) in expected_order {
        let s = list.iter().find(|s| s["id"] == json!(id)).unwrap();
        assert_eq!(s["order"], json!(order), "status {id}");
        assert_eq!(s["name"], json!(status_name(id)));
        assert!(s["system_description"].is_string());
    }
    let one = sbx.get("v2/order_statuses/11").await;
    assert_eq!(one.json["name"], json!("Awaiting Fulfillment"));
    assert_v2_error(&sbx.get("v2/order_statuses/15").await, 404);
}

// ---------------------------------------------------------------------------------------------
// Updates
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn put_status_id_changes_the_status_and_raises_updated_and_status_updated() {
    let sbx = sandbox().await;
    let events = watch_events(&sbx).await;
    let id = add_order(&sbx, 2, 11);
    let before = Utc::now() - chrono::Duration::seconds(1);
    let res = sbx
        .put(&format!("v2/orders/{id}"), json!({"status_id": 9}))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json["status_id"], json!(9));
    assert_eq!(res.json["status"], json!("Awaiting Shipment"));
    assert!(date(&res.json["date_modified"]) >= before);
    let again = sbx.get(&format!("v2/orders/{id}")).await;
    assert_eq!(again.json["status_id"], json!(9));

    events
        .wait(&sbx, "store/order/updated", |d| {
            *d == json!({"type": "order", "id": id})
        })
        .await;
    let data = events
        .wait(&sbx, "store/order/statusUpdated", |d| d["id"] == json!(id))
        .await;
    assert_eq!(
        data,
        json!({"type": "order", "id": id, "status": {"previous_status_id": 11, "new_status_id": 9}})
    );
}

#[tokio::test]
async fn put_with_a_read_only_field_or_an_unknown_status_is_a_400() {
    let sbx = sandbox().await;
    let id = live_orders(&sbx)[0].id;
    assert_v2_error(
        &sbx.put(&format!("v2/orders/{id}"), json!({"items_total": 3}))
            .await,
        400,
    );
    assert_v2_error(
        &sbx.put(&format!("v2/orders/{id}"), json!({"status_id": 42}))
            .await,
        400,
    );
    assert_v2_error(
        &sbx.put("v2/orders/999999999", json!({"status_id": 1}))
            .await,
        404,
    );
    let res = sbx
        .call(Method::PATCH, &format!("v2/orders/{id}"), None)
        .await;
    assert_v2_error(&res, 405);
}

#[tokio::test]
async fn delete_archives_the_order_which_leaves_the_list_and_the_count() {
    let sbx = sandbox().await;
    let id = live_orders(&sbx)[3].id;
    let count = sbx.get("v2/orders/count").await.json["count"]
        .as_i64()
        .unwrap();
    let res = sbx.delete(&format!("v2/orders/{id}")).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert!(res.text.is_empty());
    assert!(!ids(&sbx.get("v2/orders?limit=250").await).contains(&id));
    assert_eq!(
        sbx.get("v2/orders/count").await.json["count"],
        json!(count - 1)
    );
    let archived = sbx.get(&format!("v2/orders/{id}")).await;
    assert_eq!(archived.json["is_deleted"], json!(true));
}

// ---------------------------------------------------------------------------------------------
// Products and shipping addresses
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn order_products_are_v2_objects_with_money_strings_and_paging() {
    let sbx = sandbox().await;
    let id = add_order(&sbx, 4, 11);
    let res = sbx.get(&format!("v2/orders/{id}/products")).await;
    assert_eq!(res.status, StatusCode::OK);
    let list = res.json.as_array().unwrap();
    assert_eq!(list.len(), 4);
    for p in list {
        for field in [
            "id",
            "order_id",
            "product_id",
            "variant_id",
            "order_address_id",
        ] {
            assert!(p[field].is_i64(), "{field}");
        }
        assert_eq!(p["order_id"], json!(id));
        assert_eq!(p["name"], p["name_customer"]);
        assert!(p["name_merchant"].is_string() && p["sku"].is_string());
        assert_eq!(p["type"], json!("physical"));
        for field in [
            "base_price",
            "price_ex_tax",
            "price_inc_tax",
            "price_tax",
            "base_total",
            "total_ex_tax",
            "total_inc_tax",
            "total_tax",
            "weight",
            "refund_amount",
        ] {
            assert!(is_money(&p[field]), "{field}: {}", p[field]);
        }
        assert!(p["quantity"].as_i64().unwrap() >= 1);
        assert_eq!(p["quantity_shipped"], json!(0));
        assert_eq!(p["quantity_refunded"], json!(0));
        assert_eq!(p["is_refunded"], json!(false));
        assert_eq!(p["applied_discounts"], json!([]));
        assert_eq!(p["product_options"], json!([]));
        let unit: f64 = p["price_inc_tax"].as_str().unwrap().parse().unwrap();
        let total: f64 = p["total_inc_tax"].as_str().unwrap().parse().unwrap();
        assert!((unit * p["quantity"].as_f64().unwrap() - total).abs() < 0.0001);
    }
    let page2 = sbx
        .get(&format!("v2/orders/{id}/products?limit=3&page=2"))
        .await;
    assert_eq!(page2.json.as_array().unwrap().len(), 1);
    let past = sbx
        .get(&format!("v2/orders/{id}/products?limit=3&page=3"))
        .await;
    assert_eq!(past.status, StatusCode::NO_CONTENT);
    assert_v2_error(&sbx.get("v2/orders/999999999/products").await, 404);
}

#[tokio::test]
async fn shipping_addresses_answer_on_both_paths_with_per_address_item_counts() {
    let sbx = sandbox().await;
    let id = add_two_address_order(&sbx);
    let all = lines(&sbx, id).await;
    for path in ["shipping_addresses", "shippingaddresses"] {
        let res = sbx.get(&format!("v2/orders/{id}/{path}")).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        let list = res.json.as_array().unwrap();
        assert_eq!(list.len(), 2);
        for a in list {
            let aid = a["id"].as_i64().unwrap();
            assert_eq!(a["order_id"], json!(id));
            for field in [
                "first_name",
                "street_1",
                "city",
                "zip",
                "country_iso2",
                "email",
                "shipping_method",
            ] {
                assert!(a[field].is_string(), "{field}");
            }
            for field in [
                "base_cost",
                "cost_ex_tax",
                "cost_inc_tax",
                "cost_tax",
                "handling_cost_inc_tax",
            ] {
                assert!(is_money(&a[field]), "{field}");
            }
            let expected: i64 = all.iter().filter(|l| l.1 == aid).map(|l| l.2).sum();
            assert_eq!(a["items_total"], json!(expected));
            assert_eq!(a["items_shipped"], json!(0));
            assert!(a["shipping_quotes"]["resource"].is_string());
            let one = sbx.get(&format!("v2/orders/{id}/{path}/{aid}")).await;
            assert_eq!(one.json["id"], json!(aid));
        }
    }
    assert_v2_error(
        &sbx.get(&format!("v2/orders/{id}/shipping_addresses/1"))
            .await,
        404,
    );
}

#[tokio::test]
async fn the_legacy_shippingaddresses_path_is_404_when_disabled() {
    let sbx = sandbox_with(|c| c.legacy_shippingaddresses_path = false).await;
    let id = live_orders(&sbx)[0].id;
    assert_v2_error(
        &sbx.get(&format!("v2/orders/{id}/shippingaddresses")).await,
        404,
    );
    assert_eq!(
        sbx.get(&format!("v2/orders/{id}/shipping_addresses"))
            .await
            .status,
        StatusCode::OK
    );
}

// ---------------------------------------------------------------------------------------------
// Shipments
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn shipping_every_line_moves_the_order_to_shipped_and_answers_the_full_shipment() {
    let sbx = sandbox().await;
    let events = watch_events(&sbx).await;
    let id = add_order(&sbx, 3, 11);
    let all = lines(&sbx, id).await;
    let address = all[0].1;
    let items: Vec<(i64, i64)> = all.iter().map(|l| (l.0, l.2)).collect();
    let res = sbx
        .post(
            &format!("v2/orders/{id}/shipments"),
            shipment(address, &items),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let s = &res.json;
    let sid = s["id"].as_i64().unwrap();
    assert_eq!(s["order_id"], json!(id));
    assert_eq!(s["order_address_id"], json!(address));
    assert!(s["customer_id"].is_i64());
    assert!(is_rfc2822_utc(&s["date_created"]));
    assert_eq!(s["tracking_number"], json!("1Z999AA10123456784"));
    assert!(is_money(&s["merchant_shipping_cost"]));
    assert_eq!(s["shipping_method"], json!("Flat Rate"));
    assert_eq!(s["comments"], json!("Packed with care"));
    assert_eq!(s["shipping_provider"], json!("ups"));
    assert_eq!(s["tracking_carrier"], json!(""));
    assert_eq!(s["tracking_link"], json!(""));
    assert_eq!(s["shipping_provider_display_name"], json!("UPS"));
    assert!(s["generated_tracking_link"]
        .as_str()
        .unwrap()
        .contains("1Z999AA10123456784"));
    assert!(s["billing_address"]["email"].is_string());
    assert!(s["shipping_address"]["street_1"].is_string());
    let returned: Vec<Value> = items
        .iter()
        .map(|(l, q)| json!({"order_product_id": l, "product_id": 0, "quantity": q}))
        .collect();
    assert_eq!(s["items"], json!(returned));

    let order = sbx.get(&format!("v2/orders/{id}")).await.json;
    assert_eq!(order["status_id"], json!(2));
    assert_eq!(order["status"], json!("Shipped"));
    assert!(is_rfc2822_utc(&order["date_shipped"]));
    assert_eq!(order["items_shipped"], order["items_total"]);
    for p in sbx
        .get(&format!("v2/orders/{id}/products"))
        .await
        .json
        .as_array()
        .unwrap()
    {
        assert_eq!(p["quantity_shipped"], p["quantity"]);
    }
    let addr = sbx
        .get(&format!("v2/orders/{id}/shipping_addresses/{address}"))
        .await;
    assert_eq!(addr.json["items_shipped"], addr.json["items_total"]);

    let got = sbx.get(&format!("v2/orders/{id}/shipments/{sid}")).await;
    assert_eq!(got.json, res.json);
    events
        .wait(&sbx, "store/shipment/created", |d| {
            *d == json!({"type": "shipment", "id": sid, "orderId": id})
        })
        .await;
    events
        .wait(&sbx, "store/order/statusUpdated", |d| {
            d["id"] == json!(id) && d["status"]["new_status_id"] == json!(2)
        })
        .await;
}

#[tokio::test]
async fn a_partial_shipment_moves_the_order_to_partially_shipped() {
    let sbx = sandbox().await;
    let id = add_order(&sbx, 3, 11);
    let all = lines(&sbx, id).await;
    let address = all[0].1;
    let res = sbx
        .post(
            &format!("v2/orders/{id}/shipments"),
            shipment(address, &[(all[0].0, all[0].2)]),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let order = sbx.get(&format!("v2/orders/{id}")).await.json;
    assert_eq!(order["status_id"], json!(3));
    assert_eq!(order["status"], json!("Partially Shipped"));
    assert_eq!(order["date_shipped"], json!(""));
    assert_eq!(order["items_shipped"], json!(all[0].2));

    // Shipping the rest completes it.
    let rest: Vec<(i64, i64)> = all[1..].iter().map(|l| (l.0, l.2)).collect();
    let res = sbx
        .post(
            &format!("v2/orders/{id}/shipments"),
            shipment(address, &rest),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let order = sbx.get(&format!("v2/orders/{id}")).await.json;
    assert_eq!(order["status_id"], json!(2));
    assert!(is_rfc2822_utc(&order["date_shipped"]));
    assert_eq!(
        sbx.get(&format!("v2/orders/{id}/shipments/count"))
            .await
            .json,
        json!({"count": 2})
    );
}

#[tokio::test]
async fn shipping_more_than_remains_is_a_400_with_the_available_quantity() {
    let sbx = sandbox().await;
    let id = add_order(&sbx, 2, 11);
    let all = lines(&sbx, id).await;
    let (line, address, qty) = all[0];
    let res = sbx
        .post(
            &format!("v2/orders/{id}/shipments"),
            shipment(address, &[(line, qty + 1)]),
        )
        .await;
    assert_v2_error(&res, 400);
    let details = &res.json[0]["details"];
    assert_eq!(details["available_quantity"], json!(qty));
    assert_eq!(details["order_product_id"], json!(line));
    assert!(details["invalid_reason"].is_string());

    // Ship it all, then one more is over by everything.
    let ok = sbx
        .post(
            &format!("v2/orders/{id}/shipments"),
            shipment(address, &[(line, qty)]),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
    let res = sbx
        .post(
            &format!("v2/orders/{id}/shipments"),
            shipment(address, &[(line, 1)]),
        )
        .await;
    assert_v2_error(&res, 400);
    assert_eq!(res.json[0]["details"]["available_quantity"], json!(0));
    // Nothing was written by the refused requests.
    assert_eq!(
        sbx.get(&format!("v2/orders/{id}/shipments/count"))
            .await
            .json["count"],
        json!(1)
    );
}

#[tokio::test]
async fn unknown_addresses_lines_and_empty_items_are_a_400() {
    let sbx = sandbox().await;
    let id = add_two_address_order(&sbx);
    let other = add_order(&sbx, 1, 11);
    let all = lines(&sbx, id).await;
    let (line, address, _) = all[0];
    let elsewhere = all.iter().find(|l| l.1 != address).unwrap();
    let foreign = lines(&sbx, other).await[0];
    let path = format!("v2/orders/{id}/shipments");

    // Address of another order.
    assert_v2_error(
        &sbx.post(&path, shipment(foreign.1, &[(line, 1)])).await,
        400,
    );
    // Line of another order.
    assert_v2_error(
        &sbx.post(&path, shipment(address, &[(foreign.0, 1)])).await,
        400,
    );
    // Line of the other address of this order.
    assert_v2_error(
        &sbx.post(&path, shipment(address, &[(elsewhere.0, 1)]))
            .await,
        400,
    );
    // No items, no address, zero quantity.
    assert_v2_error(&sbx.post(&path, shipment(address, &[])).await, 400);
    assert_v2_error(
        &sbx.post(
            &path,
            json!({"items": [{"order_product_id": line, "quantity": 1}]}),
        )
        .await,
        400,
    );
    assert_v2_error(&sbx.post(&path, shipment(address, &[(line, 0)])).await, 400);
    // Unknown order.
    assert_v2_error(
        &sbx.post(
            "v2/orders/999999999/shipments",
            shipment(address, &[(line, 1)]),
        )
        .await,
        404,
    );
    let order = sbx.get(&format!("v2/orders/{id}")).await.json;
    assert_eq!(order["status_id"], json!(11));
    assert_eq!(order["items_shipped"], json!(0));
}

#[tokio::test]
async fn an_unknown_provider_or_a_long_tracking_number_is_a_400() {
    let sbx = sandbox().await;
    let id = add_order(&sbx, 1, 11);
    let (line, address, _) = lines(&sbx, id).await[0];
    let path = format!("v2/orders/{id}/shipments");
    let mut body = shipment(address, &[(line, 1)]);
    body["shipping_provider"] = json!("pigeon");
    assert_v2_error(&sbx.post(&path, body.clone()).await, 400);
    body["shipping_provider"] = json!("ups");
    body["tracking_number"] = json!("X".repeat(51));
    assert_v2_error(&sbx.post(&path, body.clone()).await, 400);
    body["tracking_number"] = json!("X".repeat(50));
    body["shipping_provider"] = json!("carrier_12");
    let res = sbx.post(&path, body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.json["shipping_provider"], json!("carrier_12"));
}

#[tokio::test]
async fn deleting_a_shipment_keeps_the_order_status() {
    let sbx = sandbox().await;
    let id = add_order(&sbx, 2, 11);
    let all = lines(&sbx, id).await;
    let items: Vec<(i64, i64)> = all.iter().map(|l| (l.0, l.2)).collect();
    let res = sbx
        .post(
            &format!("v2/orders/{id}/shipments"),
            shipment(all[0].1, &items),
        )
        .await;
    let sid = res.json["id"].as_i64().unwrap();
    let del = sbx.delete(&format!("v2/orders/{id}/shipments/{sid}")).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let order = sbx.get(&format!("v2/orders/{id}")).await.json;
    assert_eq!(order["status_id"], json!(2), "deleting does not revert");
    assert_v2_error(
        &sbx.get(&format!("v2/orders/{id}/shipments/{sid}")).await,
        404,
    );
    let list = sbx.get(&format!("v2/orders/{id}/shipments")).await;
    assert_eq!(list.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn an_order_without_shipments_lists_204_and_counts_zero() {
    let sbx = sandbox().await;
    let id = add_order(&sbx, 2, 11);
    let res = sbx.get(&format!("v2/orders/{id}/shipments")).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert!(res.text.is_empty());
    assert_eq!(
        sbx.get(&format!("v2/orders/{id}/shipments/count"))
            .await
            .json,
        json!({"count": 0})
    );
}

#[tokio::test]
async fn seeded_shipped_orders_list_their_shipments() {
    let sbx = sandbox().await;
    let shipped = live_orders(&sbx)
        .into_iter()
        .find(|o| o.status_id == 2 && !o.shipments.is_empty())
        .unwrap();
    let res = sbx
        .get(&format!("v2/orders/{}/shipments", shipped.id))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let list = res.json.as_array().unwrap();
    assert_eq!(list.len(), shipped.shipments.len());
    assert!(is_rfc2822_utc(&list[0]["date_created"]));
}

#[tokio::test]
async fn shipments_can_be_updated_and_all_deleted_at_once() {
    let sbx = sandbox().await;
    let id = add_order(&sbx, 2, 11);
    let all = lines(&sbx, id).await;
    let a = sbx
        .post(
            &format!("v2/orders/{id}/shipments"),
            shipment(all[0].1, &[(all[0].0, 1)]),
        )
        .await;
    let b = sbx
        .post(
            &format!("v2/orders/{id}/shipments"),
            shipment(all[1].1, &[(all[1].0, 1)]),
        )
        .await;
    assert_eq!(b.status, StatusCode::CREATED);
    let sid = a.json["id"].as_i64().unwrap();
    let res = sbx
        .put(
            &format!("v2/orders/{id}/shipments/{sid}"),
            json!({"tracking_number": "9400100000000000000000", "shipping_provider": "usps"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json["tracking_number"], json!("9400100000000000000000"));
    assert_eq!(res.json["shipping_provider_display_name"], json!("USPS"));
    assert_v2_error(
        &sbx.put(
            &format!("v2/orders/{id}/shipments/{sid}"),
            json!({"shipping_provider": "pigeon"}),
        )
        .await,
        400,
    );
    let list = sbx.get(&format!("v2/orders/{id}/shipments")).await;
    assert_eq!(list.json.as_array().unwrap().len(), 2);
    assert_eq!(
        sbx.delete(&format!("v2/orders/{id}/shipments"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        sbx.get(&format!("v2/orders/{id}/shipments")).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn a_read_only_token_can_list_shipments_but_not_create_one() {
    let sbx = sandbox().await;
    let id = add_order(&sbx, 1, 11);
    let (line, address, _) = lines(&sbx, id).await[0];
    let token = sbx.store.read_only_token.clone();
    let path = format!("v2/orders/{id}/shipments");
    let list = sbx.call_as(&token, Method::GET, &path, None).await;
    assert_eq!(list.status, StatusCode::NO_CONTENT);
    let order = sbx
        .call_as(&token, Method::GET, &format!("v2/orders/{id}"), None)
        .await;
    assert_eq!(order.status, StatusCode::OK);
    let res = sbx
        .call_as(
            &token,
            Method::POST,
            &path,
            Some(shipment(address, &[(line, 1)])),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = sbx
        .call_as(
            &token,
            Method::PUT,
            &format!("v2/orders/{id}"),
            Some(json!({"status_id": 5})),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        sbx.get(&format!("v2/orders/{id}")).await.json["status_id"],
        json!(11)
    );
}

// ---------------------------------------------------------------------------------------------
// Merchant actions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_order_placed_through_control_appears_in_the_orders_list() {
    let sbx = sandbox().await;
    let events = watch_events(&sbx).await;
    let used_before = sbx
        .handle
        .with_store(&sbx.store.hash, |s| s.bucket.used)
        .unwrap();
    let res = sbx
        .control(
            Method::POST,
            &format!("/_sandbox/stores/{}/orders", sbx.store.hash),
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.json["id"].as_i64().unwrap();
    assert_eq!(res.json["status_id"], json!(11));
    assert!(is_money(&res.json["total_inc_tax"]));
    assert!(res.json["items_total"].as_i64().unwrap() >= 1);
    let used_after = sbx
        .handle
        .with_store(&sbx.store.hash, |s| s.bucket.used)
        .unwrap();
    assert_eq!(
        used_before, used_after,
        "control calls are not rate limited"
    );

    let newest = sbx.get("v2/orders?sort=date_created:desc&limit=1").await;
    assert_eq!(ids(&newest), vec![id]);
    let since = sbx
        .get(&format!(
            "v2/orders?min_date_modified={}",
            urlencode(&(Utc::now() - chrono::Duration::minutes(1)).to_rfc3339())
        ))
        .await;
    assert!(ids(&since).contains(&id));
    events
        .wait(&sbx, "store/order/created", |d| {
            *d == json!({"type": "order", "id": id})
        })
        .await;
}

#[tokio::test]
async fn an_order_placed_with_lines_sells_those_skus_and_takes_their_stock() {
    let sbx = sandbox().await;
    let (sku, product_id, stock) = sbx
        .handle
        .with_store(&sbx.store.hash, |s| {
            let p = s
                .products
                .values()
                .find(|p| {
                    p.inventory_tracking == orderdeck_sandbox::model::Tracking::Product
                        && p.inventory_level >= 5
                })
                .unwrap();
            (p.sku.clone(), p.id, p.inventory_level)
        })
        .unwrap();
    let res = sbx
        .control(
            Method::POST,
            &format!("/_sandbox/stores/{}/orders", sbx.store.hash),
            Some(json!({
                "lines": [{"sku": sku, "quantity": 2}],
                "status_id": 7,
                "billing_address": {"first_name": "Ada", "email": "ada@example.com"}
            })),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.json["id"].as_i64().unwrap();
    assert_eq!(res.json["status_id"], json!(7));
    assert_eq!(res.json["billing_address"]["first_name"], json!("Ada"));
    assert_eq!(
        res.json["billing_address"]["email"],
        json!("ada@example.com")
    );
    let products = sbx.get(&format!("v2/orders/{id}/products")).await.json;
    let products = products.as_array().unwrap();
    assert_eq!(products.len(), 1);
    assert_eq!(products[0]["sku"], json!(sku));
    assert_eq!(products[0]["product_id"], json!(product_id));
    assert_eq!(products[0]["quantity"], json!(2));
    let left = sbx
        .handle
        .with_store(&sbx.store.hash, |s| s.products[&product_id].inventory_level)
        .unwrap();
    assert_eq!(left, stock - 2);
    let by_email = sbx.get("v2/orders?email=ada%40example.com").await;
    assert_eq!(ids(&by_email), vec![id]);

    let bad = sbx
        .control(
            Method::POST,
            &format!("/_sandbox/stores/{}/orders", sbx.store.hash),
            Some(json!({"lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let unknown = sbx
        .control(Method::POST, "/_sandbox/stores/nosuchstore/orders", None)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_merchant_can_cancel_an_order_through_control() {
    let sbx = sandbox().await;
    let events = watch_events(&sbx).await;
    let id = add_order(&sbx, 2, 11);
    let res = sbx
        .control(
            Method::PUT,
            &format!("/_sandbox/stores/{}/orders/{id}/status", sbx.store.hash),
            Some(json!({"status_id": 5})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.json["status"], json!("Cancelled"));
    assert_eq!(
        sbx.get(&format!("v2/orders/{id}")).await.json["status_id"],
        json!(5)
    );
    let data = events
        .wait(&sbx, "store/order/statusUpdated", |d| d["id"] == json!(id))
        .await;
    assert_eq!(
        data["status"],
        json!({"previous_status_id": 11, "new_status_id": 5})
    );
    events
        .wait(&sbx, "store/order/updated", |d| d["id"] == json!(id))
        .await;
    let bad = sbx
        .control(
            Method::PUT,
            &format!("/_sandbox/stores/{}/orders/{id}/status", sbx.store.hash),
            Some(json!({"status_id": 99})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
