//! `orderdeck bench …`: measured figures, printed with the machine and the command.

pub mod events;
pub mod fairness;
pub mod idle;
pub mod login;
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

use orderdeck::config::{Secret, Settings};
use orderdeck::domain::{HistoricalImport, SyncKind};
use orderdeck::startup::Application;
use orderdeck_sandbox::server::StoreCredentials;

/// `orderdeck bench …`: which figures to measure.
#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Import orders and products from a seeded sandbox store into a fresh database
    /// (SQLite, or DATABASE_URL) and print API calls, time, orders/s and peak memory.
    Import {
        /// Orders in the store.
        #[arg(long, default_value_t = 10_000)]
        orders: usize,
        /// Products in the store (30% of them with variants: 2–4 sizes × `colours`).
        #[arg(long, default_value_t = 2_000)]
        products: usize,
        /// Colours of the products with variants (2: about 2.5 variants per product).
        #[arg(long, default_value_t = 2)]
        colours: usize,
        /// Keep metrics and scrape `/metrics` every second meanwhile (their cost).
        #[arg(long)]
        metrics: bool,
    },
    /// Push stock changes to two sandbox stores listing the same SKUs and print the latency
    /// from a committed change to the store holding it, and the calls a burst takes.
    Push {
        /// SKUs listed on both stores.
        #[arg(long, default_value_t = 5_000)]
        skus: usize,
        /// Changes of the burst, spread over every SKU and committed together.
        #[arg(long, default_value_t = 10_000)]
        changes: usize,
        /// Single changes timed one at a time.
        #[arg(long, default_value_t = 300)]
        samples: usize,
        /// Keep metrics and scrape `/metrics` every second meanwhile (their cost).
        #[arg(long)]
        metrics: bool,
    },
    /// Fill an empty database (DATABASE_URL, or ./data/bench-read/orderdeck.db) with one
    /// merchant of years of history, for `bench read`.
    Seed {
        /// Orders (1–5 lines each, 3 on average).
        #[arg(long, default_value_t = 1_000_000)]
        orders: usize,
        /// Products, each listed on one or two stores.
        #[arg(long, default_value_t = 50_000)]
        products: usize,
        /// Stores.
        #[arg(long, default_value_t = 10)]
        stores: usize,
    },
    /// Read latencies through GraphQL on the database `bench seed` filled, then requests per
    /// second under concurrent clients, with and without an order import running.
    Read {
        /// Requests per case.
        #[arg(long, default_value_t = 200)]
        samples: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// Seconds of each load run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Place orders on a sandbox store one at a time with webhooks on and print how long
    /// each takes to be in orderdeck (median, p90, p99).
    Webhook {
        /// Orders placed and timed.
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    /// One account loops its heaviest allowed request from several clients; print how long
    /// another account's `me` takes meanwhile.
    Fairness {
        /// Orders imported into the looping account first.
        #[arg(long, default_value_t = 20_000)]
        orders: usize,
        /// Clients looping at once.
        #[arg(long, default_value_t = 4)]
        clients: usize,
        /// Seconds of the load run.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// ORDERDECK_ACCOUNT_CONCURRENCY for this run (default: the server's default).
        #[arg(long)]
        account_concurrency: Option<u32>,
    },
    /// Start the server on an empty database, leave it idle and print its memory.
    Idle {
        /// Seconds to stay idle before measuring.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Start the server with a sandbox store, connect subscribers over /graphql/ws and print
    /// the server's memory with them and how long a stock change takes to reach them all.
    Events {
        /// Subscribers (subscriptions to `stockChanged`).
        #[arg(long, default_value_t = 1_000)]
        subscribers: usize,
        /// Subscriptions sharing one WebSocket connection (the `graphql-ws` client puts all of
        /// one page's subscriptions on one connection); 1 = a connection per subscriber.
        #[arg(long, default_value_t = 1)]
        per_connection: usize,
        /// Stock changes sent one after the other.
        #[arg(long, default_value_t = 20)]
        changes: usize,
    },
    /// Start the server, send a burst of logins and print password checks per second and the
    /// resident memory before, at the peak and after.
    Login {
        /// Logins in all.
        #[arg(long, default_value_t = 400)]
        attempts: usize,
        /// Logins in flight at once.
        #[arg(long, default_value_t = 100)]
        concurrency: usize,
        /// Seconds after the burst before the memory left is measured.
        #[arg(long, default_value_t = 10)]
        settle_seconds: u64,
    },
    /// Render invoices and labels and print time and size per document.
    Pdf {
        /// Renders timed per kind.
        #[arg(long, default_value_t = 500)]
        samples: usize,
        /// Orders in the batch rendered as one PDF.
        #[arg(long, default_value_t = 500)]
        batch: usize,
        /// Also write each sample document there (invoice.pdf, label.pdf, pick-list.pdf,
        /// packing-slip.pdf): the README's pictures are these.
        #[arg(long)]
        write: Option<std::path::PathBuf>,
    },
}

/// Runs `orderdeck bench …`: prints the machine and the figures.
pub async fn run(command: &BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Import {
            orders,
            products,
            colours,
            metrics,
        } => {
            self::import(
                std::env::var("DATABASE_URL").ok(),
                (*orders, *products, *colours),
                *metrics,
            )
            .await
        }
        BenchCommand::Push {
            skus,
            changes,
            samples,
            metrics,
        } => {
            self::push::push(
                std::env::var("DATABASE_URL").ok(),
                (*skus, *changes, *samples),
                *metrics,
            )
            .await
        }
        BenchCommand::Seed {
            orders,
            products,
            stores,
        } => {
            self::seed::seed(
                std::env::var("DATABASE_URL").ok(),
                self::seed::SeedSize {
                    orders: *orders,
                    products: (*products).max(1),
                    stores: (*stores).max(1),
                },
            )
            .await
        }
        BenchCommand::Read {
            samples,
            clients,
            seconds,
        } => {
            self::read::read(
                std::env::var("DATABASE_URL").ok(),
                (*samples).max(1),
                (*clients).max(1),
                *seconds,
            )
            .await
        }
        BenchCommand::Webhook { samples } => {
            self::webhook::webhook(std::env::var("DATABASE_URL").ok(), *samples).await
        }
        BenchCommand::Fairness {
            orders,
            clients,
            seconds,
            account_concurrency,
        } => {
            self::fairness::fairness(
                std::env::var("DATABASE_URL").ok(),
                self::fairness::FairnessOptions {
                    orders: *orders,
                    clients: (*clients).max(1),
                    seconds: (*seconds).max(1),
                    account_concurrency: *account_concurrency,
                },
            )
            .await
        }
        BenchCommand::Idle { seconds } => self::idle::idle(*seconds).await,
        BenchCommand::Events {
            subscribers,
            per_connection,
            changes,
        } => {
            self::events::events(self::events::EventsOptions {
                subscribers: (*subscribers).max(1),
                per_connection: (*per_connection).clamp(1, 20),
                changes: (*changes).max(1),
            })
            .await
        }
        BenchCommand::Login {
            attempts,
            concurrency,
            settle_seconds,
        } => {
            self::login::login(self::login::LoginOptions {
                attempts: *attempts,
                concurrency: *concurrency,
                settle_seconds: *settle_seconds,
            })
            .await
        }
        BenchCommand::Pdf {
            samples,
            batch,
            write,
        } => self::pdf::pdf(*samples, *batch, write.as_deref()),
    }
}

/// A server started in this process as `serve` would start it (scheduler and push worker on,
/// migrations applied) on a fresh SQLite database in a temp directory, or `DATABASE_URL`.
/// Dropping it stops the server and removes the directory.
pub struct LocalServer {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// "SQLite" or "PostgreSQL".
    pub backend: &'static str,
    dir: std::path::PathBuf,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl LocalServer {
    /// Starts it; `name` tells its temp directory apart.
    pub async fn start(name: &str) -> anyhow::Result<Self> {
        let database_url = std::env::var("DATABASE_URL").ok();
        let dir =
            std::env::temp_dir().join(format!("orderdeck-bench-{name}-{}", std::process::id()));
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
        Ok(Self {
            port,
            backend,
            dir,
            server,
        })
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.server.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `orderdeck serve` run as a child process on a free port of 127.0.0.1 and a temporary data
/// directory, without the per-address sign-in limit (every attempt comes from this machine);
/// killed when dropped. Its memory is the server's alone.
pub struct ServerProcess {
    /// The process.
    pub child: std::process::Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// "SQLite" or "PostgreSQL".
    pub backend: &'static str,
    dir: std::path::PathBuf,
}

impl ServerProcess {
    /// Starts it with these extra environment variables, and waits until it is ready.
    pub async fn start(env: &[(&str, String)]) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir =
            std::env::temp_dir().join(format!("orderdeck-bench-login-{}", std::process::id()));
        std::fs::create_dir_all(&dir).context("creating the bench directory")?;
        let backend = if std::env::var_os("DATABASE_URL").is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        };
        let exe = std::env::current_exe().context("finding the orderdeck executable")?;
        let child = std::process::Command::new(exe)
            .arg("serve")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("ORDERDECK_BIND", format!("127.0.0.1:{port}"))
            .env("ORDERDECK_DATA_DIR", &dir)
            .env("ORDERDECK_SIGN_IN_ATTEMPTS_PER_MINUTE", "0")
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("starting orderdeck serve")?;
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            backend,
            dir,
        };
        let http = reqwest::Client::new();
        for _ in 0..600 {
            let ready = http.get(format!("{}/readyz", server.base)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("orderdeck serve did not become ready within 60 s")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Resident memory of this process now (Linux `VmRSS`), in MiB.
pub fn rss_mib() -> Option<f64> {
    status_mib("self", "VmRSS:")
}

/// Peak resident memory of this process (Linux `VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    peak_rss_of("self")
}

/// Peak resident memory of process `pid` (`self` for this one), in MiB.
fn peak_rss_of(pid: &str) -> Option<f64> {
    status_mib(pid, "VmHWM:")
}

/// The line `key` (a size in KiB) of `/proc/<pid>/status`, in MiB.
pub fn status_mib(pid: &str, key: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
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

/// With metrics on, scrapes `/metrics` every second while a bench runs (as Prometheus would,
/// more often), so that their cost is in the figures; stops when dropped.
pub struct Scraper {
    task: Option<tokio::task::JoinHandle<()>>,
    /// How long each scrape took, answer read.
    took: std::sync::Arc<std::sync::Mutex<Vec<Duration>>>,
}

impl Scraper {
    /// Starts scraping `app`'s metrics, when they are on.
    pub fn start(app: &Application) -> Self {
        let took = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let times = took.clone();
        let task = app.metrics_port().map(|port| {
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let url = format!("http://127.0.0.1:{port}/metrics");
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                loop {
                    tick.tick().await;
                    let started = Instant::now();
                    if let Ok(res) = client.get(&url).send().await {
                        if res.bytes().await.is_ok() {
                            if let Ok(mut t) = times.lock() {
                                t.push(started.elapsed());
                            }
                        }
                    }
                }
            })
        });
        Self { task, took }
    }

    /// The scrapes so far: how many, median and longest time (`None` without metrics).
    pub fn summary(&self) -> Option<String> {
        self.task.as_ref()?;
        let mut took = self.took.lock().map(|t| t.clone()).unwrap_or_default();
        took.sort();
        let median = took.get(took.len() / 2).copied().unwrap_or_default();
        let max = took.last().copied().unwrap_or_default();
        Some(format!(
            "  metrics: {} scrapes, each median {median:.1?}, longest {max:.1?}",
            took.len()
        ))
    }

    /// How a bench's heading names the metrics setting.
    pub fn describe(on: bool) -> &'static str {
        if on {
            "metrics on, scraped every second"
        } else {
            "metrics off"
        }
    }
}

impl Drop for Scraper {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// `orderdeck bench import`: imports `orders` orders and `products` products (whose option
/// products have `colours` colours) from a seeded sandbox store into a fresh database (SQLite
/// in a temp dir, or `DATABASE_URL`), and prints API calls against the floor, wall time,
/// orders per second and peak memory. The sandbox runs in a child process, so the memory
/// printed is the server's alone.
pub async fn import(
    database_url: Option<String>,
    (orders, products, colours): (usize, usize, usize),
    metrics: bool,
) -> anyhow::Result<()> {
    if std::env::var_os("RUST_LOG").is_some() {
        // Logs only when asked for (the import logs its fetch and store times).
        orderdeck::telemetry::init(orderdeck::config::LogFormat::Text);
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
        metrics_bind: metrics.then(|| "127.0.0.1:0".into()),
        ..Settings::default()
    };
    let app = Application::build(settings).await?;
    let state = app.state().clone();
    let scraper = Scraper::start(&app);
    let email = format!("bench-{}@orderdeck.local", std::process::id());
    let input = crate::demo::sandbox_connect_input(&store, HistoricalImport::Last90Days);
    let (principal, _, connected) =
        crate::demo::account_with_store(&state, "Bench", &email, "bench-password-1", input).await?;
    let integration = connected.map_err(|e| anyhow::anyhow!("connecting: {e:?}"))?;

    let started = Instant::now();
    let product_runs = orderdeck::sync::runner::sync_now(
        &state,
        &principal,
        Some(integration.id),
        Some(SyncKind::Products),
    )
    .await
    .map_err(|e| anyhow::anyhow!("product import: {e:?}"))?;
    let product_time = started.elapsed();
    let started = Instant::now();
    let order_runs = orderdeck::sync::runner::sync_now(
        &state,
        &principal,
        Some(integration.id),
        Some(SyncKind::Orders),
    )
    .await
    .map_err(|e| anyhow::anyhow!("order import: {e:?}"))?;
    let order_time = started.elapsed();

    let calls = |runs: &[orderdeck::entities::sync_run::Model]| {
        runs.iter().map(|r| r.api_calls).sum::<i64>()
    };
    let created =
        |runs: &[orderdeck::entities::sync_run::Model]| runs.iter().map(|r| r.created).sum::<i64>();
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
        "orderdeck bench import  ({backend}; {}; machine: {})",
        Scraper::describe(metrics),
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
    if let Some(scrapes) = scraper.summary() {
        println!("{scrapes}");
    }
    if !failed.is_empty() {
        println!("  ERRORS: {failed:?}");
    }
    drop(sandbox);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
