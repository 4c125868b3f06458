//! `orderdeck bench …`: measured figures, printed with the machine and the command.

use std::time::Instant;

use anyhow::Context;
use sea_orm::ConnectionTrait;

use crate::config::{Secret, Settings};
use crate::domain::{HistoricalImport, SyncKind};
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::startup::Application;

/// Peak resident memory of this process (Linux `VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// A one-line description of this machine.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cores} cores, {cpu}")
}

/// `orderdeck bench import`: imports `orders` orders and `products` products from a seeded
/// sandbox store into a fresh database (SQLite in a temp dir, or `DATABASE_URL`), and prints
/// API calls against the floor, wall time, orders per second and peak memory.
pub async fn import(
    database_url: Option<String>,
    orders: usize,
    products: usize,
) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("orderdeck-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).context("creating the bench directory")?;
    let seeded = Instant::now();
    let sandbox = Sandbox::spawn(SandboxConfig {
        stores: 1,
        orders,
        products,
        quota: 1_000_000,
        ..SandboxConfig::default()
    })?;
    let seed_time = seeded.elapsed();
    let store = sandbox.first_store();
    let (capped, variants) = sandbox
        .with_store(&store.hash, |s| {
            // Embedded line items stop at 50 per consignment: such orders need a products call.
            let capped = s
                .orders
                .values()
                .filter(|o| {
                    o.shipping_addresses.iter().any(|a| {
                        o.products
                            .iter()
                            .filter(|l| l.order_address_id == a.id)
                            .count()
                            > 50
                    })
                })
                .count();
            let variants: usize = s.products.values().map(|p| p.variants.len()).sum();
            (capped, variants)
        })
        .unwrap_or((0, 0));
    let settings = Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: dir.clone(),
        database_url: database_url.map(Secret::new),
        bigcommerce_api_url: sandbox.url.clone(),
        sync_enabled: false,
        ..Settings::default()
    };
    let app = Application::build(settings).await?;
    let state = app.state().clone();
    let email = format!("bench-{}@orderdeck.local", std::process::id());
    let input = crate::demo::sandbox_connect_input(&store, HistoricalImport::Last90Days);
    let (principal, _, connected) =
        crate::demo::account_with_store(&state, "Bench", &email, "bench-password-1", input).await?;
    let integration = connected.map_err(|e| anyhow::anyhow!("connecting: {e:?}"))?;

    let started = Instant::now();
    let product_runs = crate::sync::runner::sync_now(
        &state,
        &principal,
        Some(integration.id),
        Some(SyncKind::Products),
    )
    .await
    .map_err(|e| anyhow::anyhow!("product import: {e:?}"))?;
    let product_time = started.elapsed();
    let started = Instant::now();
    let order_runs = crate::sync::runner::sync_now(
        &state,
        &principal,
        Some(integration.id),
        Some(SyncKind::Orders),
    )
    .await
    .map_err(|e| anyhow::anyhow!("order import: {e:?}"))?;
    let order_time = started.elapsed();

    let calls =
        |runs: &[crate::entities::sync_run::Model]| runs.iter().map(|r| r.api_calls).sum::<i64>();
    let created =
        |runs: &[crate::entities::sync_run::Model]| runs.iter().map(|r| r.created).sum::<i64>();
    let failed: Vec<_> = product_runs
        .iter()
        .chain(&order_runs)
        .filter_map(|r| r.error.clone())
        .collect();
    let pages = |n: usize| n.div_ceil(250) as i64 + 1;
    let order_floor = pages(orders) + capped as i64;
    let product_floor = pages(products) + 1;
    let backend = if state.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "orderdeck bench import  ({backend}; machine: {})",
        machine()
    );
    println!("  sandbox seeded {orders} orders, {products} products ({variants} variants) in {seed_time:.2?}");
    println!(
        "  products: {} listings created in {product_time:.2?}; API calls {} (floor {product_floor}: pages of 250 + end + categories)",
        created(&product_runs),
        calls(&product_runs)
    );
    println!(
        "  orders:   {} orders created in {order_time:.2?} = {:.0} orders/s; API calls {} (floor {order_floor}: pages of 250 + end + {capped} orders with a consignment over 50 lines)",
        created(&order_runs),
        created(&order_runs) as f64 / order_time.as_secs_f64().max(1e-9),
        calls(&order_runs)
    );
    if let Some(rss) = peak_rss_mib() {
        println!("  peak RSS of the process (server + sandbox + import): {rss:.0} MiB");
    }
    if !failed.is_empty() {
        println!("  ERRORS: {failed:?}");
    }
    sandbox.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
