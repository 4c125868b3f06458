//! No secret reaches the logs (security review): the real `orderdeck serve` binary, configured
//! through its environment and its output captured, is driven through every request that
//! carries one (an install code and a signed load payload, accepted and refused; a bearer
//! token in a header and in a query string; a signed document link), once per log format;
//! then everything it printed is searched for each of them, and for the request lines that
//! show it logged those requests at all. Logging is process-global, hence a child process
//! per format.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use orderdeck_sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use serde_json::{json, Value};

use crate::support::{free_port, random_secret_key, TestDb, APP_CLIENT_ID, APP_CLIENT_SECRET};

const PASSWORD: &str = "correct horse battery staple";
const EMAIL: &str = "owner@logs.example";
/// The paths whose request lines must be in the log (a log of nothing holds no secret).
const LOGGED_PATHS: [&str; 4] = [
    "/bigcommerce/auth",
    "/bigcommerce/load",
    "/graphql",
    "/documents/links/***",
];
/// Query strings that carry a secret: none may be printed, whatever its value.
const SECRET_QUERIES: [&str; 4] = ["access_token=", "signed_payload_jwt=", "?code=", "&code="];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Format {
    Text,
    Json,
}

impl Format {
    fn env(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The server process
// ---------------------------------------------------------------------------------------------

/// One `orderdeck serve` child process, stdout and stderr in one file; killed when dropped (a
/// failing test prints the end of its log).
struct Server {
    url: String,
    log: PathBuf,
    child: Option<Child>,
}

impl Server {
    fn spawn(dir: &Path, env: &[(&str, String)]) -> Server {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let log = dir.join(format!("orderdeck-{port}.log"));
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
        cmd.envs(env.iter().map(|(k, v)| (k, v)))
            .env("ORDERDECK_BIND", format!("127.0.0.1:{port}"))
            .env("ORDERDECK_PUBLIC_URL", &url);
        let child = cmd.spawn().expect("starting orderdeck serve");
        Server {
            url,
            log,
            child: Some(child),
        }
    }

    /// Spawns the server and waits until `/healthz` answers; a port taken meanwhile by someone
    /// else is tried again with another.
    async fn start(dir: &Path, env: &[(&str, String)], http: &reqwest::Client) -> Server {
        let mut attempt = 0;
        loop {
            let mut server = Server::spawn(dir, env);
            match server.healthy(http).await {
                Ok(()) => return server,
                Err(e) if attempt < 3 && e.contains("binding") => attempt += 1,
                Err(e) => panic!("{e}"),
            }
        }
    }

    async fn healthy(&mut self, http: &reqwest::Client) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(format!(
                    "orderdeck exited with {status} before it answered:\n{}",
                    self.output()
                ));
            }
            if let Ok(res) = http.get(format!("{}/healthz", self.url)).send().await {
                if res.status() == 200 {
                    return Ok(());
                }
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(format!(
                    "orderdeck did not answer within 60 s:\n{}",
                    self.output()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the process as an operator would (SIGTERM: in-flight requests finish, every line
    /// is written) and returns everything it printed.
    async fn stop(&mut self) -> String {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let started = Instant::now();
            while child.try_wait().ok().flatten().is_none() {
                if started.elapsed() > Duration::from_secs(20) {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        self.output()
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            let text = self.output();
            let lines: Vec<&str> = text.lines().collect();
            eprintln!(
                "---- last lines of {} ----\n{}",
                self.log.display(),
                lines[lines.len().saturating_sub(60)..].join("\n")
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One run: a server in `format`, driven through every secret-carrying request
// ---------------------------------------------------------------------------------------------

/// What one run printed and the secrets it handled.
struct Run {
    log: String,
    secrets: Vec<(&'static str, String)>,
}

async fn gql(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    vars: Value,
) -> Value {
    let mut req = http
        .post(format!("{url}/graphql"))
        .json(&json!({ "query": query, "variables": vars }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    body["data"].clone()
}

/// A sandbox control call (`POST /_sandbox/{path}`): its JSON answer, `expect`ed status.
async fn control(
    http: &reqwest::Client,
    sandbox: &SandboxHandle,
    path: &str,
    body: Value,
    expect: u16,
) -> Value {
    let res = http
        .post(format!("{}/_sandbox/{path}", sandbox.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let answer: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(status, expect, "{path}: {answer}");
    answer
}

/// GETs `url`: status, content type and body.
async fn open(http: &reqwest::Client, url: &str) -> (u16, String, Vec<u8>) {
    let res = http.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, kind, res.bytes().await.unwrap().to_vec())
}

async fn run(format: Format) -> Run {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::create(dir.path()).await;
    let sandbox = Sandbox::spawn(SandboxConfig {
        stores: 1,
        orders: 2,
        products: 5,
        ..Default::default()
    })
    .unwrap();
    let store = sandbox.first_store();
    let key = random_secret_key();
    let env = [
        ("DATABASE_URL", db.url.clone()),
        (
            "ORDERDECK_DATA_DIR",
            dir.path().join("data").display().to_string(),
        ),
        ("ORDERDECK_SECRET_KEY", key.clone()),
        ("ORDERDECK_BIGCOMMERCE_API_URL", sandbox.url.clone()),
        ("ORDERDECK_BIGCOMMERCE_LOGIN_URL", sandbox.url.clone()),
        ("ORDERDECK_BIGCOMMERCE_APP_CLIENT_ID", APP_CLIENT_ID.into()),
        (
            "ORDERDECK_BIGCOMMERCE_APP_CLIENT_SECRET",
            APP_CLIENT_SECRET.into(),
        ),
        ("ORDERDECK_SYNC_ENABLED", "false".into()),
        ("ORDERDECK_PUSH_ENABLED", "false".into()),
        ("ORDERDECK_SHUTDOWN_TIMEOUT_SECS", "5".into()),
        ("ORDERDECK_LOG_FORMAT", format.env().into()),
        ("RUST_LOG", "info".into()),
    ];
    let mut server = Server::start(dir.path(), &env, &http).await;
    let app = server.url.clone();
    control(
        &http,
        &sandbox,
        "apps",
        json!({
            "client_id": APP_CLIENT_ID,
            "client_secret": APP_CLIENT_SECRET,
            "redirect_uri": format!("{app}/bigcommerce/auth"),
        }),
        201,
    )
    .await;

    // 1. Register and log in.
    let reg = gql(
        &http,
        &app,
        None,
        "mutation($i: RegisterInput!) { register(input: $i) { userErrors { field code message } } }",
        json!({ "i": { "accountName": "Logs Ltd", "email": EMAIL, "password": PASSWORD } }),
    )
    .await;
    assert_eq!(reg["register"]["userErrors"], json!([]), "{reg}");
    let login = gql(
        &http,
        &app,
        None,
        "mutation($i: LoginInput!) { login(input: $i) { token userErrors { field code message } } }",
        json!({ "i": { "email": EMAIL, "password": PASSWORD } }),
    )
    .await;
    let token = login["login"]["token"].as_str().unwrap().to_string();

    // 2. Install the app: the auth callback carries the install code; claim the store.
    let install = control(
        &http,
        &sandbox,
        &format!("apps/{APP_CLIENT_ID}/install"),
        json!({ "store_hash": store.hash }),
        201,
    )
    .await;
    let code = install["code"].as_str().unwrap().to_string();
    let auth_url = install["auth_callback_url"].as_str().unwrap();
    assert!(auth_url.contains(&format!("code={code}")), "{auth_url}");
    let (status, _, html) = open(&http, auth_url).await;
    let html = String::from_utf8(html).unwrap();
    assert_eq!(status, 200, "{html}");
    let start = html.find("id=\"claim-code\">").expect("a claim code") + "id=\"claim-code\">".len();
    let claim_code = html[start..start + html[start..].find('<').unwrap()].to_string();
    let claimed = gql(
        &http,
        &app,
        Some(&token),
        "mutation($i: ClaimBigCommerceInstallationInput!) { claimBigCommerceInstallation(input: $i) { integration { id } userErrors { field code message } } }",
        json!({ "i": { "code": claim_code } }),
    )
    .await["claimBigCommerceInstallation"]
        .clone();
    assert_eq!(claimed["userErrors"], json!([]), "{claimed}");
    let integration = claimed["integration"]["id"].as_str().unwrap().to_string();
    // The token the store gave the app (it reaches orderdeck in the code exchange).
    let app_token = orderdeck_sandbox::server::lock(&sandbox.state).stores[&store.hash]
        .accounts
        .iter()
        .find(|a| a.client_id == APP_CLIENT_ID)
        .map(|a| a.access_token.clone())
        .unwrap();

    // 3. Open the app from the control panel: a signed load payload.
    let load = control(
        &http,
        &sandbox,
        &format!("apps/{APP_CLIENT_ID}/callbacks/load"),
        json!({ "store_hash": store.hash }),
        200,
    )
    .await;
    let jwt = load["signed_payload_jwt"].as_str().unwrap().to_string();
    let load_url = load["url"].as_str().unwrap();
    assert!(
        load_url.contains(&format!("signed_payload_jwt={jwt}")),
        "{load_url}"
    );
    let (status, _, html) = open(&http, load_url).await;
    let html = String::from_utf8(html).unwrap();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("is connected to orderdeck"), "{html}");
    // Refusals log a warning: it names neither the refused payload nor the refused code.
    let forged = control(
        &http,
        &sandbox,
        &format!("apps/{APP_CLIENT_ID}/callbacks/load"),
        json!({ "store_hash": store.hash, "tamper": true }),
        200,
    )
    .await;
    let forged_jwt = forged["signed_payload_jwt"].as_str().unwrap().to_string();
    let (status, _, _) = open(&http, forged["url"].as_str().unwrap()).await;
    assert_eq!(status, 401);
    let refused_code = format!("refused{:032x}", rand::random::<u128>());
    let (status, _, _) = open(
        &http,
        &format!(
            "{app}/bigcommerce/auth?code={refused_code}&scope=store_v2_orders&context=stores/{}",
            store.hash
        ),
    )
    .await;
    assert_eq!(status, 502);

    // 4. A GET query with the token in the query string (as careless clients send it), then
    //    in the header.
    let res = http
        .get(format!("{app}/graphql"))
        .query(&[
            ("query", "{ me { email } }"),
            ("access_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = http
        .get(format!("{app}/graphql"))
        .query(&[("query", "{ me { email } }")])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["me"]["email"], EMAIL, "{body}");

    // 5. Import the orders and download an invoice through a signed link.
    let sync = gql(
        &http,
        &app,
        Some(&token),
        "mutation($i: SyncNowInput!) { syncNow(input: $i) { runs { kind outcome error } userErrors { field code message } } }",
        json!({ "i": { "integrationId": integration, "kind": "ORDERS" } }),
    )
    .await["syncNow"]
        .clone();
    assert_eq!(sync["runs"][0]["outcome"], "SUCCEEDED", "{sync}");
    let orders = gql(
        &http,
        &app,
        Some(&token),
        "{ orders(first: 1) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    let order = orders["orders"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no imported order: {orders}"))
        .to_string();
    let link = gql(
        &http,
        &app,
        Some(&token),
        "mutation($i: CreateDocumentLinkInput!) { createDocumentLink(input: $i) { link { url } userErrors { field code message } } }",
        json!({ "i": { "kind": "INVOICE", "orderIds": [order] } }),
    )
    .await["createDocumentLink"]
        .clone();
    assert_eq!(link["userErrors"], json!([]), "{link}");
    let path = link["link"]["url"].as_str().unwrap().to_string();
    let link_token = path
        .strip_prefix("/documents/links/")
        .unwrap_or_else(|| panic!("not a link URL: {path}"))
        .to_string();
    let (status, kind, pdf) = open(&http, &format!("{app}{path}")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(kind, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));

    // 6. Stop it and read everything it printed.
    let log = strip_ansi(&server.stop().await);
    Run {
        log,
        secrets: vec![
            ("the install code", code),
            ("the signed load payload", jwt.clone()),
            (
                "the start of the signed load payload",
                jwt[..20].to_string(),
            ),
            ("a forged signed load payload", forged_jwt),
            ("an install code the store refused", refused_code),
            ("the bearer token", token),
            ("the document link's token", link_token),
            ("the claim code", claim_code),
            ("the password", PASSWORD.into()),
            ("the secret key", key),
            ("the app's client secret", APP_CLIENT_SECRET.into()),
            ("the store's token for the app", app_token),
        ],
    }
}

/// The text without ANSI escape sequences (a text log is coloured even into a file, and a
/// colour code between a field's name and its `=` would hide it from a search).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The `http.target` of every request line of `log`.
fn logged_targets(log: &str, format: Format) -> Vec<String> {
    log.lines()
        .flat_map(|line| -> Vec<String> {
            match format {
                Format::Text => line
                    .split([' ', '{', '}'])
                    .filter_map(|field| field.strip_prefix("http.target="))
                    .map(|target| target.trim_matches('"').to_string())
                    .collect(),
                Format::Json => serde_json::from_str::<Value>(line)
                    .ok()
                    .and_then(|v| v["span"]["http.target"].as_str().map(str::to_string))
                    .into_iter()
                    .collect(),
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_logs_hold_no_install_code_jwt_token_or_document_link_in_either_format() {
    // Both formats run before anything is asserted, so a failure names every leak of both.
    let mut failures = Vec::new();
    for format in [Format::Text, Format::Json] {
        let Run { log, secrets } = run(format).await;

        for (what, secret) in &secrets {
            assert!(secret.len() >= 12, "{what} is too short to search for");
            for line in log.lines().filter(|l| l.contains(secret.as_str())) {
                failures.push(format!("{format:?} log holds {what}: {line}"));
            }
        }
        for query in SECRET_QUERIES {
            for line in log.lines().filter(|l| l.contains(query)) {
                failures.push(format!(
                    "{format:?} log holds a `{query}` query string: {line}"
                ));
            }
        }

        // Not vacuous: the requests that carried them were logged, by their path.
        let targets = logged_targets(&log, format);
        for path in LOGGED_PATHS {
            if !targets.iter().any(|t| t == path) {
                failures.push(format!(
                    "{format:?} log has no request line for {path} (targets: {targets:?})"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
