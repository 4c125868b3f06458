//! The composition root: database, keys, clients, schema and HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use anyhow::Context;

use crate::channels::bigcommerce::BigCommerceClient;
use crate::config::{Settings, StartupError};
use crate::crypto::{LinkSigner, MasterKey, TokenCipher};
use crate::state::AppState;
use crate::sync::scheduler::{Scheduler, SchedulerHandle};
use crate::{db, graphql, http};

/// A built server, with the sync scheduler running when `sync_enabled`.
pub struct Application {
    port: u16,
    server: Server,
    /// The metrics server's port and handle, when `ORDERDECK_METRICS_BIND` is set (it serves
    /// from the moment the application is built).
    metrics: Option<(u16, actix_web::dev::ServerHandle)>,
    state: AppState,
    scheduler: Option<SchedulerHandle>,
    pusher: Option<crate::sync::push::PushWorkerHandle>,
}

impl Application {
    /// Loads the document templates, connects to and migrates the database, loads the key,
    /// binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        // A broken template stops the start, naming the file and the line.
        let documents = crate::pdf::load_templates(settings.templates_dir.as_deref())
            .map_err(|e| StartupError(e.to_string()))?;
        if settings.database_url.is_none() || settings.secret_key.is_none() {
            // The SQLite file or the generated key goes there.
            db::writable_data_dir(&settings.data_dir)?;
        }
        let db = db::connect(&settings).await?;
        db::migrate(&db).await?;
        let master = MasterKey::load_or_generate(&settings)?;
        db::check_secret_key(&db, &master).await?;
        let metrics = match settings.metrics_addr() {
            Some(_) => crate::metrics::Metrics::on()?,
            None => crate::metrics::Metrics::default(),
        };
        let bigcommerce =
            BigCommerceClient::new(settings.bigcommerce_base(), settings.bigcommerce_timeout)?
                .with_metrics(metrics.clone());
        let addr = settings.bind_addr().context("resolving ORDERDECK_BIND")?;
        let listener = listen(addr, "ORDERDECK_BIND")?;
        let metrics_listener = match settings.metrics_addr() {
            Some(addr) => Some(listen(
                addr.context("resolving ORDERDECK_METRICS_BIND")?,
                "ORDERDECK_METRICS_BIND",
            )?),
            None => None,
        };
        let port = listener
            .local_addr()
            .context("reading the bound address")?
            .port();
        let events = crate::services::events::Events::new(&db);
        crate::services::events::listen(events.clone(), settings.effective_database_url())
            .await
            .context("listening for other replicas' events (LISTEN orderdeck_events)")?;
        let state = AppState {
            events,
            db,
            settings: Arc::new(settings),
            cipher: TokenCipher::new(&master),
            bigcommerce,
            push_signal: Arc::new(tokio::sync::Notify::new()),
            documents: Arc::new(documents),
            links: LinkSigner::new(&master),
            pusher: Arc::new(crate::sync::push::PushNow),
            webhook_imports: Arc::new(crate::sync::webhook_imports::WebhookImports::default()),
            logo_slots: crate::services::logos::slots(),
            passwords: crate::services::passwords::PasswordPool::per_core(),
            metrics,
        };
        let gate = crate::fairness::Gate::new(
            usize::try_from(state.settings.account_concurrency).unwrap_or(usize::MAX),
        );
        let mut schema = graphql::schema_builder().data(state.clone()).data(gate);
        if state.metrics.enabled() {
            schema = schema.extension(graphql::Counted(state.metrics.clone()));
        }
        let server = http::server(listener, state.clone(), schema.finish())
            .context("starting the HTTP server")?;
        let metrics = match metrics_listener {
            Some(listener) => {
                let port = listener
                    .local_addr()
                    .context("reading the metrics address")?
                    .port();
                // One connection of its own for the scrape's reads (an in-memory SQLite
                // database exists only in the pool that made it).
                let scrape_db = if state.settings.effective_database_url().contains(":memory:") {
                    state.db.clone()
                } else {
                    db::connect(&Settings {
                        db_max_connections: 1,
                        ..(*state.settings).clone()
                    })
                    .await?
                };
                let server = http::metrics_server(listener, state.clone(), scrape_db)
                    .context("starting the metrics server")?;
                tracing::info!(port, "metrics served at /metrics");
                let handle = server.handle();
                tokio::spawn(server);
                Some((port, handle))
            }
            None => None,
        };
        let scheduler = if state.settings.sync_enabled {
            Some(Scheduler::start(state.clone()))
        } else {
            tracing::info!("sync scheduler off (ORDERDECK_SYNC_ENABLED=false)");
            None
        };
        crate::services::sessions::start_purging(state.db.clone());
        let pusher = if state.settings.push_enabled {
            Some(crate::sync::push::start(state.clone()))
        } else {
            tracing::info!("push worker off (ORDERDECK_PUSH_ENABLED=false)");
            None
        };
        Ok(Self {
            port,
            server,
            metrics,
            state,
            scheduler,
            pusher,
        })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `GET /metrics`, when metrics are on.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// The shared state (tests use it to inspect the database).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT/SIGTERM, then shuts down gracefully: the HTTP server first, then
    /// the scheduler (which lets its running jobs finish, up to the shutdown timeout).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some((_, metrics)) = self.metrics {
            metrics.stop(true).await;
        }
        if let Some(scheduler) = self.scheduler {
            scheduler.shutdown().await;
        }
        if let Some(pusher) = self.pusher {
            pusher.shutdown(self.state.settings.shutdown_timeout).await;
        }
        served
    }
}

/// Binds `addr`, or says in one line why not and which setting to change.
fn listen(addr: std::net::SocketAddr, setting: &str) -> Result<TcpListener, StartupError> {
    TcpListener::bind(addr).map_err(|e| {
        StartupError(match e.kind() {
            std::io::ErrorKind::AddrInUse => format!(
                "cannot listen on {addr}: the port is in use (another orderdeck, or another \
                 program, listens there); set {setting} to a free one"
            ),
            std::io::ErrorKind::PermissionDenied => format!(
                "cannot listen on {addr}: permission denied (ports below 1024 need \
                 privileges); set {setting}"
            ),
            _ => format!("cannot listen on {addr}: {e} ({setting})"),
        })
    })
}
