//! Replicas: three `orderdeck serve` processes, schedulers and push workers
//! on, share one PostgreSQL database and a sandbox of five stores. After several short sync
//! intervals every store's orders are in orderdeck exactly once and no sync job ever ran twice
//! at the same time; one replica killed (SIGKILL) in the middle of an import loses nothing and
//! duplicates nothing: every new order is imported once and takes its stock once, every store
//! holds orderdeck's figure for every listing, every shipment reaches its store exactly once,
//! and the killed replica's jobs are taken over once their leases run out.
//!
//! PostgreSQL only (TEST_DATABASE_URL): SQLite is one process by design.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use orderdeck::domain::{SyncKind, SyncOutcome};
use orderdeck::entities::{push_queue, shipment, sync_job, sync_run};
use orderdeck_sandbox::model::Tracking;
use orderdeck_sandbox::server::StoreCredentials;
use orderdeck_sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use sea_orm::{
    ColumnTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::{json, Value};

use crate::support::{
    assert_ledger_explains, free_port, integration_gid, random_secret_key, store_input, TestDb,
    PASSWORD,
};

const STORES: usize = 5;
const SEEDED_ORDERS: usize = 40;
const SEEDED_PRODUCTS: usize = 10;
/// Listed on every store.
const SHARED_1: &str = "SHARED-1";
const SHARED_2: &str = "SHARED-2";
/// The replica killed in the middle of a run.
const VICTIM: usize = 2;
/// How long the survivors get to put everything right after the kill (it takes about 4 s: the
/// sync lease is 3 s). Stock-push claims the victim held are only taken over when their 60 s
/// lease runs out, so the kill waits for a moment when it holds none (a pass that fails
/// releases its claims at once).
const SETTLE: Duration = Duration::from_secs(30);

/// A SKU only store `i` lists.
fn own(i: usize) -> String {
    format!("OWN-{i}")
}

// ---------------------------------------------------------------------------------------------
// The replicas
// ---------------------------------------------------------------------------------------------

/// One `orderdeck serve` child process, its output in a log file; killed when dropped.
struct Replica {
    name: String,
    port: u16,
    pid: u32,
    log: PathBuf,
    child: Option<Child>,
}

impl Replica {
    fn spawn(name: &str, dir: &Path, env: &[(&str, String)]) -> Replica {
        let port = free_port();
        let log = dir.join(format!("{name}.log"));
        let out = File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_orderdeck"));
        // Its own working directory: no ./orderdeck.toml or ./templates of the caller.
        cmd.arg("serve")
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        for (k, _) in std::env::vars() {
            if k.starts_with("ORDERDECK_") || k == "DATABASE_URL" || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.env("ORDERDECK_BIND", format!("127.0.0.1:{port}"))
            .env("ORDERDECK_DATA_DIR", dir.join(name));
        let child = cmd.spawn().expect("starting orderdeck serve");
        Replica {
            name: name.to_string(),
            port,
            pid: child.id(),
            log,
            child: Some(child),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Whether the process has ended (and how).
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// SIGKILL, then reaps it.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The last `n` lines of its log.
    fn tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Waits until `/readyz` answers 200; `Err` with the log when the process ended first.
    async fn ready(&mut self, http: &reqwest::Client) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.exited() {
                return Err(format!(
                    "{} exited with {status} before it was ready:\n{}",
                    self.name,
                    self.tail(40)
                ));
            }
            if let Ok(res) = http.get(format!("{}/readyz", self.url())).send().await {
                if res.status() == 200 {
                    return Ok(());
                }
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(format!(
                    "{} not ready after 60 s:\n{}",
                    self.name,
                    self.tail(40)
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The replicas, a GraphQL client and the merchant's token. A failing test prints the tail of
/// every replica's log.
struct Cluster {
    replicas: Vec<Replica>,
    http: reqwest::Client,
    token: String,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for r in &self.replicas {
                eprintln!(
                    "\n---- {} (pid {}, port {}): last lines of {} ----\n{}",
                    r.name,
                    r.pid,
                    r.port,
                    r.log.display(),
                    r.tail(80)
                );
            }
        }
    }
}

impl Cluster {
    /// Starts `n` replicas with `env` and waits until all are ready (a port taken meanwhile by
    /// someone else is tried again with another).
    async fn start(n: usize, dir: &Path, env: &[(&str, String)]) -> Cluster {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut replicas: Vec<Replica> = (0..n)
            .map(|i| Replica::spawn(&format!("replica-{i}"), dir, env))
            .collect();
        for r in replicas.iter_mut() {
            let mut attempt = 0;
            loop {
                match r.ready(&http).await {
                    Ok(()) => break,
                    Err(e) if attempt < 3 && e.contains("binding") => {
                        attempt += 1;
                        let name = r.name.clone();
                        *r = Replica::spawn(&name, dir, env);
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        }
        Cluster {
            replicas,
            http,
            token: String::new(),
        }
    }

    /// Posts a GraphQL operation to replica `via`; the whole JSON answer.
    async fn gql(&self, via: usize, query: &str, variables: Value) -> Value {
        let mut req = self
            .http
            .post(format!("{}/graphql", self.replicas[via].url()))
            .json(&json!({ "query": query, "variables": variables }));
        if !self.token.is_empty() {
            req = req.bearer_auth(&self.token);
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{} did not answer: {e}", self.replicas[via].name));
        assert_eq!(
            res.status(),
            200,
            "{} answered HTTP {}",
            self.replicas[via].name,
            res.status()
        );
        res.json().await.unwrap()
    }

    /// `data` of a GraphQL operation on replica `via`, failing on any top-level error.
    async fn data(&self, via: usize, query: &str, variables: Value) -> Value {
        let body = self.gql(via, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Every node of the connection `field`, page after page (`query` takes `$after`), through
    /// replica `via`.
    async fn all_nodes(
        &self,
        via: usize,
        query: &str,
        mut variables: Value,
        field: &str,
    ) -> Vec<Value> {
        let mut all = Vec::new();
        loop {
            let page = self.data(via, query, variables.clone()).await[field].clone();
            all.extend(page["nodes"].as_array().unwrap().iter().cloned());
            if page["pageInfo"]["hasNextPage"] != true {
                return all;
            }
            variables["after"] = page["pageInfo"]["endCursor"].clone();
        }
    }

    /// Every order of an integration (`id number status shipments`), through replica `via`.
    async fn orders_of(&self, via: usize, integration: &str) -> Vec<Value> {
        self.all_nodes(
            via,
            "query($f: OrderFilterInput, $after: String) { orders(first: 100, after: $after, filter: $f) { totalCount pageInfo { hasNextPage endCursor } nodes { id number status shipments { pushState pushAttempts storeShipmentId trackingNumber } } } }",
            json!({ "f": { "integrationId": integration } }),
            "orders",
        )
        .await
    }

    /// Every product of the account with its listings, through replica `via`.
    async fn products(&self, via: usize) -> Vec<Value> {
        self.all_nodes(
            via,
            "query($after: String) { products(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { id sku stock listings { integration { alias } externalProductId externalVariantId tracking stockPushState pushedStock channelStock pushError } } } }",
            json!({}),
            "products",
        )
        .await
    }

    /// Every run of an integration, oldest first, through `syncRuns` on replica `via`.
    async fn runs_of(&self, via: usize, integration: &str) -> Vec<Value> {
        let mut all = self
            .all_nodes(
                via,
                "query($id: ID!, $after: String) { syncRuns(integrationId: $id, first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { id kind trigger outcome startedAt finishedAt created error } } }",
                json!({ "id": integration }),
                "syncRuns",
            )
            .await;
        all.reverse();
        all
    }

    /// The whole ledger of the product with this SKU (newest first).
    async fn ledger(&self, via: usize, sku: &str) -> (i64, Vec<Value>) {
        let p = self
            .data(
                via,
                "query($sku: String) { product(sku: $sku) { id stock } }",
                json!({ "sku": sku }),
            )
            .await["product"]
            .clone();
        let id = p["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no {sku}"))
            .to_string();
        let all = self
            .all_nodes(
                via,
                "query($id: ID!, $after: String) { stockMovements(productId: $id, first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { id delta quantityAfter reason orderId integrationId note } } }",
                json!({ "id": id }),
                "stockMovements",
            )
            .await;
        // Read after the ledger: nothing moves any more when this is called.
        let stock = self
            .data(
                via,
                "query($sku: String) { product(sku: $sku) { stock } }",
                json!({ "sku": sku }),
            )
            .await["product"]["stock"]
            .as_i64()
            .unwrap();
        (stock, all)
    }
}

// ---------------------------------------------------------------------------------------------
// The sandbox
// ---------------------------------------------------------------------------------------------

/// A control call under `/_sandbox/stores/{hash}/{path}`; its JSON answer (null when empty).
async fn control(
    http: &reqwest::Client,
    sandbox: &SandboxHandle,
    method: reqwest::Method,
    hash: &str,
    path: &str,
    body: Value,
) -> Value {
    let res = http
        .request(
            method.clone(),
            format!("{}/_sandbox/stores/{hash}/{path}", sandbox.url),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The orders of a store orderdeck imports: all but the Incomplete (status 0) ones.
fn importable_orders(sandbox: &SandboxHandle, hash: &str) -> BTreeSet<i64> {
    sandbox
        .with_store(hash, |s| {
            s.orders
                .values()
                .filter(|o| o.status_id != 0 && !o.is_deleted)
                .map(|o| o.id)
                .collect()
        })
        .unwrap()
}

/// The stock a store shows for a listing, by the ids and tracking orderdeck pushes with.
fn store_level(sandbox: &SandboxHandle, hash: &str, listing: &Value) -> Option<i64> {
    let product: i64 = listing["externalProductId"].as_str()?.parse().ok()?;
    let variant: i64 = listing["externalVariantId"].as_str()?.parse().ok()?;
    sandbox
        .with_store(hash, |s| {
            let p = s.products.get(&product)?;
            if listing["tracking"] == "VARIANT" {
                p.variants
                    .iter()
                    .find(|v| v.id == variant)
                    .map(|v| v.inventory_level)
            } else {
                Some(p.inventory_level)
            }
        })
        .flatten()
}

/// The shipment ids a store holds for an order.
fn store_shipments(sandbox: &SandboxHandle, hash: &str, order: i64) -> Vec<i64> {
    sandbox
        .with_store(hash, |s| {
            s.orders[&order].shipments.iter().map(|sh| sh.id).collect()
        })
        .unwrap()
}

/// An order a shopper placed during the test.
#[derive(Clone, Debug)]
struct Placed {
    store: usize,
    number: i64,
    lines: Vec<(String, i64)>,
}

async fn place(
    http: &reqwest::Client,
    sandbox: &SandboxHandle,
    stores: &[StoreCredentials],
    store: usize,
    lines: Vec<(String, i64)>,
) -> Placed {
    let body: Vec<Value> = lines
        .iter()
        .map(|(sku, q)| json!({ "sku": sku, "quantity": q }))
        .collect();
    let answer = control(
        http,
        sandbox,
        reqwest::Method::POST,
        &stores[store].hash,
        "orders",
        json!({ "lines": body }),
    )
    .await;
    Placed {
        store,
        number: answer["id"].as_i64().unwrap(),
        lines,
    }
}

// ---------------------------------------------------------------------------------------------
// The database (leases and claims are not in the API)
// ---------------------------------------------------------------------------------------------

/// The pattern of lease owners and claim tokens of a process (`host-pid-random`).
fn owned_by(pid: u32) -> String {
    format!("%-{pid}-%")
}

/// Whether the process holds a live lease on a job whose run is recorded as RUNNING, and
/// (with `no_push_claims`) no push claim: a claimed stock push or shipment would wait for its
/// 60 s or 120 s lease.
async fn in_the_middle_of_a_run(db: &DatabaseConnection, pid: u32, no_push_claims: bool) -> bool {
    let now = Utc::now();
    let held = sync_job::Entity::find()
        .filter(sync_job::Column::LeaseOwner.like(owned_by(pid)))
        .filter(sync_job::Column::LeaseExpiresAt.gt(now))
        .all(db)
        .await
        .unwrap();
    let mut running = false;
    for j in &held {
        running |= sync_run::Entity::find()
            .filter(sync_run::Column::IntegrationId.eq(j.integration_id))
            .filter(sync_run::Column::Kind.eq(j.kind))
            .filter(sync_run::Column::Outcome.eq(SyncOutcome::Running))
            .count(db)
            .await
            .unwrap()
            > 0;
    }
    running && (!no_push_claims || push_claims(db, pid).await == 0)
}

/// Push-queue rows and shipments the process has claimed, leases still running.
async fn push_claims(db: &DatabaseConnection, pid: u32) -> u64 {
    let now = Utc::now();
    let rows = push_queue::Entity::find()
        .filter(push_queue::Column::ClaimedBy.like(owned_by(pid)))
        .filter(push_queue::Column::ClaimedUntil.gt(now))
        .count(db)
        .await
        .unwrap();
    let shipments = shipment::Entity::find()
        .filter(shipment::Column::PushClaimedBy.like(owned_by(pid)))
        .filter(shipment::Column::PushClaimedUntil.gt(now))
        .count(db)
        .await
        .unwrap();
    rows + shipments
}

/// The order with this number among orders as `orders` lists them.
fn order_numbered(orders: &[Value], number: i64) -> Option<&Value> {
    orders
        .iter()
        .find(|o| o["number"].as_str().and_then(|n| n.parse().ok()) == Some(number))
}

fn kind_name(kind: SyncKind) -> &'static str {
    match kind {
        SyncKind::Orders => "ORDERS",
        SyncKind::Products => "PRODUCTS",
    }
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// What [`check_runs`] saw besides the overlaps it rules out.
#[derive(Debug, Default)]
struct RunsSeen {
    /// Runs the killed process left behind, as `(integration, kind)`.
    abandoned: Vec<(String, String)>,
    /// Other failed runs (retried at the next interval), with their errors.
    failed: Vec<String>,
}

/// Checks that no two runs of one job overlapped in time: each run ended before the next one
/// started, except a run the killed process left behind (closed as abandoned by the run that
/// took the job over), which must be one of the jobs it held and followed by a run that
/// started only after its lease ran out. No run lost its lease.
fn check_runs(
    integration: &str,
    runs: &[Value],
    held: &HashMap<(String, &'static str), DateTime<Utc>>,
    seen: &mut RunsSeen,
) {
    for kind in ["ORDERS", "PRODUCTS"] {
        let mut of_kind: Vec<&Value> = runs.iter().filter(|r| r["kind"] == kind).collect();
        of_kind.sort_by_key(|r| (time(&r["startedAt"]), r["id"].as_str().map(str::to_string)));
        for (i, run) in of_kind.iter().enumerate() {
            let next = of_kind.get(i + 1);
            let error = run["error"].as_str().unwrap_or_default();
            if run["outcome"] == "FAILED" && error.starts_with("abandoned") {
                let lease_end = held
                    .get(&(integration.to_string(), kind))
                    .unwrap_or_else(|| {
                        panic!("{integration} {kind}: an abandoned run of a job the killed replica did not hold: {run}")
                    });
                let next = next.unwrap_or_else(|| {
                    panic!("{integration} {kind}: nothing took over from {run}")
                });
                let next_start = time(&next["startedAt"]).unwrap();
                assert!(
                    next_start > *lease_end,
                    "{integration} {kind}: {next} started before the killed replica's lease ran out at {lease_end}"
                );
                seen.abandoned
                    .push((integration.to_string(), kind.to_string()));
                continue;
            }
            assert!(
                !error.contains("lease"),
                "{integration} {kind}: a run lost its lease: {run}"
            );
            if run["outcome"] == "FAILED" {
                seen.failed
                    .push(format!("{integration} {kind} {}: {error}", run["id"]));
            }
            // The latest run may still be running.
            if let Some(next) = next {
                let end = time(&run["finishedAt"]).unwrap_or_else(|| {
                    panic!("{integration} {kind}: {run} never finished but {next} started")
                });
                let next_start = time(&next["startedAt"]).unwrap();
                assert!(
                    end <= next_start,
                    "{integration} {kind}: two runs of one job at once:\n  {run}\n  {next}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_import_and_push_everything_once_and_a_killed_one_loses_nothing_and_duplicates_nothing(
) {
    if !std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        println!(
            "skipped: the replicas test needs PostgreSQL (TEST_DATABASE_URL); SQLite is one process by design"
        );
        return;
    }
    let began = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let test_db = TestDb::create(dir.path()).await;
    let db = Database::connect(&test_db.url).await.unwrap();
    let sandbox = Sandbox::spawn(SandboxConfig {
        stores: STORES,
        orders: SEEDED_ORDERS,
        products: SEEDED_PRODUCTS,
        order_days: 20,
        quota: 1_000_000,
        ..Default::default()
    })
    .unwrap();
    let stores = sandbox.stores();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    // Two SKUs every store lists, and one of each store's own, besides the seeded catalog.
    for (i, s) in stores.iter().enumerate() {
        for (sku, level) in [
            (SHARED_1.to_string(), 1000),
            (SHARED_2.to_string(), 500),
            (own(i), 100),
        ] {
            control(
                &http,
                &sandbox,
                reqwest::Method::POST,
                &s.hash,
                "products",
                json!({ "name": format!("Product {sku}"), "sku": sku, "inventory_level": level }),
            )
            .await;
        }
    }
    let seeded: Vec<BTreeSet<i64>> = stores
        .iter()
        .map(|s| importable_orders(&sandbox, &s.hash))
        .collect();

    let key = random_secret_key();
    let env: Vec<(&str, String)> = vec![
        ("DATABASE_URL", test_db.url.clone()),
        ("ORDERDECK_SECRET_KEY", key),
        ("ORDERDECK_BIGCOMMERCE_API_URL", sandbox.url.clone()),
        ("ORDERDECK_BIGCOMMERCE_TIMEOUT_MS", "5000".into()),
        ("ORDERDECK_SYNC_ENABLED", "true".into()),
        ("ORDERDECK_ORDER_SYNC_INTERVAL_SECS", "1".into()),
        ("ORDERDECK_PRODUCT_SYNC_INTERVAL_SECS", "2".into()),
        ("ORDERDECK_SYNC_LEASE_SECS", "3".into()),
        ("ORDERDECK_SCHEDULER_TICK_MS", "50".into()),
        ("ORDERDECK_PUSH_ENABLED", "true".into()),
        ("ORDERDECK_PUSH_POLL_MS", "50".into()),
        ("ORDERDECK_DB_MAX_CONNECTIONS", "5".into()),
        ("ORDERDECK_SHUTDOWN_TIMEOUT_SECS", "2".into()),
        ("RUST_LOG", "info".into()),
    ];
    let mut cluster = Cluster::start(3, dir.path(), &env).await;
    let started_in = began.elapsed();

    // Through replica 0: the merchant registers, logs in and connects the five stores.
    let reg = cluster
        .data(
            0,
            "mutation($i: RegisterInput!) { register(input: $i) { userErrors { code message } } }",
            json!({ "i": { "accountName": "Replicated Ltd", "email": "replicas@example.com", "password": PASSWORD } }),
        )
        .await;
    assert_eq!(reg["register"]["userErrors"], json!([]), "{reg}");
    let login = cluster
        .data(
            0,
            "mutation($i: LoginInput!) { login(input: $i) { token userErrors { code } } }",
            json!({ "i": { "email": "replicas@example.com", "password": PASSWORD } }),
        )
        .await;
    cluster.token = login["login"]["token"].as_str().unwrap().to_string();
    let mut gids = Vec::new();
    let mut ids = Vec::new();
    for s in &stores {
        let res = cluster
            .data(
                0,
                "mutation($i: ConnectBigCommerceInput!) { connectBigCommerce(input: $i) { integration { id } userErrors { field code message } } }",
                json!({ "i": store_input(s, json!({ "alias": s.hash, "inventoryManagement": true, "historicalImport": "LAST_90_DAYS" })) }),
            )
            .await["connectBigCommerce"]
            .clone();
        assert_eq!(res["userErrors"], json!([]), "{res}");
        let gid = res["integration"]["id"].as_str().unwrap().to_string();
        ids.push(gid.rsplit('/').next().unwrap().parse::<i64>().unwrap());
        gids.push(gid);
    }

    // Several intervals pass: every job has run a few times, on whichever replica won it.
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let mut behind = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            for (kind, wanted) in [(SyncKind::Orders, 3), (SyncKind::Products, 2)] {
                let n = sync_run::Entity::find()
                    .filter(sync_run::Column::IntegrationId.eq(*id))
                    .filter(sync_run::Column::Kind.eq(kind))
                    .filter(sync_run::Column::Outcome.eq(SyncOutcome::Succeeded))
                    .count(&db)
                    .await
                    .unwrap();
                if n < wanted {
                    behind.push(format!(
                        "store {i} {}: {n} of {wanted} runs",
                        kind_name(kind)
                    ));
                }
            }
        }
        if behind.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the schedulers fell behind: {behind:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Every seeded order of every store is here exactly once.
    let mut number_to_gid: Vec<HashMap<i64, String>> = Vec::new();
    for (i, gid) in gids.iter().enumerate() {
        let orders = cluster.orders_of(1, gid).await;
        let numbers: Vec<i64> = orders
            .iter()
            .map(|o| o["number"].as_str().unwrap().parse().unwrap())
            .collect();
        let unique: BTreeSet<i64> = numbers.iter().copied().collect();
        assert_eq!(unique.len(), numbers.len(), "store {i}: an order twice");
        assert_eq!(unique, seeded[i], "store {i}: the imported orders");
        number_to_gid.push(
            orders
                .iter()
                .map(|o| {
                    (
                        o["number"].as_str().unwrap().parse().unwrap(),
                        o["id"].as_str().unwrap().to_string(),
                    )
                })
                .collect(),
        );
    }
    let mut before_kill = RunsSeen::default();
    for gid in &gids {
        let runs = cluster.runs_of(1, gid).await;
        check_runs(gid, &runs, &HashMap::new(), &mut before_kill);
    }
    for (sku, stock) in [(SHARED_1, 1000), (SHARED_2, 500)] {
        assert_eq!(cluster.ledger(1, sku).await.0, stock, "{sku}");
    }
    let phase_one = began.elapsed();

    // Work in flight: every store answers slowly (imports take a while), shoppers place
    // orders on every store, the merchant changes stock through replica 1 and ships an order
    // of every store through replica 0; replica 2 is killed in the middle of an import.
    for s in &stores {
        control(
            &http,
            &sandbox,
            reqwest::Method::PUT,
            &s.hash,
            "faults",
            json!({ "latency_ms": 100 }),
        )
        .await;
    }
    let mut placed: Vec<Placed> = Vec::new();
    for k in 0..4i64 {
        for i in 0..STORES {
            let mut lines = vec![
                (SHARED_1.to_string(), 1 + (i as i64 + k) % 3),
                (own(i), 1 + k % 2),
            ];
            if k % 2 == 0 {
                lines.push((SHARED_2.to_string(), 2));
            }
            placed.push(place(&http, &sandbox, &stores, i, lines).await);
        }
    }
    for (sku, delta) in [(SHARED_2.to_string(), 7), (own(0), 10), (own(3), -4)] {
        let res = cluster
            .data(
                1,
                "mutation($i: AdjustStockInput!) { adjustStock(input: $i) { userErrors { code message } } }",
                json!({ "i": { "sku": sku, "delta": delta, "reason": "replicas test" } }),
            )
            .await;
        assert_eq!(res["adjustStock"]["userErrors"], json!([]), "{res}");
    }
    // A seeded product of store 1 no order touches gets a new figure.
    let counted_sku = sandbox
        .with_store(&stores[1].hash, |s| {
            s.products
                .values()
                .find(|p| {
                    p.inventory_tracking == Tracking::Product
                        && !p.has_options()
                        && p.sku.starts_with("SKU-")
                })
                .map(|p| p.sku.clone())
        })
        .flatten()
        .expect("a seeded simple product");
    let res = cluster
        .data(
            1,
            "mutation($i: SetStockInput!) { setStock(input: $i) { userErrors { code message } } }",
            json!({ "i": { "sku": counted_sku, "quantity": 77, "reason": "stock count" } }),
        )
        .await;
    assert_eq!(res["setStock"]["userErrors"], json!([]), "{res}");
    // One seeded Awaiting Fulfillment order of each store, with one shipping address (one
    // shipment), shipped whole.
    let mut shipped: Vec<(usize, i64)> = Vec::new();
    let mut inputs = Vec::new();
    for (i, s) in stores.iter().enumerate() {
        let number = sandbox
            .with_store(&s.hash, |st| {
                st.orders
                    .values()
                    .find(|o| {
                        o.status_id == 11
                            && o.shipments.is_empty()
                            && o.shipping_addresses.len() == 1
                    })
                    .map(|o| o.id)
            })
            .flatten()
            .expect("an order awaiting fulfillment");
        inputs.push(json!({ "orderId": number_to_gid[i][&number], "method": "MANUAL", "carrier": "UPS", "trackingNumber": format!("1ZREPLICA{i}") }));
        shipped.push((i, number));
    }
    let res = cluster
        .data(
            0,
            "mutation($i: ShipOrdersInput!) { shipOrders(input: $i) { results { userErrors { code message } shipments { pushState } } userErrors { code message } } }",
            json!({ "i": { "shipments": inputs } }),
        )
        .await["shipOrders"]
        .clone();
    assert_eq!(res["userErrors"], json!([]), "{res}");
    for r in res["results"].as_array().unwrap() {
        assert_eq!(r["userErrors"], json!([]), "{res}");
    }

    let victim_pid = cluster.replicas[VICTIM].pid;
    // Preferably while it holds no push claim; a replica whose push pass failed keeps its
    // claims for their whole lease, so after a while any running job will do.
    let waiting = Instant::now();
    loop {
        let picky = waiting.elapsed() < Duration::from_secs(10);
        if in_the_middle_of_a_run(&db, victim_pid, picky).await {
            break;
        }
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "replica {VICTIM} never held a running job"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cluster.replicas[VICTIM].kill();
    let killed_at = Utc::now();
    let killed_after = began.elapsed();
    // What it held when it died (it writes nothing any more).
    let held: HashMap<(String, &'static str), DateTime<Utc>> = sync_job::Entity::find()
        .filter(sync_job::Column::LeaseOwner.like(owned_by(victim_pid)))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|j| {
            (
                (integration_gid(j.integration_id), kind_name(j.kind)),
                j.lease_expires_at.unwrap(),
            )
        })
        .collect();
    let claims_left = push_claims(&db, victim_pid).await;
    assert!(!held.is_empty(), "the killed replica held no job");
    for s in &stores {
        control(
            &http,
            &sandbox,
            reqwest::Method::DELETE,
            &s.hash,
            "faults",
            json!({}),
        )
        .await;
    }
    // More orders after the kill: the survivors take them too.
    for i in 0..STORES {
        placed.push(
            place(
                &http,
                &sandbox,
                &stores,
                i,
                vec![(SHARED_1.to_string(), 2), (own(i), 3)],
            )
            .await,
        );
    }

    // What every figure must end at.
    let mut expected_stock: BTreeMap<String, i64> = BTreeMap::new();
    expected_stock.insert(SHARED_1.into(), 1000);
    expected_stock.insert(SHARED_2.into(), 500 + 7);
    for i in 0..STORES {
        expected_stock.insert(own(i), 100);
    }
    *expected_stock.get_mut(&own(0)).unwrap() += 10;
    *expected_stock.get_mut(&own(3)).unwrap() -= 4;
    for p in &placed {
        for (sku, q) in &p.lines {
            *expected_stock.get_mut(sku).unwrap() -= q;
        }
    }
    expected_stock.insert(counted_sku.clone(), 77);
    let mut expected_orders = seeded.clone();
    for p in &placed {
        expected_orders[p.store].insert(p.number);
    }

    // The survivors put everything right.
    let deadline = Instant::now() + SETTLE;
    let mut all_orders: Vec<Vec<Value>> = Vec::new();
    loop {
        let mut wrong: Vec<String> = Vec::new();
        all_orders.clear();
        for (i, gid) in gids.iter().enumerate() {
            let orders = cluster.orders_of(1, gid).await;
            let numbers: Vec<i64> = orders
                .iter()
                .map(|o| o["number"].as_str().unwrap().parse().unwrap())
                .collect();
            let unique: BTreeSet<i64> = numbers.iter().copied().collect();
            if unique.len() != numbers.len() {
                wrong.push(format!("store {i}: an order twice"));
            }
            if unique != expected_orders[i] {
                let missing: Vec<_> = expected_orders[i].difference(&unique).collect();
                let extra: Vec<_> = unique.difference(&expected_orders[i]).collect();
                wrong.push(format!(
                    "store {i}: orders missing {missing:?}, unexpected {extra:?}"
                ));
            }
            all_orders.push(orders);
        }
        let products = cluster.products(1).await;
        for p in &products {
            let sku = p["sku"].as_str().unwrap_or_default();
            let stock = p["stock"].as_i64().unwrap();
            if let Some(want) = expected_stock.get(sku) {
                if stock != *want {
                    wrong.push(format!("{sku}: stock {stock}, expected {want}"));
                }
            }
            for l in p["listings"].as_array().unwrap() {
                let hash = l["integration"]["alias"].as_str().unwrap();
                match l["stockPushState"].as_str().unwrap() {
                    "TRACKING_OFF" | "TRACKED_BY_PRODUCT" | "MISSING" => continue,
                    "IN_SYNC" => {}
                    other => wrong.push(format!("{sku} on {hash}: {other} {l}")),
                }
                let level = store_level(&sandbox, hash, l);
                if level != Some(stock) {
                    wrong.push(format!(
                        "{sku} on {hash}: the store shows {level:?}, orderdeck {stock}"
                    ));
                }
            }
        }
        for &(i, number) in &shipped {
            let on_store = store_shipments(&sandbox, &stores[i].hash, number);
            if on_store.len() != 1 {
                wrong.push(format!(
                    "store {i} order {number}: {} shipments on the store",
                    on_store.len()
                ));
            }
            let here = order_numbered(&all_orders[i], number)
                .cloned()
                .unwrap_or(Value::Null);
            if here["status"] != "SHIPPED" || here["shipments"].as_array().map(Vec::len) != Some(1)
            {
                wrong.push(format!("store {i} order {number} here: {here}"));
            }
        }
        let queued = push_queue::Entity::find().count(&db).await.unwrap();
        if queued > 0 {
            wrong.push(format!("{queued} pushes still queued"));
        }
        let still_held = sync_job::Entity::find()
            .filter(sync_job::Column::LeaseOwner.like(owned_by(victim_pid)))
            .count(&db)
            .await
            .unwrap();
        if still_held > 0 {
            wrong.push(format!(
                "{still_held} jobs still leased by the killed replica"
            ));
        }
        for (integration, kind) in held.keys() {
            let id: i64 = integration.rsplit('/').next().unwrap().parse().unwrap();
            let kind = if *kind == "ORDERS" {
                SyncKind::Orders
            } else {
                SyncKind::Products
            };
            let after = sync_run::Entity::find()
                .filter(sync_run::Column::IntegrationId.eq(id))
                .filter(sync_run::Column::Kind.eq(kind))
                .filter(sync_run::Column::Outcome.eq(SyncOutcome::Succeeded))
                .filter(sync_run::Column::StartedAt.gt(killed_at))
                .count(&db)
                .await
                .unwrap();
            if after == 0 {
                wrong.push(format!("{integration} {kind:?}: no run since the kill"));
            }
        }
        if wrong.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{:?} after the kill (the killed replica held {claims_left} push claims), still wrong:\n  {}",
            SETTLE,
            wrong[..wrong.len().min(20)].join("\n  ")
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let settled_after = began.elapsed();

    // Each shipment reached its store exactly once, and orderdeck knows the store's id of it.
    for &(i, number) in &shipped {
        let hash = &stores[i].hash;
        assert_eq!(
            sandbox.count(hash, "POST /v2/orders/{id}/shipments"),
            1,
            "store {i}: shipment creations"
        );
        let on_store = store_shipments(&sandbox, hash, number);
        let here = order_numbered(&all_orders[i], number).unwrap();
        let sh = &here["shipments"][0];
        assert_eq!(
            (
                &sh["pushState"],
                &sh["pushAttempts"],
                &sh["storeShipmentId"]
            ),
            (&json!("PUSHED"), &json!(1), &json!(on_store[0].to_string())),
            "store {i} order {number}: {here}"
        );
    }

    // Each order placed took its stock once: one ORDER_PLACED movement per order and SKU,
    // and the ledger explains the figure.
    for sku in expected_stock.keys() {
        let (stock, ledger) = cluster.ledger(1, sku).await;
        assert_ledger_explains(&ledger, stock, sku);
        let mut taken: Vec<String> = ledger
            .iter()
            .filter(|m| m["reason"] == "ORDER_PLACED")
            .map(|m| m["orderId"].as_str().unwrap().to_string())
            .collect();
        taken.sort();
        let mut wanted: Vec<String> = Vec::new();
        for p in placed
            .iter()
            .filter(|p| p.lines.iter().any(|(s, _)| s == sku))
        {
            let order = order_numbered(&all_orders[p.store], p.number).unwrap();
            wanted.push(order["id"].as_str().unwrap().to_string());
        }
        wanted.sort();
        assert_eq!(taken, wanted, "{sku}: the orders that took stock");
    }

    // No job ever ran twice at the same time; the killed replica's interrupted runs were
    // closed and taken over after its lease ran out; every order was created by one run.
    let mut seen = RunsSeen::default();
    for (i, gid) in gids.iter().enumerate() {
        let runs = cluster.runs_of(1, gid).await;
        check_runs(gid, &runs, &held, &mut seen);
        let created: i64 = runs
            .iter()
            .filter(|r| r["kind"] == "ORDERS")
            .map(|r| r["created"].as_i64().unwrap())
            .sum();
        let total = expected_orders[i].len() as i64;
        if held.contains_key(&(gid.clone(), "ORDERS")) {
            // The killed run may have committed orders without recording its counts.
            assert!(
                created <= total,
                "store {i}: {created} orders created by runs, {total} here"
            );
        } else {
            assert_eq!(created, total, "store {i}: orders created by the runs");
        }
    }
    assert!(
        !seen.abandoned.is_empty(),
        "the kill interrupted no run (held: {held:?})"
    );
    println!(
        "replicas: started in {started_in:.1?}, phase one done at {phase_one:.1?}, killed replica {VICTIM} at {killed_after:.1?} holding {held:?} (abandoned runs {:?}, {claims_left} push claims), all settled at {settled_after:.1?}; failed runs: {:?}",
        seen.abandoned, seen.failed
    );
    drop(cluster);
}
