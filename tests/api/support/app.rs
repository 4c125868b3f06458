//! The app under test: [`TestApp`], started by [`TestApp::builder`] (or [`spawn_app`] for the
//! defaults) on a free port with its own database and a BigCommerce sandbox.
//!
//! ```ignore
//! let app = spawn_app().await; // the defaults
//! let app = TestApp::builder()
//!     .settings(|s| s.sync_enabled = true) // adjust the app's settings
//!     .sandbox(|c| c.orders = 20) // adjust the sandbox
//!     .public() // a public URL, the BigCommerce app registered, 5 products to sell
//!     .spawn()
//!     .await;
//! ```

use std::net::TcpListener;
use std::time::Duration;

use base64::Engine;
use orderdeck::config::{Secret, Settings};
use orderdeck::startup::Application;
use orderdeck::state::AppState;
use orderdeck_sandbox::server::StoreCredentials;
use orderdeck_sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use rand::RngCore;
use sea_orm::ConnectionTrait;
use serde_json::json;

use super::db::TestDb;

/// The client id of the BigCommerce app a public test server is configured as.
pub const APP_CLIENT_ID: &str = "orderdeck-test-app";
/// Its client secret.
pub const APP_CLIENT_SECRET: &str = "orderdeck-test-app-secret-0123456789";

/// A URL where nothing listens.
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A port that was free a moment ago (for a server whose public URL must be known before it
/// starts).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A fresh random secret key (32 bytes, base64), as `ORDERDECK_SECRET_KEY` takes it.
pub fn random_secret_key() -> String {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    base64::engine::general_purpose::STANDARD.encode(key)
}

pub struct TestApp {
    pub address: String,
    /// Where `GET /metrics` answers, when the settings turned metrics on.
    pub metrics_address: Option<String>,
    pub http: reqwest::Client,
    pub state: AppState,
    /// The BigCommerce sandbox the app talks to (one store, no orders or products, unless
    /// the builder changed that).
    pub sandbox: SandboxHandle,
    /// The credentials of the sandbox's first store (the defaults of `connect`).
    pub store: StoreCredentials,
    db: TestDb,
    _dir: tempfile::TempDir,
}

/// Spawns the app with the default test settings and sandbox: the shorthand for
/// `TestApp::builder().spawn().await`.
pub async fn spawn_app() -> TestApp {
    TestApp::builder().spawn().await
}

type Tweak<'a, T> = Box<dyn FnOnce(&mut T) + 'a>;

/// How to start a [`TestApp`]; see [`TestApp::builder`].
#[must_use = "nothing starts until `spawn`"]
pub struct TestAppBuilder<'a> {
    settings: Vec<Tweak<'a, Settings>>,
    sandbox: Vec<Tweak<'a, SandboxConfig>>,
    public: bool,
}

impl<'a> TestAppBuilder<'a> {
    /// Adjusts the app's test settings (applied in the order given).
    pub fn settings(mut self, tweak: impl FnOnce(&mut Settings) + 'a) -> Self {
        self.settings.push(Box::new(tweak));
        self
    }

    /// Adjusts the sandbox's configuration (by default one store, no orders, no products).
    pub fn sandbox(mut self, tweak: impl FnOnce(&mut SandboxConfig) + 'a) -> Self {
        self.sandbox.push(Box::new(tweak));
        self
    }

    /// Serves the app at a public URL (so connecting a store registers order webhooks), with
    /// the BigCommerce app configured against the sandbox's login service and registered
    /// there, and a sandbox with 5 products to sell (before the `sandbox` adjustments). The
    /// public settings are applied after the `settings` adjustments.
    pub fn public(mut self) -> Self {
        self.public = true;
        self
    }

    /// Starts the sandbox and the app.
    pub async fn spawn(self) -> TestApp {
        if std::env::var_os("TEST_LOG").is_some() {
            orderdeck::telemetry::init(orderdeck::config::LogFormat::Text);
        }
        let public_port = self.public.then(free_port);
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::create(dir.path()).await;
        let mut sandbox_config = SandboxConfig {
            stores: 1,
            orders: 0,
            products: if self.public { 5 } else { 0 },
            ..Default::default()
        };
        for tweak in self.sandbox {
            tweak(&mut sandbox_config);
        }
        let sandbox = Sandbox::spawn(sandbox_config).expect("starting the sandbox");
        let store = sandbox.first_store();
        let mut settings = Settings {
            bind: "127.0.0.1:0".into(),
            data_dir: dir.path().join("data"),
            database_url: Some(Secret::new(db.url.clone())),
            db_max_connections: 5,
            secret_key: Some(Secret::new(random_secret_key())),
            bigcommerce_api_url: sandbox.url.clone(),
            bigcommerce_timeout: Duration::from_millis(1500),
            sync_enabled: false,
            // Tests that check pushes to the stores turn the worker on (or drive
            // `sync::push::run_once`); elsewhere pushes would add calls to the sandbox's counts.
            push_enabled: false,
            // Every test signs in from 127.0.0.1; the throttling tests set a limit.
            sign_in_attempts_per_minute: 0,
            // Product pictures come from the sandbox on 127.0.0.1.
            image_fetch_private: true,
            ..Settings::default()
        };
        for tweak in self.settings {
            tweak(&mut settings);
        }
        if let Some(port) = public_port {
            settings.bind = format!("127.0.0.1:{port}");
            settings.public_url = Some(format!("http://127.0.0.1:{port}"));
            settings.bigcommerce_app_client_id = Some(APP_CLIENT_ID.into());
            settings.bigcommerce_app_client_secret = Some(Secret::new(APP_CLIENT_SECRET.into()));
            settings.bigcommerce_login_url = settings.bigcommerce_api_url.clone();
        }
        let app = Application::build(settings.clone())
            .await
            .expect("building the app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let metrics_address = app
            .metrics_port()
            .map(|port| format!("http://127.0.0.1:{port}"));
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        let app = TestApp {
            address,
            metrics_address,
            http: reqwest::Client::new(),
            state,
            sandbox,
            store,
            db,
            _dir: dir,
        };
        if self.public {
            app.register_test_app().await;
        }
        app
    }
}

impl TestApp {
    /// How to start a test app: default settings and sandbox unless adjusted, then `spawn`.
    pub fn builder<'a>() -> TestAppBuilder<'a> {
        TestAppBuilder {
            settings: Vec::new(),
            sandbox: Vec::new(),
            public: false,
        }
    }

    /// Registers the test's BigCommerce app with the sandbox's login service.
    async fn register_test_app(&self) {
        let res = self
            .http
            .post(format!("{}/_sandbox/apps", self.sandbox.url))
            .json(&json!({
                "client_id": APP_CLIENT_ID,
                "client_secret": APP_CLIENT_SECRET,
                "redirect_uri": format!("{}/bigcommerce/auth", self.address),
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }

    /// The URL of this test's database.
    pub fn db_url(&self) -> String {
        self.db.url.clone()
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
