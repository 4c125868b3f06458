//! `orderdeck bench idle`: the memory of a started server that has nothing to do.

use std::time::Duration;

use anyhow::Context;

use super::{machine, peak_rss_mib, rss_mib, LocalServer};

/// Starts the server as `serve` would (scheduler and push worker on, migrations applied) on a
/// fresh SQLite database in a temp directory (or `DATABASE_URL`), asks it `/readyz` and a
/// GraphQL query, waits `seconds`, and prints its resident memory, now and at its peak.
pub async fn idle(seconds: u64) -> anyhow::Result<()> {
    let local = LocalServer::start("idle").await?;
    let (port, backend) = (local.port, local.backend);
    let http = reqwest::Client::new();
    let ready = http
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .await?
        .status();
    anyhow::ensure!(ready.is_success(), "the server is not ready: {ready}");
    http.post(format!("http://127.0.0.1:{port}/graphql"))
        .json(&serde_json::json!({ "query": "{ __typename }" }))
        .send()
        .await?
        .error_for_status()?;
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let now = rss_mib().context("no /proc/self/status")?;
    let peak = peak_rss_mib().context("no /proc/self/status")?;
    println!("orderdeck bench idle  ({backend}; machine: {})", machine());
    println!(
        "  started, ready, one request, then {seconds} s idle (scheduler and push worker on): RSS {now:.1} MiB, peak {peak:.1} MiB"
    );
    let binary = std::env::current_exe()?;
    let size = std::fs::metadata(&binary)?.len();
    println!(
        "  this binary ({}): {size} bytes = {:.1} MB",
        binary.display(),
        size as f64 / 1e6
    );
    drop(local);
    Ok(())
}
