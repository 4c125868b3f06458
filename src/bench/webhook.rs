//! `orderdeck bench webhook`: how long an order placed on a store takes to be in orderdeck
//! when webhooks are on (the scheduler is off: only the webhook brings it).

use std::time::{Duration, Instant};

use anyhow::Context;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::machine;
use crate::config::{Secret, Settings};
use crate::domain::{HistoricalImport, SyncKind, WebhookState};
use crate::entities::order;
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::startup::Application;

/// Connects a sandbox store with webhooks on (the server's public URL is its own address),
/// then places `samples` orders one at a time and times each from the shopper's order to
/// its row in orderdeck's database.
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
    crate::sync::runner::sync_now(&state, &p, Some(integration.id), Some(SyncKind::Products))
        .await
        .map_err(|e| anyhow::anyhow!("product import: {e:?}"))?;

    let http = reqwest::Client::new();
    let url = format!("{}/_sandbox/stores/{}/orders", sandbox.url, store.hash);
    let mut latencies = Vec::with_capacity(samples);
    for _ in 0..samples {
        let placed = Instant::now();
        let answer: serde_json::Value = http
            .post(&url)
            .json(&serde_json::json!({}))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .context("placing a sandbox order")?
            .json()
            .await?;
        let external = answer["id"].as_i64().context("no order id")?;
        loop {
            let found = order::Entity::find()
                .filter(order::Column::IntegrationId.eq(integration.id))
                .filter(order::Column::ExternalId.eq(external))
                .one(&state.db)
                .await?;
            if found.is_some() {
                break;
            }
            if placed.elapsed() > Duration::from_secs(10) {
                anyhow::bail!("order {external} did not arrive within 10 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        latencies.push(placed.elapsed());
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    let backend = if state.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "orderdeck bench webhook  ({backend}; machine: {})",
        machine()
    );
    println!(
        "  order placed on the store → in orderdeck ({samples} orders one at a time, webhooks on, scheduler off): median {:.1?}, p90 {:.1?}, p99 {:.1?}, max {:.1?}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        latencies.last().copied().unwrap_or_default()
    );
    println!("  (polling alone: up to the order interval, 10 minutes by default)");
    server.abort();
    sandbox.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
