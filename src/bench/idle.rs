//! `orderdeck bench idle`: the memory of a started server that has nothing to do.

use std::time::Duration;

use anyhow::Context;

use super::{machine, peak_rss_mib, rss_mib};
use orderdeck::config::{Secret, Settings};
use orderdeck::startup::Application;

/// Starts the server as `serve` would (scheduler and push worker on, migrations applied) on a
/// fresh SQLite database in a temp directory (or `DATABASE_URL`), asks it `/readyz` and a
/// GraphQL query, waits `seconds`, and prints its resident memory, now and at its peak.
pub async fn idle(database_url: Option<String>, seconds: u64) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("orderdeck-bench-idle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).context("creating the bench directory")?;
    let backend = if database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let settings = Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: dir.clone(),
        database_url: database_url.map(Secret::new),
        ..Settings::default()
    };
    let app = Application::build(settings).await?;
    let port = app.port();
    let server = tokio::spawn(app.run_until_stopped());
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
    server.abort();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
