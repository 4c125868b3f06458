//! Spawning the app, its database and a BigCommerce sandbox; a small GraphQL client.

use std::net::TcpListener;
use std::time::Duration;

use base64::Engine;
use orderdeck::config::{Secret, Settings};
use orderdeck::startup::Application;
use orderdeck::state::AppState;
use orderdeck_sandbox::server::StoreCredentials;
use orderdeck_sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use rand::RngCore;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};

/// A URL where nothing listens.
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A database owned by one test: a SQLite file in a temp dir, or a fresh PostgreSQL database
/// (dropped when the test ends) when TEST_DATABASE_URL is set.
pub struct TestDb {
    pub url: String,
    pg: Option<(String, String)>,
}

fn random_suffix() -> String {
    let mut b = [0u8; 6];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl TestDb {
    pub async fn create(dir: &std::path::Path) -> Self {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))
        {
            Some(admin) => {
                let name = format!("orderdeck_t_{}", random_suffix());
                let conn = Database::connect(&admin)
                    .await
                    .expect("connecting to TEST_DATABASE_URL");
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap();
                conn.close().await.ok();
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
                TestDb {
                    url: format!("{base}/{name}"),
                    pg: Some((admin, name)),
                }
            }
            None => TestDb {
                url: format!("sqlite://{}?mode=rwc", dir.join("test.db").display()),
                pg: None,
            },
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(conn) = Database::connect(&admin).await {
                        let _ = conn
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
    pub state: AppState,
    /// The BigCommerce sandbox the app talks to (one store, no orders or products).
    pub sandbox: SandboxHandle,
    /// The credentials of the sandbox's first store (the defaults of `connect`).
    pub store: StoreCredentials,
    _db: TestDb,
    _dir: tempfile::TempDir,
}

/// Spawns the app with test settings, adjusted by `tweak`.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with_sandbox(|_| {}, tweak).await
}

/// Spawns the app and a sandbox whose configuration `sandbox_tweak` adjusts.
pub async fn spawn_app_with_sandbox(
    sandbox_tweak: impl FnOnce(&mut SandboxConfig),
    tweak: impl FnOnce(&mut Settings),
) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        orderdeck::telemetry::init(orderdeck::config::LogFormat::Text);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::create(dir.path()).await;
    let mut sandbox_config = SandboxConfig {
        stores: 1,
        orders: 0,
        products: 0,
        ..Default::default()
    };
    sandbox_tweak(&mut sandbox_config);
    let sandbox = Sandbox::spawn(sandbox_config).expect("starting the sandbox");
    let store = sandbox.first_store();
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    let mut settings = Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: dir.path().join("data"),
        database_url: Some(Secret::new(db.url.clone())),
        db_max_connections: 5,
        secret_key: Some(Secret::new(
            base64::engine::general_purpose::STANDARD.encode(key),
        )),
        bigcommerce_api_url: sandbox.url.clone(),
        bigcommerce_timeout: Duration::from_millis(1500),
        sync_enabled: false,
        // Tests that check pushes to the stores turn the worker on (or drive
        // `sync::push::run_once`); elsewhere pushes would add calls to the sandbox's counts.
        push_enabled: false,
        ..Settings::default()
    };
    tweak(&mut settings);
    let app = Application::build(settings.clone())
        .await
        .expect("building the app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        http: reqwest::Client::new(),
        state,
        sandbox,
        store,
        _db: db,
        _dir: dir,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    /// Posts a GraphQL operation and returns the whole JSON response.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self
            .http
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200, "GraphQL answered HTTP {}", res.status());
        res.json().await.unwrap()
    }

    /// Posts and returns `data`, failing the test on any top-level error.
    pub async fn data(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    pub async fn register(&self, account: &str, email: &str) -> Value {
        self.data(
            None,
            "mutation($i: RegisterInput!) { register(input: $i) { user { id email account { id name } } userErrors { field code message } } }",
            json!({ "i": { "accountName": account, "email": email, "password": PASSWORD } }),
        )
        .await["register"]
            .clone()
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        self.data(
            None,
            "mutation($i: LoginInput!) { login(input: $i) { token expiresAt user { email } userErrors { field code message } } }",
            json!({ "i": { "email": email, "password": password } }),
        )
        .await["login"]
            .clone()
    }

    /// Registers a fresh account and returns a bearer token for it.
    pub async fn signed_in(&self, email: &str) -> String {
        let reg = self.register(&format!("Company of {email}"), email).await;
        assert_eq!(reg["userErrors"], json!([]), "{reg}");
        let login = self.login(email, PASSWORD).await;
        login["token"].as_str().unwrap().to_string()
    }

    /// Calls `connectBigCommerce` with `input` merged over the first sandbox store's
    /// credentials.
    pub async fn connect(&self, token: &str, input: Value) -> Value {
        let merged = store_input(&self.store, input);
        self.data(
            Some(token),
            &format!("mutation($i: ConnectBigCommerceInput!) {{ connectBigCommerce(input: $i) {{ integration {{ {INTEGRATION_FIELDS} }} userErrors {{ field code message }} }} }}"),
            json!({ "i": merged }),
        )
        .await["connectBigCommerce"]
            .clone()
    }

    /// Sets the injected faults of the first sandbox store (`PUT /_sandbox/stores/{hash}/faults`).
    pub async fn faults(&self, faults: Value) {
        let res = self
            .http
            .put(format!(
                "{}/_sandbox/stores/{}/faults",
                self.sandbox.url, self.store.hash
            ))
            .json(&faults)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "setting faults {faults}");
    }

    /// Clears the injected faults of the first sandbox store.
    pub async fn clear_faults(&self) {
        let res = self
            .http
            .delete(format!(
                "{}/_sandbox/stores/{}/faults",
                self.sandbox.url, self.store.hash
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
    }

    /// `GET /v2/store` requests the first sandbox store received.
    pub fn store_calls(&self) -> u64 {
        self.sandbox.count(&self.store.hash, "GET /v2/store")
    }

    /// Every API request the sandbox received, for any store.
    pub fn sandbox_requests(&self) -> usize {
        orderdeck_sandbox::server::lock(&self.sandbox.state)
            .request_log
            .len()
    }

    /// How many integrations the account of `token` has, through the API.
    pub async fn integration_count(&self, token: &str) -> u64 {
        self.data(Some(token), "{ integrations { totalCount } }", json!({}))
            .await["integrations"]["totalCount"]
            .as_u64()
            .unwrap()
    }

    /// Rows in a table, straight from the database.
    pub async fn rows(&self, table: &str) -> i64 {
        let row = self
            .state
            .db
            .query_one(sea_orm::Statement::from_string(
                self.state.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

/// Connect input for `store` (hash, client id, token) with `extra` merged over it.
pub fn store_input(store: &StoreCredentials, extra: Value) -> Value {
    let mut merged = json!({
        "storeHash": store.hash,
        "clientId": store.client_id,
        "accessToken": store.access_token,
    });
    if let (Some(m), Some(extra)) = (merged.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            m.insert(k.clone(), v.clone());
        }
    }
    merged
}

/// Every scalar field of `Integration`, for selections in tests.
pub const INTEGRATION_FIELDS: &str = "id channel status storeHash clientId accessTokenLast4 alias storeName storeCurrency orderManagement inventoryManagement historicalImport historicalImportSince importOrdersSince iossNumber returnAddress { name company street1 street2 city state postalCode countryCode } phone phoneMode email emailMode logo { contentType width height byteSize sha256 url } connectedAt disconnectedAt connectedVia webhooks { state error destination registeredAt lastDeliveryAt }";

/// The codes of a payload's userErrors.
pub fn codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_string())
        .collect()
}

/// The top-level error code of a response.
pub fn error_code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

impl TestApp {
    /// Registers `email`, connects the first sandbox store through the API and returns the
    /// bearer token and the integration row (for driving imports directly).
    pub async fn connected(
        &self,
        email: &str,
    ) -> (String, orderdeck::entities::integration::Model) {
        self.connected_with(email, json!({})).await
    }

    /// Like [`TestApp::connected`], with extra `connectBigCommerce` input fields.
    pub async fn connected_with(
        &self,
        email: &str,
        extra: Value,
    ) -> (String, orderdeck::entities::integration::Model) {
        use sea_orm::EntityTrait;
        let token = self.signed_in(email).await;
        let res = self.connect(&token, extra).await;
        assert_eq!(res["userErrors"], json!([]), "{res}");
        let gid = res["integration"]["id"].as_str().unwrap();
        let id: i64 = gid.rsplit('/').next().unwrap().parse().unwrap();
        let row = orderdeck::entities::integration::Entity::find_by_id(id)
            .one(&self.state.db)
            .await
            .unwrap()
            .unwrap();
        orderdeck::sync::jobs::ensure_jobs(&self.state.db, &row)
            .await
            .unwrap();
        (token, row)
    }
}

impl TestApp {
    /// The URL of this test's database.
    pub fn db_url(&self) -> String {
        self._db.url.clone()
    }
}

impl TestApp {
    /// A merchant or shopper action on a sandbox store (`/_sandbox/stores/{hash}/{path}`);
    /// fails the test unless it succeeds; its JSON answer (null when empty).
    pub async fn sandbox_action(
        &self,
        hash: &str,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Value {
        let res = self
            .http
            .request(
                method.clone(),
                format!("{}/_sandbox/stores/{hash}/{path}", self.sandbox.url),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(
            status.is_success(),
            "{method} {path} answered {status}: {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A BigCommerce API call (`/stores/{hash}/{path}`) with the store's full-access token,
    /// as another app of the merchant would make it; fails the test unless it succeeds.
    pub async fn store_api(
        &self,
        store: &StoreCredentials,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let mut req = self
            .http
            .request(
                method.clone(),
                format!("{}/stores/{}/{path}", self.sandbox.url, store.hash),
            )
            .header("X-Auth-Token", &store.access_token)
            .header("X-Auth-Client", &store.client_id)
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(
            status.is_success(),
            "{method} {path} answered {status}: {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Calls `syncNow` for the integration `gid` (`kind` null: products then orders) and
    /// returns its payload (`runs`, `userErrors`).
    pub async fn sync_now(&self, token: &str, gid: &str, kind: Option<&str>) -> Value {
        self.data(
            Some(token),
            "mutation($i: SyncNowInput!) { syncNow(input: $i) { runs { kind outcome created updated unchanged error } userErrors { field code message } } }",
            json!({ "i": { "integrationId": gid, "kind": kind } }),
        )
        .await["syncNow"]
            .clone()
    }
}

/// A port that was free a moment ago (for a server whose public URL must be known before it
/// starts).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The client id of the BigCommerce app the public test server is configured as.
pub const APP_CLIENT_ID: &str = "orderdeck-test-app";
/// Its client secret.
pub const APP_CLIENT_SECRET: &str = "orderdeck-test-app-secret-0123456789";

/// Spawns the app at a public URL (so connecting a store registers order webhooks), the
/// BigCommerce app configured against the sandbox's login service and registered there, and
/// a sandbox with products to sell, adjusted by `sandbox_tweak`.
pub async fn spawn_public_app(sandbox_tweak: impl FnOnce(&mut SandboxConfig)) -> TestApp {
    spawn_public_app_with(sandbox_tweak, |_| {}).await
}

/// Like [`spawn_public_app`], with the settings adjusted by `tweak` too.
pub async fn spawn_public_app_with(
    sandbox_tweak: impl FnOnce(&mut SandboxConfig),
    tweak: impl FnOnce(&mut Settings),
) -> TestApp {
    let port = free_port();
    let app = spawn_app_with_sandbox(
        |c| {
            c.products = 5;
            sandbox_tweak(c);
        },
        |s| {
            tweak(s);
            s.bind = format!("127.0.0.1:{port}");
            s.public_url = Some(format!("http://127.0.0.1:{port}"));
            s.bigcommerce_app_client_id = Some(APP_CLIENT_ID.into());
            s.bigcommerce_app_client_secret = Some(Secret::new(APP_CLIENT_SECRET.into()));
            s.bigcommerce_login_url = s.bigcommerce_api_url.clone();
        },
    )
    .await;
    let res = app
        .http
        .post(format!("{}/_sandbox/apps", app.sandbox.url))
        .json(&json!({
            "client_id": APP_CLIENT_ID,
            "client_secret": APP_CLIENT_SECRET,
            "redirect_uri": format!("{}/bigcommerce/auth", app.address),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    app
}

impl TestApp {
    /// A sandbox control call under `/_sandbox/{path}`: its status and JSON answer.
    pub async fn sandbox_control(&self, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}/_sandbox/{path}", self.sandbox.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// The merchant installs the test app on the first sandbox store and the browser opens
    /// the auth callback: the claim code the page shows.
    pub async fn install_app(&self) -> String {
        let (status, install) = self
            .sandbox_control(
                &format!("apps/{APP_CLIENT_ID}/install"),
                json!({ "store_hash": self.store.hash }),
            )
            .await;
        assert_eq!(status, 201, "{install}");
        let url = install["auth_callback_url"].as_str().unwrap();
        let res = self.http.get(url).send().await.unwrap();
        let status = res.status();
        let html = res.text().await.unwrap();
        assert_eq!(status, 200, "{html}");
        let start = html
            .find("id=\"claim-code\">")
            .expect("a claim code on the page")
            + "id=\"claim-code\">".len();
        let end = start + html[start..].find('<').unwrap();
        html[start..end].to_string()
    }

    /// Claims an installation for the account of `token`: the payload.
    pub async fn claim(&self, token: &str, input: Value) -> Value {
        self.gql(
            Some(token),
            &format!("mutation($i: ClaimBigCommerceInstallationInput!) {{ claimBigCommerceInstallation(input: $i) {{ integration {{ {INTEGRATION_FIELDS} }} userErrors {{ field code message }} }} }}"),
            json!({ "i": input }),
        )
        .await["data"]["claimBigCommerceInstallation"]
            .clone()
    }
}
