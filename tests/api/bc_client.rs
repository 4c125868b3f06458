//! The BigCommerce client behind `SalesChannel`, against the sandbox: paging, mapping, the
//! quota floor, faults, rate limits, concurrency, and shipments sent at most once.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use orderdeck::channels::bigcommerce::{carriers, BigCommerceStore};
use orderdeck::channels::{ChannelError, ChannelOrder, ChannelProduct, NewShipment, SalesChannel};
use orderdeck::domain::StockTracking;
use orderdeck_sandbox::model::{Store, Tracking};
use rust_decimal::Decimal;
use serde_json::json;

use crate::support::TestApp;

fn long_ago() -> DateTime<Utc> {
    Utc::now() - chrono::Duration::days(365)
}

/// The first store's handle, straight from the app's client.
fn channel(app: &TestApp) -> BigCommerceStore {
    app.state
        .bigcommerce
        .store(&app.store.hash, &app.store.access_token)
}

/// Every order modified since `since`, page by page until an empty page.
async fn all_orders(store: &BigCommerceStore, since: DateTime<Utc>) -> Vec<ChannelOrder> {
    let mut all = Vec::new();
    for page in 1.. {
        let orders = store.orders_modified_since(since, page).await.unwrap();
        if orders.is_empty() {
            break;
        }
        all.extend(orders);
    }
    all
}

/// Every product, page by page until an empty page.
async fn all_products(store: &BigCommerceStore) -> Vec<ChannelProduct> {
    let mut all = Vec::new();
    for page in 1.. {
        let products = store.products(page).await.unwrap();
        if products.is_empty() {
            break;
        }
        all.extend(products);
    }
    all
}

/// Adds an order of 55 lines in one consignment (over the 50-line cap) and returns its id.
fn add_long_order(app: &TestApp) -> i64 {
    app.sandbox
        .with_store(&app.store.hash, |s| {
            let sellable = orderdeck_sandbox::seed::sellables(s);
            let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7);
            let mut o = orderdeck_sandbox::seed::random_order(
                &mut rng,
                s,
                &sellable,
                chrono::Utc::now(),
                11,
                55,
            )
            .unwrap();
            // Keep every line on the first address so that the consignment is capped.
            let first = o.shipping_addresses[0].id;
            o.shipping_addresses.truncate(1);
            for line in &mut o.products {
                line.order_address_id = first;
            }
            let id = o.id;
            s.orders.insert(o.id, o);
            id
        })
        .unwrap()
}

/// Orders of the sandbox store with a consignment over the 50-line cap.
fn capped_orders(s: &Store) -> usize {
    s.orders
        .values()
        .filter(|o| !o.is_deleted)
        .filter(|o| {
            o.shipping_addresses.iter().any(|a| {
                o.products
                    .iter()
                    .filter(|p| p.order_address_id == a.id)
                    .count()
                    > 50
            })
        })
        .count()
}

fn sandbox_with_data(
    orders: usize,
    products: usize,
) -> impl FnOnce(&mut orderdeck_sandbox::SandboxConfig) {
    move |c| {
        c.orders = orders;
        c.products = products;
        // Injected 429s carry the window's reset, which the client honours: keep it short.
        c.window = Duration::from_secs(2);
    }
}

#[tokio::test]
async fn paging_every_order_returns_each_once_with_all_its_lines_at_the_floor_of_calls() {
    let app = TestApp::builder()
        .sandbox(sandbox_with_data(150, 40))
        .spawn()
        .await;
    let long_id = add_long_order(&app);
    let store = channel(&app);

    let orders = all_orders(&store, long_ago()).await;

    let (expected, capped) = app
        .sandbox
        .with_store(&app.store.hash, |s| {
            let lines: BTreeMap<i64, Vec<(i64, i64, i64, String)>> = s
                .orders
                .values()
                .filter(|o| !o.is_deleted)
                .map(|o| {
                    let mut lines: Vec<_> = o
                        .products
                        .iter()
                        .map(|p| (p.id, p.quantity, p.quantity_shipped, p.sku.clone()))
                        .collect();
                    lines.sort();
                    (o.id, lines)
                })
                .collect();
            (lines, capped_orders(s))
        })
        .unwrap();
    let ids: BTreeSet<i64> = orders.iter().map(|o| o.external_id).collect();
    assert_eq!(ids.len(), orders.len(), "an order came twice");
    assert_eq!(ids, expected.keys().copied().collect::<BTreeSet<_>>());
    for o in &orders {
        let lines: Vec<_> = o
            .lines
            .iter()
            .map(|l| {
                (
                    l.external_id,
                    l.quantity,
                    l.quantity_shipped,
                    l.sku.clone().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            lines, expected[&o.external_id],
            "lines of order {}",
            o.external_id
        );
    }
    // Oldest modification first, as the API sorted them.
    assert!(orders
        .windows(2)
        .all(|w| w[0].modified_at <= w[1].modified_at));

    // The floor: pages of 250 plus one empty page, plus one products call per capped order.
    assert!(capped >= 1);
    let pages = (orders.len() as u64).div_ceil(250) + 1;
    assert_eq!(app.sandbox.count(&app.store.hash, "GET /v2/orders"), pages);
    assert_eq!(
        app.sandbox
            .count(&app.store.hash, "GET /v2/orders/{id}/products"),
        capped as u64
    );
    assert_eq!(store.api_calls(), pages + capped as u64);

    // The long order's lines match what `GET /v2/orders/{id}/products` lists.
    let listed: Vec<serde_json::Value> = app
        .http
        .get(format!(
            "{}/stores/{}/v2/orders/{long_id}/products?limit=250",
            app.sandbox.url, app.store.hash
        ))
        .header("X-Auth-Token", &app.store.access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let long = orders.iter().find(|o| o.external_id == long_id).unwrap();
    assert_eq!(long.lines.len(), 55);
    assert_eq!(listed.len(), 55);
    let mut listed: Vec<(i64, i64)> = listed
        .iter()
        .map(|p| (p["id"].as_i64().unwrap(), p["quantity"].as_i64().unwrap()))
        .collect();
    listed.sort();
    let mapped: Vec<(i64, i64)> = long
        .lines
        .iter()
        .map(|l| (l.external_id, l.quantity))
        .collect();
    assert_eq!(mapped, listed);
}

#[tokio::test]
async fn an_order_maps_its_money_dates_and_addresses_exactly() {
    let app = TestApp::builder()
        .sandbox(sandbox_with_data(60, 20))
        .spawn()
        .await;
    let store = channel(&app);
    let (shipped, open) = app
        .sandbox
        .with_store(&app.store.hash, |s| {
            let shipped = s
                .orders
                .values()
                .find(|o| o.status_id == 2 && o.date_shipped.is_some())
                .cloned()
                .unwrap();
            let open = s
                .orders
                .values()
                .find(|o| o.status_id == 11)
                .cloned()
                .unwrap();
            (shipped, open)
        })
        .unwrap();

    let got = store.order(shipped.id).await.unwrap().unwrap();
    assert_eq!(got.number, shipped.id.to_string());
    assert_eq!(got.status_id, 2);
    assert_eq!(got.status_name, "Shipped");
    assert_eq!(got.currency, shipped.currency_code);
    assert_eq!(got.total, shipped.total_inc_tax());
    assert_eq!(got.subtotal_ex_tax, shipped.subtotal_ex_tax());
    assert_eq!(got.subtotal_inc_tax, shipped.subtotal_inc_tax());
    assert_eq!(got.shipping_cost, shipped.shipping_cost_inc_tax);
    assert_eq!(
        got.tax_total,
        shipped.total_inc_tax() - shipped.total_ex_tax()
    );
    // RFC 2822 carries whole seconds.
    let secs = |d: DateTime<Utc>| d.timestamp();
    assert_eq!(secs(got.placed_at), secs(shipped.date_created));
    assert_eq!(secs(got.modified_at), secs(shipped.date_modified));
    assert_eq!(got.shipped_at.map(secs), shipped.date_shipped.map(secs));
    assert_eq!(got.items_total, shipped.items_total());
    assert_eq!(got.items_shipped, shipped.items_total());
    assert_eq!(got.billing_address.email, shipped.billing_address.email);
    assert_eq!(
        got.billing_address.country_code,
        shipped.billing_address.country_iso2
    );
    assert_eq!(got.billing_address.postal_code, shipped.billing_address.zip);
    let addresses: Vec<i64> = got
        .shipping_addresses
        .iter()
        .map(|a| a.external_id)
        .collect();
    let expected: Vec<i64> = shipped.shipping_addresses.iter().map(|a| a.id).collect();
    assert_eq!(addresses, expected);
    assert_eq!(
        got.shipping_addresses[0].address.street1,
        shipped.shipping_addresses[0].address.street_1
    );
    for line in &got.lines {
        let p = shipped
            .products
            .iter()
            .find(|p| p.id == line.external_id)
            .unwrap();
        assert_eq!(line.unit_price, p.price_ex_tax);
        assert_eq!(line.total, p.price_inc_tax * Decimal::from(p.quantity));
        assert_eq!(line.weight, Some(p.weight));
        assert_eq!(line.order_address_id, p.order_address_id);
        assert_eq!(
            (line.product_id, line.variant_id),
            (p.product_id, p.variant_id)
        );
    }

    let got = store.order(open.id).await.unwrap().unwrap();
    assert_eq!(got.shipped_at, None);
    assert_eq!(got.total, open.total_inc_tax());

    assert_eq!(store.order(999_999_999).await.unwrap(), None);
}

#[tokio::test]
async fn products_map_with_variants_tracking_sale_prices_and_categories() {
    let app = TestApp::builder()
        .sandbox(sandbox_with_data(0, 40))
        .spawn()
        .await;
    let store = channel(&app);

    let products = all_products(&store).await;
    let categories = store.categories().await.unwrap();

    let model = app
        .sandbox
        .with_store(&app.store.hash, |s| s.clone())
        .unwrap();
    assert_eq!(products.len(), model.products.len());
    assert!(products
        .windows(2)
        .all(|w| w[0].external_id < w[1].external_id));
    let mut modes = BTreeSet::new();
    for p in &products {
        let m = &model.products[&p.external_id];
        assert_eq!(p.name, m.name);
        assert_eq!(p.sku.as_deref(), Some(m.sku.as_str()));
        assert_eq!(p.price, m.price);
        let sale = (m.sale_price > Decimal::ZERO).then_some(m.sale_price);
        assert_eq!(p.sale_price, sale, "sale price of {}", m.id);
        assert_eq!(p.weight, Some(m.weight));
        assert_eq!(p.category_ids, m.categories);
        assert_eq!(p.image_urls.len(), m.images.len());
        assert_eq!(p.inventory_level, m.visible_inventory());
        let tracking = match m.inventory_tracking {
            Tracking::None => StockTracking::None,
            Tracking::Product => StockTracking::Product,
            Tracking::Variant => StockTracking::Variant,
        };
        assert_eq!(p.tracking, tracking);
        modes.insert(format!("{tracking:?}"));
        let skus: Vec<Option<&str>> = p.variants.iter().map(|v| v.sku.as_deref()).collect();
        let expected: Vec<Option<&str>> = m.variants.iter().map(|v| Some(v.sku.as_str())).collect();
        assert_eq!(skus, expected);
        if m.has_options() {
            assert!(p.variants.iter().all(|v| !v.is_base));
            for (v, mv) in p.variants.iter().zip(&m.variants) {
                assert_eq!(
                    v.option_label,
                    format!("Size: {}", mv.option_values[0].label)
                );
                assert_eq!(v.price, mv.price);
                assert_eq!(v.inventory_level, mv.inventory_level);
            }
        } else {
            assert_eq!(p.variants.len(), 1);
            assert!(p.variants[0].is_base);
            assert_eq!(p.variants[0].option_label, "");
            assert_eq!(p.variants[0].price, None);
        }
    }
    assert_eq!(modes.len(), 3, "every tracking mode was seen: {modes:?}");
    assert!(products.iter().any(|p| p.sale_price.is_none()));
    assert!(products.iter().any(|p| p.sale_price.is_some()));

    let names: BTreeMap<i64, (i64, String)> = model
        .categories
        .iter()
        .map(|c| (c.id, (c.parent_id, c.name.clone())))
        .collect();
    assert_eq!(categories.len(), names.len());
    for c in &categories {
        assert_eq!(names[&c.id], (c.parent_id, c.name.clone()));
    }
    // One products page and the empty page after it; one categories page.
    assert_eq!(store.api_calls(), 3);
}

#[tokio::test]
async fn a_failing_store_still_yields_exactly_the_clean_result_and_every_attempt_counts() {
    let app = TestApp::builder()
        .sandbox(sandbox_with_data(150, 40))
        .spawn()
        .await;
    add_long_order(&app);
    let clean = channel(&app);
    let clean_orders = all_orders(&clean, long_ago()).await;
    let clean_products = all_products(&clean).await;
    let total = |app: &TestApp| {
        app.sandbox
            .with_store(&app.store.hash, |s| s.counters.values().sum::<u64>())
            .unwrap()
    };

    app.faults(json!({ "error_rate": 0.3, "random_status": 500 }))
        .await;
    let before = total(&app);
    let flaky = channel(&app);
    assert_eq!(all_orders(&flaky, long_ago()).await, clean_orders);
    assert_eq!(all_products(&flaky).await, clean_products);
    assert_eq!(flaky.api_calls(), total(&app) - before);
    app.clear_faults().await;

    app.faults(json!({ "schedule": [429, 503], "drop_connections": 2, "malformed_json": 1 }))
        .await;
    let before = total(&app);
    let faulty = channel(&app);
    assert_eq!(all_orders(&faulty, long_ago()).await, clean_orders);
    assert_eq!(all_products(&faulty).await, clean_products);
    // Two statuses, two dropped connections and one malformed body: five attempts more.
    assert_eq!(faulty.api_calls(), clean.api_calls() + 5);
    assert_eq!(faulty.api_calls(), total(&app) - before);
}

#[tokio::test]
async fn a_rejected_token_is_not_retried_and_reads_as_unauthorized() {
    let app = TestApp::builder()
        .sandbox(sandbox_with_data(5, 10))
        .spawn()
        .await;
    let store = app.state.bigcommerce.store(&app.store.hash, "wrong-token");

    let err = store
        .orders_modified_since(long_ago(), 1)
        .await
        .unwrap_err();

    assert_eq!(err, ChannelError::Unauthorized);
    assert_eq!(store.api_calls(), 1);
    assert_eq!(app.sandbox.count(&app.store.hash, "GET /v2/orders"), 1);
    // A read-only token may read; an information-only token lacks the scope (403, no retry).
    let info_only = app
        .state
        .bigcommerce
        .store(&app.store.hash, &app.store.info_only_token);
    assert_eq!(
        info_only.products(1).await.unwrap_err(),
        ChannelError::Forbidden
    );
    assert_eq!(info_only.api_calls(), 1);
}

#[tokio::test]
async fn a_small_quota_is_waited_out_instead_of_failing() {
    let app = TestApp::builder()
        .sandbox(|c| {
            c.orders = 20;
            c.products = 10;
            c.quota = 5;
            c.window = Duration::from_millis(1000);
        })
        .spawn()
        .await;
    let store = channel(&app);
    let started = Instant::now();

    for page in 1..=10 {
        let orders = store.orders_modified_since(long_ago(), page).await.unwrap();
        assert_eq!(orders.len(), if page == 1 { 20 } else { 0 });
    }

    let capped = app
        .sandbox
        .with_store(&app.store.hash, |s| capped_orders(s))
        .unwrap() as u64;
    assert_eq!(store.api_calls(), 10 + capped);
    let throttled = orderdeck_sandbox::server::lock(&app.sandbox.state)
        .request_log
        .iter()
        .filter(|r| r.status == 429)
        .count();
    assert_eq!(throttled, 0, "the client paused before the quota ran out");
    // At most three calls fit in a window before the client pauses for the reset.
    assert!(
        started.elapsed() >= Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_store_has_at_most_three_calls_in_flight_across_its_handles() {
    let app = TestApp::builder()
        .sandbox(sandbox_with_data(6, 10))
        .spawn()
        .await;
    app.faults(json!({ "latency_ms": 300 })).await;
    let ids: Vec<i64> = app
        .sandbox
        .with_store(&app.store.hash, |s| s.orders.keys().copied().collect())
        .unwrap();
    let (a, b) = (channel(&app), channel(&app));
    let started = Instant::now();

    let reads = ids.iter().enumerate().map(|(i, id)| {
        let handle = if i % 2 == 0 { a.clone() } else { b.clone() };
        let id = *id;
        async move { handle.order(id).await }
    });
    let results = futures_util::future::join_all(reads).await;

    assert!(results.iter().all(|r| matches!(r, Ok(Some(_)))));
    assert_eq!(a.api_calls() + b.api_calls(), 6);
    // Six reads of 300 ms, three at a time: two waves, finishing about 300 ms apart.
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    let mut finished: Vec<DateTime<Utc>> = orderdeck_sandbox::server::lock(&app.sandbox.state)
        .request_log
        .iter()
        .filter(|r| r.path.starts_with("/v2/orders/"))
        .map(|r| r.at)
        .collect();
    finished.sort();
    assert_eq!(finished.len(), 6);
    assert!(finished[5] - finished[0] >= chrono::Duration::milliseconds(250));
    assert!(finished[2] - finished[0] < chrono::Duration::milliseconds(250));
}

// ---------------------------------------------------------------------------------------------
// Shipments
// ---------------------------------------------------------------------------------------------

/// An order awaiting fulfillment with three lines of two items each on one address: its id,
/// the address id and the line ids.
fn add_open_order(app: &TestApp) -> (i64, i64, Vec<i64>) {
    app.sandbox
        .with_store(&app.store.hash, |s| {
            let sellable = orderdeck_sandbox::seed::sellables(s);
            let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(11);
            let mut o = orderdeck_sandbox::seed::random_order(
                &mut rng,
                s,
                &sellable,
                chrono::Utc::now(),
                11,
                3,
            )
            .unwrap();
            let address = o.shipping_addresses[0].id;
            o.shipping_addresses.truncate(1);
            for line in &mut o.products {
                line.order_address_id = address;
                line.quantity = 2;
                line.quantity_shipped = 0;
            }
            let lines = o.products.iter().map(|p| p.id).collect();
            let id = o.id;
            s.orders.insert(o.id, o);
            (id, address, lines)
        })
        .unwrap()
}

fn new_shipment(order: i64, address: i64, items: Vec<(i64, i64)>) -> NewShipment {
    let codes = carriers::codes("Royal Mail");
    NewShipment {
        order_external_id: order,
        order_address_id: address,
        tracking_number: "RM123456785GB".into(),
        shipping_method: "Royal Mail Tracked 48".into(),
        shipping_provider: codes.shipping_provider.into(),
        tracking_carrier: codes.tracking_carrier.into(),
        comments: String::new(),
        items,
    }
}

/// The sandbox order's status and its shipments' ids.
fn sandbox_order(app: &TestApp, id: i64) -> (i64, Vec<i64>) {
    app.sandbox
        .with_store(&app.store.hash, |s| {
            let o = &s.orders[&id];
            (o.status_id, o.shipments.iter().map(|s| s.id).collect())
        })
        .unwrap()
}

const POST_SHIPMENTS: &str = "POST /v2/orders/{id}/shipments";

#[tokio::test]
async fn creating_a_shipment_returns_the_stores_id_and_ships_the_order_partly_then_fully() {
    let app = TestApp::builder()
        .sandbox(sandbox_with_data(0, 10))
        .spawn()
        .await;
    let (order, address, lines) = add_open_order(&app);
    let store = channel(&app);

    let first = store
        .create_shipment(&new_shipment(order, address, vec![(lines[0], 1)]))
        .await
        .unwrap();

    let (status, ids) = sandbox_order(&app, order);
    assert_eq!(status, 3, "partially shipped");
    assert_eq!(ids, vec![first.external_id]);
    assert_eq!(first.order_address_id, address);
    assert_eq!(first.tracking_number, "RM123456785GB");
    assert_eq!(first.items, vec![(lines[0], 1)]);
    assert!(first
        .tracking_link
        .as_deref()
        .is_some_and(|l| l.contains("RM123456785GB")));

    let rest = vec![(lines[0], 1), (lines[1], 2), (lines[2], 2)];
    let second = store
        .create_shipment(&new_shipment(order, address, rest.clone()))
        .await
        .unwrap();

    let (status, ids) = sandbox_order(&app, order);
    assert_eq!(status, 2, "shipped");
    assert_eq!(ids, vec![first.external_id, second.external_id]);
    assert_eq!(second.items, rest);
    assert_eq!(store.shipments(order).await.unwrap(), vec![first, second]);
    assert_eq!(app.sandbox.count(&app.store.hash, POST_SHIPMENTS), 2);
}

#[tokio::test]
async fn listing_the_shipments_of_an_order_without_any_is_empty() {
    let app = TestApp::builder()
        .sandbox(sandbox_with_data(0, 10))
        .spawn()
        .await;
    let (order, _, _) = add_open_order(&app);
    let store = channel(&app);

    assert_eq!(store.shipments(order).await.unwrap(), vec![]);
    // One 204 ends the listing.
    assert_eq!(store.api_calls(), 1);
}

#[tokio::test]
async fn shipments_of_an_order_the_store_does_not_have_are_rejected_as_404() {
    let app = TestApp::builder()
        .sandbox(sandbox_with_data(0, 10))
        .spawn()
        .await;
    let (_, address, lines) = add_open_order(&app);
    let store = channel(&app);

    let listed = store.shipments(999_999_999).await.unwrap_err();
    let created = store
        .create_shipment(&new_shipment(999_999_999, address, vec![(lines[0], 1)]))
        .await
        .unwrap_err();

    assert!(
        matches!(listed, ChannelError::Rejected { status: 404, .. }),
        "{listed:?}"
    );
    assert!(
        matches!(created, ChannelError::Rejected { status: 404, .. }),
        "{created:?}"
    );
    assert_eq!(store.api_calls(), 2);
}

#[tokio::test]
async fn an_over_quantity_shipment_is_rejected_400_with_the_stores_reason() {
    let app = TestApp::builder()
        .sandbox(sandbox_with_data(0, 10))
        .spawn()
        .await;
    let (order, address, lines) = add_open_order(&app);
    let store = channel(&app);
    let shipment = new_shipment(order, address, vec![(lines[0], 3)]);

    let err = store.create_shipment(&shipment).await.unwrap_err();

    // The same body, raw: the store's own reason.
    let raw: serde_json::Value = app
        .http
        .post(format!(
            "{}/stores/{}/v2/orders/{order}/shipments",
            app.sandbox.url, app.store.hash
        ))
        .header("X-Auth-Token", &app.store.access_token)
        .json(&json!({ "order_address_id": address,
                       "items": [{ "order_product_id": lines[0], "quantity": 3 }] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reason = raw[0]["details"]["invalid_reason"].as_str().unwrap();
    match err {
        ChannelError::Rejected { status, message } => {
            assert_eq!(status, 400);
            assert!(message.contains(reason), "{message}");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(sandbox_order(&app, order), (11, vec![]));
}

#[tokio::test]
async fn a_shipment_post_answered_500_is_not_retried() {
    let app = TestApp::builder()
        .sandbox(sandbox_with_data(0, 10))
        .spawn()
        .await;
    let (order, address, lines) = add_open_order(&app);
    let store = channel(&app);
    app.faults(json!({ "schedule": [500] })).await;

    let err = store
        .create_shipment(&new_shipment(order, address, vec![(lines[0], 1)]))
        .await
        .unwrap_err();

    assert_eq!(err, ChannelError::Server { status: 500 });
    assert_eq!(app.sandbox.count(&app.store.hash, POST_SHIPMENTS), 1);
    assert_eq!(store.api_calls(), 1);
    assert_eq!(sandbox_order(&app, order), (11, vec![]));
}

#[tokio::test]
async fn a_throttled_shipment_post_is_waited_out_and_sent_again() {
    let app = TestApp::builder()
        .sandbox(sandbox_with_data(0, 10))
        .spawn()
        .await;
    let (order, address, lines) = add_open_order(&app);
    let store = channel(&app);
    app.faults(json!({ "schedule": [429] })).await;

    let created = store
        .create_shipment(&new_shipment(order, address, vec![(lines[0], 1)]))
        .await
        .unwrap();

    assert_eq!(app.sandbox.count(&app.store.hash, POST_SHIPMENTS), 2);
    assert_eq!(store.api_calls(), 2);
    assert_eq!(sandbox_order(&app, order), (3, vec![created.external_id]));
}

#[tokio::test]
async fn a_lost_answer_is_not_sent_twice_and_the_shipment_is_found_by_listing() {
    let app = TestApp::builder()
        .sandbox(sandbox_with_data(0, 10))
        .spawn()
        .await;
    let (order, address, lines) = add_open_order(&app);
    let store = channel(&app);
    app.faults(json!({ "lose_responses": 1 })).await;

    let lost = store
        .create_shipment(&new_shipment(order, address, vec![(lines[0], 1)]))
        .await;

    assert!(lost.is_err(), "{lost:?}");
    assert_eq!(app.sandbox.count(&app.store.hash, POST_SHIPMENTS), 1);
    let listed = store.shipments(order).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].items, vec![(lines[0], 1)]);
    assert_eq!(listed[0].tracking_number, "RM123456785GB");
    assert_eq!(sandbox_order(&app, order), (3, vec![listed[0].external_id]));
}
