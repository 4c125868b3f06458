//! `orderdeck bench read`: read latencies through the GraphQL API on a database filled by
//! `bench seed`, then throughput and latency under concurrent clients, with and without an
//! order import running.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{json, Value};

use super::machine;
use super::seed::{email_of, name_of, sku_of, SEED_EMAIL, SEED_PASSWORD};
use orderdeck::config::{Secret, Settings};
use orderdeck::domain::{HistoricalImport, SyncKind};
use orderdeck::startup::Application;
use orderdeck::state::AppState;
use orderdeck_sandbox::{Sandbox, SandboxConfig, SandboxHandle};

/// A page of 100 orders with everything a list screen shows.
const PAGE: &str = "query($f: OrderFilterInput) { orders(first: 100, filter: $f) {
  totalCount pageInfo { hasNextPage endCursor }
  nodes { id number status placedAt customerName customerEmail total { amount currencyCode }
    integration { alias }
    lines { sku quantity unitPrice { amount } listing { title price } }
    shipments { trackingNumber pushState lines { sku quantity } } } } }";

/// A search: the first 20 matches and their count.
const SEARCH: &str = "query($f: OrderFilterInput) { orders(first: 20, filter: $f) {
  totalCount nodes { id number customerEmail lines { sku quantity } } } }";

/// Only the count.
const COUNT: &str = "query($f: OrderFilterInput) { orders(first: 1, filter: $f) { totalCount } }";

struct Client {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Client {
    async fn run(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let body: Value = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await?
            .json()
            .await?;
        if let Some(errors) = body.get("errors") {
            anyhow::bail!("GraphQL errors: {errors}");
        }
        Ok(body)
    }
}

/// Median and p99 of `samples`.
fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |p: f64| {
        samples
            .get(((samples.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    (at(0.5), at(0.99))
}

/// Runs each case `samples` times; prints median and p99.
async fn latencies(
    client: &Client,
    name: &str,
    query: &str,
    samples: usize,
    vars: impl Fn(usize) -> Value,
) -> anyhow::Result<()> {
    let mut times = Vec::with_capacity(samples);
    let mut rows = 0usize;
    for n in 0..samples {
        let started = Instant::now();
        let body = client.run(query, vars(n)).await?;
        times.push(started.elapsed());
        rows += body["data"]["orders"]["nodes"]
            .as_array()
            .map_or(0, Vec::len);
    }
    let (median, p99) = percentiles(times);
    println!(
        "  {name:<58} median {:>7.1?}  p99 {:>7.1?}  ({} orders per answer on average)",
        median,
        p99,
        rows / samples.max(1)
    );
    Ok(())
}

/// `clients` loops of the page query for `seconds`: requests per second, median, p99.
async fn load(
    client: &Arc<Client>,
    clients: usize,
    seconds: u64,
    stores: &[String],
) -> anyhow::Result<(f64, Duration, Duration)> {
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let client = client.clone();
        let stores = stores.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut n = c;
            while Instant::now() < until {
                let store = &stores[n % stores.len()];
                let vars = json!({ "f": { "status": ["SHIPPED"], "integrationId": store } });
                let started = Instant::now();
                client.run(PAGE, vars).await?;
                times.push(started.elapsed());
                n += clients;
            }
            Ok::<_, anyhow::Error>(times)
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.context("a client task")??);
    }
    let rps = all.len() as f64 / started.elapsed().as_secs_f64().max(1e-9);
    let (median, p99) = percentiles(all);
    Ok((rps, median, p99))
}

/// Serves the database seeded by `bench seed` and prints the read figures.
pub async fn read(
    database_url: Option<String>,
    samples: usize,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<()> {
    let sandbox = Sandbox::spawn(SandboxConfig {
        stores: 1,
        orders: 20_000,
        products: 500,
        quota: 1_000_000,
        // A new store hash each run: every run imports a store of its own.
        seed: u64::from(std::process::id()),
        ..SandboxConfig::default()
    })?;
    let settings = Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: std::path::PathBuf::from("./data/bench-read"),
        database_url: database_url.map(Secret::new),
        db_max_connections: 16,
        bigcommerce_api_url: sandbox.url.clone(),
        sync_enabled: false,
        push_enabled: false,
        ..Settings::default()
    };
    let app = Application::build(settings).await?;
    let state = app.state().clone();
    let port = app.port();
    let server = tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/graphql");
    let token = log_in(&http, &url).await?;
    let client = Arc::new(Client {
        http: http.clone(),
        url,
        token,
    });
    let stores = seeded_stores(&client).await?;
    let total = client.run(COUNT, json!({})).await?["data"]["orders"]["totalCount"]
        .as_i64()
        .unwrap_or(0);
    let numbers = order_numbers(&client, &stores[0]).await?;
    let backend = super::backend_name(&state.db);
    println!("orderdeck bench read  ({backend}; machine: {})", machine());
    println!(
        "  {total} orders over {} stores; {samples} requests per case through POST /graphql",
        stores.len()
    );
    read_latencies(&client, samples, &stores, &numbers).await?;

    let (rps, median, p99) = load(&client, clients, seconds, &stores).await?;
    println!(
        "  {clients} clients, page of 100 by status and store, {seconds} s: {rps:.0} requests/s, median {median:.1?}, p99 {p99:.1?}"
    );

    // The same load while a store's orders are imported.
    load_during_import(&state, &sandbox, &client, clients, seconds, &stores).await?;
    server.abort();
    sandbox.stop().await;
    Ok(())
}

/// Logs in as the account `bench seed` made; its session token.
async fn log_in(http: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let login: Value = http
        .post(url)
        .json(&json!({ "query": "mutation($i: LoginInput!) { login(input: $i) { token userErrors { message } } }",
            "variables": { "i": { "email": SEED_EMAIL, "password": SEED_PASSWORD } } }))
        .send()
        .await?
        .json()
        .await?;
    Ok(login["data"]["login"]["token"]
        .as_str()
        .context("no seeded account: run `orderdeck bench seed` first (same DATABASE_URL)")?
        .to_string())
}

/// The ids of the seeded account's stores (at least one).
async fn seeded_stores(client: &Client) -> anyhow::Result<Vec<String>> {
    let stores: Vec<String> = client
        .run("{ integrations(first: 100) { nodes { id } } }", json!({}))
        .await?["data"]["integrations"]["nodes"]
        .as_array()
        .context("no stores")?
        .iter()
        .filter_map(|n| n["id"].as_str().map(str::to_string))
        .collect();
    anyhow::ensure!(!stores.is_empty(), "the seeded account has no stores");
    Ok(stores)
}

/// The numbers of the first orders of a store, for the order-number searches.
async fn order_numbers(client: &Client, store: &str) -> anyhow::Result<Vec<String>> {
    Ok(client
        .run(SEARCH, json!({ "f": { "integrationId": store } }))
        .await?["data"]["orders"]["nodes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o["number"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

/// Prints the latencies of each read case: order pages by filter, searches and counts.
async fn read_latencies(
    client: &Client,
    samples: usize,
    stores: &[String],
    numbers: &[String],
) -> anyhow::Result<()> {
    let day = |d: i64| (chrono::Utc::now() - chrono::Duration::days(d)).to_rfc3339();
    let s = stores.to_vec();
    latencies(
        client,
        "page of 100, status SHIPPED, lines+listings+shipments",
        PAGE,
        samples,
        |_| json!({ "f": { "status": ["SHIPPED"] } }),
    )
    .await?;
    latencies(
        client,
        "page of 100, one store",
        PAGE,
        samples,
        |n| json!({ "f": { "integrationId": s[n % s.len()] } }),
    )
    .await?;
    latencies(client, "page of 100, a 30-day range", PAGE, samples, |n| {
        let from = 30 + (n as i64 * 37) % 1000;
        json!({ "f": { "placedFrom": day(from), "placedTo": day(from - 30) } })
    })
    .await?;
    latencies(
        client,
        "page of 100, status + store + 90-day range",
        PAGE,
        samples,
        |n| {
            let from = 90 + (n as i64 * 53) % 900;
            json!({ "f": { "status": ["NEW", "PARTIALLY_SHIPPED"], "integrationId": s[n % s.len()],
            "placedFrom": day(from), "placedTo": day(from - 90) } })
        },
    )
    .await?;
    let nums = numbers.to_vec();
    latencies(client, "search by order number", SEARCH, samples, |n| {
        json!({ "f": { "search": nums.get(n % nums.len().max(1)).cloned().unwrap_or_default() } })
    })
    .await?;
    latencies(
        client,
        "search by customer email",
        SEARCH,
        samples,
        |n| json!({ "f": { "search": email_of(n * 7919) } }),
    )
    .await?;
    latencies(
        client,
        "search by SKU",
        SEARCH,
        samples,
        |n| json!({ "f": { "search": sku_of(n * 131 % 50_000) } }),
    )
    .await?;
    latencies(client, "search by part of a name", SEARCH, samples, |n| {
        // "Customer 12345" of "Customer 123456": a handful of customers.
        let mut name = name_of(n * 7919);
        name.pop();
        json!({ "f": { "search": name } })
    })
    .await?;
    latencies(
        client,
        "orders with a SKU (sku filter)",
        SEARCH,
        samples,
        |n| json!({ "f": { "sku": sku_of(n * 131 % 50_000) } }),
    )
    .await?;
    latencies(client, "totalCount of a status", COUNT, samples, |n| {
        let status = ["NEW", "SHIPPED", "CANCELED", "UNPAID"][n % 4];
        json!({ "f": { "status": [status] } })
    })
    .await?;
    Ok(())
}

/// Connects a new store and imports its orders while `clients` clients load the API; prints
/// the load figures and the import's.
async fn load_during_import(
    state: &AppState,
    sandbox: &SandboxHandle,
    client: &Arc<Client>,
    clients: usize,
    seconds: u64,
    stores: &[String],
) -> anyhow::Result<()> {
    let store = sandbox.first_store();
    let mut input = crate::demo::sandbox_connect_input(&store, HistoricalImport::Last90Days);
    // A store of its own on every run (the seeded database is reused).
    input.options.alias = Some(format!("Bench import {}", store.hash));
    let (principal, _, connected) =
        crate::demo::account_with_store(state, "Bench Read", SEED_EMAIL, SEED_PASSWORD, input)
            .await?;
    let integration = connected.map_err(|e| anyhow::anyhow!("connecting: {e:?}"))?;
    let import_state = state.clone();
    let import = tokio::spawn(async move {
        let started = Instant::now();
        let runs = orderdeck::sync::runner::sync_now(
            &import_state,
            &principal,
            Some(integration.id),
            Some(SyncKind::Orders),
        )
        .await
        .map_err(|e| anyhow::anyhow!("import: {e:?}"))?;
        Ok::<_, anyhow::Error>((started.elapsed(), runs))
    });
    let (rps, median, p99) = load(client, clients, seconds, stores).await?;
    let (took, runs) = import.await.context("the import task")??;
    let created: i64 = runs.iter().map(|r| r.created).sum();
    println!(
        "  … with an order import running ({created} orders imported in {took:.1?}): {rps:.0} requests/s, median {median:.1?}, p99 {p99:.1?}"
    );
    Ok(())
}
