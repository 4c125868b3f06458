//! Product import (docs/rules.md §4): listings linked by SKU to one inventory item per SKU, the
//! starting stock, channel stock with inventory management on and off, products deleted on
//! the channel or here. The rules are tested against an in-memory channel; the same scenarios
//! run end to end through the BigCommerce client and the sandbox at the bottom.

use std::sync::atomic::Ordering;

use chrono::{DateTime, TimeZone, Utc};
use orderdeck::channels::{ChannelProduct, ChannelVariant, SalesChannel};
use orderdeck::domain::{IntegrationStatus, StockReason, StockTracking};
use orderdeck::entities::{
    integration, inventory_item as item, listing, stock_movement as movement,
};
use orderdeck::sync::products::import_products;
use orderdeck::sync::ImportReport;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{json, Value};

use crate::support::{dec, report, spawn_app, FakeChannel, TestApp};

fn modified() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap()
}

/// A product without options, tracked by product.
fn simple(id: i64, sku: &str, stock: i64) -> ChannelProduct {
    ChannelProduct {
        external_id: id,
        name: format!("Product {id}"),
        sku: Some(sku.into()),
        price: dec("19.99"),
        sale_price: None,
        weight: Some(dec("1.5")),
        tracking: StockTracking::Product,
        inventory_level: stock,
        image_urls: vec![format!("https://cdn.test/{id}/front.jpg")],
        category_ids: vec![1],
        modified_at: modified(),
        variants: vec![ChannelVariant {
            external_id: id * 100,
            sku: Some(sku.into()),
            price: None,
            sale_price: None,
            weight: None,
            inventory_level: 0,
            option_label: String::new(),
            is_base: true,
        }],
    }
}

/// A product with one variant per `(size, stock)`, tracked by variant.
fn with_sizes(id: i64, sku: &str, sizes: &[(&str, i64)]) -> ChannelProduct {
    let mut p = simple(id, sku, 0);
    p.name = "Shirt".into();
    p.tracking = StockTracking::Variant;
    p.inventory_level = sizes.iter().map(|(_, n)| n).sum();
    p.variants = sizes
        .iter()
        .enumerate()
        .map(|(i, (size, stock))| ChannelVariant {
            external_id: id * 100 + i as i64 + 1,
            sku: Some(format!("{sku}-{size}")),
            price: None,
            sale_price: None,
            weight: None,
            inventory_level: *stock,
            option_label: format!("Size: {size}"),
            is_base: false,
        })
        .collect();
    p
}

async fn import(
    app: &TestApp,
    integration: &integration::Model,
    channel: &dyn SalesChannel,
) -> ImportReport {
    import_products(&app.state, integration, channel)
        .await
        .unwrap()
}

async fn listings(app: &TestApp) -> Vec<listing::Model> {
    listing::Entity::find()
        .order_by_asc(listing::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
}

async fn items(app: &TestApp) -> Vec<item::Model> {
    item::Entity::find()
        .order_by_asc(item::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
}

async fn item_by_sku(app: &TestApp, sku: &str) -> item::Model {
    item::Entity::find()
        .filter(item::Column::Sku.eq(sku))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no item {sku}"))
}

async fn listing_of(
    app: &TestApp,
    integration: &integration::Model,
    product_id: i64,
) -> listing::Model {
    listing::Entity::find()
        .filter(listing::Column::IntegrationId.eq(integration.id))
        .filter(listing::Column::ExternalProductId.eq(product_id))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

async fn movements(app: &TestApp) -> Vec<movement::Model> {
    movement::Entity::find()
        .order_by_asc(movement::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
}

/// Connects another sandbox store to the account of `token`.
async fn connect_another(app: &TestApp, token: &str) -> (integration::Model, String) {
    let store = app.sandbox.add_store(0, 0);
    let res = app
        .connect(
            token,
            json!({ "storeHash": store.hash, "clientId": store.client_id, "accessToken": store.access_token }),
        )
        .await;
    assert_eq!(res["userErrors"], json!([]), "{res}");
    let id: i64 = res["integration"]["id"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let row = integration::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    (row, store.hash)
}

async fn delete_item_here(app: &TestApp, id: i64) {
    item::Entity::update_many()
        .col_expr(item::Column::DeletedAt, Expr::value(Utc::now()))
        .filter(item::Column::Id.eq(id))
        .exec(&app.state.db)
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// The rules, against the in-memory channel
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_product_without_options_becomes_one_listing_and_one_item_with_its_starting_stock() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("simple@example.com").await;
    let channel = FakeChannel::with_products(vec![simple(7, "MUG-1", 42)]);

    let r = import(&app, &integration, &channel).await;

    assert_eq!(r, report(1, 0, 0));
    let l = &listings(&app).await[0];
    assert_eq!((l.external_product_id, l.external_variant_id), (7, 700));
    assert_eq!(l.sku.as_deref(), Some("MUG-1"));
    assert_eq!(l.tracking, StockTracking::Product);
    assert_eq!(l.channel_stock, Some(42));
    assert_eq!(l.channel_modified_at, Some(modified()));
    assert_eq!(l.missing_since, None);
    let all = items(&app).await;
    assert_eq!(all.len(), 1);
    let i = &all[0];
    assert_eq!(l.inventory_item_id, i.id);
    assert_eq!(
        (i.sku.as_deref(), i.name.as_str(), i.quantity),
        (Some("MUG-1"), "Product 7", 42)
    );
    assert_eq!(i.weight.map(|d| d.to_string()).as_deref(), Some("1.5"));
    assert_eq!(i.image_url.as_deref(), Some("https://cdn.test/7/front.jpg"));
    let m = movements(&app).await;
    assert_eq!(m.len(), 1);
    assert_eq!(
        (m[0].reason, m[0].delta, m[0].quantity_after),
        (StockReason::InitialImport, 42, 42)
    );
    assert_eq!(m[0].inventory_item_id, i.id);
    assert_eq!(m[0].integration_id, Some(integration.id));
    assert_eq!(m[0].idempotency_key, Some(format!("item:{}:initial", i.id)));
}

#[tokio::test]
async fn a_product_with_three_variants_becomes_three_listings_and_three_items_and_the_parent_none()
{
    let app = spawn_app().await;
    let (_, integration) = app.connected("variants@example.com").await;
    let channel =
        FakeChannel::with_products(vec![with_sizes(5, "TEE", &[("S", 3), ("M", 4), ("L", 5)])]);

    let r = import(&app, &integration, &channel).await;

    assert_eq!(r, report(3, 0, 0));
    let ls = listings(&app).await;
    let got: Vec<_> = ls
        .iter()
        .map(|l| {
            (
                l.external_variant_id,
                l.sku.clone().unwrap(),
                l.title.clone(),
                l.tracking,
                l.channel_stock,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                501,
                "TEE-S".into(),
                "Shirt — Size: S".into(),
                StockTracking::Variant,
                Some(3)
            ),
            (
                502,
                "TEE-M".into(),
                "Shirt — Size: M".into(),
                StockTracking::Variant,
                Some(4)
            ),
            (
                503,
                "TEE-L".into(),
                "Shirt — Size: L".into(),
                StockTracking::Variant,
                Some(5)
            ),
        ]
    );
    let is = items(&app).await;
    let got: Vec<_> = is
        .iter()
        .map(|i| (i.sku.clone().unwrap(), i.name.clone(), i.quantity))
        .collect();
    assert_eq!(
        got,
        vec![
            ("TEE-L".into(), "Shirt — Size: L".into(), 5),
            ("TEE-M".into(), "Shirt — Size: M".into(), 4),
            ("TEE-S".into(), "Shirt — Size: S".into(), 3),
        ]
    );
    assert!(
        is.iter().all(|i| i.sku.as_deref() != Some("TEE")),
        "the parent has no item"
    );
    assert_eq!(movements(&app).await.len(), 3);
}

#[tokio::test]
async fn the_same_sku_on_two_stores_is_one_item_with_two_listings() {
    let app = spawn_app().await;
    let (token, first) = app.connected("two@example.com").await;
    let (second, _) = connect_another(&app, &token).await;

    import(
        &app,
        &first,
        &FakeChannel::with_products(vec![simple(1, "SHARED", 10)]),
    )
    .await;
    let r = import(
        &app,
        &second,
        &FakeChannel::with_products(vec![simple(900, "SHARED", 99)]),
    )
    .await;

    assert_eq!(r, report(1, 0, 0));
    let is = items(&app).await;
    assert_eq!(is.len(), 1);
    assert_eq!(
        is[0].quantity, 10,
        "the first store's figure is the starting stock"
    );
    let ls = listings(&app).await;
    assert_eq!(ls.len(), 2);
    assert!(ls.iter().all(|l| l.inventory_item_id == is[0].id));
    assert_eq!(ls[1].channel_stock, Some(99));
    let m = movements(&app).await;
    assert_eq!(
        m.len(),
        1,
        "linking to an existing item sets no stock (inventory management on)"
    );
}

#[tokio::test]
async fn two_stores_imported_at_the_same_time_share_one_item_per_sku() {
    let app = spawn_app().await;
    let (token, first) = app.connected("together@example.com").await;
    let (second, _) = connect_another(&app, &token).await;
    let catalog = |offset: i64| {
        let mut c = FakeChannel::with_products(
            (1..=40)
                .map(|n| simple(offset + n, &format!("S{n:02}"), n))
                .collect(),
        );
        c.page_size = 10;
        c
    };
    let (a, b) = (catalog(0), catalog(1000));

    let (ra, rb) = tokio::join!(
        import_products(&app.state, &first, &a),
        import_products(&app.state, &second, &b)
    );

    assert_eq!((ra.unwrap().created, rb.unwrap().created), (40, 40));
    assert_eq!(items(&app).await.len(), 40);
    assert_eq!(listings(&app).await.len(), 80);
    let initial = movements(&app)
        .await
        .iter()
        .filter(|m| m.reason == StockReason::InitialImport)
        .count();
    assert_eq!(initial, 40, "each item gets one starting figure");
}

#[tokio::test]
async fn importing_an_unchanged_catalog_again_changes_and_writes_nothing() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("again@example.com").await;
    let channel = FakeChannel::with_products(vec![
        simple(1, "A", 1),
        with_sizes(2, "B", &[("S", 1), ("M", 2)]),
        simple(3, "C", 0),
    ]);
    import(&app, &integration, &channel).await;
    let (ls, is, ms) = (
        listings(&app).await,
        items(&app).await,
        movements(&app).await,
    );

    let r = import(&app, &integration, &channel).await;

    assert_eq!(r, report(0, 0, 4));
    assert_eq!(listings(&app).await, ls);
    assert_eq!(items(&app).await, is);
    assert_eq!(movements(&app).await, ms);
}

#[tokio::test]
async fn a_change_on_the_channel_updates_only_that_listing() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("change@example.com").await;
    let channel = FakeChannel::with_products(vec![simple(1, "A", 1), simple(2, "B", 2)]);
    import(&app, &integration, &channel).await;
    channel.edit(2, |p| {
        p.price = dec("24.50");
        p.name = "Renamed".into();
    });

    let r = import(&app, &integration, &channel).await;

    assert_eq!(r, report(0, 1, 1));
    let l = listing_of(&app, &integration, 2).await;
    assert_eq!(
        (l.price.to_string().as_str(), l.title.as_str()),
        ("24.5", "Renamed")
    );
    assert_eq!(
        item_by_sku(&app, "B").await.name,
        "Product 2",
        "the item keeps its first name"
    );
}

#[tokio::test]
async fn with_inventory_management_on_a_changed_channel_stock_is_recorded_but_not_imported() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("on@example.com").await;
    assert!(integration.inventory_management);
    let channel = FakeChannel::with_products(vec![simple(1, "A", 20)]);
    import(&app, &integration, &channel).await;
    channel.edit(1, |p| p.inventory_level = 7);

    let r = import(&app, &integration, &channel).await;

    assert_eq!(r, report(0, 1, 0));
    assert_eq!(
        listing_of(&app, &integration, 1).await.channel_stock,
        Some(7)
    );
    assert_eq!(item_by_sku(&app, "A").await.quantity, 20);
    assert_eq!(movements(&app).await.len(), 1);
}

#[tokio::test]
async fn with_inventory_management_off_a_changed_channel_stock_is_imported_once() {
    let app = spawn_app().await;
    let (_, integration) = app
        .connected_with("off@example.com", json!({ "inventoryManagement": false }))
        .await;
    let channel = FakeChannel::with_products(vec![simple(1, "A", 20)]);
    import(&app, &integration, &channel).await;
    channel.edit(1, |p| {
        p.inventory_level = 7;
        p.modified_at = modified() + chrono::Duration::hours(1);
    });

    let r = import(&app, &integration, &channel).await;
    let again = import(&app, &integration, &channel).await;

    assert_eq!(r, report(0, 1, 0));
    assert_eq!(again, report(0, 0, 1));
    let i = item_by_sku(&app, "A").await;
    assert_eq!(i.quantity, 7);
    let m = movements(&app).await;
    assert_eq!(m.len(), 2);
    assert_eq!(
        (m[1].reason, m[1].delta, m[1].quantity_after),
        (StockReason::ChannelImport, -13, 7)
    );
    assert_eq!(m[1].integration_id, Some(integration.id));
}

#[tokio::test]
async fn with_inventory_management_off_a_store_linking_an_existing_sku_imports_its_figure() {
    let app = spawn_app().await;
    let (token, first) = app.connected("offlink@example.com").await;
    let (mut second, _) = connect_another(&app, &token).await;
    let mut row: integration::ActiveModel = second.clone().into();
    row.inventory_management = Set(false);
    second = row.update(&app.state.db).await.unwrap();
    import(
        &app,
        &first,
        &FakeChannel::with_products(vec![simple(1, "SHARED", 10)]),
    )
    .await;
    let channel = FakeChannel::with_products(vec![simple(900, "SHARED", 4)]);

    import(&app, &second, &channel).await;
    let again = import(&app, &second, &channel).await;

    assert_eq!(again, report(0, 0, 1));
    assert_eq!(item_by_sku(&app, "SHARED").await.quantity, 4);
    let reasons: Vec<_> = movements(&app).await.iter().map(|m| m.reason).collect();
    assert_eq!(
        reasons,
        vec![StockReason::InitialImport, StockReason::ChannelImport]
    );
}

#[tokio::test]
async fn a_product_deleted_on_the_channel_is_kept_and_marked_missing_until_it_reappears() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("missing@example.com").await;
    let channel = FakeChannel::with_products(vec![
        simple(1, "A", 1),
        with_sizes(2, "B", &[("S", 1), ("M", 2)]),
    ]);
    import(&app, &integration, &channel).await;
    let gone = channel.remove(2);

    let r = import(&app, &integration, &channel).await;

    assert_eq!(r, report(0, 2, 1));
    let ls = listings(&app).await;
    assert_eq!(ls.len(), 3, "listings are kept");
    let missing: Vec<_> = ls
        .iter()
        .filter(|l| l.missing_since.is_some())
        .map(|l| l.sku.clone().unwrap())
        .collect();
    assert_eq!(missing, vec!["B-S".to_string(), "B-M".to_string()]);
    assert_eq!(items(&app).await.len(), 3, "items are kept");
    assert_eq!(
        import(&app, &integration, &channel).await,
        report(0, 0, 1),
        "marked once"
    );

    channel.put(gone);
    let back = import(&app, &integration, &channel).await;

    assert_eq!(back, report(0, 2, 1));
    assert!(listings(&app)
        .await
        .iter()
        .all(|l| l.missing_since.is_none()));
    assert_eq!(movements(&app).await.len(), 3, "no stock moved");
}

#[tokio::test]
async fn an_item_deleted_here_comes_back_at_the_next_import_with_its_stock() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("back@example.com").await;
    let channel = FakeChannel::with_products(vec![simple(1, "A", 12)]);
    import(&app, &integration, &channel).await;
    let before = item_by_sku(&app, "A").await;
    delete_item_here(&app, before.id).await;

    let r = import(&app, &integration, &channel).await;

    assert_eq!(r, report(0, 1, 0));
    let after = item_by_sku(&app, "A").await;
    assert_eq!(
        (after.id, after.deleted_at, after.quantity),
        (before.id, None, 12)
    );
    assert_eq!(listings(&app).await.len(), 1);
    assert_eq!(movements(&app).await.len(), 1);
}

#[tokio::test]
async fn a_listing_without_sku_gets_its_own_item_and_keeps_it() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("nosku@example.com").await;
    let mut a = simple(1, "", 3);
    a.sku = None;
    a.variants[0].sku = None;
    let mut b = simple(2, "  ", 4);
    b.variants[0].sku = Some(" ".into());
    let channel = FakeChannel::with_products(vec![a, b]);

    let r = import(&app, &integration, &channel).await;
    let (ls, is) = (listings(&app).await, items(&app).await);
    let again = import(&app, &integration, &channel).await;

    assert_eq!(r, report(2, 0, 0));
    assert_eq!(again, report(0, 0, 2));
    assert_eq!(is.len(), 2);
    assert!(is.iter().all(|i| i.sku.is_none()));
    assert!(ls.iter().all(|l| l.sku.is_none()));
    assert_ne!(ls[0].inventory_item_id, ls[1].inventory_item_id);
    let quantities: Vec<_> = is.iter().map(|i| i.quantity).collect();
    assert_eq!(quantities, vec![3, 4]);
    assert_eq!(listings(&app).await, ls, "still linked to the same items");
    assert_eq!(items(&app).await, is);
}

#[tokio::test]
async fn names_prices_sale_prices_weights_images_and_categories_land_on_the_listing_exactly() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("exact@example.com").await;
    let mut mug = simple(1, "MUG", 5);
    mug.price = dec("12.50");
    mug.sale_price = Some(dec("9.990"));
    mug.weight = Some(dec("0.350"));
    mug.image_urls = vec![
        "https://cdn.test/a.jpg".into(),
        "https://cdn.test/b.jpg".into(),
    ];
    mug.category_ids = vec![3, 2, 404];
    let mut tee = with_sizes(2, "TEE", &[("S", 1), ("XL", 1)]);
    tee.price = dec("20");
    tee.sale_price = Some(dec("18.00"));
    tee.variants[1].price = Some(dec("22.75"));
    tee.variants[1].sale_price = Some(dec("21.10"));
    tee.variants[1].weight = Some(dec("2.25"));
    let channel = FakeChannel::with_products(vec![mug, tee]);

    import(&app, &integration, &channel).await;

    let got: Vec<_> = listings(&app)
        .await
        .into_iter()
        .map(|l| {
            json!([
                l.sku,
                l.title,
                l.price,
                l.sale_price,
                l.weight,
                l.images,
                l.categories
            ])
        })
        .collect();
    assert_eq!(
        got,
        vec![
            json!([
                "MUG",
                "Product 1",
                "12.5",
                "9.99",
                "0.35",
                ["https://cdn.test/a.jpg", "https://cdn.test/b.jpg"],
                ["Mugs", "Summer Sale"]
            ]),
            json!([
                "TEE-S",
                "Shirt — Size: S",
                "20",
                "18",
                "1.5",
                ["https://cdn.test/2/front.jpg"],
                ["Shirts"]
            ]),
            json!([
                "TEE-XL",
                "Shirt — Size: XL",
                "22.75",
                "21.1",
                "2.25",
                ["https://cdn.test/2/front.jpg"],
                ["Shirts"]
            ]),
        ]
    );
}

#[tokio::test]
async fn an_untracked_product_shows_no_channel_stock_and_starts_at_zero() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("untracked@example.com").await;
    let mut p = simple(1, "FREE", 0);
    p.tracking = StockTracking::None;
    p.inventory_level = 0;
    let channel = FakeChannel::with_products(vec![p, with_sizes(2, "TEE", &[("S", 1)])]);
    channel.edit(2, |p| {
        p.tracking = StockTracking::Product;
        p.inventory_level = 9;
    });

    import(&app, &integration, &channel).await;

    let free = listing_of(&app, &integration, 1).await;
    assert_eq!(
        (free.tracking, free.channel_stock),
        (StockTracking::None, None)
    );
    assert_eq!(item_by_sku(&app, "FREE").await.quantity, 0);
    let tee = listing_of(&app, &integration, 2).await;
    assert_eq!(
        (tee.tracking, tee.channel_stock),
        (StockTracking::Product, Some(9))
    );
}

#[tokio::test]
async fn every_page_is_read_until_an_empty_one_and_the_categories_once() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("pages@example.com").await;
    let mut channel =
        FakeChannel::with_products((1..=5).map(|n| simple(n, &format!("P{n}"), n)).collect());
    channel.page_size = 2;

    let r = import(&app, &integration, &channel).await;

    assert_eq!(r, report(5, 0, 0));
    assert_eq!(channel.product_calls.load(Ordering::Relaxed), 4);
    assert_eq!(channel.category_calls.load(Ordering::Relaxed), 1);
    assert_eq!(app.rows("listings").await, 5);
}

#[tokio::test]
async fn a_store_that_is_not_active_is_not_imported() {
    let app = spawn_app().await;
    let (_, integration) = app.connected("inactive@example.com").await;
    let mut row: integration::ActiveModel = integration.clone().into();
    row.status = Set(IntegrationStatus::NeedsCredentials);
    let integration = row.update(&app.state.db).await.unwrap();
    let channel = FakeChannel::with_products(vec![simple(1, "A", 1)]);

    let r = import(&app, &integration, &channel).await;

    assert_eq!(r, report(0, 0, 0));
    assert_eq!(channel.api_calls(), 0);
    assert_eq!(app.rows("listings").await, 0);
}

// ---------------------------------------------------------------------------------------------
// End to end: the BigCommerce client against the sandbox
// ---------------------------------------------------------------------------------------------

/// The same rules through the real BigCommerce client and the sandbox's merchant actions.
mod through_the_sandbox {
    use super::*;

    async fn import_store(app: &TestApp, integration: &integration::Model) -> ImportReport {
        let channel = orderdeck::sync::channel_for(&app.state, integration).unwrap();
        import_products(&app.state, integration, &channel)
            .await
            .unwrap()
    }

    /// A merchant action under `/_sandbox/stores/{hash}/…`; returns the JSON answer.
    async fn merchant(app: &TestApp, method: reqwest::Method, path: &str, body: Value) -> Value {
        let res = app
            .http
            .request(
                method.clone(),
                format!("{}/_sandbox/stores/{path}", app.sandbox.url),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        assert!(status.is_success(), "{method} {path} answered {status}");
        res.json().await.unwrap_or(Value::Null)
    }

    async fn create_product(app: &TestApp, hash: &str, body: Value) -> i64 {
        let p = merchant(
            app,
            reqwest::Method::POST,
            &format!("{hash}/products"),
            body,
        )
        .await;
        p["data"]["id"]
            .as_i64()
            .or_else(|| p["id"].as_i64())
            .unwrap()
    }

    #[tokio::test]
    async fn a_simple_product_becomes_one_listing_and_one_item_with_its_starting_stock() {
        let app = spawn_app().await;
        let (_, integration) = app.connected("sbx-simple@example.com").await;
        let id = create_product(
            &app,
            &app.store.hash,
            json!({ "name": "Mug", "sku": "MUG-1", "price": 12.5, "inventory_level": 42 }),
        )
        .await;

        let r = import_store(&app, &integration).await;

        assert_eq!(r, report(1, 0, 0));
        let l = listing_of(&app, &integration, id).await;
        assert_eq!(
            (
                l.sku.as_deref(),
                l.title.as_str(),
                l.price.to_string().as_str()
            ),
            (Some("MUG-1"), "Mug", "12.5")
        );
        assert_eq!(
            (l.tracking, l.channel_stock),
            (StockTracking::Product, Some(42))
        );
        let i = item_by_sku(&app, "MUG-1").await;
        assert_eq!(i.quantity, 42);
        let m = movements(&app).await;
        assert_eq!(m.len(), 1);
        assert_eq!(
            (m[0].reason, m[0].quantity_after),
            (StockReason::InitialImport, 42)
        );
    }

    #[tokio::test]
    async fn a_product_with_three_variants_becomes_three_listings_and_three_items() {
        let app = spawn_app().await;
        let (_, integration) = app.connected("sbx-variants@example.com").await;
        create_product(
            &app,
            &app.store.hash,
            json!({ "name": "Tee", "sku": "TEE", "price": 20, "variants": [
                { "sku": "TEE-S", "label": "S", "inventory_level": 3 },
                { "sku": "TEE-M", "label": "M", "inventory_level": 4, "price": 21 },
                { "sku": "TEE-L", "label": "L", "inventory_level": 5 },
            ] }),
        )
        .await;

        let r = import_store(&app, &integration).await;

        assert_eq!(r, report(3, 0, 0));
        let got: Vec<_> = listings(&app)
            .await
            .into_iter()
            .map(|l| {
                (
                    l.sku.unwrap(),
                    l.price.to_string(),
                    l.tracking,
                    l.channel_stock,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("TEE-S".into(), "20".into(), StockTracking::Variant, Some(3)),
                ("TEE-M".into(), "21".into(), StockTracking::Variant, Some(4)),
                ("TEE-L".into(), "20".into(), StockTracking::Variant, Some(5)),
            ]
        );
        let skus: Vec<_> = items(&app)
            .await
            .into_iter()
            .map(|i| (i.sku.unwrap(), i.quantity))
            .collect();
        assert_eq!(
            skus,
            vec![
                ("TEE-L".into(), 5),
                ("TEE-M".into(), 4),
                ("TEE-S".into(), 3)
            ]
        );
    }

    #[tokio::test]
    async fn the_same_sku_on_two_stores_is_one_item_with_two_listings() {
        let app = TestApp::builder().sandbox(|c| c.products = 3).spawn().await;
        let (token, first) = app.connected("sbx-two@example.com").await;
        let (second, hash) = connect_another(&app, &token).await;
        create_product(
            &app,
            &hash,
            json!({ "name": "Other", "sku": "X", "inventory_level": 1 }),
        )
        .await;
        let first_id = app
            .sandbox
            .with_store(&app.store.hash, |s| {
                let p = s.products.values_mut().find(|p| !p.has_options()).unwrap();
                p.sku = "SHARED-1".into();
                p.variants[0].sku = "SHARED-1".into();
                p.id
            })
            .unwrap();
        app.sandbox.with_store(&hash, |s| {
            let p = s.products.values_mut().next().unwrap();
            p.sku = "SHARED-1".into();
            p.variants[0].sku = "SHARED-1".into();
        });

        import_store(&app, &first).await;
        import_store(&app, &second).await;

        let shared = item_by_sku(&app, "SHARED-1").await;
        let linked: Vec<_> = listings(&app)
            .await
            .into_iter()
            .filter(|l| l.inventory_item_id == shared.id)
            .map(|l| l.integration_id)
            .collect();
        assert_eq!(linked, vec![first.id, second.id]);
        assert_eq!(
            listing_of(&app, &first, first_id).await.inventory_item_id,
            shared.id
        );
        let count = item::Entity::find()
            .filter(item::Column::Sku.eq("SHARED-1"))
            .all(&app.state.db)
            .await
            .unwrap()
            .len();
        assert_eq!(count, 1);
    }

    #[tokio::test]
    async fn importing_a_seeded_catalog_again_writes_nothing() {
        let app = TestApp::builder()
            .sandbox(|c| c.products = 40)
            .spawn()
            .await;
        let (_, integration) = app.connected("sbx-again@example.com").await;
        let first = import_store(&app, &integration).await;
        let (ls, is, ms) = (
            listings(&app).await,
            items(&app).await,
            movements(&app).await,
        );

        let again = import_store(&app, &integration).await;

        assert!(first.created > 40, "{first:?}");
        assert_eq!(again, report(0, 0, first.created));
        assert_eq!(listings(&app).await, ls);
        assert_eq!(items(&app).await, is);
        assert_eq!(movements(&app).await, ms);
        assert_eq!(ms.len() as u64, first.created);
    }

    #[tokio::test]
    async fn inventory_management_on_ignores_a_changed_channel_stock() {
        let app = spawn_app().await;
        let (_, integration) = app.connected("sbx-on@example.com").await;
        let id = create_product(
            &app,
            &app.store.hash,
            json!({ "sku": "A", "inventory_level": 20 }),
        )
        .await;
        import_store(&app, &integration).await;
        let path = format!("{}/products/{id}", app.store.hash);
        merchant(
            &app,
            reqwest::Method::PUT,
            &path,
            json!({ "inventory_level": 7 }),
        )
        .await;

        import_store(&app, &integration).await;

        assert_eq!(
            listing_of(&app, &integration, id).await.channel_stock,
            Some(7)
        );
        assert_eq!(item_by_sku(&app, "A").await.quantity, 20);
        assert_eq!(movements(&app).await.len(), 1);
    }

    #[tokio::test]
    async fn inventory_management_off_imports_a_changed_channel_stock() {
        let app = spawn_app().await;
        let (_, integration) = app
            .connected_with(
                "sbx-off@example.com",
                json!({ "inventoryManagement": false }),
            )
            .await;
        let id = create_product(
            &app,
            &app.store.hash,
            json!({ "sku": "A", "inventory_level": 20 }),
        )
        .await;
        import_store(&app, &integration).await;
        let path = format!("{}/products/{id}", app.store.hash);
        merchant(
            &app,
            reqwest::Method::PUT,
            &path,
            json!({ "inventory_level": 7 }),
        )
        .await;

        import_store(&app, &integration).await;
        let again = import_store(&app, &integration).await;

        assert_eq!(again, report(0, 0, 1));
        assert_eq!(item_by_sku(&app, "A").await.quantity, 7);
        let m = movements(&app).await;
        let got: Vec<_> = m.iter().map(|m| (m.reason, m.quantity_after)).collect();
        assert_eq!(
            got,
            vec![
                (StockReason::InitialImport, 20),
                (StockReason::ChannelImport, 7)
            ]
        );
    }

    #[tokio::test]
    async fn a_product_deleted_on_the_channel_is_kept_and_marked_missing_until_it_reappears() {
        let app = spawn_app().await;
        let (_, integration) = app.connected("sbx-missing@example.com").await;
        let hash = app.store.hash.clone();
        let keep =
            create_product(&app, &hash, json!({ "sku": "KEEP", "inventory_level": 1 })).await;
        let id = create_product(&app, &hash, json!({ "sku": "GONE", "inventory_level": 2 })).await;
        import_store(&app, &integration).await;
        let saved = app
            .sandbox
            .with_store(&hash, |s| s.products[&id].clone())
            .unwrap();
        merchant(
            &app,
            reqwest::Method::DELETE,
            &format!("{hash}/products/{id}"),
            json!({}),
        )
        .await;

        let r = import_store(&app, &integration).await;

        assert_eq!(r, report(0, 1, 1));
        assert!(listing_of(&app, &integration, id)
            .await
            .missing_since
            .is_some());
        assert!(listing_of(&app, &integration, keep)
            .await
            .missing_since
            .is_none());
        assert_eq!(item_by_sku(&app, "GONE").await.quantity, 2);

        app.sandbox
            .with_store(&hash, |s| s.products.insert(id, saved));
        let back = import_store(&app, &integration).await;

        assert_eq!(back, report(0, 1, 1));
        assert!(listing_of(&app, &integration, id)
            .await
            .missing_since
            .is_none());
    }

    #[tokio::test]
    async fn an_item_deleted_here_comes_back_at_the_next_import() {
        let app = spawn_app().await;
        let (_, integration) = app.connected("sbx-back@example.com").await;
        create_product(
            &app,
            &app.store.hash,
            json!({ "sku": "A", "inventory_level": 12 }),
        )
        .await;
        import_store(&app, &integration).await;
        let before = item_by_sku(&app, "A").await;
        delete_item_here(&app, before.id).await;

        import_store(&app, &integration).await;

        let after = item_by_sku(&app, "A").await;
        assert_eq!(
            (after.id, after.deleted_at, after.quantity),
            (before.id, None, 12)
        );
    }

    #[tokio::test]
    async fn a_listing_without_sku_gets_its_own_item() {
        let app = spawn_app().await;
        let (_, integration) = app.connected("sbx-nosku@example.com").await;
        let hash = app.store.hash.clone();
        let a = create_product(&app, &hash, json!({ "name": "A", "inventory_level": 3 })).await;
        let b = create_product(&app, &hash, json!({ "name": "B", "inventory_level": 4 })).await;
        app.sandbox.with_store(&hash, |s| {
            for id in [a, b] {
                let p = s.products.get_mut(&id).unwrap();
                p.sku = String::new();
                p.variants[0].sku = String::new();
            }
        });

        import_store(&app, &integration).await;
        let again = import_store(&app, &integration).await;

        assert_eq!(again, report(0, 0, 2));
        let is = items(&app).await;
        assert_eq!(is.len(), 2);
        assert!(is.iter().all(|i| i.sku.is_none()));
        let quantities: Vec<_> = is.iter().map(|i| i.quantity).collect();
        assert_eq!(quantities, vec![3, 4]);
    }

    #[tokio::test]
    async fn category_names_images_prices_and_sale_prices_land_on_the_listing_exactly() {
        let app = TestApp::builder().sandbox(|c| c.products = 1).spawn().await;
        let (_, integration) = app.connected("sbx-exact@example.com").await;
        let hash = app.store.hash.clone();
        let (category_ids, names): (Vec<i64>, Vec<String>) = app
            .sandbox
            .with_store(&hash, |s| {
                s.categories
                    .iter()
                    .take(2)
                    .map(|c| (c.id, c.name.clone()))
                    .unzip()
            })
            .unwrap();
        let id = create_product(
            &app,
            &hash,
            json!({ "name": "Exact", "sku": "EX", "price": 12.5, "sale_price": 9.99, "weight": 0.35,
                    "categories": category_ids, "inventory_level": 1 }),
        )
        .await;
        app.sandbox.with_store(&hash, |s| {
            let p = s.products.get_mut(&id).unwrap();
            for (n, url) in [
                "https://img.example.test/front.jpg",
                "https://img.example.test/back.jpg",
            ]
            .into_iter()
            .enumerate()
            {
                p.images.push(orderdeck_sandbox::model::Image {
                    id: 90_000 + n as i64,
                    is_thumbnail: n == 0,
                    sort_order: n as i64,
                    url: url.into(),
                });
            }
        });

        import_store(&app, &integration).await;

        let l = listing_of(&app, &integration, id).await;
        assert_eq!(
            json!([
                l.title,
                l.price,
                l.sale_price,
                l.weight,
                l.images,
                l.categories
            ]),
            json!([
                "Exact",
                "12.5",
                "9.99",
                "0.35",
                [
                    "https://img.example.test/front.jpg",
                    "https://img.example.test/back.jpg"
                ],
                names
            ])
        );
    }
}
