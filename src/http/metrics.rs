//! `GET /metrics` on its own listener (`ORDERDECK_METRICS_BIND`), and the count of every API
//! request by route pattern, method and status with its latency.

use std::net::TcpListener;
use std::time::Instant;

use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::{web, App, HttpResponse, HttpServer};
use sea_orm::DatabaseConnection;

use crate::metrics::Metrics;
use crate::services::health;
use crate::state::AppState;

/// The Prometheus text format's media type.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The scrape's own database connection (see [`server`]).
struct ScrapeDb(DatabaseConnection);

/// The metrics, with every connected store's figures read now from the database.
async fn metrics(state: web::Data<AppState>, db: web::Data<ScrapeDb>) -> HttpResponse {
    let stores = match health::everywhere(&state, &db.0).await {
        Ok(stores) => stores,
        Err(e) => {
            // The process's own counters are still worth scraping.
            tracing::warn!(error = %e.report(), "reading the stores' figures for /metrics failed");
            Vec::new()
        }
    };
    let pool = crate::db::pool_figures(&state.db);
    HttpResponse::Ok()
        .content_type(TEXT_FORMAT)
        .body(state.metrics.render(&stores, pool))
}

/// The metrics server on `listener`: `GET /metrics` only, one worker, apart from the API so
/// that it is never exposed with it. The stores' figures are read through `db`, a pool of its
/// own (one connection): a scrape never waits for, nor takes, a connection of the API or the
/// workers, and their connections' caches are not spread over one more connection.
pub fn server(
    listener: TcpListener,
    state: AppState,
    db: DatabaseConnection,
) -> std::io::Result<Server> {
    let shutdown = state.settings.shutdown_timeout.as_secs();
    let data = web::Data::new(state);
    let db = web::Data::new(ScrapeDb(db));
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(db.clone())
            .route("/metrics", web::get().to(metrics))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(shutdown)
    .listen(listener)?
    .run())
}

/// An API request being timed for the metrics.
pub(super) struct Counted {
    metrics: Metrics,
    route: String,
    method: String,
    started: Instant,
}

impl Counted {
    /// Starts timing `req` when metrics are on. Its route is the matched pattern (e.g.
    /// `/documents/links/{token}`), `unmatched` for a path no route has.
    pub(super) fn start(req: &ServiceRequest) -> Option<Self> {
        let metrics = req.app_data::<web::Data<AppState>>()?.metrics.clone();
        metrics.enabled().then(|| Self {
            metrics,
            route: req.match_pattern().unwrap_or_else(|| "unmatched".into()),
            method: req.method().as_str().to_string(),
            started: Instant::now(),
        })
    }

    /// Counts the answer (an error that became no answer counts as 500).
    pub(super) fn end<B>(self, res: &Result<ServiceResponse<B>, actix_web::Error>) {
        let status = match res {
            Ok(r) => r.status().as_u16(),
            Err(e) => e.as_response_error().status_code().as_u16(),
        };
        self.metrics
            .http_request(&self.route, &self.method, status, self.started.elapsed());
    }
}
