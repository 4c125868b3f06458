//! Order import (docs/rules.md §5): unit-level rules against an in-memory channel, and end to
//! end through the BigCommerce client and the sandbox.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use orderdeck::channels::{ChannelOrder, ChannelOrderLine, ChannelShippingAddress, OrderAddress};
use orderdeck::domain::{IntegrationStatus, OrderStatus, StockReason, StockTracking, SyncKind};
use orderdeck::entities::{
    integration, inventory_item, listing, order, order_line, stock_movement,
};
use orderdeck::sync::orders::{import_order, import_orders};
use orderdeck::sync::{channel_for, jobs, ImportReport};
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{json, Value};

use crate::support::{a_second_passes, report, spawn_app, FakeChannel, TestApp};

fn line(id: i64, sku: Option<&str>, quantity: i64) -> ChannelOrderLine {
    ChannelOrderLine {
        external_id: id,
        product_id: id * 10,
        variant_id: id * 10 + 1,
        order_address_id: 1,
        sku: sku.map(str::to_string),
        name: format!("Item {id}"),
        quantity,
        quantity_shipped: 0,
        unit_price: Decimal::new(1000, 2),
        total: Decimal::new(1000, 2) * Decimal::from(quantity),
        weight: Some(Decimal::new(15, 1)),
    }
}

/// An order with `lines`, placed (and last modified) at `placed`.
fn channel_order(
    id: i64,
    status_id: i64,
    placed: DateTime<Utc>,
    lines: Vec<ChannelOrderLine>,
) -> ChannelOrder {
    let billing = OrderAddress {
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        street1: "12 St James's Square".into(),
        city: "London".into(),
        postal_code: "SW1Y 4JH".into(),
        country_code: "GB".into(),
        country: "United Kingdom".into(),
        phone: "+44 20 7946 0000".into(),
        email: "ada@example.com".into(),
        ..Default::default()
    };
    ChannelOrder {
        external_id: id,
        number: id.to_string(),
        status_id,
        status_name: format!("Status {status_id}"),
        currency: "GBP".into(),
        subtotal_ex_tax: Decimal::new(2000, 2),
        subtotal_inc_tax: Decimal::new(2400, 2),
        shipping_cost: Decimal::new(500, 2),
        shipping_cost_ex_tax: Decimal::new(417, 2),
        tax_total: Decimal::new(400, 2),
        total: Decimal::new(2900, 2),
        shipping_addresses: vec![ChannelShippingAddress {
            external_id: 1,
            address: billing.clone(),
            shipping_method: "Flat Rate".into(),
        }],
        billing_address: billing,
        items_total: lines.iter().map(|l| l.quantity).sum(),
        items_shipped: lines.iter().map(|l| l.quantity_shipped).sum(),
        lines,
        placed_at: placed,
        modified_at: placed,
        shipped_at: None,
        customer_message: String::new(),
    }
}

/// A moment after the store was connected (and after any item created so far).
fn after_connecting() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0) + Duration::seconds(1)
}

// ---------------------------------------------------------------------------------------------
// Database helpers
// ---------------------------------------------------------------------------------------------

/// An inventory item with `quantity` in stock, as if imported earlier.
async fn item(app: &TestApp, account_id: i64, sku: &str, quantity: i64) -> inventory_item::Model {
    let now = Utc::now();
    inventory_item::ActiveModel {
        account_id: Set(account_id),
        sku: Set(Some(sku.to_string())),
        name: Set(format!("Product {sku}")),
        quantity: Set(quantity),
        version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap()
}

async fn stock_of(app: &TestApp, id: i64) -> i64 {
    inventory_item::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .quantity
}

async fn ledger(app: &TestApp) -> Vec<stock_movement::Model> {
    stock_movement::Entity::find()
        .order_by_asc(stock_movement::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
}

async fn stored(app: &TestApp, integration_id: i64, external_id: i64) -> order::Model {
    order::Entity::find()
        .filter(order::Column::IntegrationId.eq(integration_id))
        .filter(order::Column::ExternalId.eq(external_id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("order {external_id} was not imported"))
}

async fn lines_of(app: &TestApp, order_id: i64) -> Vec<order_line::Model> {
    order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(order_id))
        .order_by_asc(order_line::Column::ExternalId)
        .all(&app.state.db)
        .await
        .unwrap()
}

/// Every order, line, movement and item, for before/after comparisons.
async fn snapshot(
    app: &TestApp,
) -> (
    Vec<order::Model>,
    Vec<order_line::Model>,
    Vec<stock_movement::Model>,
    Vec<inventory_item::Model>,
) {
    let db = &app.state.db;
    (
        order::Entity::find()
            .order_by_asc(order::Column::Id)
            .all(db)
            .await
            .unwrap(),
        order_line::Entity::find()
            .order_by_asc(order_line::Column::Id)
            .all(db)
            .await
            .unwrap(),
        ledger(app).await,
        inventory_item::Entity::find()
            .order_by_asc(inventory_item::Column::Id)
            .all(db)
            .await
            .unwrap(),
    )
}

async fn cursor(app: &TestApp, integration_id: i64) -> Option<DateTime<Utc>> {
    jobs::load_cursor(&app.state.db, integration_id, SyncKind::Orders)
        .await
        .unwrap()
        .map(|c| {
            DateTime::parse_from_rfc3339(&c)
                .unwrap()
                .with_timezone(&Utc)
        })
}

/// Sends the next import back to the historical-import date (a full re-read).
async fn forget_cursor(app: &TestApp, integration: &integration::Model) {
    let floor = integration.import_orders_since.to_rfc3339();
    jobs::save_cursor(&app.state.db, integration.id, SyncKind::Orders, &floor)
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Rules, against the in-memory channel
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_first_import_reaches_back_by_placement_date_to_the_historical_import_option() {
    let app = spawn_app().await;
    let (_, integration) = app
        .connected_with(
            "reach@example.com",
            json!({ "historicalImport": "LAST_30_DAYS" }),
        )
        .await;
    let floor = integration.import_orders_since;
    let mut old_but_edited =
        channel_order(1, 11, floor - Duration::days(10), vec![line(1, None, 1)]);
    old_but_edited.modified_at = floor + Duration::days(15);
    let channel = FakeChannel::with_orders(vec![
        old_but_edited,
        channel_order(2, 11, floor - Duration::seconds(1), vec![line(2, None, 1)]),
        channel_order(3, 11, floor + Duration::seconds(1), vec![line(3, None, 1)]),
        channel_order(4, 10, floor + Duration::days(20), vec![line(4, None, 1)]),
    ]);

    let first = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    let again = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    assert_eq!(first, report(2, 0, 0));
    assert_eq!(
        again,
        report(0, 0, 1),
        "the overlap re-reads the newest order only"
    );
    let ids: Vec<i64> = order::Entity::find()
        .order_by_asc(order::Column::ExternalId)
        .all(&app.state.db)
        .await
        .unwrap()
        .iter()
        .map(|o| o.external_id)
        .collect();
    assert_eq!(ids, vec![3, 4]);
}

#[tokio::test]
async fn re_importing_the_same_orders_changes_nothing() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("again@example.com").await;
    let mug = item(&app, integration.account_id, "MUG", 100).await;
    let at = after_connecting();
    let channel = FakeChannel::paged(
        vec![
            channel_order(
                1,
                11,
                at,
                vec![line(1, Some("MUG"), 2), line(2, Some("NOPE"), 1)],
            ),
            channel_order(2, 5, at, vec![line(3, Some("MUG"), 1)]),
            channel_order(3, 2, at - Duration::days(3), vec![line(4, Some("MUG"), 4)]),
            channel_order(4, 14, at, vec![line(5, Some("MUG"), 3)]),
        ],
        3,
    );

    let first = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    let before = snapshot(&app).await;
    let incremental = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    forget_cursor(&app, &integration).await;
    let full = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    let one = import_order(&app.state, &integration, &channel, 1)
        .await
        .unwrap();
    let after = snapshot(&app).await;

    assert_eq!(first, report(4, 0, 0));
    assert_eq!(
        incremental,
        report(0, 0, 3),
        "the overlap re-reads the recent orders"
    );
    assert_eq!((full, one), (report(0, 0, 4), report(0, 0, 1)));
    assert_eq!(before, after);
    assert_eq!(stock_of(&app, mug.id).await, 100 - 2 - 3);
    assert_eq!(
        after.2.len(),
        2,
        "one ledger row per live order taking stock"
    );
}

#[tokio::test]
async fn an_order_placed_after_connecting_takes_its_quantities_off_stock_once() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("placed@example.com").await;
    let mug = item(&app, integration.account_id, "MUG", 100).await;
    let cap = item(&app, integration.account_id, "CAP", 10).await;
    let channel = FakeChannel::with_orders(vec![channel_order(
        7,
        11,
        after_connecting(),
        vec![
            line(1, Some("MUG"), 2),
            line(2, Some("CAP"), 3),
            line(3, Some("MUG"), 1),
        ],
    )]);

    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    channel.change(7, |o| o.status_id = 9); // still live, modified
    let second = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    assert_eq!(second, report(0, 1, 0));
    let o = stored(&app, integration.id, 7).await;
    assert!(o.stock_taken && !o.historical && !o.restocked);
    assert_eq!(o.status, OrderStatus::New);
    assert_eq!(stock_of(&app, mug.id).await, 97);
    assert_eq!(stock_of(&app, cap.id).await, 7);
    let rows = ledger(&app).await;
    assert_eq!(rows.len(), 3);
    // Stock is taken item by item in SKU order (the order every import locks items in).
    let mut lines = lines_of(&app, o.id).await;
    lines.sort_by(|a, b| (&a.sku, a.id).cmp(&(&b.sku, b.id)));
    for (row, line) in rows.iter().zip(&lines) {
        assert_eq!(row.reason, StockReason::OrderPlaced);
        assert_eq!(row.order_id, Some(o.id));
        assert_eq!(row.integration_id, Some(integration.id));
        assert_eq!(row.delta, -line.quantity);
        assert_eq!(row.inventory_item_id, line.inventory_item_id.unwrap());
        assert_eq!(
            row.idempotency_key.as_deref(),
            Some(format!("order:{}:line:{}:placed", o.id, line.id).as_str())
        );
    }
    let after: Vec<(i64, i64)> = rows
        .iter()
        .map(|r| (r.inventory_item_id, r.quantity_after))
        .collect();
    assert_eq!(after, vec![(cap.id, 7), (mug.id, 98), (mug.id, 97)]);
}

#[tokio::test]
async fn a_historical_order_never_moves_stock() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("history@example.com").await;
    let mug = item(&app, integration.account_id, "MUG", 100).await;
    let placed = integration.connected_at - Duration::days(2);
    let channel = FakeChannel::with_orders(vec![channel_order(
        1,
        11,
        placed,
        vec![line(1, Some("MUG"), 2)],
    )]);

    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    channel.change(1, |o| o.status_id = 5);
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    let o = stored(&app, integration.id, 1).await;
    assert!(o.historical && !o.stock_taken && !o.restocked);
    assert_eq!(o.status, OrderStatus::Canceled);
    assert_eq!(
        lines_of(&app, o.id).await[0].inventory_item_id,
        Some(mug.id)
    );
    assert_eq!(stock_of(&app, mug.id).await, 100);
    assert!(ledger(&app).await.is_empty());
}

#[tokio::test]
async fn a_line_whose_sku_matches_nothing_is_stored_unlinked_and_moves_no_stock() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("unlinked@example.com").await;
    let mug = item(&app, integration.account_id, "MUG", 100).await;
    let channel = FakeChannel::with_orders(vec![channel_order(
        1,
        11,
        after_connecting(),
        vec![
            line(1, Some("MUG"), 1),
            line(2, Some("GHOST-SKU"), 5),
            line(3, None, 1),
        ],
    )]);

    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    let o = stored(&app, integration.id, 1).await;
    let lines = lines_of(&app, o.id).await;
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0].inventory_item_id, Some(mug.id));
    assert_eq!(
        (lines[1].sku.as_deref(), lines[1].inventory_item_id),
        (Some("GHOST-SKU"), None)
    );
    assert_eq!(
        (lines[2].sku.as_deref(), lines[2].inventory_item_id),
        (None, None)
    );
    assert!(lines.iter().all(|l| l.listing_id.is_none()));
    let rows = ledger(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].inventory_item_id, rows[0].delta), (mug.id, -1));
}

#[tokio::test]
async fn a_line_links_to_its_listing_by_product_and_variant_and_moves_the_listings_item() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("listing@example.com").await;
    let mug = item(&app, integration.account_id, "MUG", 100).await;
    let now = Utc::now();
    let listed = listing::ActiveModel {
        account_id: Set(integration.account_id),
        integration_id: Set(integration.id),
        inventory_item_id: Set(mug.id),
        external_product_id: Set(10),
        external_variant_id: Set(11),
        tracking: Set(StockTracking::Variant),
        sku: Set(Some("MUG".into())),
        title: Set("Mug".into()),
        price: Set("10".parse().unwrap()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    // The SKU on the order is stale (renamed since); the ids still say which listing it was.
    let channel = FakeChannel::with_orders(vec![channel_order(
        1,
        11,
        after_connecting(),
        vec![line(1, Some("MUG-OLD"), 4)],
    )]);

    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    let o = stored(&app, integration.id, 1).await;
    let l = &lines_of(&app, o.id).await[0];
    assert_eq!(
        (l.listing_id, l.inventory_item_id),
        (Some(listed.id), Some(mug.id))
    );
    assert_eq!(stock_of(&app, mug.id).await, 96);
}

#[tokio::test]
async fn an_item_first_imported_after_the_order_was_placed_is_not_taken_twice() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("late-item@example.com").await;
    let placed = after_connecting();
    // The product import created the item later, from the channel's figure, which already
    // had this order taken off.
    let late = inventory_item::ActiveModel {
        created_at: Set(placed + Duration::minutes(20)),
        ..item(&app, integration.account_id, "MUG", 40).await.into()
    }
    .update(&app.state.db)
    .await
    .unwrap();
    let channel = FakeChannel::with_orders(vec![channel_order(
        1,
        11,
        placed,
        vec![line(1, Some("MUG"), 2)],
    )]);

    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    let o = stored(&app, integration.id, 1).await;
    assert!(o.stock_taken);
    assert_eq!(
        lines_of(&app, o.id).await[0].inventory_item_id,
        Some(late.id)
    );
    assert_eq!(stock_of(&app, late.id).await, 40);
    assert!(ledger(&app).await.is_empty());
}

#[tokio::test]
async fn an_order_canceled_on_the_channel_is_restocked_once() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("cancel@example.com").await;
    let mug = item(&app, integration.account_id, "MUG", 100).await;
    let channel = FakeChannel::with_orders(vec![channel_order(
        1,
        11,
        after_connecting(),
        vec![line(1, Some("MUG"), 3)],
    )]);
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    assert_eq!(stock_of(&app, mug.id).await, 97);

    channel.change(1, |o| {
        o.status_id = 5;
        o.status_name = "Cancelled".into();
    });
    let first = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    let second = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    assert_eq!((first, second), (report(0, 1, 0), report(0, 0, 1)));
    let o = stored(&app, integration.id, 1).await;
    assert_eq!(
        (o.status, o.channel_status_id, o.channel_status.as_str()),
        (OrderStatus::Canceled, 5, "Cancelled")
    );
    assert!(o.stock_taken && o.restocked);
    assert_eq!(stock_of(&app, mug.id).await, 100);
    let rows = ledger(&app).await;
    let reasons: Vec<(StockReason, i64, i64)> = rows
        .iter()
        .map(|r| (r.reason, r.delta, r.quantity_after))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (StockReason::OrderPlaced, -3, 97),
            (StockReason::OrderRestocked, 3, 100)
        ]
    );
    assert_eq!(rows[1].order_id, Some(o.id));
}

#[tokio::test]
async fn an_order_refunded_on_the_channel_before_shipping_becomes_refunded_and_is_restocked() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("refund@example.com").await;
    let mug = item(&app, integration.account_id, "MUG", 100).await;
    let channel = FakeChannel::with_orders(vec![channel_order(
        1,
        7,
        after_connecting(),
        vec![line(1, Some("MUG"), 2)],
    )]);
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    assert_eq!(
        stored(&app, integration.id, 1).await.status,
        OrderStatus::Unpaid
    );

    channel.change(1, |o| o.status_id = 4);
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    assert_eq!(
        stored(&app, integration.id, 1).await.status,
        OrderStatus::Refunded
    );
    assert_eq!(stock_of(&app, mug.id).await, 100);
}

#[tokio::test]
async fn a_canceled_order_that_had_shipped_is_not_restocked() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("shipped-cancel@example.com").await;
    let mug = item(&app, integration.account_id, "MUG", 100).await;
    let channel = FakeChannel::with_orders(vec![channel_order(
        1,
        11,
        after_connecting(),
        vec![line(1, Some("MUG"), 2), line(2, Some("MUG"), 1)],
    )]);
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    channel.change(1, |o| {
        o.status_id = 3;
        o.lines[0].quantity_shipped = 2;
        o.items_shipped = 2;
    });
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    assert_eq!(
        stored(&app, integration.id, 1).await.status,
        OrderStatus::PartiallyShipped
    );
    channel.change(1, |o| o.status_id = 5);
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    let o = stored(&app, integration.id, 1).await;
    assert_eq!(o.status, OrderStatus::Canceled);
    assert!(o.stock_taken && !o.restocked);
    assert_eq!(stock_of(&app, mug.id).await, 97);
    assert_eq!(ledger(&app).await.len(), 2);
}

#[tokio::test]
async fn an_order_first_seen_canceled_moves_no_stock() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("dead-on-arrival@example.com").await;
    let mug = item(&app, integration.account_id, "MUG", 100).await;
    let channel = FakeChannel::with_orders(vec![channel_order(
        1,
        6,
        after_connecting(),
        vec![line(1, Some("MUG"), 2)],
    )]);

    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    let o = stored(&app, integration.id, 1).await;
    assert_eq!(o.status, OrderStatus::Canceled);
    assert!(!o.stock_taken && !o.restocked);
    assert_eq!(stock_of(&app, mug.id).await, 100);
    assert!(ledger(&app).await.is_empty());
}

#[tokio::test]
async fn an_order_shipped_on_the_channel_becomes_shipped_with_its_date() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("ship@example.com").await;
    let at = after_connecting();
    let channel = FakeChannel::with_orders(vec![
        channel_order(1, 11, at, vec![line(1, None, 2)]),
        channel_order(2, 11, at, vec![line(2, None, 1)]),
    ]);
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    let shipped_on = at + Duration::hours(3);

    channel.change(1, |o| {
        o.status_id = 2;
        o.lines[0].quantity_shipped = 2;
        o.items_shipped = 2;
        o.shipped_at = Some(shipped_on);
    });
    // Completed without a shipping date: the time it was first seen so stands in.
    channel.change(2, |o| o.status_id = 10);
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    let one = stored(&app, integration.id, 1).await;
    let two = stored(&app, integration.id, 2).await;
    assert_eq!(
        (one.status, one.shipped_at),
        (OrderStatus::Shipped, Some(shipped_on))
    );
    assert_eq!(
        (two.status, two.shipped_at),
        (OrderStatus::Shipped, Some(two.channel_modified_at))
    );
    assert_eq!(lines_of(&app, one.id).await[0].quantity_shipped, 2);
}

#[tokio::test]
async fn a_partially_refunded_order_maps_by_its_shipped_quantities() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("partial@example.com").await;
    let at = after_connecting();
    let order_shipping = |id: i64, shipped: [i64; 2]| {
        let mut lines = vec![line(id * 10, None, 2), line(id * 10 + 1, None, 2)];
        for (l, s) in lines.iter_mut().zip(shipped) {
            l.quantity_shipped = s;
        }
        channel_order(id, 14, at, lines)
    };
    let channel = FakeChannel::with_orders(vec![
        order_shipping(1, [0, 0]),
        order_shipping(2, [2, 0]),
        order_shipping(3, [2, 2]),
    ]);

    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    let statuses = [
        stored(&app, integration.id, 1).await.status,
        stored(&app, integration.id, 2).await.status,
        stored(&app, integration.id, 3).await.status,
    ];
    assert_eq!(
        statuses,
        [
            OrderStatus::New,
            OrderStatus::PartiallyShipped,
            OrderStatus::Shipped
        ]
    );
}

#[tokio::test]
async fn all_fifteen_bigcommerce_statuses_map_as_the_product_says() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("statuses@example.com").await;
    let at = after_connecting();
    let orders = (0..=14)
        .map(|status| {
            let mut o = channel_order(100 + status, status, at, vec![line(status, None, 2)]);
            if matches!(status, 2 | 10) {
                o.lines[0].quantity_shipped = 2;
                o.items_shipped = 2;
            }
            if matches!(status, 3 | 14) {
                o.lines[0].quantity_shipped = 1;
                o.items_shipped = 1;
            }
            o
        })
        .collect();
    let channel = FakeChannel::with_orders(orders);

    let imported = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    assert_eq!(imported.created, 14, "Incomplete (0) is not imported");
    use OrderStatus::*;
    let expected = [
        (1, Unpaid),
        (2, Shipped),
        (3, PartiallyShipped),
        (4, Refunded),
        (5, Canceled),
        (6, Canceled),
        (7, Unpaid),
        (8, New),
        (9, New),
        (10, Shipped),
        (11, New),
        (12, New),
        (13, New),
        (14, PartiallyShipped),
    ];
    for (status_id, status) in expected {
        let o = stored(&app, integration.id, 100 + status_id).await;
        assert_eq!(
            (o.channel_status_id, o.status),
            (status_id as i32, status),
            "status {status_id}"
        );
        assert_eq!(o.channel_status, format!("Status {status_id}"));
    }
    let incomplete = order::Entity::find()
        .filter(order::Column::ExternalId.eq(100))
        .one(&app.state.db)
        .await
        .unwrap();
    assert!(incomplete.is_none());
}

#[tokio::test]
async fn an_import_interrupted_between_pages_resumes_with_every_order_exactly_once() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("crash@example.com").await;
    let base = Utc::now().trunc_subsecs(0) - Duration::days(1);
    let orders: Vec<ChannelOrder> = (1..=10)
        .map(|i| {
            let mut o = channel_order(i, 11, base, vec![line(i, None, 1)]);
            o.modified_at = base + Duration::hours(i);
            o
        })
        .collect();
    let channel = FakeChannel::paged(orders, 3);
    *channel.fail_once_on_page.lock().unwrap() = Some(3);

    let crashed = import_orders(&app.state, &integration, &channel).await;
    assert!(crashed.is_err());
    assert_eq!(app.rows("orders").await, 6, "the two committed pages stay");
    assert_eq!(
        cursor(&app, integration.id).await,
        Some(base + Duration::hours(6))
    );

    let resumed = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    assert_eq!(
        resumed,
        report(4, 0, 1),
        "the overlap re-reads order 6 only"
    );
    assert_eq!(app.rows("orders").await, 10);
    assert_eq!(app.rows("order_lines").await, 10);
    assert_eq!(
        cursor(&app, integration.id).await,
        Some(base + Duration::hours(10))
    );
    let calls_before = channel.calls();
    assert_eq!(
        import_orders(&app.state, &integration, &channel)
            .await
            .unwrap(),
        report(0, 0, 1)
    );
    assert_eq!(
        channel.calls() - calls_before,
        2,
        "one page and the empty page"
    );
}

#[tokio::test]
async fn an_order_modified_during_an_import_does_not_hide_its_neighbour() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("shift@example.com").await;
    let base = Utc::now().trunc_subsecs(0) - Duration::days(2);
    let orders: Vec<ChannelOrder> = (1..=6)
        .map(|i| {
            let mut o = channel_order(i, 11, base, vec![line(i, None, 1)]);
            o.modified_at = base + Duration::hours(i);
            o
        })
        .collect();
    let channel = FakeChannel::paged(orders, 2);
    // Right after page 1 was read, the merchant edits order 1: it moves to the end and the
    // offsets slide, so page 2 starts at order 4 and order 3 is never served in this run.
    *channel.before_page.lock().unwrap() = Some(Box::new(move |page, orders| {
        if page == 2 {
            let o = orders.iter_mut().find(|o| o.external_id == 1).unwrap();
            o.modified_at = base + Duration::hours(30);
            o.status_id = 9;
        }
    }));

    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    assert_eq!(app.rows("orders").await, 5);
    *channel.before_page.lock().unwrap() = None;
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    assert_eq!(app.rows("orders").await, 6);
    assert_eq!(
        stored(&app, integration.id, 3).await.status,
        OrderStatus::New
    );
    assert_eq!(
        cursor(&app, integration.id).await,
        Some(base + Duration::hours(30))
    );
}

#[tokio::test]
async fn money_is_stored_as_exact_decimals() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("money@example.com").await;
    let mut o = channel_order(1, 11, after_connecting(), vec![line(1, None, 3)]);
    o.total = "12.3456".parse().unwrap();
    o.subtotal_ex_tax = "0.1".parse().unwrap();
    o.subtotal_inc_tax = "1234567890.0001".parse().unwrap();
    o.shipping_cost = "5.0000".parse().unwrap();
    o.lines[0].unit_price = "4.1152".parse().unwrap();
    o.lines[0].total = "12.3456".parse().unwrap();
    let channel = FakeChannel::with_orders(vec![o]);

    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    let again = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    assert_eq!(again, report(0, 0, 1));
    let o = stored(&app, integration.id, 1).await;
    assert_eq!(
        (
            o.total.to_string().as_str(),
            o.subtotal_ex_tax.to_string().as_str(),
            o.subtotal_inc_tax.to_string().as_str(),
            o.shipping_cost.to_string().as_str()
        ),
        ("12.3456", "0.1", "1234567890.0001", "5")
    );
    let l = &lines_of(&app, o.id).await[0];
    assert_eq!(
        (
            l.unit_price.to_string().as_str(),
            l.total.to_string().as_str(),
            l.weight.map(|d| d.to_string()).as_deref()
        ),
        ("4.1152", "12.3456", Some("1.5"))
    );
    assert_eq!(
        (o.customer_name.as_str(), o.customer_email.as_deref()),
        ("Ada Lovelace", Some("ada@example.com"))
    );
}

#[tokio::test]
async fn lines_edited_on_the_channel_are_updated_added_and_removed() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("edit@example.com").await;
    let channel = FakeChannel::with_orders(vec![channel_order(
        1,
        11,
        after_connecting(),
        vec![line(1, None, 1), line(2, None, 1)],
    )]);
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    channel.change(1, |o| {
        o.lines[0].quantity = 4;
        o.lines.remove(1);
        o.lines.push(line(3, None, 2));
    });
    let edited = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    assert_eq!(edited, report(0, 1, 0));
    let o = stored(&app, integration.id, 1).await;
    let lines: Vec<(i64, i64)> = lines_of(&app, o.id)
        .await
        .iter()
        .map(|l| (l.external_id, l.quantity))
        .collect();
    assert_eq!(lines, vec![(1, 4), (3, 2)]);
}

#[tokio::test]
async fn stores_without_order_management_or_not_active_import_nothing() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("off@example.com").await;
    let channel = FakeChannel::with_orders(vec![channel_order(
        1,
        11,
        after_connecting(),
        vec![line(1, None, 1)],
    )]);
    let needs_credentials = integration::Model {
        status: IntegrationStatus::NeedsCredentials,
        ..integration.clone()
    };
    let disconnected = integration::Model {
        status: IntegrationStatus::Disconnected,
        ..integration.clone()
    };
    let no_orders = integration::Model {
        order_management: false,
        ..integration.clone()
    };

    for i in [&needs_credentials, &disconnected, &no_orders] {
        assert_eq!(
            import_orders(&app.state, i, &channel).await.unwrap(),
            ImportReport::default()
        );
        assert_eq!(
            import_order(&app.state, i, &channel, 1).await.unwrap(),
            ImportReport::default()
        );
    }

    assert_eq!(channel.calls(), 0);
    assert_eq!(app.rows("orders").await, 0);
}

#[tokio::test]
async fn import_order_imports_one_order_and_nothing_for_an_unknown_id() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("one@example.com").await;
    let mug = item(&app, integration.account_id, "MUG", 100).await;
    let at = after_connecting();
    let channel = FakeChannel::with_orders(vec![
        channel_order(1, 11, at, vec![line(1, Some("MUG"), 2)]),
        channel_order(2, 11, at, vec![line(2, Some("MUG"), 2)]),
    ]);

    let one = import_order(&app.state, &integration, &channel, 2)
        .await
        .unwrap();
    let unknown = import_order(&app.state, &integration, &channel, 99)
        .await
        .unwrap();
    let all = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    assert_eq!(
        (one, unknown, all),
        (report(1, 0, 0), report(0, 0, 0), report(1, 0, 1))
    );
    assert_eq!(stock_of(&app, mug.id).await, 96);
    assert_eq!(ledger(&app).await.len(), 2);
}

// ---------------------------------------------------------------------------------------------
// End to end: the BigCommerce client against the sandbox
// ---------------------------------------------------------------------------------------------

/// POSTs a sandbox merchant/shopper action and returns its JSON answer.
async fn sandbox(app: &TestApp, method: reqwest::Method, path: &str, body: Value) -> Value {
    let res = app
        .http
        .request(
            method,
            format!(
                "{}/_sandbox/stores/{}/{path}",
                app.sandbox.url, app.store.hash
            ),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap()
}

/// A product on the sandbox store and its inventory item here (100 in stock).
async fn listed_product(app: &TestApp, account_id: i64, sku: &str) -> inventory_item::Model {
    sandbox(
        app,
        reqwest::Method::POST,
        "products",
        json!({ "name": sku, "sku": sku, "inventory_level": 100 }),
    )
    .await;
    item(app, account_id, sku, 100).await
}

/// A shopper places an order on the sandbox store now; its id.
async fn place(app: &TestApp, lines: Value) -> i64 {
    a_second_passes().await; // a second after connecting
    sandbox(
        app,
        reqwest::Method::POST,
        "orders",
        json!({ "lines": lines }),
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

async fn set_status(app: &TestApp, order_id: i64, status_id: i64) {
    sandbox(
        app,
        reqwest::Method::PUT,
        &format!("orders/{order_id}/status"),
        json!({ "status_id": status_id }),
    )
    .await;
}

#[tokio::test]
async fn sandbox_the_first_import_reaches_back_by_the_historical_import_option_and_not_further() {
    let app = TestApp::builder()
        .sandbox(|c| {
            c.products = 20;
            c.orders = 150;
        })
        .spawn()
        .await;
    let (_, integration) = app
        .connected_with(
            "e2e-reach@example.com",
            json!({ "historicalImport": "LAST_7_DAYS" }),
        )
        .await;
    let floor = integration.import_orders_since;
    // An old order edited recently: modified within the window, placed before it.
    let edited_old = app
        .sandbox
        .with_store(&app.store.hash, |s| {
            let o = s
                .orders
                .values_mut()
                .find(|o| o.date_created < floor - Duration::days(1))
                .unwrap();
            o.date_modified = Utc::now().trunc_subsecs(0);
            o.id
        })
        .unwrap();
    let expected: Vec<i64> = app
        .sandbox
        .with_store(&app.store.hash, |s| {
            s.orders
                .values()
                .filter(|o| o.status_id != 0 && !o.is_deleted && o.date_created >= floor)
                .map(|o| o.id)
                .collect()
        })
        .unwrap();
    let channel = channel_for(&app.state, &integration).unwrap();

    let first = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    assert!(
        expected.len() > 3,
        "the seed should place some orders in the last 7 days"
    );
    assert_eq!(first.created, expected.len() as u64);
    let ids: Vec<i64> = order::Entity::find()
        .order_by_asc(order::Column::ExternalId)
        .all(&app.state.db)
        .await
        .unwrap()
        .iter()
        .map(|o| o.external_id)
        .collect();
    assert_eq!(ids, expected);
    assert!(!ids.contains(&edited_old));
}

#[tokio::test]
async fn sandbox_re_importing_every_order_changes_nothing() {
    let app = TestApp::builder()
        .sandbox(|c| {
            c.products = 40;
            c.orders = 150;
        })
        .spawn()
        .await;
    let (_, integration) = app
        .connected_with(
            "e2e-again@example.com",
            json!({ "historicalImport": "LAST_90_DAYS" }),
        )
        .await;
    let channel = channel_for(&app.state, &integration).unwrap();

    let first = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    let before = snapshot(&app).await;
    let second = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    forget_cursor(&app, &integration).await;
    let full = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    let after = snapshot(&app).await;

    assert!(first.created > 100, "{first:?}");
    assert_eq!(second.created + second.updated, 0, "{second:?}");
    assert_eq!(full, report(0, 0, first.created));
    assert_eq!(before, after);
    assert!(after.0.iter().all(|o| o.historical && !o.stock_taken));
    // Every status as the sandbox has it, Partially Refunded by its shipped quantities.
    let channel_side: std::collections::BTreeMap<i64, (i64, i64, i64)> = app
        .sandbox
        .with_store(&app.store.hash, |s| {
            s.orders
                .values()
                .map(|o| (o.id, (o.status_id, o.items_total(), o.items_shipped())))
                .collect()
        })
        .unwrap();
    for o in &after.0 {
        let (status_id, total, shipped) = channel_side[&o.external_id];
        assert_eq!(
            Some(o.status),
            OrderStatus::from_bigcommerce(status_id, total, shipped),
            "order {}",
            o.external_id
        );
    }
    assert!(after
        .0
        .iter()
        .any(|o| o.channel_status_id == 14 && o.status == OrderStatus::PartiallyShipped));
    assert!(after.2.is_empty(), "historical orders never move stock");
}

#[tokio::test]
async fn sandbox_an_order_placed_after_connecting_takes_stock_once_and_an_unlinked_line_none() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("e2e-placed@example.com").await;
    let mug = listed_product(&app, integration.account_id, "E2E-MUG").await;
    sandbox(
        &app,
        reqwest::Method::POST,
        "products",
        json!({ "name": "Not here", "sku": "E2E-UNKNOWN" }),
    )
    .await;
    let id = place(
        &app,
        json!([{ "sku": "E2E-MUG", "quantity": 2 }, { "sku": "E2E-UNKNOWN", "quantity": 1 }]),
    )
    .await;
    let channel = channel_for(&app.state, &integration).unwrap();

    let first = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    let second = import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    assert_eq!((first, second), (report(1, 0, 0), report(0, 0, 1)));
    let o = stored(&app, integration.id, id).await;
    assert_eq!(o.status, OrderStatus::New);
    assert!(!o.historical && o.stock_taken);
    let lines = lines_of(&app, o.id).await;
    let by_sku = |sku: &str| {
        lines
            .iter()
            .find(|l| l.sku.as_deref() == Some(sku))
            .unwrap()
            .clone()
    };
    assert_eq!(by_sku("E2E-MUG").inventory_item_id, Some(mug.id));
    assert_eq!(by_sku("E2E-UNKNOWN").inventory_item_id, None);
    let rows = ledger(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (
            rows[0].reason,
            rows[0].order_id,
            rows[0].delta,
            rows[0].quantity_after
        ),
        (StockReason::OrderPlaced, Some(o.id), -2, 98)
    );
    assert_eq!(stock_of(&app, mug.id).await, 98);
}

#[tokio::test]
async fn sandbox_an_order_canceled_on_the_channel_becomes_canceled_and_is_restocked_once() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("e2e-cancel@example.com").await;
    let mug = listed_product(&app, integration.account_id, "E2E-MUG").await;
    let id = place(&app, json!([{ "sku": "E2E-MUG", "quantity": 3 }])).await;
    let channel = channel_for(&app.state, &integration).unwrap();
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    assert_eq!(stock_of(&app, mug.id).await, 97);

    set_status(&app, id, 5).await;
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    import_order(&app.state, &integration, &channel, id)
        .await
        .unwrap();

    let o = stored(&app, integration.id, id).await;
    assert_eq!((o.status, o.channel_status_id), (OrderStatus::Canceled, 5));
    assert!(o.restocked);
    assert_eq!(stock_of(&app, mug.id).await, 100);
    let reasons: Vec<StockReason> = ledger(&app).await.iter().map(|r| r.reason).collect();
    assert_eq!(
        reasons,
        vec![StockReason::OrderPlaced, StockReason::OrderRestocked]
    );
}

#[tokio::test]
async fn sandbox_an_order_shipped_on_the_channel_becomes_shipped() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("e2e-ship@example.com").await;
    let mug = listed_product(&app, integration.account_id, "E2E-MUG").await;
    let id = place(&app, json!([{ "sku": "E2E-MUG", "quantity": 1 }])).await;
    let channel = channel_for(&app.state, &integration).unwrap();
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    set_status(&app, id, 2).await;
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    let o = stored(&app, integration.id, id).await;
    assert_eq!(o.status, OrderStatus::Shipped);
    assert!(o.shipped_at.is_some());
    assert_eq!(
        stock_of(&app, mug.id).await,
        99,
        "shipping does not move stock again"
    );
    set_status(&app, id, 5).await;
    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();
    assert_eq!(
        stored(&app, integration.id, id).await.status,
        OrderStatus::Canceled
    );
}

#[tokio::test]
async fn sandbox_a_decimal_total_is_stored_exactly() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("e2e-money@example.com").await;
    listed_product(&app, integration.account_id, "E2E-MUG").await;
    let id = place(&app, json!([{ "sku": "E2E-MUG", "quantity": 1 }])).await;
    let price: Decimal = "12.3456".parse().unwrap();
    app.sandbox
        .with_store(&app.store.hash, |s| {
            let o = s.orders.get_mut(&id).unwrap();
            o.shipping_cost_ex_tax = Decimal::ZERO;
            o.shipping_cost_inc_tax = Decimal::ZERO;
            for a in &mut o.shipping_addresses {
                a.cost_ex_tax = Decimal::ZERO;
                a.cost_inc_tax = Decimal::ZERO;
            }
            let l = &mut o.products[0];
            (l.base_price, l.price_ex_tax, l.price_inc_tax, l.price_tax) =
                (price, price, price, Decimal::ZERO);
        })
        .unwrap();
    let channel = channel_for(&app.state, &integration).unwrap();

    import_orders(&app.state, &integration, &channel)
        .await
        .unwrap();

    let o = stored(&app, integration.id, id).await;
    assert_eq!(
        (
            o.total.to_string().as_str(),
            o.subtotal_inc_tax.to_string().as_str()
        ),
        ("12.3456", "12.3456")
    );
    assert_eq!(lines_of(&app, o.id).await[0].total.to_string(), "12.3456");
}
