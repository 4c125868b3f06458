//! `orderdeck bench seed`: fills a database with a merchant of years of history, fast
//! (multi-row inserts in large transactions), for `bench read` and for trying the API at size.
//!
//! One account (`bench-read@orderdeck.local`, password [`SEED_PASSWORD`]) with `stores`
//! stores, `products` products (each listed on one or two stores), `orders` orders over the
//! last three years (1–5 lines each, 3 on average; statuses as a shop sees them), and a
//! shipment with its lines for every shipped order.

use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel,
};

use super::machine;
use orderdeck::config::{Secret, Settings};
use orderdeck::db::ScopedFutureExt;
use orderdeck::domain::money::DecimalText;
use orderdeck::domain::{
    ChannelKind, ConnectedVia, ContactMode, HistoricalImport, IntegrationStatus, OrderAddress,
    OrderStatus, PricePushState, ShipmentMethod, ShipmentPushState, StockTracking, WebhookState,
};
use orderdeck::entities::{
    integration, inventory_item, listing, order, order_line, shipment, shipment_line,
};
use rust_decimal::Decimal;

/// Login of the seeded account.
pub const SEED_EMAIL: &str = "bench-read@orderdeck.local";
/// Its password.
pub const SEED_PASSWORD: &str = "bench-read-password";
/// Orders written per transaction.
const ORDERS_PER_TXN: usize = 20_000;
/// Bound parameters per statement (SQLite allows 32,766).
const PARAMS_PER_STATEMENT: usize = 30_000;

/// What to seed.
#[derive(Clone, Copy, Debug)]
pub struct SeedSize {
    /// Orders.
    pub orders: usize,
    /// Products (one SKU each).
    pub products: usize,
    /// Stores.
    pub stores: usize,
}

/// A cheap deterministic mix of `a` and `b` (splitmix64).
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Inserts `rows` in statements of at most [`PARAMS_PER_STATEMENT`] parameters.
async fn insert_all<E, A, C>(db: &C, rows: Vec<A>, columns: usize) -> Result<(), DbErr>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<A>,
    A: ActiveModelTrait<Entity = E> + Send,
    C: ConnectionTrait,
{
    let per = (PARAMS_PER_STATEMENT / columns.max(1)).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per).collect();
        E::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}

/// `SKU` of product `p`.
pub fn sku_of(p: usize) -> String {
    format!("SKU-{p:06}")
}

/// Customer email of order `n` (about one repeat customer in five).
pub fn email_of(n: usize) -> String {
    let customer = mix(n as u64, 7) % 800_000;
    format!("customer{customer}@example{}.com", customer % 97)
}

/// Customer name of order `n` (the customer of [`email_of`]).
pub fn name_of(n: usize) -> String {
    format!("Customer {}", mix(n as u64, 7) % 800_000)
}

/// The status of order `n`.
fn status_of(n: usize) -> OrderStatus {
    match mix(n as u64, 3) % 100 {
        0..=59 => OrderStatus::Shipped,
        60..=74 => OrderStatus::New,
        75..=79 => OrderStatus::PartiallyShipped,
        80..=87 => OrderStatus::Unpaid,
        88..=95 => OrderStatus::Canceled,
        _ => OrderStatus::Refunded,
    }
}

/// Seeds `size` into a fresh database at `database_url` (SQLite file under the data
/// directory when `None`) and prints what it wrote and how fast.
pub async fn seed(database_url: Option<String>, size: SeedSize) -> anyhow::Result<()> {
    let settings = Settings {
        database_url: database_url.map(Secret::new),
        data_dir: std::path::PathBuf::from("./data/bench-read"),
        ..Settings::default()
    };
    std::fs::create_dir_all(&settings.data_dir).context("creating ./data/bench-read")?;
    let db = orderdeck::db::connect(&settings).await?;
    orderdeck::db::migrate(&db).await?;
    let started = Instant::now();
    let rows = fill(&settings, &db, size).await?;
    let took = started.elapsed();
    let backend = super::backend_name(&db);
    println!("orderdeck bench seed  ({backend}; machine: {})", machine());
    let mut counts = Vec::new();
    for table in [
        "orders",
        "order_lines",
        "inventory_items",
        "listings",
        "shipments",
        "shipment_lines",
    ] {
        let row = db
            .query_one(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await?
            .context("no answer")?;
        counts.push(format!("{} {table}", row.try_get::<i64>("", "n")?));
    }
    println!(
        "  {} over {} stores: {rows} rows in {took:.1?} ({:.0} rows/s)",
        counts.join(", "),
        size.stores,
        rows as f64 / took.as_secs_f64().max(1e-9)
    );
    println!(
        "  database: {}; login: {SEED_EMAIL} / {SEED_PASSWORD}",
        orderdeck::secret::redact_url(&settings.effective_database_url())
    );
    Ok(())
}

/// Writes the account and its data; the number of rows written.
async fn fill(
    settings: &Settings,
    db: &DatabaseConnection,
    size: SeedSize,
) -> anyhow::Result<usize> {
    let app = orderdeck::startup::Application::build(Settings {
        bind: "127.0.0.1:0".into(),
        sync_enabled: false,
        push_enabled: false,
        ..settings.clone()
    })
    .await?;
    let state = app.state().clone();
    let account_id = register_account(&state).await?;
    let now = Utc::now();
    let mut written = 0usize;

    // Stores.
    let integrations = insert_stores(db, account_id, now, size.stores).await?;
    written += integrations.len();

    // Products and listings, with ids given here (the sequences are moved past them after).
    let first_item = next_id(db, "inventory_items").await?;
    let first_listing = next_id(db, "listings").await?;
    let seeding = Seeding {
        account_id,
        now,
        size,
        integrations,
        first_item,
        first_listing,
    };
    written += insert_catalog(db, &seeding).await?;

    // Orders, lines, shipments and shipment lines, in chunks.
    written += insert_orders(db, &seeding).await?;
    for table in [
        "inventory_items",
        "listings",
        "orders",
        "order_lines",
        "shipments",
        "shipment_lines",
    ] {
        move_sequence(db, table).await?;
    }
    analyze(db).await?;
    Ok(written)
}

/// Registers the seeded account; its id.
async fn register_account(state: &orderdeck::state::AppState) -> anyhow::Result<i64> {
    let account = orderdeck::services::accounts::register(
        state,
        orderdeck::services::accounts::RegisterInput {
            account_name: "Bench Read".into(),
            email: SEED_EMAIL.into(),
            password: SEED_PASSWORD.into(),
            invitation_code: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("registering {SEED_EMAIL} (is the database empty?): {e:?}"))?;
    Ok(account.1.id)
}

/// What the seeded rows refer to: the account, the stores, the first ids of the catalog.
struct Seeding {
    account_id: i64,
    now: DateTime<Utc>,
    size: SeedSize,
    /// The stores' integration ids, in store order.
    integrations: Vec<i64>,
    first_item: i64,
    first_listing: i64,
}

/// Inserts `stores` disconnected BigCommerce stores (`seed000`, …); their ids.
async fn insert_stores(
    db: &DatabaseConnection,
    account_id: i64,
    now: DateTime<Utc>,
    stores: usize,
) -> anyhow::Result<Vec<i64>> {
    let mut integrations = Vec::new();
    for s in 0..stores {
        let row = integration::Model {
            id: 0,
            account_id,
            channel: ChannelKind::BigCommerce,
            status: IntegrationStatus::Disconnected,
            store_hash: format!("seed{s:03}"),
            client_id: "seed".into(),
            access_token_ciphertext: None,
            access_token_last4: None,
            alias: format!("Store {}", s + 1),
            store_name: format!("Store {}", s + 1),
            store_currency: Some("USD".into()),
            order_management: true,
            inventory_management: true,
            historical_import: HistoricalImport::Last90Days,
            historical_import_since: None,
            import_orders_since: now - Duration::days(3 * 365),
            ioss_number: None,
            return_address: None,
            phone: None,
            phone_mode: ContactMode::Prefill,
            email: None,
            email_mode: ContactMode::Prefill,
            connected_at: now - Duration::days(3 * 365),
            disconnected_at: Some(now),
            created_at: now,
            updated_at: now,
            connected_via: ConnectedVia::Manual,
            webhook_state: WebhookState::Off,
            webhook_secret_hash: None,
            webhook_destination: None,
            webhook_error: None,
            webhooks_registered_at: None,
            last_webhook_at: None,
            stock_buffer: None,
        };
        let mut am = row.into_active_model();
        am.id = sea_orm::ActiveValue::NotSet;
        integrations.push(am.reset_all().insert(db).await?.id);
    }
    Ok(integrations)
}

/// Inserts the products and their listings (every even product on two stores, every odd one
/// on one) in one transaction; the number of rows.
async fn insert_catalog(db: &DatabaseConnection, ctx: &Seeding) -> anyhow::Result<usize> {
    let (account_id, now, size) = (ctx.account_id, ctx.now, ctx.size);
    let mut items = Vec::with_capacity(size.products);
    let mut listings = Vec::with_capacity(size.products * 3 / 2);
    for p in 0..size.products {
        let item_id = ctx.first_item + p as i64;
        items.push(
            inventory_item::Model {
                id: item_id,
                account_id,
                sku: Some(sku_of(p)),
                name: format!("Product {p}"),
                weight: Some(DecimalText(Decimal::new(5, 1))),
                image_url: None,
                quantity: (mix(p as u64, 11) % 500) as i64,
                low_stock_threshold: None,
                low_stock_since: None,
                version: 1,
                deleted_at: None,
                created_at: now,
                updated_at: now,
                bundle: false,
                bin_location: None,
            }
            .into_active_model()
            .reset_all(),
        );
        let stores_of = if p % 2 == 0 { 2 } else { 1 };
        for k in 0..stores_of {
            let store = (p + k) % size.stores;
            listings.push(
                listing::Model {
                    id: ctx.first_listing + listings.len() as i64,
                    account_id,
                    integration_id: ctx.integrations[store],
                    inventory_item_id: item_id,
                    external_product_id: p as i64 + 1,
                    external_variant_id: p as i64 + 1,
                    tracking: StockTracking::Product,
                    sku: Some(sku_of(p)),
                    title: format!("Product {p}"),
                    price: DecimalText(Decimal::new((5 + (p % 90) as i64) * 100 + 99, 2)),
                    sale_price: None,
                    weight: Some(DecimalText(Decimal::new(5, 1))),
                    images: None,
                    categories: None,
                    channel_stock: None,
                    pushed_stock: None,
                    pushed_at: None,
                    push_error: None,
                    missing_since: None,
                    channel_modified_at: Some(now),
                    created_at: now,
                    updated_at: now,
                    option_variant: false,
                    price_push_state: PricePushState::None,
                    price_pushed_at: None,
                    price_push_error: None,
                    push_failed_at: None,
                    stock_buffer: None,
                }
                .into_active_model()
                .reset_all(),
            );
        }
    }
    let written = items.len() + listings.len();
    orderdeck::db::write(db, |txn| {
        let (items, listings) = (items.clone(), listings.clone());
        async move {
            insert_all(txn, items, 12).await?;
            insert_all(txn, listings, 27).await
        }
        .scope_boxed()
    })
    .await?;
    Ok(written)
}

/// The ids the next order line, shipment and shipment line get.
struct NextIds {
    line: i64,
    shipment: i64,
    shipment_line: i64,
}

/// The rows of a chunk of orders, inserted in one transaction.
#[derive(Default)]
struct Chunk {
    orders: Vec<order::ActiveModel>,
    lines: Vec<order_line::ActiveModel>,
    shipments: Vec<shipment::ActiveModel>,
    shipment_lines: Vec<shipment_line::ActiveModel>,
}

/// One seeded order: its id, store, number, date and status.
struct SeedOrder {
    n: usize,
    id: i64,
    store: usize,
    external: i64,
    placed: DateTime<Utc>,
    status: OrderStatus,
}

/// Inserts the orders over the last three years with their lines and, for shipped orders,
/// their shipment, `ORDERS_PER_TXN` orders per transaction; the number of rows.
async fn insert_orders(db: &DatabaseConnection, ctx: &Seeding) -> anyhow::Result<usize> {
    let size = ctx.size;
    let mut written = 0usize;
    let span = Duration::days(3 * 365);
    let first_order = next_id(db, "orders").await?;
    let first_line = next_id(db, "order_lines").await?;
    let first_shipment = next_id(db, "shipments").await?;
    let first_shipment_line = next_id(db, "shipment_lines").await?;
    let mut ids = NextIds {
        line: first_line,
        shipment: first_shipment,
        shipment_line: first_shipment_line,
    };
    for start in (0..size.orders).step_by(ORDERS_PER_TXN) {
        let end = (start + ORDERS_PER_TXN).min(size.orders);
        let mut chunk = Chunk::default();
        for n in start..end {
            let o = SeedOrder {
                n,
                id: first_order + n as i64,
                store: n % size.stores,
                external: 100_000 + (n / size.stores) as i64,
                placed: ctx.now - span + span * (n as i32) / (size.orders.max(1) as i32),
                status: status_of(n),
            };
            add_order(ctx, &o, &mut ids, &mut chunk);
        }
        let Chunk {
            orders,
            lines,
            shipments,
            shipment_lines,
        } = chunk;
        written += orders.len() + lines.len() + shipments.len() + shipment_lines.len();
        orderdeck::db::write(db, |txn| {
            let (orders, lines) = (orders.clone(), lines.clone());
            let (shipments, shipment_lines) = (shipments.clone(), shipment_lines.clone());
            async move {
                insert_all(txn, orders, 32).await?;
                insert_all(txn, lines, 17).await?;
                insert_all(txn, shipments, 29).await?;
                insert_all(txn, shipment_lines, 8).await
            }
            .scope_boxed()
        })
        .await?;
    }
    Ok(written)
}

/// Adds an order's rows to the chunk: its shipment (when shipped), the order, its lines.
fn add_order(ctx: &Seeding, o: &SeedOrder, ids: &mut NextIds, chunk: &mut Chunk) {
    let (order_lines, total) = order_lines_of(ctx, o, &mut ids.line);
    if matches!(
        o.status,
        OrderStatus::Shipped | OrderStatus::PartiallyShipped
    ) {
        add_shipment(ctx, o, &order_lines, ids, chunk);
    }
    chunk.orders.push(order_row(ctx, o, total));
    chunk.lines.extend(
        order_lines
            .into_iter()
            .map(|l| l.into_active_model().reset_all()),
    );
}

/// The 1–5 lines of an order (all shipped when it is, the first when partially shipped) and
/// its subtotal.
fn order_lines_of(
    ctx: &Seeding,
    o: &SeedOrder,
    line_id: &mut i64,
) -> (Vec<order_line::Model>, i64) {
    let (account_id, size, n, id, external, status) =
        (ctx.account_id, ctx.size, o.n, o.id, o.external, o.status);
    let (first_item, first_listing) = (ctx.first_item, ctx.first_listing);
    let line_count = 1 + (mix(n as u64, 5) % 5) as usize;
    let mut total = 0i64;
    let mut order_lines = Vec::with_capacity(line_count);
    for j in 0..line_count {
        let p = (mix(n as u64, j as u64 + 100) % size.products.max(1) as u64) as usize;
        let quantity = 1 + (mix(n as u64, j as u64 + 200) % 3) as i64;
        let price = 5 + (p % 90) as i64;
        total += price * quantity;
        let shipped = match status {
            OrderStatus::Shipped => quantity,
            OrderStatus::PartiallyShipped if j == 0 => quantity,
            _ => 0,
        };
        order_lines.push(order_line::Model {
            id: *line_id,
            account_id,
            order_id: id,
            external_id: *line_id,
            external_product_id: p as i64 + 1,
            external_variant_id: p as i64 + 1,
            order_address_id: external,
            sku: Some(sku_of(p)),
            name: format!("Product {p}"),
            quantity,
            quantity_shipped: shipped,
            unit_price: DecimalText(Decimal::new(price * 100 + 99, 2)),
            total: DecimalText(Decimal::from(price * quantity)),
            weight: Some(DecimalText(Decimal::new(5, 1))),
            // Product p's first listing: two per even product before it, one per odd.
            listing_id: Some(first_listing + p as i64 + (p as i64 + 1) / 2),
            inventory_item_id: Some(first_item + p as i64),
        });
        *line_id += 1;
    }
    (order_lines, total)
}

/// Adds the shipment of a shipped order (by UPS, pushed a day after the order) and its lines.
fn add_shipment(
    ctx: &Seeding,
    o: &SeedOrder,
    order_lines: &[order_line::Model],
    ids: &mut NextIds,
    chunk: &mut Chunk,
) {
    let (account_id, id, external, placed) = (ctx.account_id, o.id, o.external, o.placed);
    let shipment_id = ids.shipment;
    chunk.shipments.push(
        shipment::Model {
            id: shipment_id,
            account_id,
            integration_id: ctx.integrations[o.store],
            order_id: id,
            method: ShipmentMethod::Manual,
            carrier: Some("UPS".into()),
            service: Some("Ground".into()),
            tracking_number: format!("1Z{id:016}"),
            shipping_provider: "ups".into(),
            tracking_carrier: "".into(),
            order_address_id: external,
            weight: None,
            contact_phone: None,
            contact_email: None,
            customs: None,
            idempotency_key: None,
            push_state: ShipmentPushState::Pushed,
            push_attempts: 1,
            push_error: None,
            push_due_at: None,
            push_claimed_by: None,
            push_claimed_until: None,
            pushed_at: Some(placed + Duration::days(1)),
            external_id: Some(external),
            tracking_link: None,
            created_by_user_id: None,
            created_at: placed + Duration::days(1),
            updated_at: placed + Duration::days(1),
        }
        .into_active_model()
        .reset_all(),
    );
    for l in order_lines.iter().filter(|l| l.quantity_shipped > 0) {
        chunk.shipment_lines.push(
            shipment_line::Model {
                id: ids.shipment_line,
                account_id,
                shipment_id,
                order_line_id: l.id,
                order_product_id: l.external_id,
                sku: l.sku.clone(),
                name: l.name.clone(),
                quantity: l.quantity_shipped,
            }
            .into_active_model()
            .reset_all(),
        );
        ids.shipment_line += 1;
    }
    ids.shipment += 1;
}

/// The order row: a customer of its own, billed in Austin, awaiting fulfillment on the store.
fn order_row(ctx: &Seeding, o: &SeedOrder, total: i64) -> order::ActiveModel {
    let (account_id, now, id, external, placed, status) = (
        ctx.account_id,
        ctx.now,
        o.id,
        o.external,
        o.placed,
        o.status,
    );
    let email = email_of(o.n);
    let name = name_of(o.n);
    order::Model {
        id,
        account_id,
        integration_id: ctx.integrations[o.store],
        external_id: external,
        number: external.to_string(),
        status,
        channel_status_id: 11,
        channel_status: "Awaiting Fulfillment".into(),
        currency: "USD".into(),
        subtotal_ex_tax: DecimalText(Decimal::new(total * 100, 2)),
        subtotal_inc_tax: DecimalText(Decimal::new(total * 100, 2)),
        shipping_cost: DecimalText(Decimal::new(500, 2)),
        shipping_cost_ex_tax: Some(DecimalText(Decimal::new(500, 2))),
        tax_total: DecimalText(Decimal::new(0, 2)),
        total: DecimalText(Decimal::new((total + 5) * 100, 2)),
        customer_name: name.clone(),
        customer_email: Some(email.clone()),
        customer_phone: None,
        customer_message: None,
        merge_id: None,
        billing_address: Some(OrderAddress {
            first_name: "Customer".into(),
            last_name: name.clone(),
            street1: "1 Main St".into(),
            city: "Austin".into(),
            postal_code: "78701".into(),
            country_code: "US".into(),
            email: email.clone(),
            ..Default::default()
        }),
        shipping_addresses: None,
        placed_at: placed,
        channel_modified_at: placed,
        shipped_at: (status == OrderStatus::Shipped).then(|| placed + Duration::days(1)),
        historical: true,
        stock_taken: false,
        restocked: false,
        imported_at: now,
        updated_at: now,
        canceled_here_at: None,
        canceled_by_user_id: None,
    }
    .into_active_model()
    .reset_all()
}

/// The next free id of `table`.
async fn next_id(db: &DatabaseConnection, table: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COALESCE(MAX(id), 0) + 1 AS next FROM {table}"),
        ))
        .await?
        .context("no answer")?;
    Ok(row.try_get::<i64>("", "next")?)
}

/// On PostgreSQL, moves `table`'s id sequence past the ids written here.
async fn move_sequence(db: &DatabaseConnection, table: &str) -> anyhow::Result<()> {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
        ))
        .await?;
    }
    Ok(())
}

/// Refreshes the planner's statistics.
async fn analyze(db: &DatabaseConnection) -> anyhow::Result<()> {
    db.execute_unprepared("ANALYZE").await?;
    Ok(())
}
