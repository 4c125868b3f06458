//! Typed settings: defaults in code, then an optional TOML file, then environment variables;
//! validated once at start-up, every problem reported at once. Each setting is declared once
//! (in [`settings!`] below): its field, default, file key and kind. The environment variable
//! is the file key in upper case with `ORDERDECK_` in front (`DATABASE_URL` is the one without
//! the prefix). Secrets are wrapped so they never print.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

mod kinds;

use crate::secret::decode_secret_key;
pub use crate::secret::Secret;
use kinds::{Count, DbUrl, Dir, Flag, Format, Hidden, Kind, List, Millis, Opt, Secs, Signup, Text};

/// Who may create a new account with `register`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    /// Anyone who reaches the server.
    Open,
    /// Only with an invitation code (which joins an existing account), except the very first
    /// account of an empty instance.
    Invite,
    /// No new accounts; invitation codes still join existing ones.
    Closed,
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

/// The environment variable of a file key.
pub fn env_name(key: &str) -> String {
    if key == "database_url" {
        "DATABASE_URL".into()
    } else {
        format!("ORDERDECK_{}", key.to_ascii_uppercase())
    }
}

/// Declares every setting once: the `Settings` field with its doc and default, the file key
/// (the environment variable derives from it) and its [`Kind`]. Generates `Settings`, its
/// `Default` and `Debug`, the file's shape (unknown keys refused) and the two readers.
macro_rules! settings {
    ($( $(#[doc = $doc:literal])* $field:ident: $ty:ty = $default:expr, $key:ident as $kind:ty
        $(, must $rule:literal if $check:expr)?; )*) => {
        /// Every setting of the server. Built by [`Settings::load`]; tests build it directly.
        #[derive(Clone)]
        pub struct Settings {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl Default for Settings {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl fmt::Debug for Settings {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut s = f.debug_struct("Settings");
                $( s.field(stringify!($field), &format_args!("{}", <$kind as Kind>::show(&self.$field))); )*
                s.finish()
            }
        }

        /// The optional configuration file (TOML): every key optional, unknown ones refused.
        #[derive(Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct FileSettings {
            $( $key: Option<<$kind as Kind>::File>, )*
        }

        /// Every file key, in declaration order.
        pub const KEYS: &[&str] = &[$( stringify!($key), )*];

        impl Settings {
            fn apply_file(&mut self, file: FileSettings) {
                $( if let Some(v) = file.$key { self.$field = <$kind as Kind>::from_file(v); } )*
            }

            fn apply_env(&mut self, env: &impl Fn(&str) -> Option<String>, errors: &mut Vec<String>) {
                $(
                    let name = env_name(stringify!($key));
                    if let Some(v) = env(&name).filter(|v| !v.trim().is_empty()) {
                        match <$kind as Kind>::from_env(&v) {
                            Ok(value) => self.$field = value,
                            Err(expected) => errors.push(format!("{name} must be {expected}, not {v:?}")),
                        }
                    }
                )*
            }

            /// Each setting's own rule; rules across settings are in `validate`.
            fn check_each(&self, errors: &mut Vec<String>) {
                $( $(
                    let value = &self.$field;
                    let check: fn(&$ty) -> bool = $check;
                    if !check(value) {
                        let (name, shown) = (env_name(stringify!($key)), <$kind as Kind>::show(value));
                        errors.push(format!("{name} must {}, not {shown}", $rule));
                    }
                )? )*
            }
        }
    };
}

settings! {
    /// Listen address `host:port`; port 0 picks a free port.
    bind: String = "127.0.0.1:8080".into(), bind as Text,
        must "be host:port (e.g. 127.0.0.1:8080)" if |v| resolve(v).is_ok();
    /// Directory of the default SQLite file and of the generated secret key.
    data_dir: PathBuf = PathBuf::from("./data"), data_dir as Dir;
    /// `sqlite://…` or `postgres://…`; `None` means a SQLite file in `data_dir`.
    database_url: Option<Secret<String>> = None, database_url as Opt<DbUrl>,
        must "start with sqlite:, postgres:// or postgresql://" if |v| v.as_ref().is_none_or(|u| {
            ["sqlite:", "postgres://", "postgresql://"].iter().any(|s| u.expose().starts_with(s))
        });
    /// Maximum database connections in the pool.
    db_max_connections: u32 = 10, db_max_connections as Count, must "be above 0" if |n| *n > 0;
    /// Base64 of 32 bytes; `None` means generate/read `data_dir/secret.key`.
    secret_key: Option<Secret<String>> = None, secret_key as Opt<Hidden>,
        must "be base64 of 32 bytes (e.g. `openssl rand -base64 32`)"
        if |v| v.as_ref().is_none_or(|k| decode_secret_key(k.expose()).is_ok());
    /// BigCommerce API base URL (the sandbox in tests and the demo).
    bigcommerce_api_url: String = "https://api.bigcommerce.com".into(), bigcommerce_api_url as Text,
        must "be an http(s) URL" if |v| is_http_url(v);
    /// Timeout of one call to a store.
    bigcommerce_timeout: Duration = Duration::from_secs(10), bigcommerce_timeout_ms as Millis,
        must "be above 0" if |d| !d.is_zero();
    /// Whether the sync scheduler runs.
    sync_enabled: bool = true, sync_enabled as Flag;
    /// How often each store's orders are imported.
    order_sync_interval: Duration = Duration::from_secs(600), order_sync_interval_secs as Secs,
        must "be above 0" if |d| !d.is_zero();
    /// How often each store's products are imported.
    product_sync_interval: Duration = Duration::from_secs(2700), product_sync_interval_secs as Secs,
        must "be above 0" if |d| !d.is_zero();
    /// How long a claimed sync job stays leased without renewal (a crashed process's job is
    /// taken over after this).
    sync_lease: Duration = Duration::from_secs(300), sync_lease_secs as Secs,
        must "be at least 3 seconds (the lease is renewed every third of it)" if |d| *d >= MIN_SYNC_LEASE;
    /// How often the scheduler looks for due jobs.
    scheduler_tick: Duration = Duration::from_millis(1000), scheduler_tick_ms as Millis,
        must "be between 10 and 600000 ms" if |d| TICKS.contains(d);
    /// Whether the push worker sends stock and price changes to the stores.
    push_enabled: bool = true, push_enabled as Flag;
    /// How often the push worker looks for queued pushes that no signal announced (those of
    /// other replicas, retries after backoff).
    push_poll: Duration = Duration::from_millis(500), push_poll_ms as Millis,
        must "be between 10 and 600000 ms" if |d| TICKS.contains(d);
    /// Origins (`scheme://host[:port]`, exact) of frontends allowed to call `/graphql` and the
    /// downloads from a browser; empty: no cross-origin access.
    cors_origins: Vec<String> = Vec::new(), cors_origins as List,
        must "be origins like https://app.example.com or http://localhost:5173 (scheme, host and port only)"
        if |v| v.iter().all(|o| is_origin(o));
    /// Who may create a new account: `open`, `invite` (only the first account of an empty
    /// instance without an invitation code) or `closed`. Invitation codes always work.
    registration: Registration = Registration::Open, registration as Signup;
    /// Logins and registrations one client address may attempt per minute (every replica
    /// counting together); more answer HTTP 429 with `Retry-After`. 0: no limit.
    sign_in_attempts_per_minute: u32 = 30, sign_in_attempts_per_minute as Count;
    /// The request header holding the client's address when orderdeck runs behind a load
    /// balancer or proxy (e.g. `x-forwarded-for`; its last address, the one the proxy
    /// added, is used). `None`: the connection's peer address. Set it only behind a proxy
    /// that sets the header: otherwise any client can claim any address.
    client_address_header: Option<String> = None, client_address_header as Opt<Text>,
        must "be a header name (letters, digits and dashes)"
        if |v| v.as_deref().is_none_or(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    /// Lifetime of a login token.
    session_ttl: Duration = Duration::from_secs(30 * 24 * 3600), session_ttl_secs as Secs,
        must "be above 0" if |d| !d.is_zero();
    /// Time budget of one GraphQL request (waiting for its turn included); past it the client
    /// gets a `TIMEOUT` error and the work stops.
    request_timeout: Duration = Duration::from_secs(30), request_timeout_secs as Secs,
        must "be above 0" if |d| !d.is_zero();
    /// GraphQL requests one account (or, before login, one client address) runs at once in
    /// this process; more wait their turn, so no account can take the database pool from the
    /// others.
    account_concurrency: u32 = 2, account_concurrency as Count, must "be above 0" if |n| *n > 0;
    /// Log format.
    log_format: LogFormat = LogFormat::Text, log_format as Format;
    /// How long shutdown waits for in-flight requests.
    shutdown_timeout: Duration = Duration::from_secs(30), shutdown_timeout_secs as Secs;
    /// Directory of the document templates (`invoice.toml`, `label.toml`, fonts). `None`:
    /// `./templates` when it exists, otherwise the copies built into the binary.
    templates_dir: Option<PathBuf> = None, templates_dir as Opt<Dir>;
    /// The base URL at which stores and browsers reach this server (e.g.
    /// `https://orderdeck.example.com`). With it, connecting a store registers order webhooks;
    /// the app-store install flow needs it too. `None`: polling only.
    public_url: Option<String> = None, public_url as Opt<Text>,
        must "be an http(s) base URL without query (e.g. https://orderdeck.example.com)"
        if |v| v.as_deref().is_none_or(|u| is_http_url(u) && !u.contains(['?', '#', ' ']));
    /// The BigCommerce app's client id (Developer Portal); with the secret, it turns the
    /// app-store install flow on.
    bigcommerce_app_client_id: Option<String> = None, bigcommerce_app_client_id as Opt<Text>;
    /// The BigCommerce app's client secret: exchanges install codes and verifies the signed
    /// callbacks.
    bigcommerce_app_client_secret: Option<Secret<String>> = None, bigcommerce_app_client_secret as Opt<Hidden>;
    /// Where install codes are exchanged for tokens (`{url}/oauth2/token`); the sandbox in tests.
    bigcommerce_login_url: String = "https://login.bigcommerce.com".into(), bigcommerce_login_url as Text,
        must "be an http(s) URL" if |v| is_http_url(v);
    /// Whether product pictures (thumbnails on pick lists) may be fetched from private,
    /// loopback and link-local addresses. Off: public addresses only, so a picture URL cannot
    /// make the server call into its own network.
    image_fetch_private: bool = false, image_fetch_private as Flag;
    /// Where `GET /metrics` (Prometheus) listens, `host:port`, apart from the API so that it
    /// is never exposed with it. `None`: no metrics are kept or served.
    metrics_bind: Option<String> = None, metrics_bind as Opt<Text>,
        must "be host:port (e.g. 127.0.0.1:9090)" if |v| v.as_deref().is_none_or(|b| resolve(b).is_ok());
}

/// The app's credentials, when the install flow is configured.
#[derive(Clone, Copy, Debug)]
pub struct AppCredentials<'a> {
    /// The app's client id (the `aud` of its signed callbacks).
    pub client_id: &'a str,
    /// The app's client secret.
    pub client_secret: &'a Secret<String>,
}

/// A start-up failure the operator fixes in the configuration or the machine (a database that
/// cannot be reached, a data directory that cannot be written, a port in use, templates that
/// cannot be read): `orderdeck` prints it as one plain line and exits with code 2, never with
/// a backtrace.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartupError(pub String);

/// Why the settings could not be loaded; each message names the setting.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
pub struct ConfigError(pub Vec<String>);

/// Shortest accepted sync lease.
const MIN_SYNC_LEASE: Duration = Duration::from_secs(3);
/// Accepted scheduler ticks and push polls (a busy loop below, a stalled one above).
const TICKS: std::ops::RangeInclusive<Duration> =
    Duration::from_millis(10)..=Duration::from_secs(600);

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
        let default = PathBuf::from(DEFAULT_CONFIG_FILE);
        let file = config_file.or_else(|| default.exists().then_some(default.as_path()));
        if let Some(path) = file {
            s.apply_file(read_file(path).map_err(|e| ConfigError(vec![e]))?);
        }
        let mut errors = Vec::new();
        s.apply_env(&env, &mut errors);
        s.validate(&mut errors);
        if errors.is_empty() {
            Ok(s)
        } else {
            Err(ConfigError(errors))
        }
    }

    fn validate(&self, errors: &mut Vec<String>) {
        self.check_each(errors);
        let id_set = self
            .bigcommerce_app_client_id
            .as_deref()
            .is_some_and(|v| !v.trim().is_empty());
        let secret_set = self
            .bigcommerce_app_client_secret
            .as_ref()
            .is_some_and(|s| !s.expose().trim().is_empty());
        if id_set != secret_set {
            errors.push("ORDERDECK_BIGCOMMERCE_APP_CLIENT_ID and ORDERDECK_BIGCOMMERCE_APP_CLIENT_SECRET must be set together".into());
        }
        if id_set && self.public_url.is_none() {
            errors.push("the BigCommerce app needs ORDERDECK_PUBLIC_URL: its callbacks (auth, load, uninstall, remove_user) live under {ORDERDECK_PUBLIC_URL}/bigcommerce/".into());
        }
    }

    /// The resolved listen address.
    pub fn bind_addr(&self) -> std::io::Result<SocketAddr> {
        resolve(&self.bind)
    }

    /// The metrics listen address, when metrics are on.
    pub fn metrics_addr(&self) -> Option<std::io::Result<SocketAddr>> {
        self.metrics_bind.as_deref().map(resolve)
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

fn resolve(bind: &str) -> std::io::Result<SocketAddr> {
    bind.to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "no address for ORDERDECK_BIND",
        )
    })
}

/// An `http://` or `https://` URL with something after the scheme.
fn is_http_url(url: &str) -> bool {
    let url = url.trim_end_matches('/');
    (url.starts_with("http://") || url.starts_with("https://")) && url.len() >= 10
}

/// Whether `origin` is a browser origin: `http(s)://host[:port]`, nothing after.
fn is_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.contains(']') || h.ends_with(']') => (h, Some(p)),
        _ => (rest, None),
    };
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
        && port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok())
}

fn read_file(path: &Path) -> Result<FileSettings, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("config file {}: {e}", path.display()))
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
    fn every_setting_is_in_the_example_files_and_the_readme() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |name: &str| std::fs::read_to_string(root.join(name)).unwrap();
        let (toml, env, readme) = (
            read("orderdeck.example.toml"),
            read(".env.example"),
            read("README.md"),
        );
        for key in KEYS {
            let name = env_name(key);
            assert!(
                toml.contains(&format!("{key} = ")),
                "{key} missing in orderdeck.example.toml"
            );
            assert!(
                env.contains(&format!("{name}=")),
                "{name} missing in .env.example"
            );
            assert!(
                readme.contains(&format!("| `{name}` |")),
                "{name} missing in the README's table"
            );
        }
    }

    #[test]
    fn every_environment_variable_is_read_and_reported_by_name() {
        for key in KEYS {
            let name = env_name(key);
            let result = Settings::load(
                Some(&Path::new(env!("CARGO_MANIFEST_DIR")).join("orderdeck.example.toml")),
                env_of(&[(name.as_str(), "\u{1}not valid\u{1}")]),
            );
            let text = match result {
                Ok(s) => format!("{s:?}"),
                Err(e) => e.to_string(),
            };
            // A text setting takes the value (and shows it, unless secret); any other kind
            // refuses it naming the variable.
            assert!(
                text.contains(&name) || text.contains("not valid") || text.contains("***"),
                "{name}: {text}"
            );
        }
    }

    #[test]
    fn cors_origins_are_exact_origins_and_read_comma_separated() {
        for good in [
            "http://localhost:5173",
            "https://app.example.com",
            "http://[::1]:8080",
        ] {
            assert!(super::is_origin(good), "{good}");
        }
        for bad in [
            "app.example.com",
            "https://app.example.com/",
            "https://a.example/x",
            "ftp://a.example",
            "https://a.example:99999",
            "https://",
        ] {
            assert!(!super::is_origin(bad), "{bad}");
        }
        let env = |k: &str| {
            (k == "ORDERDECK_CORS_ORIGINS")
                .then(|| " http://localhost:5173, https://app.example.com ,".to_string())
        };
        let mut s = Settings::default();
        let mut errors = Vec::new();
        s.apply_env(&env, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            s.cors_origins,
            ["http://localhost:5173", "https://app.example.com"]
        );
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
