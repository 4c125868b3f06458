//! `orderdeck bench webhook`: how long an order placed on a store takes to be in orderdeck
//! when webhooks are on (the scheduler is off: only the webhook brings it).

use std::time::{Duration, Instant};

use anyhow::Context;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::machine;
use orderdeck::config::{Secret, Settings};
use orderdeck::domain::{HistoricalImport, SyncKind, WebhookState};
use orderdeck::entities::order;
use orderdeck::startup::Application;
use orderdeck_sandbox::{Sandbox, SandboxConfig};

/// Orders placed together in the burst.
const BURST: usize = 20;
/// The sandbox endpoints that read orders (the store's quota spent on webhooks).
const ORDER_READS: [&str; 3] = [
    "GET /v2/orders",
    "GET /v2/orders/{id}",
    "GET /v2/orders/{id}/products",
];

/// Places orders on the sandbox store and waits for them in orderdeck.
struct Bench<'a> {
    http: &'a reqwest::Client,
    url: &'a str,
    state: &'a orderdeck::state::AppState,
    integration_id: i64,
}

impl Bench<'_> {
    /// A shopper places an order; its id on the store.
    async fn place(&self) -> anyhow::Result<i64> {
        let answer: serde_json::Value = self
            .http
            .post(self.url)
            .json(&serde_json::json!({}))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .context("placing a sandbox order")?
            .json()
            .await?;
        answer["id"].as_i64().context("no order id")
    }

    /// Waits until every order of `externals` has its row (up to 10 s after `placed`).
    async fn arrived(&self, externals: &[i64], placed: Instant) -> anyhow::Result<()> {
        loop {
            let found = order::Entity::find()
                .filter(order::Column::IntegrationId.eq(self.integration_id))
                .filter(order::Column::ExternalId.is_in(externals.iter().copied()))
                .count(&self.state.db)
                .await?;
            if found == externals.len() as u64 {
                return Ok(());
            }
            if placed.elapsed() > Duration::from_secs(10) {
                anyhow::bail!("orders {externals:?} did not all arrive within 10 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// Median, p90, p99 and max of `latencies`.
fn summary(latencies: &mut [Duration]) -> String {
    latencies.sort();
    let pct = |p| super::pdf::percentile(latencies, p);
    format!(
        "median {:.1?}, p90 {:.1?}, p99 {:.1?}, max {:.1?}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    )
}

/// Connects a sandbox store with webhooks on (the server's public URL is its own address),
/// then times orders from the shopper's order to their rows in orderdeck's database: half of
/// `samples` placed on a quiet store (a merge window apart), a quarter on a busy one (each
/// as soon as the previous arrived), and a burst placed together.
pub async fn webhook(database_url: Option<String>, samples: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("orderdeck-bench-webhook-{}", std::process::id()));
    std::fs::create_dir_all(&dir).context("creating the bench directory")?;
    let sandbox = Sandbox::spawn(SandboxConfig {
        stores: 1,
        orders: 0,
        products: 50,
        quota: 1_000_000,
        ..SandboxConfig::default()
    })?;
    let store = sandbox.first_store();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .context("finding a free port")?
        .port();
    let settings = Settings {
        bind: format!("127.0.0.1:{port}"),
        public_url: Some(format!("http://127.0.0.1:{port}")),
        data_dir: dir.clone(),
        database_url: database_url.map(Secret::new),
        bigcommerce_api_url: sandbox.url.clone(),
        sync_enabled: false,
        push_enabled: false,
        ..Settings::default()
    };
    let app = Application::build(settings).await?;
    let state = app.state().clone();
    let server = tokio::spawn(app.run_until_stopped());
    let email = format!("bench-webhook-{}@orderdeck.local", std::process::id());
    let input = crate::demo::sandbox_connect_input(&store, HistoricalImport::Last90Days);
    let (p, _, connected) =
        crate::demo::account_with_store(&state, "Bench", &email, "bench-password-1", input).await?;
    let integration = connected.map_err(|e| anyhow::anyhow!("connecting: {e:?}"))?;
    anyhow::ensure!(
        integration.webhook_state == WebhookState::Active,
        "webhooks were not registered: {:?}",
        integration.webhook_error
    );
    orderdeck::sync::runner::sync_now(&state, &p, Some(integration.id), Some(SyncKind::Products))
        .await
        .map_err(|e| anyhow::anyhow!("product import: {e:?}"))?;

    let http = reqwest::Client::new();
    let url = format!("{}/_sandbox/stores/{}/orders", sandbox.url, store.hash);
    let bench = Bench {
        http: &http,
        url: &url,
        state: &state,
        integration_id: integration.id,
    };
    let reads = || {
        ORDER_READS
            .iter()
            .map(|e| sandbox.count(&store.hash, e))
            .sum::<u64>()
    };
    let window = orderdeck::sync::webhook_imports::WINDOW;

    // A quiet store: each order placed a merge window after the previous one arrived.
    let quiet_samples = samples.div_ceil(2).max(1);
    let mut quiet = Vec::with_capacity(quiet_samples);
    for _ in 0..quiet_samples {
        tokio::time::sleep(window + Duration::from_millis(100)).await;
        let placed = Instant::now();
        let external = bench.place().await?;
        bench.arrived(&[external], placed).await?;
        quiet.push(placed.elapsed());
    }
    let quiet_reads = reads();

    // A busy store: each order placed as soon as the previous one arrived.
    let busy_samples = (samples / 4).max(1);
    let mut busy = Vec::with_capacity(busy_samples);
    for _ in 0..busy_samples {
        let placed = Instant::now();
        let external = bench.place().await?;
        bench.arrived(&[external], placed).await?;
        busy.push(placed.elapsed());
    }
    let busy_reads = reads() - quiet_reads;

    // A burst: orders placed together (their deliveries merge).
    tokio::time::sleep(window + Duration::from_millis(100)).await;
    let placed = Instant::now();
    let burst = futures_util::future::try_join_all((0..BURST).map(|_| bench.place())).await?;
    bench.arrived(&burst, placed).await?;
    let burst_took = placed.elapsed();
    let burst_reads = reads() - quiet_reads - busy_reads;

    let backend = super::backend_name(&state.db);
    println!(
        "orderdeck bench webhook  ({backend}; machine: {}; webhooks on, scheduler off, merge window {window:?})",
        machine()
    );
    println!(
        "  order placed on a quiet store → in orderdeck ({quiet_samples} orders, each {:?} after the previous one arrived): {}; {quiet_reads} order reads",
        window + Duration::from_millis(100),
        summary(&mut quiet)
    );
    println!(
        "  order placed on a busy store → in orderdeck ({busy_samples} orders, each placed when the previous one arrived): {}; {busy_reads} order reads",
        summary(&mut busy)
    );
    println!(
        "  {BURST} orders placed together → all in orderdeck: {burst_took:.1?}; {burst_reads} order reads"
    );
    println!("  (polling alone: up to the order interval, 10 minutes by default)");
    server.abort();
    sandbox.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
