//! `orderdeck bench …`: measured figures, printed with the machine and the command.

pub mod fairness;
pub mod idle;
pub mod pdf;
pub mod push;
pub mod read;
pub mod seed;
pub mod webhook;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use sea_orm::ConnectionTrait;
use serde::Deserialize;

use crate::config::{Secret, Settings};
use crate::domain::{HistoricalImport, SyncKind};
use crate::startup::Application;
use orderdeck_sandbox::server::StoreCredentials;

/// Peak resident memory of this process (Linux `VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    peak_rss_of("self")
}

/// Peak resident memory of process `pid` (`self` for this one), in MiB.
fn peak_rss_of(pid: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
/// "PostgreSQL" or "SQLite", for the first line of a bench's figures.
pub fn backend_name(db: &sea_orm::DatabaseConnection) -> &'static str {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        "PostgreSQL"
    } else {
        "SQLite"
    }
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

/// The sandbox, run as a child process (`orderdeck sandbox`) so that the bench process is
/// the orderdeck server alone; killed when dropped.
struct SandboxProcess {
    child: Child,
    url: String,
}

impl SandboxProcess {
    /// Starts `orderdeck sandbox` on a free port of 127.0.0.1 with one seeded store and waits
    /// until it listens.
    fn start(orders: usize, products: usize, colours: usize) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("finding the orderdeck executable")?;
        let mut child = Command::new(exe)
            .args(["sandbox", "--bind", "127.0.0.1:0", "--stores", "1"])
            .args(["--orders", &orders.to_string()])
            .args(["--products", &products.to_string()])
            .args(["--colours", &colours.to_string()])
            .args(["--quota", "1000000"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the sandbox process")?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            anyhow::bail!("the sandbox process has no stdout");
        };
        // The first line names the address; later output (warnings) is drained so that the
        // child never blocks on a full pipe.
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Some(url) = line.strip_prefix("BigCommerce sandbox listening on ") {
                        sent = tx.send(url.trim().to_string()).is_ok();
                    }
                }
            }
        });
        let mut process = SandboxProcess {
            child,
            url: String::new(),
        };
        process.url = rx
            .recv_timeout(Duration::from_secs(120))
            .context("waiting for the sandbox process to listen")?;
        Ok(process)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A store of `GET /_sandbox/stores`.
#[derive(Deserialize)]
struct ControlStore {
    hash: String,
    name: String,
    api_accounts: Vec<ControlAccount>,
}

#[derive(Deserialize)]
struct ControlAccount {
    client_id: String,
    access_token: String,
}

/// `GET /_sandbox/stores/{hash}/stats`.
#[derive(Deserialize)]
struct StoreStats {
    variants: usize,
    orders_with_capped_consignment: usize,
}

/// The first store's credentials and figures, through the sandbox's control API.
async fn sandbox_store(url: &str) -> anyhow::Result<(StoreCredentials, StoreStats)> {
    let http = reqwest::Client::new();
    let stores: Vec<ControlStore> = http
        .get(format!("{url}/_sandbox/stores"))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .context("listing the sandbox's stores")?
        .json()
        .await
        .context("reading the sandbox's stores")?;
    let store = stores
        .into_iter()
        .next()
        .context("the sandbox has no store")?;
    let token = |i: usize| {
        store
            .api_accounts
            .get(i)
            .map(|a| a.access_token.clone())
            .unwrap_or_default()
    };
    let credentials = StoreCredentials {
        hash: store.hash.clone(),
        name: store.name.clone(),
        client_id: store
            .api_accounts
            .first()
            .map(|a| a.client_id.clone())
            .unwrap_or_default(),
        access_token: token(0),
        read_only_token: token(1),
        info_only_token: token(2),
    };
    let stats: StoreStats = http
        .get(format!("{url}/_sandbox/stores/{}/stats", store.hash))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .context("reading the sandbox store's figures")?
        .json()
        .await
        .context("reading the sandbox store's figures")?;
    Ok((credentials, stats))
}

/// `orderdeck bench import`: imports `orders` orders and `products` products (whose option
/// products have `colours` colours) from a seeded sandbox store into a fresh database (SQLite
/// in a temp dir, or `DATABASE_URL`), and prints API calls against the floor, wall time,
/// orders per second and peak memory. The sandbox runs in a child process, so the memory
/// printed is the server's alone.
pub async fn import(
    database_url: Option<String>,
    orders: usize,
    products: usize,
    colours: usize,
) -> anyhow::Result<()> {
    if std::env::var_os("RUST_LOG").is_some() {
        // Logs only when asked for (the import logs its fetch and store times).
        crate::telemetry::init(crate::config::LogFormat::Text);
    }
    let dir = std::env::temp_dir().join(format!("orderdeck-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).context("creating the bench directory")?;
    let seeded = Instant::now();
    let sandbox = SandboxProcess::start(orders, products, colours)?;
    let (store, stats) = sandbox_store(&sandbox.url).await?;
    let seed_time = seeded.elapsed();
    let capped = stats.orders_with_capped_consignment;
    let variants = stats.variants;
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
    let backend = backend_name(&state.db);
    println!(
        "orderdeck bench import  ({backend}; machine: {})",
        machine()
    );
    println!("  sandbox (a separate process) seeded {orders} orders, {products} products ({variants} variants) and ready in {seed_time:.2?}");
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
        let sandbox_rss = peak_rss_of(&sandbox.pid().to_string())
            .map(|r| format!(" (the sandbox process: {r:.0} MiB)"))
            .unwrap_or_default();
        println!("  peak RSS of the orderdeck process (server + both imports): {rss:.0} MiB{sandbox_rss}");
    }
    if !failed.is_empty() {
        println!("  ERRORS: {failed:?}");
    }
    drop(sandbox);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
