//! Typed settings: defaults in code, then an optional TOML file, then environment variables;
//! validated once at start-up. Secrets are wrapped so they never print.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use serde::Deserialize;

/// A value that must never reach a log line or a response.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a secret value.
    pub fn new(value: T) -> Self {
        Self(value)
    }
    /// The wrapped value, for the one place that needs it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Every setting of the server. Built by [`Settings::load`]; tests build it directly.
#[derive(Clone)]
pub struct Settings {
    /// Listen address `host:port`; port 0 picks a free port.
    pub bind: String,
    /// Directory of the default SQLite file and of the generated secret key.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; `None` means a SQLite file in `data_dir`.
    pub database_url: Option<Secret<String>>,
    /// Maximum database connections in the pool.
    pub db_max_connections: u32,
    /// Base64 of 32 bytes; `None` means generate/read `data_dir/secret.key`.
    pub secret_key: Option<Secret<String>>,
    /// BigCommerce API base URL (the sandbox in tests and the demo).
    pub bigcommerce_api_url: String,
    /// Timeout of one call to a store.
    pub bigcommerce_timeout: Duration,
    /// Whether the sync scheduler runs.
    pub sync_enabled: bool,
    /// How often each store's orders are imported.
    pub order_sync_interval: Duration,
    /// How often each store's products are imported.
    pub product_sync_interval: Duration,
    /// How long a claimed sync job stays leased without renewal (a crashed process's job is
    /// taken over after this).
    pub sync_lease: Duration,
    /// How often the scheduler looks for due jobs.
    pub scheduler_tick: Duration,
    /// Whether the push worker sends stock and price changes to the stores.
    pub push_enabled: bool,
    /// How often the push worker looks for queued pushes that no signal announced (those of
    /// other replicas, retries after backoff).
    pub push_poll: Duration,
    /// Lifetime of a login token.
    pub session_ttl: Duration,
    /// Time budget of one GraphQL request (waiting for its turn included); past it the client
    /// gets a `TIMEOUT` error and the work stops.
    pub request_timeout: Duration,
    /// GraphQL requests one account (or, before login, one client address) runs at once in
    /// this process; more wait their turn, so no account can take the database pool from the
    /// others.
    pub account_concurrency: u32,
    /// Log format.
    pub log_format: LogFormat,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_timeout: Duration,
    /// Directory of the document templates (`invoice.toml`, `label.toml`, fonts). `None`:
    /// `./templates` when it exists, otherwise the copies built into the binary.
    pub templates_dir: Option<PathBuf>,
    /// The base URL at which stores and browsers reach this server (e.g.
    /// `https://orderdeck.example.com`). With it, connecting a store registers order webhooks;
    /// the app-store install flow needs it too. `None`: polling only.
    pub public_url: Option<String>,
    /// The BigCommerce app's client id (Developer Portal); with the secret, it turns the
    /// app-store install flow on.
    pub bigcommerce_app_client_id: Option<String>,
    /// The BigCommerce app's client secret: exchanges install codes and verifies the signed
    /// callbacks.
    pub bigcommerce_app_client_secret: Option<Secret<String>>,
    /// Where install codes are exchanged for tokens (`{url}/oauth2/token`); the sandbox in tests.
    pub bigcommerce_login_url: String,
}

/// The app's credentials, when the install flow is configured.
#[derive(Clone, Copy, Debug)]
pub struct AppCredentials<'a> {
    /// The app's client id (the `aud` of its signed callbacks).
    pub client_id: &'a str,
    /// The app's client secret.
    pub client_secret: &'a Secret<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            db_max_connections: 10,
            secret_key: None,
            bigcommerce_api_url: "https://api.bigcommerce.com".into(),
            bigcommerce_timeout: Duration::from_secs(10),
            sync_enabled: true,
            order_sync_interval: Duration::from_secs(600),
            product_sync_interval: Duration::from_secs(2700),
            sync_lease: Duration::from_secs(300),
            scheduler_tick: Duration::from_millis(1000),
            push_enabled: true,
            push_poll: Duration::from_millis(500),
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            request_timeout: Duration::from_secs(30),
            account_concurrency: 2,
            log_format: LogFormat::Text,
            shutdown_timeout: Duration::from_secs(30),
            templates_dir: None,
            public_url: None,
            bigcommerce_app_client_id: None,
            bigcommerce_app_client_secret: None,
            bigcommerce_login_url: "https://login.bigcommerce.com".into(),
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_ref().map(|u| redact_url(u.expose())),
            )
            .field("db_max_connections", &self.db_max_connections)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field("bigcommerce_api_url", &self.bigcommerce_api_url)
            .field("bigcommerce_timeout", &self.bigcommerce_timeout)
            .field("sync_enabled", &self.sync_enabled)
            .field("order_sync_interval", &self.order_sync_interval)
            .field("product_sync_interval", &self.product_sync_interval)
            .field("sync_lease", &self.sync_lease)
            .field("scheduler_tick", &self.scheduler_tick)
            .field("push_enabled", &self.push_enabled)
            .field("push_poll", &self.push_poll)
            .field("session_ttl", &self.session_ttl)
            .field("request_timeout", &self.request_timeout)
            .field("account_concurrency", &self.account_concurrency)
            .field("log_format", &self.log_format)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("templates_dir", &self.templates_dir)
            .field("public_url", &self.public_url)
            .field("bigcommerce_app_client_id", &self.bigcommerce_app_client_id)
            .field(
                "bigcommerce_app_client_secret",
                &self.bigcommerce_app_client_secret.as_ref().map(|_| "***"),
            )
            .field("bigcommerce_login_url", &self.bigcommerce_login_url)
            .finish()
    }
}

/// The optional configuration file (TOML); every key is optional and named like the
/// environment variable without the `ORDERDECK_` prefix, in lower case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    bind: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    db_max_connections: Option<u32>,
    secret_key: Option<String>,
    bigcommerce_api_url: Option<String>,
    bigcommerce_timeout_ms: Option<u64>,
    sync_enabled: Option<bool>,
    order_sync_interval_secs: Option<u64>,
    product_sync_interval_secs: Option<u64>,
    sync_lease_secs: Option<u64>,
    scheduler_tick_ms: Option<u64>,
    push_enabled: Option<bool>,
    push_poll_ms: Option<u64>,
    session_ttl_secs: Option<u64>,
    request_timeout_secs: Option<u64>,
    account_concurrency: Option<u32>,
    log_format: Option<LogFormat>,
    shutdown_timeout_secs: Option<u64>,
    templates_dir: Option<PathBuf>,
    public_url: Option<String>,
    bigcommerce_app_client_id: Option<String>,
    bigcommerce_app_client_secret: Option<String>,
    bigcommerce_login_url: Option<String>,
}

/// Why the settings could not be loaded; each message names the setting.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
pub struct ConfigError(pub Vec<String>);

/// Shortest accepted sync lease.
pub const MIN_SYNC_LEASE: Duration = Duration::from_secs(3);
/// Shortest accepted scheduler tick (a busy loop below this).
pub const MIN_SCHEDULER_TICK: Duration = Duration::from_millis(10);
/// Longest accepted scheduler tick.
pub const MAX_SCHEDULER_TICK: Duration = Duration::from_secs(600);

/// Name of the default configuration file, read when present in the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "orderdeck.toml";

impl Settings {
    /// Loads defaults, then `config_file` (or `./orderdeck.toml` when it exists), then the
    /// environment as given by `env`, and validates the result.
    pub fn load(
        config_file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut s = Settings::default();
        let mut errors = Vec::new();
        let file = match config_file {
            Some(path) => Some(path.to_path_buf()),
            None => {
                let default = PathBuf::from(DEFAULT_CONFIG_FILE);
                default.exists().then_some(default)
            }
        };
        if let Some(path) = file {
            match read_file(&path) {
                Ok(f) => s.apply_file(f),
                Err(e) => return Err(ConfigError(vec![e])),
            }
        }
        s.apply_env(&env, &mut errors);
        s.validate(&mut errors);
        if errors.is_empty() {
            Ok(s)
        } else {
            Err(ConfigError(errors))
        }
    }

    fn apply_file(&mut self, f: FileSettings) {
        if let Some(v) = f.bind {
            self.bind = v;
        }
        if let Some(v) = f.data_dir {
            self.data_dir = v;
        }
        if let Some(v) = f.database_url {
            self.database_url = Some(Secret::new(v));
        }
        if let Some(v) = f.db_max_connections {
            self.db_max_connections = v;
        }
        if let Some(v) = f.secret_key {
            self.secret_key = Some(Secret::new(v));
        }
        if let Some(v) = f.bigcommerce_api_url {
            self.bigcommerce_api_url = v;
        }
        if let Some(v) = f.bigcommerce_timeout_ms {
            self.bigcommerce_timeout = Duration::from_millis(v);
        }
        if let Some(v) = f.sync_enabled {
            self.sync_enabled = v;
        }
        if let Some(v) = f.order_sync_interval_secs {
            self.order_sync_interval = Duration::from_secs(v);
        }
        if let Some(v) = f.product_sync_interval_secs {
            self.product_sync_interval = Duration::from_secs(v);
        }
        if let Some(v) = f.sync_lease_secs {
            self.sync_lease = Duration::from_secs(v);
        }
        if let Some(v) = f.scheduler_tick_ms {
            self.scheduler_tick = Duration::from_millis(v);
        }
        if let Some(v) = f.push_enabled {
            self.push_enabled = v;
        }
        if let Some(v) = f.push_poll_ms {
            self.push_poll = Duration::from_millis(v);
        }
        if let Some(v) = f.session_ttl_secs {
            self.session_ttl = Duration::from_secs(v);
        }
        if let Some(v) = f.request_timeout_secs {
            self.request_timeout = Duration::from_secs(v);
        }
        if let Some(v) = f.account_concurrency {
            self.account_concurrency = v;
        }
        if let Some(v) = f.log_format {
            self.log_format = v;
        }
        if let Some(v) = f.shutdown_timeout_secs {
            self.shutdown_timeout = Duration::from_secs(v);
        }
        if let Some(v) = f.templates_dir {
            self.templates_dir = Some(v);
        }
        if let Some(v) = f.public_url {
            self.public_url = Some(v);
        }
        if let Some(v) = f.bigcommerce_app_client_id {
            self.bigcommerce_app_client_id = Some(v);
        }
        if let Some(v) = f.bigcommerce_app_client_secret {
            self.bigcommerce_app_client_secret = Some(Secret::new(v));
        }
        if let Some(v) = f.bigcommerce_login_url {
            self.bigcommerce_login_url = v;
        }
    }

    fn apply_env(&mut self, env: &impl Fn(&str) -> Option<String>, errors: &mut Vec<String>) {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        if let Some(v) = get("ORDERDECK_BIND") {
            self.bind = v;
        }
        if let Some(v) = get("ORDERDECK_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("DATABASE_URL") {
            self.database_url = Some(Secret::new(v));
        }
        if let Some(v) = get("ORDERDECK_SECRET_KEY") {
            self.secret_key = Some(Secret::new(v));
        }
        if let Some(v) = get("ORDERDECK_TEMPLATES_DIR") {
            self.templates_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = get("ORDERDECK_BIGCOMMERCE_API_URL") {
            self.bigcommerce_api_url = v;
        }
        if let Some(v) = get("ORDERDECK_PUBLIC_URL") {
            self.public_url = Some(v);
        }
        if let Some(v) = get("ORDERDECK_BIGCOMMERCE_APP_CLIENT_ID") {
            self.bigcommerce_app_client_id = Some(v);
        }
        if let Some(v) = get("ORDERDECK_BIGCOMMERCE_APP_CLIENT_SECRET") {
            self.bigcommerce_app_client_secret = Some(Secret::new(v));
        }
        if let Some(v) = get("ORDERDECK_BIGCOMMERCE_LOGIN_URL") {
            self.bigcommerce_login_url = v;
        }
        if let Some(v) = get("ORDERDECK_SYNC_ENABLED") {
            match parse_bool(&v) {
                Some(b) => self.sync_enabled = b,
                None => errors.push(format!(
                    "ORDERDECK_SYNC_ENABLED must be true or false, not {v:?}"
                )),
            }
        }
        if let Some(v) = get("ORDERDECK_PUSH_ENABLED") {
            match parse_bool(&v) {
                Some(b) => self.push_enabled = b,
                None => errors.push(format!(
                    "ORDERDECK_PUSH_ENABLED must be true or false, not {v:?}"
                )),
            }
        }
        if let Some(v) = get("ORDERDECK_LOG_FORMAT") {
            match v.to_ascii_lowercase().as_str() {
                "text" => self.log_format = LogFormat::Text,
                "json" => self.log_format = LogFormat::Json,
                _ => errors.push(format!(
                    "ORDERDECK_LOG_FORMAT must be text or json, not {v:?}"
                )),
            }
        }
        let mut number = |name: &str, apply: &mut dyn FnMut(u64)| {
            if let Some(v) = get(name) {
                match v.trim().parse::<u64>() {
                    Ok(n) => apply(n),
                    Err(_) => errors.push(format!("{name} must be a whole number, not {v:?}")),
                }
            }
        };
        number("ORDERDECK_DB_MAX_CONNECTIONS", &mut |n| {
            self.db_max_connections = u32::try_from(n).unwrap_or(u32::MAX)
        });
        number("ORDERDECK_BIGCOMMERCE_TIMEOUT_MS", &mut |n| {
            self.bigcommerce_timeout = Duration::from_millis(n)
        });
        number("ORDERDECK_SESSION_TTL_SECS", &mut |n| {
            self.session_ttl = Duration::from_secs(n)
        });
        number("ORDERDECK_REQUEST_TIMEOUT_SECS", &mut |n| {
            self.request_timeout = Duration::from_secs(n)
        });
        number("ORDERDECK_ACCOUNT_CONCURRENCY", &mut |n| {
            self.account_concurrency = u32::try_from(n).unwrap_or(u32::MAX)
        });
        number("ORDERDECK_SHUTDOWN_TIMEOUT_SECS", &mut |n| {
            self.shutdown_timeout = Duration::from_secs(n)
        });
        number("ORDERDECK_ORDER_SYNC_INTERVAL_SECS", &mut |n| {
            self.order_sync_interval = Duration::from_secs(n)
        });
        number("ORDERDECK_PRODUCT_SYNC_INTERVAL_SECS", &mut |n| {
            self.product_sync_interval = Duration::from_secs(n)
        });
        number("ORDERDECK_SYNC_LEASE_SECS", &mut |n| {
            self.sync_lease = Duration::from_secs(n)
        });
        number("ORDERDECK_SCHEDULER_TICK_MS", &mut |n| {
            self.scheduler_tick = Duration::from_millis(n)
        });
        number("ORDERDECK_PUSH_POLL_MS", &mut |n| {
            self.push_poll = Duration::from_millis(n)
        });
    }

    fn validate(&self, errors: &mut Vec<String>) {
        if self.bind_addr().is_err() {
            errors.push(format!(
                "ORDERDECK_BIND must be host:port (e.g. 127.0.0.1:8080), not {:?}",
                self.bind
            ));
        }
        if let Some(url) = &self.database_url {
            let url = url.expose();
            if !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
            {
                errors.push(format!(
                    "DATABASE_URL must start with sqlite:, postgres:// or postgresql://, not {:?}",
                    redact_url(url)
                ));
            }
        }
        if self.db_max_connections == 0 {
            errors.push("ORDERDECK_DB_MAX_CONNECTIONS must be at least 1".into());
        }
        if self.request_timeout.is_zero() {
            errors.push("ORDERDECK_REQUEST_TIMEOUT_SECS must be at least 1".into());
        }
        if self.account_concurrency == 0 {
            errors.push("ORDERDECK_ACCOUNT_CONCURRENCY must be at least 1".into());
        }
        if let Some(key) = &self.secret_key {
            if let Err(e) = decode_secret_key(key.expose()) {
                errors.push(format!("ORDERDECK_SECRET_KEY {e}"));
            }
        }
        let api = self.bigcommerce_api_url.trim_end_matches('/');
        if !(api.starts_with("http://") || api.starts_with("https://")) || api.len() < 10 {
            errors.push(format!(
                "ORDERDECK_BIGCOMMERCE_API_URL must be an http(s) URL, not {:?}",
                self.bigcommerce_api_url
            ));
        }
        let login = self.bigcommerce_login_url.trim_end_matches('/');
        if !(login.starts_with("http://") || login.starts_with("https://")) || login.len() < 10 {
            errors.push(format!(
                "ORDERDECK_BIGCOMMERCE_LOGIN_URL must be an http(s) URL, not {:?}",
                self.bigcommerce_login_url
            ));
        }
        if let Some(url) = &self.public_url {
            let u = url.trim_end_matches('/');
            if !(u.starts_with("http://") || u.starts_with("https://"))
                || u.len() < 10
                || u.contains(['?', '#', ' '])
            {
                errors.push(format!(
                    "ORDERDECK_PUBLIC_URL must be an http(s) base URL without query (e.g. https://orderdeck.example.com), not {url:?}"
                ));
            }
        }
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
        let id_set = !blank(&self.bigcommerce_app_client_id);
        let secret_set = self
            .bigcommerce_app_client_secret
            .as_ref()
            .is_some_and(|s| !s.expose().trim().is_empty());
        if id_set != secret_set {
            errors.push(
                "ORDERDECK_BIGCOMMERCE_APP_CLIENT_ID and ORDERDECK_BIGCOMMERCE_APP_CLIENT_SECRET must be set together".into(),
            );
        }
        if id_set && self.public_url.is_none() {
            errors.push(
                "the BigCommerce app needs ORDERDECK_PUBLIC_URL: its callbacks (auth, load, uninstall, remove_user) live under {ORDERDECK_PUBLIC_URL}/bigcommerce/".into(),
            );
        }
        if self.bigcommerce_timeout.is_zero() {
            errors.push("ORDERDECK_BIGCOMMERCE_TIMEOUT_MS must be above 0".into());
        }
        if self.session_ttl.is_zero() {
            errors.push("ORDERDECK_SESSION_TTL_SECS must be above 0".into());
        }
        if self.order_sync_interval.is_zero() {
            errors.push("ORDERDECK_ORDER_SYNC_INTERVAL_SECS must be above 0".into());
        }
        if self.product_sync_interval.is_zero() {
            errors.push("ORDERDECK_PRODUCT_SYNC_INTERVAL_SECS must be above 0".into());
        }
        if self.sync_lease < MIN_SYNC_LEASE {
            errors.push(format!(
                "ORDERDECK_SYNC_LEASE_SECS must be at least {} (the lease is renewed every third of it)",
                MIN_SYNC_LEASE.as_secs()
            ));
        }
        if self.push_poll < MIN_SCHEDULER_TICK || self.push_poll > MAX_SCHEDULER_TICK {
            errors.push(format!(
                "ORDERDECK_PUSH_POLL_MS must be between {} and {}",
                MIN_SCHEDULER_TICK.as_millis(),
                MAX_SCHEDULER_TICK.as_millis()
            ));
        }
        if self.scheduler_tick < MIN_SCHEDULER_TICK || self.scheduler_tick > MAX_SCHEDULER_TICK {
            errors.push(format!(
                "ORDERDECK_SCHEDULER_TICK_MS must be between {} and {}",
                MIN_SCHEDULER_TICK.as_millis(),
                MAX_SCHEDULER_TICK.as_millis()
            ));
        }
    }

    /// The resolved listen address.
    pub fn bind_addr(&self) -> std::io::Result<SocketAddr> {
        self.bind.to_socket_addrs()?.next().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "no address for ORDERDECK_BIND",
            )
        })
    }

    /// The database URL to connect to (the default SQLite file when none is set).
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("orderdeck.db").display()
            ),
        }
    }

    /// BigCommerce base URL without a trailing slash.
    pub fn bigcommerce_base(&self) -> &str {
        self.bigcommerce_api_url.trim_end_matches('/')
    }

    /// The public base URL without a trailing slash, when configured.
    pub fn public_base(&self) -> Option<&str> {
        self.public_url
            .as_deref()
            .map(|u| u.trim().trim_end_matches('/'))
            .filter(|u| !u.is_empty())
    }

    /// The BigCommerce app's credentials, when the install flow is configured.
    pub fn bigcommerce_app(&self) -> Option<AppCredentials<'_>> {
        let client_id = self
            .bigcommerce_app_client_id
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())?;
        let client_secret = self
            .bigcommerce_app_client_secret
            .as_ref()
            .filter(|s| !s.expose().trim().is_empty())?;
        Some(AppCredentials {
            client_id,
            client_secret,
        })
    }

    /// The app's auth callback URL (the `redirect_uri` registered in the Developer Portal).
    pub fn bigcommerce_auth_callback(&self) -> Option<String> {
        self.public_base().map(|b| format!("{b}/bigcommerce/auth"))
    }

    /// The login service base without a trailing slash.
    pub fn bigcommerce_login_base(&self) -> &str {
        self.bigcommerce_login_url.trim_end_matches('/')
    }
}

fn read_file(path: &Path) -> Result<FileSettings, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("config file {}: {e}", path.display()))
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Decodes a base64 secret key of exactly 32 bytes.
pub fn decode_secret_key(value: &str) -> Result<[u8; 32], String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| "must be base64 (e.g. the output of `openssl rand -base64 32`)".to_string())?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("must decode to 32 bytes, not {}", bytes.len()))
}

/// A database URL with any password replaced by `***`, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!("{}://{}@{}", &url[..scheme_end], masked, &rest[at + 1..])
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::collections::HashMap;
    use std::io::Write;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn no_file() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn with_no_configuration_the_defaults_apply() {
        let dir = no_file();
        let missing = dir.path().join("none.toml");
        let err = Settings::load(Some(&missing), env_of(&[])).unwrap_err();
        assert!(err.to_string().contains("cannot read config file"));
        let s = Settings::default();
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert!(s.effective_database_url().starts_with("sqlite://"));
        assert!(s.sync_enabled);
    }

    #[test]
    fn environment_overrides_the_file_which_overrides_defaults() {
        let dir = no_file();
        let path = dir.path().join("c.toml");
        let mut f = std::fs::File::create(&path).unwrap();
        writeln!(
            f,
            "bind = \"127.0.0.1:9000\"\nsync_enabled = false\nbigcommerce_timeout_ms = 500"
        )
        .unwrap();
        let s =
            Settings::load(Some(&path), env_of(&[("ORDERDECK_BIND", "127.0.0.1:9100")])).unwrap();
        assert_eq!(s.bind, "127.0.0.1:9100");
        assert!(!s.sync_enabled);
        assert_eq!(s.bigcommerce_timeout, Duration::from_millis(500));
    }

    #[test]
    fn a_broken_config_file_names_the_file_and_line() {
        let dir = no_file();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "bind = \"x\"\nunknown_key = 1\n").unwrap();
        let err = Settings::load(Some(&path), env_of(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.toml"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn invalid_values_are_all_reported_by_name() {
        let dir = no_file();
        let path = dir.path().join("empty.toml");
        std::fs::write(&path, "").unwrap();
        let err = Settings::load(
            Some(&path),
            env_of(&[
                ("ORDERDECK_BIND", "nonsense"),
                ("DATABASE_URL", "mysql://x"),
                ("ORDERDECK_SECRET_KEY", "c2hvcnQ="),
                ("ORDERDECK_SYNC_ENABLED", "maybe"),
            ]),
        )
        .unwrap_err()
        .to_string();
        for name in [
            "ORDERDECK_BIND",
            "DATABASE_URL",
            "ORDERDECK_SECRET_KEY",
            "ORDERDECK_SYNC_ENABLED",
        ] {
            assert!(err.contains(name), "{name} missing in {err}");
        }
    }

    #[test]
    fn sync_settings_default_then_file_then_environment_and_are_validated() {
        let s = Settings::default();
        assert_eq!(s.order_sync_interval, Duration::from_secs(600));
        assert_eq!(s.product_sync_interval, Duration::from_secs(2700));
        assert_eq!(s.sync_lease, Duration::from_secs(300));
        assert_eq!(s.scheduler_tick, Duration::from_millis(1000));

        let dir = no_file();
        let path = dir.path().join("sync.toml");
        std::fs::write(
            &path,
            "order_sync_interval_secs = 60\nproduct_sync_interval_secs = 120\nsync_lease_secs = 30\nscheduler_tick_ms = 250\n",
        )
        .unwrap();
        let s = Settings::load(
            Some(&path),
            env_of(&[("ORDERDECK_ORDER_SYNC_INTERVAL_SECS", "5")]),
        )
        .unwrap();
        assert_eq!(s.order_sync_interval, Duration::from_secs(5));
        assert_eq!(s.product_sync_interval, Duration::from_secs(120));
        assert_eq!(s.sync_lease, Duration::from_secs(30));
        assert_eq!(s.scheduler_tick, Duration::from_millis(250));

        let err = Settings::load(
            Some(&path),
            env_of(&[
                ("ORDERDECK_ORDER_SYNC_INTERVAL_SECS", "0"),
                ("ORDERDECK_PRODUCT_SYNC_INTERVAL_SECS", "soon"),
                ("ORDERDECK_SYNC_LEASE_SECS", "1"),
                ("ORDERDECK_SCHEDULER_TICK_MS", "0"),
            ]),
        )
        .unwrap_err()
        .to_string();
        for name in [
            "ORDERDECK_ORDER_SYNC_INTERVAL_SECS",
            "ORDERDECK_PRODUCT_SYNC_INTERVAL_SECS",
            "ORDERDECK_SYNC_LEASE_SECS",
            "ORDERDECK_SCHEDULER_TICK_MS",
        ] {
            assert!(err.contains(name), "{name} missing in {err}");
        }
    }

    #[test]
    fn the_app_needs_its_id_its_secret_and_a_public_url() {
        let dir = no_file();
        let path = dir.path().join("empty.toml");
        std::fs::write(&path, "").unwrap();
        let load = |pairs: &[(&str, &str)]| Settings::load(Some(&path), env_of(pairs));
        let err = load(&[("ORDERDECK_BIGCOMMERCE_APP_CLIENT_ID", "abc")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("must be set together"), "{err}");
        assert!(err.contains("needs ORDERDECK_PUBLIC_URL"), "{err}");
        let err = load(&[("ORDERDECK_PUBLIC_URL", "ftp://x?y")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("ORDERDECK_PUBLIC_URL must be"), "{err}");
        let s = load(&[
            ("ORDERDECK_BIGCOMMERCE_APP_CLIENT_ID", "abc"),
            ("ORDERDECK_BIGCOMMERCE_APP_CLIENT_SECRET", "shh"),
            ("ORDERDECK_PUBLIC_URL", "https://od.example.com/"),
        ])
        .unwrap();
        assert_eq!(s.bigcommerce_app().map(|a| a.client_id), Some("abc"));
        assert_eq!(
            s.bigcommerce_auth_callback().as_deref(),
            Some("https://od.example.com/bigcommerce/auth")
        );
    }

    #[test]
    fn the_example_configuration_file_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("orderdeck.example.toml");
        let s = Settings::load(Some(&path), env_of(&[])).unwrap();
        assert_eq!(s.order_sync_interval, Duration::from_secs(600));
        assert_eq!(s.product_sync_interval, Duration::from_secs(2700));
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let s = Settings {
            database_url: Some(Secret::new("postgres://app:hunter2@db/orderdeck".into())),
            secret_key: Some(Secret::new(
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
            )),
            ..Settings::default()
        };
        let s = Settings {
            bigcommerce_app_client_secret: Some(Secret::new("app-secret-xyz".into())),
            ..s
        };
        let printed = format!("{s:?}");
        assert!(!printed.contains("app-secret-xyz"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("AAAAAAAA"), "{printed}");
        assert!(
            printed.contains("postgres://app:***@db/orderdeck"),
            "{printed}"
        );
    }
}
