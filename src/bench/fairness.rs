//! `orderdeck bench fairness`: while one account loops its heaviest allowed request from
//! several clients, how long does another account's `{ me { email } }` take?
//!
//! The hostile account imports a store's orders first (so that its searches and counts have
//! rows to go through); its "heaviest allowed request" is the slowest of a few candidates that
//! pass every limit (root fields, fields, complexity), measured here, not guessed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

use super::pdf::percentile;
use super::{machine, sandbox_store, SandboxProcess};
use orderdeck::config::{Secret, Settings};
use orderdeck::domain::{HistoricalImport, SyncKind};
use orderdeck::startup::Application;
use orderdeck::state::AppState;
use orderdeck_sandbox::server::StoreCredentials;

const PASSWORD: &str = "bench-fairness-password";

/// What the bench measures with.
pub struct FairnessOptions {
    /// Orders imported into the hostile account.
    pub orders: usize,
    /// Hostile clients looping at once.
    pub clients: usize,
    /// Seconds of the load run.
    pub seconds: u64,
    /// `ORDERDECK_ACCOUNT_CONCURRENCY` for this run (`None`: the default).
    pub account_concurrency: Option<u32>,
}

/// Candidate heavy requests: (name, document).
fn candidates() -> Vec<(&'static str, String)> {
    let aliases = |n: usize, field: &str| {
        format!(
            "{{ {} }}",
            (0..n)
                .map(|i| format!("a{i}: {field}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    vec![
        (
            "20 short searches with counts",
            aliases(20, "orders(first: 1, filter: {search: \"ab\"}) { totalCount }"),
        ),
        (
            "20 searches of 3+ characters, 25 rows and counts each",
            aliases(
                20,
                "orders(first: 25, filter: {search: \"com\"}) { totalCount nodes { number customerEmail } }",
            ),
        ),
        (
            "14 pages of 100 orders with lines and counts",
            aliases(
                14,
                "orders(first: 100) { totalCount nodes { number total { amount } lines { sku quantity } } }",
            ),
        ),
    ]
}

struct Client {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Client {
    async fn run(&self, query: &str) -> anyhow::Result<Value> {
        let res = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&json!({ "query": query }))
            .send()
            .await?;
        let status = res.status();
        let body: Value = res.json().await?;
        if !status.is_success() || body.get("errors").is_some() {
            anyhow::bail!("HTTP {status}: {body}");
        }
        Ok(body)
    }
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    (
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples.last().copied().unwrap_or_default(),
    )
}

async fn login(http: &reqwest::Client, url: &str, email: &str) -> anyhow::Result<String> {
    let body: Value = http
        .post(url)
        .json(&json!({
            "query": "mutation($i: LoginInput!) { login(input: $i) { token userErrors { code } } }",
            "variables": { "i": { "email": email, "password": PASSWORD } }
        }))
        .send()
        .await?
        .json()
        .await?;
    body["data"]["login"]["token"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("logging in as {email}: {body}"))
}

/// `me` of the victim every 20 ms until `until`: its latencies.
async fn victim_loop(victim: Arc<Client>, until: Instant) -> anyhow::Result<Vec<Duration>> {
    let mut times = Vec::new();
    while Instant::now() < until {
        let started = Instant::now();
        victim.run("{ me { email } }").await?;
        times.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(times)
}

/// Runs the bench and prints its figures.
pub async fn fairness(database_url: Option<String>, o: FairnessOptions) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("orderdeck-bench-fair-{}", std::process::id()));
    std::fs::create_dir_all(&dir).context("creating the bench directory")?;
    let sandbox = SandboxProcess::start(o.orders, 200, 3)?;
    let (store, _) = sandbox_store(&sandbox.url).await?;
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: dir.clone(),
        database_url: database_url.map(Secret::new),
        bigcommerce_api_url: sandbox.url.clone(),
        sync_enabled: false,
        push_enabled: false,
        ..Settings::default()
    };
    if let Some(n) = o.account_concurrency {
        settings.account_concurrency = n;
    }
    let turns = settings.account_concurrency;
    let pool = settings.db_max_connections;
    let app = Application::build(settings).await?;
    let state = app.state().clone();
    let url = format!("http://127.0.0.1:{}/graphql", app.port());
    tokio::spawn(app.run_until_stopped());

    let hostile_email = format!("hostile-{}@orderdeck.local", std::process::id());
    import_hostile(&state, &store, &hostile_email).await?;
    let victim_email = register_victim(&state).await?;

    let http = reqwest::Client::new();
    let hostile = Arc::new(Client {
        http: http.clone(),
        url: url.clone(),
        token: login(&http, &url, &hostile_email).await?,
    });
    let victim = Arc::new(Client {
        http: reqwest::Client::new(),
        url: url.clone(),
        token: login(&http, &url, &victim_email).await?,
    });

    let backend = super::backend_name(&state.db);
    println!(
        "orderdeck bench fairness  ({backend}; machine: {}; pool {pool}, ORDERDECK_ACCOUNT_CONCURRENCY={turns})",
        machine()
    );
    println!(
        "  hostile account: {} orders imported; victim account: empty",
        o.orders
    );

    // The heaviest allowed request, measured alone.
    let (name, query) = heaviest_request(&hostile).await?;

    let baseline_until = Instant::now() + Duration::from_secs(3);
    let (median, p99, _) = percentiles(victim_loop(victim.clone(), baseline_until).await?);
    println!("  victim `me`, server idle:                                 median {median:>7.1?}  p99 {p99:>7.1?}");

    let until = Instant::now() + Duration::from_secs(o.seconds);
    let query = Arc::new(query);
    let loops = hostile_loops(&hostile, &query, o.clients, until);
    let victim_times = victim_loop(victim.clone(), until).await?;
    let (hostile_times, hostile_failed) = join_hostile_loops(loops).await?;
    let done = hostile_times.len();
    let (h_median, h_p99, _) = percentiles(hostile_times);
    let (median, p99, max) = percentiles(victim_times.clone());
    println!(
        "  hostile: {} clients looping \"{name}\" for {} s: {done} answered ({:.1}/s, median {h_median:.0?}, p99 {h_p99:.0?}), {hostile_failed} refused or failed",
        o.clients,
        o.seconds,
        done as f64 / o.seconds.max(1) as f64
    );
    println!(
        "  victim `me` meanwhile ({} requests):                      median {median:>7.1?}  p99 {p99:>7.1?}  max {max:>7.1?}",
        victim_times.len()
    );
    drop(sandbox);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Connects the store to a new hostile account and imports its products, then its orders.
async fn import_hostile(
    state: &AppState,
    store: &StoreCredentials,
    hostile_email: &str,
) -> anyhow::Result<()> {
    let input = crate::demo::sandbox_connect_input(store, HistoricalImport::Last90Days);
    let (principal, _, connected) =
        crate::demo::account_with_store(state, "Hostile", hostile_email, PASSWORD, input).await?;
    let integration = connected.map_err(|e| anyhow::anyhow!("connecting: {e:?}"))?;
    for kind in [SyncKind::Products, SyncKind::Orders] {
        orderdeck::sync::runner::sync_now(state, &principal, Some(integration.id), Some(kind))
            .await
            .map_err(|e| anyhow::anyhow!("import: {e:?}"))?;
    }
    Ok(())
}

/// Registers the victim account, empty; its email.
async fn register_victim(state: &AppState) -> anyhow::Result<String> {
    let victim_email = format!("victim-{}@orderdeck.local", std::process::id());
    orderdeck::services::accounts::register(
        state,
        orderdeck::services::accounts::RegisterInput {
            account_name: "Victim".into(),
            email: victim_email.clone(),
            password: PASSWORD.into(),
            invitation_code: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("registering the victim: {e:?}"))?;
    Ok(victim_email)
}

/// Measures each candidate request alone (3 runs, printing the median) and gives the
/// slowest: the heaviest allowed request, with its name.
async fn heaviest_request(hostile: &Client) -> anyhow::Result<(&'static str, String)> {
    let mut heaviest: Option<(&'static str, String, Duration)> = None;
    for (name, query) in candidates() {
        let mut times = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            hostile
                .run(&query)
                .await
                .with_context(|| format!("candidate {name:?} was refused"))?;
            times.push(started.elapsed());
        }
        let (median, _, _) = percentiles(times);
        println!("  candidate: {name:<56} alone {median:>8.1?}");
        if heaviest.as_ref().is_none_or(|(_, _, t)| median > *t) {
            heaviest = Some((name, query, median));
        }
    }
    let Some((name, query, _)) = heaviest else {
        anyhow::bail!("no candidate request");
    };
    Ok((name, query))
}

/// Starts `clients` hostile clients looping the query until `until`; each gives its answer
/// times and how many requests were refused or failed.
fn hostile_loops(
    hostile: &Arc<Client>,
    query: &Arc<String>,
    clients: usize,
    until: Instant,
) -> Vec<tokio::task::JoinHandle<(Vec<Duration>, usize)>> {
    let mut loops = Vec::new();
    for _ in 0..clients {
        let hostile = hostile.clone();
        let query = query.clone();
        loops.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut failed = 0usize;
            while Instant::now() < until {
                let started = Instant::now();
                match hostile.run(&query).await {
                    Ok(_) => times.push(started.elapsed()),
                    Err(_) => failed += 1,
                }
            }
            (times, failed)
        }));
    }
    loops
}

/// Waits for the hostile clients: all their answer times and their refused or failed count.
async fn join_hostile_loops(
    loops: Vec<tokio::task::JoinHandle<(Vec<Duration>, usize)>>,
) -> anyhow::Result<(Vec<Duration>, usize)> {
    let mut hostile_times = Vec::new();
    let mut hostile_failed = 0;
    for l in loops {
        let (times, failed) = l.await.context("a hostile client panicked")?;
        hostile_times.extend(times);
        hostile_failed += failed;
    }
    Ok((hostile_times, hostile_failed))
}
