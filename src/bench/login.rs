//! `orderdeck bench login`: a burst of sign-ins against a started server, and the memory
//! the password checks take and give back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use serde_json::{json, Value};

use super::{machine, status_mib, ServerProcess};

/// The registered user's password.
const PASSWORD: &str = "bench login password, long enough";

/// How one sign-in ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    /// A token (the right password).
    SignedIn,
    /// `INVALID_CREDENTIALS` (an unknown email).
    Refused,
    /// `TOO_MANY_ATTEMPTS`: the pool's queue was full.
    Busy,
}

/// What to run.
#[derive(Clone, Copy, Debug)]
pub struct LoginOptions {
    /// Sign-ins in all.
    pub attempts: usize,
    /// Sign-ins in flight at once.
    pub concurrency: usize,
    /// Seconds to wait after the burst before measuring what memory is left.
    pub settle_seconds: u64,
}

/// Starts `orderdeck serve` as a child process on a fresh SQLite database (or `DATABASE_URL`),
/// so that its memory is the server's alone, registers one user, then sends `attempts` logins, `concurrency` at a time: every other one
/// with the right password, the rest for unknown emails (which cost the same check). Prints
/// checks per second, the answers, and the resident memory before, at its peak (sampled
/// every 10 ms) and `settle_seconds` after.
pub async fn login(o: LoginOptions) -> anyhow::Result<()> {
    let server = ServerProcess::start(&[]).await?;
    let (url, backend) = (format!("{}/graphql", server.base), server.backend);
    let pid = server.child.id().to_string();
    let http = reqwest::Client::new();
    let email = format!("bench-login-{}@orderdeck.local", std::process::id());
    register(&http, &url, &email).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = status_mib(&pid, "VmRSS:").context("no /proc status of the server")?;

    let peak_kib = Arc::new(AtomicU64::new(0));
    let sampling = tokio::spawn(sample_peak(pid.clone(), peak_kib.clone()));
    let started = Instant::now();
    let outcomes: Vec<anyhow::Result<Outcome>> = futures_util::stream::iter(0..o.attempts)
        .map(|n| {
            let (http, url) = (http.clone(), url.clone());
            let email = if n % 2 == 0 {
                email.clone()
            } else {
                format!("nobody-{n}@orderdeck.local")
            };
            async move { attempt(&http, &url, &email).await }
        })
        .buffer_unordered(o.concurrency.max(1))
        .collect()
        .await;
    let elapsed = started.elapsed();
    sampling.abort();
    let peak = peak_kib.load(Ordering::Relaxed) as f64 / 1024.0;
    let count = |want: Outcome| {
        outcomes
            .iter()
            .filter(|r| matches!(r, Ok(got) if *got == want))
            .count()
    };
    let failed: Vec<String> = outcomes
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| format!("{e:#}")))
        .take(3)
        .collect();
    let (signed_in, refused, busy) = (
        count(Outcome::SignedIn),
        count(Outcome::Refused),
        count(Outcome::Busy),
    );
    tokio::time::sleep(Duration::from_secs(o.settle_seconds)).await;
    let after = status_mib(&pid, "VmRSS:").context("no /proc status of the server")?;

    println!("orderdeck bench login  ({backend}; machine: {})", machine());
    println!(
        "  {} sign-ins, {} at a time (half the right password, half unknown emails)",
        o.attempts, o.concurrency
    );
    println!(
        "  {:.2} s: {:.1} password checks/s; signed in {signed_in}, refused {refused}, TOO_MANY_ATTEMPTS {busy}",
        elapsed.as_secs_f64(),
        (signed_in + refused) as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  resident memory: {before:.1} MiB before, peak {peak:.1} MiB during, {after:.1} MiB {} s after",
        o.settle_seconds
    );
    drop(server);
    anyhow::ensure!(failed.is_empty(), "requests failed: {failed:?}");
    Ok(())
}

/// Keeps the highest resident memory of process `pid` seen (KiB) in `peak`, every 10 ms.
async fn sample_peak(pid: String, peak: Arc<AtomicU64>) {
    loop {
        if let Some(mib) = status_mib(&pid, "VmRSS:") {
            peak.fetch_max((mib * 1024.0) as u64, Ordering::Relaxed);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn register(http: &reqwest::Client, url: &str, email: &str) -> anyhow::Result<()> {
    let body: Value = http
        .post(url)
        .json(&json!({
            "query": "mutation($i: RegisterInput!) { register(input: $i) { userErrors { code message } } }",
            "variables": { "i": { "accountName": "Bench login", "email": email, "password": PASSWORD } }
        }))
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(
        body["data"]["register"]["userErrors"] == json!([]),
        "registering {email}: {body}"
    );
    Ok(())
}

async fn attempt(http: &reqwest::Client, url: &str, email: &str) -> anyhow::Result<Outcome> {
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
    let login = &body["data"]["login"];
    match (
        login["token"].as_str(),
        login["userErrors"][0]["code"].as_str(),
    ) {
        (Some(_), _) => Ok(Outcome::SignedIn),
        (None, Some("INVALID_CREDENTIALS")) => Ok(Outcome::Refused),
        (None, Some("TOO_MANY_ATTEMPTS")) => Ok(Outcome::Busy),
        _ => anyhow::bail!("unexpected answer: {body}"),
    }
}
