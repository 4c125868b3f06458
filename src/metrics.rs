//! The process's Prometheus metrics (`GET /metrics` on `ORDERDECK_METRICS_BIND`): counters and
//! histograms the layers feed as work happens, and the stores' figures read from the database
//! when Prometheus scrapes (README, "Operating it", lists every series).
//!
//! Each [`Metrics`] has its own registry, so two servers in one process (the tests) never
//! count into each other's series. Off (`Metrics::default()`), every call is a no-op.
//!
//! Label values are bounded: route patterns (not paths), integration ids, enum values, HTTP
//! status codes, BigCommerce endpoint classes, and at most [`MAX_OPERATION_NAMES`] GraphQL
//! operation names per process; never order ids, SKUs or anything else a client chooses freely.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Distinct GraphQL operation names labelled per process; later new names count as `other`.
pub const MAX_OPERATION_NAMES: usize = 200;
/// Longest operation name labelled as itself.
const MAX_OPERATION_NAME_LEN: usize = 64;

/// The metrics of one server process; cheap to clone (a handle). `Default` is off.
#[derive(Clone, Default)]
pub struct Metrics(Option<Arc<Series>>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Metrics").field(&self.0.is_some()).finish()
    }
}

/// What a webhook delivery became.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Recorded (its order queued for import).
    Accepted,
    /// Seen before.
    Duplicate,
    /// Refused: unknown store, wrong secret, bad payload or out of its time window.
    Refused,
}

impl Delivery {
    fn label(self) -> &'static str {
        match self {
            Delivery::Accepted => "accepted",
            Delivery::Duplicate => "duplicate",
            Delivery::Refused => "refused",
        }
    }
}

/// A finished sync run, as the runner recorded it.
#[derive(Clone, Copy, Debug)]
pub struct Run<'a> {
    /// The store.
    pub integration_id: i64,
    /// `orders` or `products`.
    pub kind: &'a str,
    /// `schedule`, `manual` or `webhook`.
    pub trigger: &'a str,
    /// `succeeded` or `failed`.
    pub outcome: &'a str,
    /// From its start to its end.
    pub duration: Duration,
    /// Orders (or products) it created.
    pub created: i64,
    /// Whether it imported orders.
    pub orders: bool,
}

/// One store's figures at scrape time (from `services::health`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreFigures {
    /// The integration's id (the `integration` label).
    pub integration_id: i64,
    /// Its health verdict (`healthy`, `degraded`, …).
    pub state: String,
    /// Seconds since its last successful order import (since connecting when none).
    pub order_import_age_seconds: i64,
    /// Stock pushes queued for it.
    pub pending_stock_pushes: i64,
    /// Age of the oldest of them, in seconds (0 when none waits).
    pub oldest_pending_push_seconds: i64,
    /// Listings whose last stock push failed.
    pub failed_stock_pushes: i64,
    /// Shipments waiting to be pushed.
    pub pending_shipments: i64,
    /// Shipments the store refused.
    pub failed_shipments: i64,
    /// Requests left in its API quota as last reported to this process.
    pub requests_left: Option<i64>,
}

/// The database pool at scrape time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool {
    /// Connections open and lent out.
    pub in_use: i64,
    /// Connections open and waiting.
    pub idle: i64,
}

struct Series {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    graphql_operations: IntCounterVec,
    operation_names: Mutex<HashSet<String>>,
    sync_runs: IntCounterVec,
    sync_duration: HistogramVec,
    orders_imported: IntCounterVec,
    pushes: IntCounterVec,
    webhooks: IntCounterVec,
    webhook_delay: Histogram,
    bigcommerce_calls: IntCounterVec,
    bigcommerce_throttled: IntCounterVec,
    /// Set at each scrape; the mutex makes it one scrape at a time (the gauges are cleared
    /// and filled again per scrape).
    gauges: Mutex<Gauges>,
}

/// The series read from the database when Prometheus scrapes.
struct Gauges {
    import_age: IntGaugeVec,
    push_queue: IntGaugeVec,
    push_queue_age: IntGaugeVec,
    failing_pushes: IntGaugeVec,
    shipments: IntGaugeVec,
    requests_left: IntGaugeVec,
    store_state: IntGaugeVec,
    db_connections: IntGaugeVec,
}

fn counter(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> prometheus::Result<IntCounterVec> {
    let c = IntCounterVec::new(Opts::new(name, help), labels)?;
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

fn gauge(r: &Registry, name: &str, help: &str, labels: &[&str]) -> prometheus::Result<IntGaugeVec> {
    let g = IntGaugeVec::new(Opts::new(name, help), labels)?;
    r.register(Box::new(g.clone()))?;
    Ok(g)
}

fn histogram(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: &[f64],
) -> prometheus::Result<HistogramVec> {
    let h = HistogramVec::new(
        HistogramOpts::new(name, help).buckets(buckets.to_vec()),
        labels,
    )?;
    r.register(Box::new(h.clone()))?;
    Ok(h)
}

const HTTP_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const SYNC_BUCKETS: [f64; 11] = [
    0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];
const DELAY_BUCKETS: [f64; 10] = [
    1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 86400.0,
];

impl Gauges {
    fn new(r: &Registry) -> prometheus::Result<Self> {
        Ok(Self {
            import_age: gauge(
                r,
                "order_import_age_seconds",
                "Seconds since the integration's last successful order import (since it was \
             connected when none has succeeded).",
                &["integration"],
            )?,
            push_queue: gauge(
                r,
                "stock_push_queue_depth",
                "Stock figures queued for the integration and not yet on it.",
                &["integration"],
            )?,
            push_queue_age: gauge(
                r,
                "stock_push_queue_oldest_seconds",
                "Age of the oldest queued stock figure of the integration (0 when none waits).",
                &["integration"],
            )?,
            failing_pushes: gauge(
                r,
                "stock_pushes_failing",
                "Listings of the integration whose last stock push failed.",
                &["integration"],
            )?,
            shipments: gauge(
                r,
                "shipments_waiting",
                "Shipments of the integration not on the store yet, by state (pending: to be \
             sent or retried; failed: refused by the store).",
                &["integration", "state"],
            )?,
            requests_left: gauge(
                r,
                "bigcommerce_requests_left",
                "Requests left in the store's API quota, as its last answer to this process said.",
                &["integration"],
            )?,
            store_state: gauge(
                r,
                "store_health",
                "1 for the integration's current health state (healthy, degraded, failing, \
             needs_credentials).",
                &["integration", "state"],
            )?,
            db_connections: gauge(
                r,
                "db_connections",
                "Database pool connections of this process, by state (in_use, idle).",
                &["state"],
            )?,
        })
    }

    fn reset(&self) {
        for g in [
            &self.import_age,
            &self.push_queue,
            &self.push_queue_age,
            &self.failing_pushes,
            &self.shipments,
            &self.requests_left,
            &self.store_state,
            &self.db_connections,
        ] {
            g.reset();
        }
    }
}

impl Series {
    fn new() -> prometheus::Result<Self> {
        let r = Registry::new_custom(Some("orderdeck".into()), None)?;
        let build = gauge(
            &r,
            "build_info",
            "Always 1; the version running.",
            &["version"],
        )?;
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        Ok(Self {
            http_requests: counter(
                &r,
                "http_requests_total",
                "HTTP requests answered, by route pattern, method and status.",
                &["route", "method", "status"],
            )?,
            http_duration: histogram(
                &r,
                "http_request_duration_seconds",
                "Time from a request's arrival to its answer, by route pattern.",
                &["route"],
                &HTTP_BUCKETS,
            )?,
            graphql_operations: counter(
                &r,
                "graphql_operations_total",
                "GraphQL queries and mutations run, by operation name and outcome (ok, error).",
                &["operation", "outcome"],
            )?,
            operation_names: Mutex::new(HashSet::new()),
            sync_runs: counter(
                &r,
                "sync_runs_total",
                "Finished sync runs, by kind, trigger and outcome.",
                &["kind", "trigger", "outcome"],
            )?,
            sync_duration: histogram(
                &r,
                "sync_run_duration_seconds",
                "Duration of finished sync runs, by kind.",
                &["kind"],
                &SYNC_BUCKETS,
            )?,
            orders_imported: counter(
                &r,
                "orders_imported_total",
                "Orders new to orderdeck that imports brought in, by integration.",
                &["integration"],
            )?,
            pushes: counter(
                &r,
                "pushes_total",
                "Stock figures, prices and shipments sent to stores, by integration, kind \
                 (stock, price, shipment) and outcome (sent, failed).",
                &["integration", "kind", "outcome"],
            )?,
            webhooks: counter(
                &r,
                "webhook_deliveries_total",
                "Webhook deliveries received, by outcome (accepted, duplicate, refused).",
                &["outcome"],
            )?,
            webhook_delay: {
                let h = Histogram::with_opts(
                    HistogramOpts::new(
                        "webhook_delivery_delay_seconds",
                        "From the store's created_at to receipt, for accepted deliveries.",
                    )
                    .buckets(DELAY_BUCKETS.to_vec()),
                )?;
                r.register(Box::new(h.clone()))?;
                h
            },
            bigcommerce_calls: counter(
                &r,
                "bigcommerce_calls_total",
                "Calls to the BigCommerce API, by endpoint class and status (the HTTP status, \
                 or error when no answer came).",
                &["endpoint", "status"],
            )?,
            bigcommerce_throttled: counter(
                &r,
                "bigcommerce_rate_limited_total",
                "BigCommerce answers 429 (quota used up), by endpoint class.",
                &["endpoint"],
            )?,
            gauges: Mutex::new(Gauges::new(&r)?),
            registry: r,
        })
    }
}

/// A label value no client can make up: a known HTTP method or `OTHER`.
fn method_label(method: &str) -> &str {
    match method {
        "GET" | "POST" | "HEAD" | "OPTIONS" | "PUT" | "DELETE" | "PATCH" => method,
        _ => "OTHER",
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Metrics {
    /// Metrics on, in a registry of their own.
    pub fn on() -> anyhow::Result<Self> {
        Ok(Self(Some(Arc::new(Series::new()?))))
    }

    /// Whether anything is counted.
    pub fn enabled(&self) -> bool {
        self.0.is_some()
    }

    /// An HTTP request answered: `route` is the matched pattern (`unmatched` for none).
    pub fn http_request(&self, route: &str, method: &str, status: u16, took: Duration) {
        let Some(s) = &self.0 else { return };
        s.http_requests
            .with_label_values(&[route, method_label(method), &status.to_string()])
            .inc();
        s.http_duration
            .with_label_values(&[route])
            .observe(took.as_secs_f64());
    }

    /// A GraphQL query or mutation ran; `name` is the operation's name in the document.
    pub fn graphql_operation(&self, name: Option<&str>, ok: bool) {
        let Some(s) = &self.0 else { return };
        let name = match name {
            None => "anonymous",
            Some(n)
                if n.len() <= MAX_OPERATION_NAME_LEN
                    && !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
            {
                let mut known = lock(&s.operation_names);
                if known.contains(n) {
                    n
                } else if known.len() < MAX_OPERATION_NAMES {
                    known.insert(n.to_string());
                    n
                } else {
                    "other"
                }
            }
            Some(_) => "other",
        };
        s.graphql_operations
            .with_label_values(&[name, if ok { "ok" } else { "error" }])
            .inc();
    }

    /// A sync run finished.
    pub fn sync_run(&self, run: Run<'_>) {
        let Some(s) = &self.0 else { return };
        s.sync_runs
            .with_label_values(&[run.kind, run.trigger, run.outcome])
            .inc();
        s.sync_duration
            .with_label_values(&[run.kind])
            .observe(run.duration.as_secs_f64());
        if run.orders && run.created > 0 {
            s.orders_imported
                .with_label_values(&[&run.integration_id.to_string()])
                .inc_by(u64::try_from(run.created).unwrap_or(0));
        }
    }

    /// Pushes to one store ended: `sent` reached it, `failed` did not.
    pub fn pushes(&self, integration_id: i64, kind: &str, sent: u64, failed: u64) {
        let Some(s) = &self.0 else { return };
        let id = integration_id.to_string();
        if sent > 0 {
            s.pushes
                .with_label_values(&[&id, kind, "sent"])
                .inc_by(sent);
        }
        if failed > 0 {
            s.pushes
                .with_label_values(&[&id, kind, "failed"])
                .inc_by(failed);
        }
    }

    /// A webhook delivery was answered; `delay` from the store's `created_at`, when accepted.
    pub fn webhook(&self, outcome: Delivery, delay: Option<Duration>) {
        let Some(s) = &self.0 else { return };
        s.webhooks.with_label_values(&[outcome.label()]).inc();
        if let Some(d) = delay {
            s.webhook_delay.observe(d.as_secs_f64());
        }
    }

    /// A call to BigCommerce ended: `status` `None` when no answer came.
    pub fn bigcommerce_call(&self, endpoint: &str, status: Option<u16>) {
        let Some(s) = &self.0 else { return };
        let status = status.map_or_else(|| "error".to_string(), |c| c.to_string());
        s.bigcommerce_calls
            .with_label_values(&[endpoint, &status])
            .inc();
        if status == "429" {
            s.bigcommerce_throttled.with_label_values(&[endpoint]).inc();
        }
    }

    /// The text Prometheus scrapes: the counters, with the stores' and the pool's figures
    /// as they are now (stores no longer given disappear from the gauges).
    pub fn render(&self, stores: &[StoreFigures], pool: Option<Pool>) -> String {
        let Some(s) = &self.0 else {
            return String::new();
        };
        let g = lock(&s.gauges);
        g.reset();
        for f in stores {
            let id = f.integration_id.to_string();
            let id = id.as_str();
            g.import_age
                .with_label_values(&[id])
                .set(f.order_import_age_seconds);
            g.push_queue
                .with_label_values(&[id])
                .set(f.pending_stock_pushes);
            g.push_queue_age
                .with_label_values(&[id])
                .set(f.oldest_pending_push_seconds);
            g.failing_pushes
                .with_label_values(&[id])
                .set(f.failed_stock_pushes);
            g.shipments
                .with_label_values(&[id, "pending"])
                .set(f.pending_shipments);
            g.shipments
                .with_label_values(&[id, "failed"])
                .set(f.failed_shipments);
            if let Some(left) = f.requests_left {
                g.requests_left.with_label_values(&[id]).set(left);
            }
            g.store_state.with_label_values(&[id, &f.state]).set(1);
        }
        if let Some(p) = pool {
            g.db_connections
                .with_label_values(&["in_use"])
                .set(p.in_use);
            g.db_connections.with_label_values(&["idle"]).set(p.idle);
        }
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&s.registry.gather(), &mut out) {
            tracing::error!(error = %e, "encoding the metrics failed");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn off_metrics_count_nothing_and_render_nothing() {
        let m = Metrics::default();
        m.http_request("/graphql", "POST", 200, Duration::from_millis(3));
        assert!(!m.enabled());
        assert_eq!(m.render(&[], None), "");
    }

    #[test]
    fn operation_names_beyond_the_cap_or_made_up_count_as_other() {
        let m = Metrics::on().unwrap();
        for i in 0..MAX_OPERATION_NAMES + 5 {
            m.graphql_operation(Some(&format!("Op{i}")), true);
        }
        m.graphql_operation(Some("Op0"), false);
        m.graphql_operation(Some("no spaces allowed"), true);
        m.graphql_operation(None, true);
        let text = m.render(&[], None);
        assert!(
            text.contains(
                r#"orderdeck_graphql_operations_total{operation="Op0",outcome="error"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"orderdeck_graphql_operations_total{operation="other",outcome="ok"} 6"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"orderdeck_graphql_operations_total{operation="anonymous",outcome="ok"} 1"#
            ),
            "{text}"
        );
        assert!(
            !text.contains(&format!("Op{}\"", MAX_OPERATION_NAMES)),
            "{text}"
        );
    }

    #[test]
    fn a_store_left_out_of_a_scrape_leaves_the_gauges() {
        let m = Metrics::on().unwrap();
        let figures = StoreFigures {
            integration_id: 7,
            state: "degraded".into(),
            order_import_age_seconds: 30,
            pending_stock_pushes: 2,
            oldest_pending_push_seconds: 5,
            failed_stock_pushes: 1,
            pending_shipments: 0,
            failed_shipments: 3,
            requests_left: Some(149),
        };
        let text = m.render(
            std::slice::from_ref(&figures),
            Some(Pool { in_use: 1, idle: 4 }),
        );
        for line in [
            r#"orderdeck_store_health{integration="7",state="degraded"} 1"#,
            r#"orderdeck_shipments_waiting{integration="7",state="failed"} 3"#,
            r#"orderdeck_bigcommerce_requests_left{integration="7"} 149"#,
            r#"orderdeck_db_connections{state="idle"} 4"#,
            r#"orderdeck_build_info{version=""#,
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        let text = m.render(&[], None);
        assert!(!text.contains(r#"integration="7""#), "{text}");
    }

    #[test]
    fn a_429_counts_as_a_call_and_as_rate_limited() {
        let m = Metrics::on().unwrap();
        m.bigcommerce_call("inventory", Some(429));
        m.bigcommerce_call("inventory", Some(200));
        m.bigcommerce_call("orders", None);
        let text = m.render(&[], None);
        for line in [
            r#"orderdeck_bigcommerce_calls_total{endpoint="inventory",status="429"} 1"#,
            r#"orderdeck_bigcommerce_calls_total{endpoint="orders",status="error"} 1"#,
            r#"orderdeck_bigcommerce_rate_limited_total{endpoint="inventory"} 1"#,
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }
}
