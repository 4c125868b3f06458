//! `orderdeck bench push`: how fast a committed stock change reaches the stores, and how few
//! calls a burst of changes takes.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::stream::{self, StreamExt};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::machine;
use orderdeck::config::{Secret, Settings};
use orderdeck::db::ScopedFutureExt;
use orderdeck::domain::{HistoricalImport, StockReason, SyncKind};
use orderdeck::entities::inventory_item as item;
use orderdeck::error::AppError;
use orderdeck::services::ledger::{self, Movement};
use orderdeck::services::Principal;
use orderdeck::startup::Application;
use orderdeck::state::AppState;
use orderdeck_sandbox::server::StoreCredentials;
use orderdeck_sandbox::{Sandbox, SandboxConfig, SandboxHandle};

const PUSHED_ENDPOINT: &str = "PUT /v3/inventory/adjustments/absolute";
/// Bundles sharing one component in the fan-out measure.
const BUNDLES: usize = 50;

/// Seeds two sandbox stores listing the same `skus` SKUs, connects both with inventory
/// management on, imports them, then measures (1) the latency from a committed change to the
/// store holding it over `samples` single changes, and (2) the calls per store that push
/// `changes` changes spread over every SKU, committed together.
pub async fn push(
    database_url: Option<String>,
    (skus, changes, samples): (usize, usize, usize),
    metrics: bool,
) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("orderdeck-bench-push-{}", std::process::id()));
    std::fs::create_dir_all(&dir).context("creating the bench directory")?;
    let sandbox = Sandbox::spawn(SandboxConfig {
        stores: 2,
        orders: 0,
        products: 0,
        quota: 1_000_000,
        ..SandboxConfig::default()
    })?;
    let stores = sandbox.stores();
    let seeded = Instant::now();
    create_products(&sandbox, &stores, skus).await?;
    let seed_time = seeded.elapsed();

    let settings = Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: dir.clone(),
        database_url: database_url.map(Secret::new),
        bigcommerce_api_url: sandbox.url.clone(),
        sync_enabled: false,
        push_enabled: true,
        metrics_bind: metrics.then(|| "127.0.0.1:0".into()),
        ..Settings::default()
    };
    let app = Application::build(settings).await?;
    let state = app.state().clone();
    let scraper = super::Scraper::start(&app);
    let email = format!("bench-push-{}@orderdeck.local", std::process::id());
    let principal = connect_stores(&state, &stores, &email).await?;
    let items = sku_items(&state, &principal).await?;
    // Let the pushes of the import itself (none expected: both stores show 1,000) settle.
    settle(&state).await?;
    let calls_before: Vec<u64> = stores
        .iter()
        .map(|s| sandbox.count(&s.hash, PUSHED_ENDPOINT))
        .collect();

    // (1) Latency: one change at a time, until the store holds it.
    let mut latencies =
        measure_latency(&state, &principal, &sandbox, &stores, &items, samples).await?;
    settle(&state).await?;
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];

    // (2) Calls: `changes` changes over every SKU, committed together.
    let calls_mid: Vec<u64> = stores
        .iter()
        .map(|s| sandbox.count(&s.hash, PUSHED_ENDPOINT))
        .collect();
    let ids: Vec<i64> = (0..changes).map(|n| items[n % items.len()].0).collect();
    let started = Instant::now();
    change(&state, &principal, &ids, -1, "burst").await?;
    settle(&state).await?;
    let burst_time = started.elapsed();
    let burst_calls: Vec<u64> = stores
        .iter()
        .zip(&calls_mid)
        .map(|(s, before)| sandbox.count(&s.hash, PUSHED_ENDPOINT) - before)
        .collect();
    // Every store holds every figure.
    let wrong = count_wrong_figures(&state, &principal, &sandbox, &stores).await?;

    // (3) Fan-out: one change to a component of 50 bundles.
    let fan_out = if items.len() > 2 * BUNDLES {
        Some(measure_fan_out(&state, &principal, &sandbox, &stores, &items).await?)
    } else {
        None
    };

    let backend = super::backend_name(&state.db);
    println!(
        "orderdeck bench push  ({backend}; {}; machine: {})",
        super::Scraper::describe(metrics),
        machine()
    );
    println!(
        "  sandbox: 2 stores listing the same {skus} SKUs, seeded in {seed_time:.2?}; latency pushes before: {calls_before:?}"
    );
    println!(
        "  latency, committed change → store holds it ({samples} changes one at a time): median {:.1?}, p99 {:.1?}, max {:.1?}",
        pct(0.5),
        pct(0.99),
        latencies.last().copied().unwrap_or_default()
    );
    println!(
        "  burst: {changes} changes over {} SKUs committed together reached both stores in {burst_time:.2?} with {:?} calls per store (2,000 levels per call: floor {})",
        skus.min(changes),
        burst_calls,
        skus.min(changes).div_ceil(2_000)
    );
    match fan_out {
        Some((took, queued, calls)) => println!(
            "  fan-out: one change to a component of {BUNDLES} bundles queued {queued} listings; both stores held all {} figures after {took:.1?}, with {calls:?} calls per store",
            BUNDLES + 1
        ),
        None => println!("  fan-out: skipped (needs more than {} SKUs)", 2 * BUNDLES),
    }
    if let Some(scrapes) = scraper.summary() {
        println!("{scrapes}");
    }
    if wrong > 0 {
        println!("  ERROR: {wrong} store figures differ from orderdeck's");
    }
    sandbox.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Makes items 1–50 bundles of item 0 and one other item each (1 unit of both), lets their
/// first pushes settle, then takes 500 units of item 0 away: every bundle's figure falls with
/// it. The time until both stores hold all 51 new figures, the listings queued, and the calls
/// per store.
async fn measure_fan_out(
    state: &AppState,
    principal: &Principal,
    sandbox: &SandboxHandle,
    stores: &[StoreCredentials],
    items: &[(i64, String)],
) -> anyhow::Result<(Duration, u64, Vec<u64>)> {
    use orderdeck::services::bundles::{self, ComponentInput, NewBundle};
    let component = &items[0];
    for k in 1..=BUNDLES {
        let other = &items[BUNDLES + k];
        let bundle = NewBundle {
            sku: items[k].1.clone(),
            name: None,
            components: vec![
                ComponentInput {
                    sku: component.1.clone(),
                    quantity: 1,
                },
                ComponentInput {
                    sku: other.1.clone(),
                    quantity: 1,
                },
            ],
        };
        bundles::create(state, principal, bundle)
            .await
            .map_err(|e| anyhow::anyhow!("creating a bundle: {}", e.report()))?;
    }
    settle(state).await?;
    let before: Vec<u64> = stores
        .iter()
        .map(|s| sandbox.count(&s.hash, PUSHED_ENDPOINT))
        .collect();
    let started = Instant::now();
    change(state, principal, &[component.0], -500, "fan-out").await?;
    let queued = orderdeck::entities::push_queue::Entity::find()
        .count(&state.db)
        .await?;
    let rows = item::Entity::find()
        .filter(item::Column::AccountId.eq(principal.account_id))
        .filter(item::Column::Sku.is_in(items[..=BUNDLES].iter().map(|(_, s)| s.as_str())))
        .all(&state.db)
        .await?;
    let figures = bundles::figures(&state.db, principal.account_id, &rows)
        .await
        .map_err(|e| anyhow::anyhow!("reading the bundles' figures: {}", e.report()))?;
    let wanted: std::collections::HashMap<String, i64> = rows
        .iter()
        .filter_map(|i| Some((i.sku.clone()?, *figures.get(&i.id)?)))
        .collect();
    loop {
        let held = stores.iter().all(|store| {
            sandbox
                .with_store(&store.hash, |s| {
                    s.products
                        .values()
                        .filter(|p| wanted.get(&p.sku).is_some_and(|q| *q == p.inventory_level))
                        .count()
                })
                .unwrap_or(0)
                == wanted.len()
        });
        if held {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            anyhow::bail!("the bundles' figures did not reach both stores within 30 s");
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    let took = started.elapsed();
    settle(state).await?;
    let calls = stores
        .iter()
        .zip(&before)
        .map(|(s, b)| sandbox.count(&s.hash, PUSHED_ENDPOINT) - b)
        .collect();
    Ok((took, queued, calls))
}

/// Creates `skus` products (`PUSH-00000`, …, 1,000 in stock) in every store, 16 at a time.
async fn create_products(
    sandbox: &SandboxHandle,
    stores: &[StoreCredentials],
    skus: usize,
) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    for store in stores {
        let url = format!("{}/_sandbox/stores/{}/products", sandbox.url, store.hash);
        let results: Vec<anyhow::Result<()>> = stream::iter(0..skus)
            .map(|n| {
                let http = http.clone();
                let url = url.clone();
                async move {
                    http.post(&url)
                        .json(&serde_json::json!({
                            "name": format!("Bench item {n}"),
                            "sku": format!("PUSH-{n:05}"),
                            "inventory_level": 1_000,
                        }))
                        .send()
                        .await
                        .and_then(|r| r.error_for_status())
                        .map(|_| ())
                        .context("creating a sandbox product")
                }
            })
            .buffer_unordered(16)
            .collect()
            .await;
        results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    }
    Ok(())
}

/// Connects every store to one bench account with inventory management on and imports its
/// products; the account's principal.
async fn connect_stores(
    state: &AppState,
    stores: &[StoreCredentials],
    email: &str,
) -> anyhow::Result<Principal> {
    let mut principal = None;
    for store in stores {
        let mut input = crate::demo::sandbox_connect_input(store, HistoricalImport::Last90Days);
        input.options.alias = Some(store.hash.clone());
        let (p, _, connected) =
            crate::demo::account_with_store(state, "Bench", email, "bench-password-1", input)
                .await?;
        let integration = connected.map_err(|e| anyhow::anyhow!("connecting: {e:?}"))?;
        orderdeck::sync::runner::sync_now(
            state,
            &p,
            Some(integration.id),
            Some(SyncKind::Products),
        )
        .await
        .map_err(|e| anyhow::anyhow!("product import: {e:?}"))?;
        principal = Some(p);
    }
    principal.context("no store connected")
}

/// The account's inventory items that have a SKU: id and SKU.
async fn sku_items(state: &AppState, principal: &Principal) -> anyhow::Result<Vec<(i64, String)>> {
    Ok(item::Entity::find()
        .filter(item::Column::AccountId.eq(principal.account_id))
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|i| i.sku.map(|s| (i.id, s)))
        .collect())
}

/// Commits `samples` single changes one at a time, each over the next item and store in
/// turn; the latency of each until the store holds it.
async fn measure_latency(
    state: &AppState,
    principal: &Principal,
    sandbox: &SandboxHandle,
    stores: &[StoreCredentials],
    items: &[(i64, String)],
    samples: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(samples);
    for n in 0..samples {
        let (item_id, sku) = &items[n % items.len()];
        let committed = change(state, principal, &[*item_id], -1, &format!("latency:{n}")).await?;
        let (hash, target) = (&stores[n % stores.len()].hash, committed[0]);
        let started = Instant::now();
        wait_for_level(sandbox, hash, sku, target, started).await?;
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

/// Polls the store until the product with this SKU holds `target` (at most 10 s after
/// `started`).
async fn wait_for_level(
    sandbox: &SandboxHandle,
    hash: &str,
    sku: &str,
    target: i64,
    started: Instant,
) -> anyhow::Result<()> {
    loop {
        let level = sandbox
            .with_store(hash, |s| {
                s.products
                    .values()
                    .find(|p| p.sku == sku)
                    .map(|p| p.inventory_level)
            })
            .flatten();
        if level == Some(target) {
            break;
        }
        if started.elapsed() > Duration::from_secs(10) {
            anyhow::bail!("{sku} did not reach {hash} within 10 s");
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    Ok(())
}

/// How many store figures differ from orderdeck's, over every store and item.
async fn count_wrong_figures(
    state: &AppState,
    principal: &Principal,
    sandbox: &SandboxHandle,
    stores: &[StoreCredentials],
) -> anyhow::Result<usize> {
    let mut wrong = 0;
    for store in stores {
        let figures: std::collections::HashMap<String, i64> = sandbox
            .with_store(&store.hash, |s| {
                s.products
                    .values()
                    .map(|p| (p.sku.clone(), p.inventory_level))
                    .collect()
            })
            .unwrap_or_default();
        for i in item::Entity::find()
            .filter(item::Column::AccountId.eq(principal.account_id))
            .all(&state.db)
            .await?
        {
            if i.sku.as_ref().and_then(|s| figures.get(s)) != Some(&i.quantity) {
                wrong += 1;
            }
        }
    }
    Ok(wrong)
}

/// Applies `delta` to each item (repeats apply again) in one transaction and wakes the push
/// worker; the figures after, in order.
async fn change(
    state: &AppState,
    principal: &Principal,
    item_ids: &[i64],
    delta: i64,
    key: &str,
) -> anyhow::Result<Vec<i64>> {
    let after = orderdeck::db::write(&state.db, |txn| {
        async move {
            let mut after = Vec::with_capacity(item_ids.len());
            for (n, id) in item_ids.iter().enumerate() {
                let m = Movement {
                    account_id: principal.account_id,
                    item_id: *id,
                    reason: StockReason::ManualAdjust,
                    actor_user_id: principal.user_id(),
                    actor_api_key_id: principal.api_key_id(),
                    integration_id: None,
                    order_id: None,
                    idempotency_key: Some(format!("bench:{key}:{n}")),
                    note: Some("bench".into()),
                    bundle_item_id: None,
                };
                let applied = ledger::adjust(txn, m, delta)
                    .await?
                    .ok_or_else(|| AppError::internal("the bench key was used already"))?;
                after.push(applied.quantity_after);
            }
            Ok::<_, AppError>(after)
        }
        .scope_boxed()
    })
    .await?;
    state.pushes_queued();
    Ok(after)
}

/// Waits until the push queue is empty (at most a minute).
async fn settle(state: &AppState) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let left = orderdeck::entities::push_queue::Entity::find()
            .count(&state.db)
            .await?;
        if left == 0 {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(60) {
            anyhow::bail!("{left} pushes still queued after a minute");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
