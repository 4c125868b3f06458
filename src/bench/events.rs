//! `orderdeck bench events`: subscribers connected over `/graphql/ws`, the server's memory
//! with them, and how long a committed stock change takes to reach every one.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use super::{machine, status_mib, ServerProcess};
use orderdeck_sandbox::{Sandbox, SandboxConfig};

/// The bench account's password.
const PASSWORD: &str = "bench-password-1";

/// What to run.
#[derive(Clone, Copy, Debug)]
pub struct EventsOptions {
    /// Subscribers (subscriptions) at once.
    pub subscribers: usize,
    /// Subscriptions per WebSocket connection (at most the server's 20).
    pub per_connection: usize,
    /// Stock changes, one after the other, each waited for at every subscriber.
    pub changes: usize,
}

/// Connections per API key (the server's limit per login or key).
const CONNECTIONS_PER_KEY: usize = 10;

/// When each subscriber heard each change: `heard[change]` holds the arrival times.
type Heard = Arc<Mutex<Vec<Vec<Instant>>>>;

/// Starts a sandbox store with one product and `orderdeck serve` (a child process, so its
/// memory is the server's alone) connected to it, subscribes `subscribers` times to
/// `stockChanged` over WebSocket connections holding `per_connection` subscriptions each, and
/// prints the server's memory before and with them, then the latency from sending each
/// `adjustStock` to each subscriber receiving it.
pub async fn events(o: EventsOptions) -> anyhow::Result<()> {
    let sandbox = Sandbox::spawn(SandboxConfig {
        stores: 1,
        orders: 0,
        products: 0,
        ..SandboxConfig::default()
    })?;
    let store = sandbox.first_store();
    let server = ServerProcess::start(&[
        ("ORDERDECK_BIGCOMMERCE_API_URL", sandbox.url.clone()),
        ("ORDERDECK_SYNC_ENABLED", "false".into()),
    ])
    .await?;
    let pid = server.child.id().to_string();
    let http = reqwest::Client::new();
    let gql = format!("{}/graphql", server.base);
    let token = account_with_product(&http, &gql, &sandbox.url, &store).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = status_mib(&pid, "VmRSS:").context("no /proc status of the server")?;

    // A login or key holds at most 10 connections: the subscribers use API keys.
    let connections = o.subscribers.div_ceil(o.per_connection);
    let keys = api_keys(
        &http,
        &gql,
        &token,
        connections.div_ceil(CONNECTIONS_PER_KEY),
    )
    .await?;
    let heard: Heard = Arc::new(Mutex::new(vec![Vec::new(); o.changes]));
    let ws_url = format!("{}/graphql/ws", server.base.replace("http://", "ws://"));
    let mut tasks = Vec::with_capacity(connections);
    // The first tenth warms what every later subscriber shares (the keys' rows in the
    // database's cache, the workers' allocator arenas); the rest shows what one more costs.
    let warm = (connections / 10).max(1).min(connections);
    let mut warmed = before;
    for n in 0..connections {
        if n == warm {
            tokio::time::sleep(Duration::from_secs(2)).await;
            warmed = status_mib(&pid, "VmRSS:").context("no /proc status of the server")?;
        }
        let key = &keys[n / CONNECTIONS_PER_KEY];
        let subscriptions = o.per_connection.min(o.subscribers - n * o.per_connection);
        tasks.push(subscriber(&ws_url, key, subscriptions, heard.clone()).await?);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let with = status_mib(&pid, "VmRSS:").context("no /proc status of the server")?;

    let mut latencies = Vec::with_capacity(o.subscribers * o.changes);
    for change in 0..o.changes {
        let sent = Instant::now();
        adjust(&http, &gql, &token).await?;
        let deadline = sent + Duration::from_secs(10);
        loop {
            let count = heard.lock().map(|h| h[change].len()).unwrap_or(0);
            if count >= o.subscribers || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        if let Ok(h) = heard.lock() {
            latencies.extend(h[change].iter().map(|at| at.duration_since(sent)));
        }
    }
    let expected = o.subscribers * o.changes;
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "orderdeck bench events  ({}; machine: {})",
        server.backend,
        machine()
    );
    let warm_subscribers = warm * o.per_connection;
    println!(
        "  {} subscribers to stockChanged over /graphql/ws, {} per connection ({connections} connections): server RSS {before:.1} MiB before, {warmed:.1} MiB with {warm_subscribers}, {with:.1} MiB with all",
        o.subscribers, o.per_connection,
    );
    println!(
        "  memory per idle subscriber: {:.1} KiB each beyond the first {warm_subscribers} ({:.1} KiB averaged over all, from before)",
        (with - warmed) * 1024.0 / (o.subscribers.saturating_sub(warm_subscribers)).max(1) as f64,
        (with - before) * 1024.0 / o.subscribers.max(1) as f64
    );
    println!(
        "  {} adjustStock calls, each heard by every subscriber: {}/{} events delivered; from sending the mutation: median {:.1?}, p99 {:.1?}, max {:.1?}",
        o.changes,
        latencies.len(),
        expected,
        pct(0.5),
        pct(0.99),
        latencies.last().copied().unwrap_or_default()
    );
    for t in tasks {
        t.abort();
    }
    drop(server);
    sandbox.stop().await;
    anyhow::ensure!(latencies.len() == expected, "some events never arrived");
    Ok(())
}

/// Registers, logs in, connects the sandbox store, puts a product `EVT-1` on it and imports
/// it: the bearer token.
async fn account_with_product(
    http: &reqwest::Client,
    gql: &str,
    sandbox_url: &str,
    store: &orderdeck_sandbox::server::StoreCredentials,
) -> anyhow::Result<String> {
    let email = format!("bench-events-{}@orderdeck.local", std::process::id());
    let call = |query: &'static str, variables: Value, token: Option<String>| {
        let mut req = http
            .post(gql)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let body: Value = req.send().await?.json().await?;
            anyhow::Ok(body)
        }
    };
    call(
        "mutation($i: RegisterInput!) { register(input: $i) { userErrors { code } } }",
        json!({ "i": { "accountName": "Bench", "email": email, "password": PASSWORD } }),
        None,
    )
    .await?;
    let login = call(
        "mutation($i: LoginInput!) { login(input: $i) { token } }",
        json!({ "i": { "email": email, "password": PASSWORD } }),
        None,
    )
    .await?;
    let token = login["data"]["login"]["token"]
        .as_str()
        .with_context(|| format!("logging in: {login}"))?
        .to_string();
    http.post(format!(
        "{sandbox_url}/_sandbox/stores/{}/products",
        store.hash
    ))
    .json(&json!({ "name": "Event mug", "sku": "EVT-1", "inventory_level": 1000 }))
    .send()
    .await?
    .error_for_status()?;
    let connected = call(
        "mutation($i: ConnectBigCommerceInput!) { connectBigCommerce(input: $i) { integration { id } userErrors { code } } }",
        json!({ "i": { "storeHash": store.hash, "clientId": store.client_id, "accessToken": store.access_token } }),
        Some(token.clone()),
    )
    .await?;
    let id = connected["data"]["connectBigCommerce"]["integration"]["id"]
        .as_str()
        .with_context(|| format!("connecting the store: {connected}"))?
        .to_string();
    let synced = call(
        "mutation($i: SyncNowInput!) { syncNow(input: $i) { runs { outcome } userErrors { code } } }",
        json!({ "i": { "integrationId": id, "kind": "PRODUCTS" } }),
        Some(token.clone()),
    )
    .await?;
    anyhow::ensure!(
        synced["data"]["syncNow"]["runs"][0]["outcome"] == "SUCCEEDED",
        "importing the product: {synced}"
    );
    Ok(token)
}

/// `count` VIEWER API keys of the account: their secrets.
async fn api_keys(
    http: &reqwest::Client,
    gql: &str,
    token: &str,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let mut keys = Vec::with_capacity(count);
    for n in 0..count {
        let body: Value = http
            .post(gql)
            .bearer_auth(token)
            .json(&json!({
                "query": "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }",
                "variables": { "i": { "name": format!("subscriber {n}"), "role": "VIEWER" } }
            }))
            .send()
            .await?
            .json()
            .await?;
        let secret = body["data"]["createApiKey"]["secret"]
            .as_str()
            .with_context(|| format!("creating an API key: {body}"))?;
        keys.push(secret.to_string());
    }
    Ok(keys)
}

/// One connection: connects, subscribes `subscriptions` times to `stockChanged`, and records
/// when each change arrives at each subscription (by the figure it reports: the nth change
/// leaves 1000 + n).
async fn subscriber(
    url: &str,
    token: &str,
    subscriptions: usize,
    heard: Heard,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket.send(Message::Text(init.to_string().into())).await?;
    let ack = socket.next().await.context("no connection_ack")??;
    anyhow::ensure!(ack.to_text()?.contains("connection_ack"), "refused: {ack}");
    for id in 0..subscriptions {
        let subscribe = json!({ "id": id.to_string(), "type": "subscribe", "payload": { "query": "subscription { stockChanged(sku: \"EVT-1\") { product { stock } } }" } });
        socket
            .send(Message::Text(subscribe.to_string().into()))
            .await?;
    }
    Ok(tokio::spawn(async move {
        while let Some(Ok(message)) = socket.next().await {
            let Ok(text) = message.to_text() else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(text) else {
                continue;
            };
            if let Some(stock) = v["payload"]["data"]["stockChanged"]["product"]["stock"].as_i64() {
                let at = Instant::now();
                if let (Ok(change), Ok(mut h)) = (usize::try_from(stock - 1001), heard.lock()) {
                    if let Some(slot) = h.get_mut(change) {
                        slot.push(at);
                    }
                }
            }
        }
    }))
}

/// Adds one to `EVT-1`'s stock.
async fn adjust(http: &reqwest::Client, gql: &str, token: &str) -> anyhow::Result<()> {
    let body: Value = http
        .post(gql)
        .bearer_auth(token)
        .json(&json!({
            "query": "mutation { adjustStock(input: { sku: \"EVT-1\", delta: 1, reason: \"bench\" }) { userErrors { code } } }"
        }))
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(
        body["data"]["adjustStock"]["userErrors"] == json!([]),
        "adjustStock: {body}"
    );
    Ok(())
}
