//! Typed calls to BigCommerce with timeouts, error mapping, rate limiting, retries and
//! tracing. Tokens never reach a log line (they travel only in the `X-Auth-Token` header).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use super::throttle::{Gates, RateHeaders, RetryPolicy, StoreGate};
use super::wire;
use crate::channels::ChannelError;

/// Added to every rate-limit wait: the reset figure is rounded down to the millisecond.
const RESET_MARGIN: Duration = Duration::from_millis(10);

/// The credentials of one store.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    /// The store hash (`abc123`).
    pub store_hash: &'a str,
    /// The API account's access token.
    pub access_token: &'a str,
}

impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("store_hash", &self.store_hash)
            .field("access_token", &"***")
            .finish()
    }
}

/// What orderdeck keeps of `GET /v2/store`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreInfo {
    /// The store hash as the store reports it.
    pub id: String,
    /// The store's name (the default alias).
    pub name: String,
    /// The store's default currency code.
    pub currency: Option<String>,
    /// The store's domain.
    pub domain: Option<String>,
}

/// A BigCommerce API client; cheap to clone (clones share one connection pool and the
/// per-store gates that bound concurrency and honour rate limits).
#[derive(Clone, Debug)]
pub struct BigCommerceClient {
    http: reqwest::Client,
    base: String,
    retry: RetryPolicy,
    gates: Arc<Gates>,
    metrics: crate::metrics::Metrics,
}

/// The method of a request and, for writes, its JSON body.
pub(super) enum Write {
    /// A read.
    Get,
    /// A write whose repetition has the same effect (absolute stock levels, prices).
    Idempotent(reqwest::Method, Vec<u8>),
    /// A write that must happen at most once (creating a shipment): never repeated once the
    /// request may have reached the store, since a lost answer does not mean a lost write.
    Once(reqwest::Method, Vec<u8>),
}

impl Write {
    /// A `PUT` of `body` as JSON; retried like reads.
    pub(super) fn put<B: serde::Serialize>(body: &B) -> Result<Self, ChannelError> {
        Ok(Self::Idempotent(reqwest::Method::PUT, to_json(body)?))
    }

    /// A `DELETE` (no body); retried like reads, since deleting twice deletes once.
    pub(super) fn delete() -> Self {
        Self::Idempotent(reqwest::Method::DELETE, Vec::new())
    }

    /// A `POST` of `body` as JSON, sent at most once (only a 429 is retried).
    pub(super) fn post_once<B: serde::Serialize>(body: &B) -> Result<Self, ChannelError> {
        Ok(Self::Once(reqwest::Method::POST, to_json(body)?))
    }

    fn method(&self) -> reqwest::Method {
        match self {
            Self::Get => reqwest::Method::GET,
            Self::Idempotent(m, _) | Self::Once(m, _) => m.clone(),
        }
    }

    fn body(&self) -> Option<&[u8]> {
        match self {
            Self::Get => None,
            Self::Idempotent(_, b) | Self::Once(_, b) => {
                Some(b.as_slice()).filter(|b| !b.is_empty())
            }
        }
    }

    /// Whether a transient failure (5xx, timeout, dropped connection, unreachable, garbled
    /// answer) may be retried: not for a write that may already have happened.
    fn retries_transient(&self) -> bool {
        !matches!(self, Self::Once(..))
    }
}

/// What a 404 means on a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum On404 {
    /// No store at this hash ([`ChannelError::NotFound`]): store-level resources.
    NoStore,
    /// The parent resource is gone (an order deleted on the store): a
    /// [`ChannelError::Rejected`] with the store's message, for sub-resources of an order.
    Rejected,
}

fn to_json<B: serde::Serialize>(body: &B) -> Result<Vec<u8>, ChannelError> {
    serde_json::to_vec(body)
        .map_err(|e| ChannelError::UnexpectedResponse(format!("encoding a request body: {e}")))
}

/// The human part of a BigCommerce error body: v3 `title` (plus field errors), v2
/// `[{message}]`, or the start of whatever else came back.
fn error_message(bytes: &[u8]) -> String {
    let value: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(_) => {
            let text = String::from_utf8_lossy(bytes);
            return text.chars().take(200).collect();
        }
    };
    let v2 = value
        .as_array()
        .and_then(|a| a.first())
        .and_then(|e| e.get("message"))
        .and_then(|m| m.as_str());
    if let Some(message) = v2 {
        // The reason of a shipment refusal lives in `details` (§3), not in the message.
        let reason = value
            .as_array()
            .and_then(|a| a.first())
            .and_then(|e| e.get("details"))
            .and_then(|d| d.get("invalid_reason"))
            .and_then(|r| r.as_str())
            .filter(|r| !r.trim().is_empty());
        return match reason {
            Some(reason) => format!("{message} ({reason})"),
            None => message.to_string(),
        };
    }
    let title = value.get("title").and_then(|t| t.as_str()).unwrap_or("");
    let fields: Vec<String> = value
        .get("errors")
        .and_then(|e| e.as_object())
        .map(|o| {
            o.iter()
                .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or(&v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    if fields.is_empty() {
        title.to_string()
    } else {
        format!("{title} ({})", fields.join("; "))
    }
}

/// How one attempt ended.
enum Attempt<T> {
    /// A body (`None`: 204 No Content).
    Done(Option<T>),
    /// 5xx, timeout, dropped connection, unparsable body: retried with backoff, except for a
    /// [`Write::Once`] (the store may have carried it out).
    Transient(ChannelError),
    /// 429: retried after the wait the store asked for (`None`: back off).
    Throttled {
        wait: Option<Duration>,
        error: ChannelError,
    },
    /// Any other answer: never retried.
    Fatal(ChannelError),
}

impl BigCommerceClient {
    /// A client for the API at `base` (e.g. `https://api.bigcommerce.com`).
    pub fn new(base: &str, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("orderdeck/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the BigCommerce HTTP client")?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_string(),
            retry: RetryPolicy::default(),
            gates: Arc::new(Gates::default()),
            metrics: crate::metrics::Metrics::default(),
        })
    }

    /// The same client counting its calls into `metrics` (by [`endpoint_class`] and status).
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// The API quota of the store `store_hash` as its last answer to this process reported it.
    pub fn quota(&self, store_hash: &str) -> Option<super::throttle::Quota> {
        self.gates.get(store_hash).and_then(|g| g.quota())
    }

    /// The same client with another retry policy (its gates start afresh).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self.gates = Arc::new(Gates::default());
        self
    }

    /// The retry policy in use.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// The HTTP client (for calls outside a store's API, such as the login service).
    pub(super) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `GET {base}/stores/{hash}/{path}?{query}` through the store's gate, retried as the
    /// policy says; every attempt adds one to `calls`. `Ok(None)` is a 204.
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        creds: Credentials<'_>,
        path: &str,
        query: &[(&str, String)],
        calls: &AtomicU64,
    ) -> Result<Option<T>, ChannelError> {
        self.send(creds, Write::Get, path, query, On404::NoStore, calls)
            .await
    }

    /// A write with a JSON body, through the same gate and limits as reads. An
    /// [`Write::Idempotent`] write (absolute stock levels, prices) is retried like a read; a
    /// [`Write::Once`] write (creating a shipment) is never repeated once the request may have
    /// arrived: only a 429, answered before the store does anything, is waited out and retried.
    pub(super) async fn write<T: DeserializeOwned>(
        &self,
        creds: Credentials<'_>,
        write: Write,
        path: &str,
        calls: &AtomicU64,
    ) -> Result<Option<T>, ChannelError> {
        self.send(creds, write, path, &[], On404::NoStore, calls)
            .await
    }

    /// A read or write of a sub-resource of an order (`v2/orders/{id}/...`), as [`Self::get`]
    /// and [`Self::write`] do it, except that a 404 (the order is gone) is a
    /// [`ChannelError::Rejected`] rather than "no store here".
    pub(super) async fn order_resource<T: DeserializeOwned>(
        &self,
        creds: Credentials<'_>,
        write: Write,
        path: &str,
        query: &[(&str, String)],
        calls: &AtomicU64,
    ) -> Result<Option<T>, ChannelError> {
        self.send(creds, write, path, query, On404::Rejected, calls)
            .await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        creds: Credentials<'_>,
        write: Write,
        path: &str,
        query: &[(&str, String)],
        on_404: On404,
        calls: &AtomicU64,
    ) -> Result<Option<T>, ChannelError> {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/stores/{}/{}", self.base, creds.store_hash, path),
            query,
        )
        .map_err(|e| ChannelError::Unreachable(format!("bad API URL for {path}: {e}")))?;
        let gate = self.gates.of(creds.store_hash, self.retry.concurrency);
        let span = tracing::debug_span!(
            "bigcommerce",
            store = creds.store_hash,
            path,
            method = write.method().as_str()
        );
        async {
            let mut attempt = 0u32;
            let mut failures = 0u32;
            let mut throttled = 0u32;
            loop {
                attempt += 1;
                let outcome = {
                    let _permit = gate.permits.acquire().await.map_err(|_| {
                        ChannelError::Unreachable("the store's call gate is closed".into())
                    })?;
                    gate.ready().await;
                    calls.fetch_add(1, Ordering::Relaxed);
                    self.attempt::<T>(creds, &write, &url, &gate, on_404, attempt)
                        .await
                };
                match outcome {
                    Attempt::Done(body) => return Ok(body),
                    Attempt::Fatal(error) => return Err(error),
                    Attempt::Throttled { wait, error } => {
                        throttled += 1;
                        if throttled >= self.retry.max_throttled {
                            tracing::warn!(
                                attempt,
                                error = %error,
                                "BigCommerce kept answering 429; giving up"
                            );
                            return Err(error);
                        }
                        let wait = wait.unwrap_or_else(|| self.retry.backoff(throttled));
                        tracing::info!(
                            attempt,
                            wait_ms = millis(wait),
                            "BigCommerce rate limit; waiting"
                        );
                        gate.hold_for(wait + RESET_MARGIN);
                    }
                    Attempt::Transient(error) if !write.retries_transient() => {
                        tracing::warn!(
                            attempt,
                            error = %error,
                            "BigCommerce write may or may not have happened; not repeating it"
                        );
                        return Err(error);
                    }
                    Attempt::Transient(error) => {
                        throttled = 0;
                        failures += 1;
                        if failures >= self.retry.max_attempts {
                            tracing::warn!(
                                attempt,
                                error = %error,
                                "BigCommerce call failed; giving up"
                            );
                            return Err(error);
                        }
                        let wait = self.retry.backoff(failures);
                        tracing::info!(
                            attempt,
                            error = %error,
                            wait_ms = millis(wait),
                            "BigCommerce call failed; retrying"
                        );
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        }
        .instrument(span)
        .await
    }

    /// One HTTP attempt.
    async fn attempt<T: DeserializeOwned>(
        &self,
        creds: Credentials<'_>,
        write: &Write,
        url: &reqwest::Url,
        gate: &StoreGate,
        on_404: On404,
        attempt: u32,
    ) -> Attempt<T> {
        let started = Instant::now();
        let mut request = self
            .http
            .request(write.method(), url.clone())
            .header("X-Auth-Token", creds.access_token)
            .header("Accept", "application/json");
        if let Some(body) = write.body() {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_vec());
        }
        let result = request.send().await;
        let endpoint = endpoint_class(url.path());
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                self.metrics.bigcommerce_call(endpoint, None);
                return Attempt::Transient(map_transport_error(&e));
            }
        };
        let status = response.status();
        self.metrics
            .bigcommerce_call(endpoint, Some(status.as_u16()));
        let rate = RateHeaders::read(response.headers());
        gate.saw(&rate);
        tracing::debug!(
            status = status.as_u16(),
            attempt,
            requests_left = rate.left,
            elapsed_ms = millis(started.elapsed()),
            "BigCommerce call"
        );
        if status != StatusCode::TOO_MANY_REQUESTS {
            if let (Some(left), Some(reset)) = (rate.left, rate.reset) {
                if left <= self.retry.low_water {
                    tracing::debug!(
                        requests_left = left,
                        reset_ms = millis(reset),
                        "quota low; pausing the store's calls"
                    );
                    gate.hold_for(reset + RESET_MARGIN);
                }
            }
        }
        match status.as_u16() {
            204 => Attempt::Done(None),
            200..=299 => {
                let bytes = match response.bytes().await {
                    Ok(b) => b,
                    Err(e) => return Attempt::Transient(map_transport_error(&e)),
                };
                match serde_json::from_slice::<T>(&bytes) {
                    Ok(body) => Attempt::Done(Some(body)),
                    // Well-formed JSON of the wrong shape will not improve on retry; a
                    // truncated or garbled body may.
                    Err(e) => {
                        let error =
                            ChannelError::UnexpectedResponse(format!("{}: {e}", url.path()));
                        if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() {
                            Attempt::Fatal(error)
                        } else {
                            Attempt::Transient(error)
                        }
                    }
                }
            }
            429 => Attempt::Throttled {
                wait: rate.throttle_wait(),
                error: ChannelError::RateLimited {
                    retry_after: rate.throttle_wait(),
                },
            },
            s if s >= 500 => Attempt::Transient(ChannelError::Server { status: s }),
            404 if on_404 == On404::Rejected => {
                let bytes = response.bytes().await.unwrap_or_default();
                Attempt::Fatal(ChannelError::Rejected {
                    status: 404,
                    message: error_message(&bytes),
                })
            }
            400 | 409 | 413 | 422 => {
                let bytes = response.bytes().await.unwrap_or_default();
                Attempt::Fatal(ChannelError::Rejected {
                    status: status.as_u16(),
                    message: error_message(&bytes),
                })
            }
            _ => Attempt::Fatal(map_status(status, response.headers())),
        }
    }

    /// `GET /v2/store`: the store's information; also the credential check when connecting.
    pub async fn store_info(&self, creds: Credentials<'_>) -> Result<StoreInfo, ChannelError> {
        let body: wire::StoreResponse = self.get_json(creds, "v2/store").await?;
        Ok(StoreInfo {
            id: body.id,
            name: body.name,
            currency: body.currency,
            domain: body.domain,
        })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        creds: Credentials<'_>,
        path: &str,
    ) -> Result<T, ChannelError> {
        let url = format!("{}/stores/{}/{}", self.base, creds.store_hash, path);
        let started = Instant::now();
        let result = self
            .http
            .get(&url)
            .header("X-Auth-Token", creds.access_token)
            .header("Accept", "application/json")
            .send()
            .await;
        let endpoint = endpoint_class(path);
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                self.metrics.bigcommerce_call(endpoint, None);
                let err = map_transport_error(&e);
                tracing::warn!(store = creds.store_hash, path, error = %err, "BigCommerce call failed");
                return Err(err);
            }
        };
        let status = response.status();
        self.metrics
            .bigcommerce_call(endpoint, Some(status.as_u16()));
        tracing::debug!(
            store = creds.store_hash,
            path,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "BigCommerce call"
        );
        if !status.is_success() {
            return Err(map_status(status, response.headers()));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| map_transport_error(&e))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ChannelError::UnexpectedResponse(format!("{path}: {e}")))
    }
}

/// The class of a BigCommerce API path, a bounded label for the metrics: `orders`,
/// `order_products`, `order_shipments`, `products`, `variants`, `categories`, `inventory`,
/// `hooks`, `store`, or `other`. Ids in the path do not matter.
pub fn endpoint_class(path: &str) -> &'static str {
    let words: Vec<&str> = path
        .split('/')
        .filter(|w| !w.is_empty() && !w.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    // From `.../v2/orders/1/products`: the words after the API version.
    let api = words
        .iter()
        .position(|w| *w == "v2" || *w == "v3")
        .map_or(&words[..0], |i| &words[i + 1..]);
    match api {
        ["orders"] => "orders",
        ["orders", "products"] => "order_products",
        ["orders", "shipments"] => "order_shipments",
        ["catalog", "products"] => "products",
        ["catalog", "products", "variants"] => "variants",
        ["catalog", "trees", "categories"] | ["catalog", "categories"] => "categories",
        ["inventory", ..] => "inventory",
        ["hooks"] => "hooks",
        ["store"] => "store",
        _ => "other",
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub(super) fn map_transport_error(e: &reqwest::Error) -> ChannelError {
    if e.is_timeout() {
        ChannelError::Timeout
    } else {
        // The URL holds only the base and the store hash; no secret is in the message.
        let mut cause = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            cause = format!("{cause}: {s}");
            source = s.source();
        }
        ChannelError::Unreachable(cause)
    }
}

fn map_status(status: StatusCode, headers: &reqwest::header::HeaderMap) -> ChannelError {
    match status.as_u16() {
        401 => ChannelError::Unauthorized,
        403 => ChannelError::Forbidden,
        404 => ChannelError::NotFound,
        429 => ChannelError::RateLimited {
            retry_after: headers
                .get("X-Retry-After")
                .or_else(|| headers.get("Retry-After"))
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
        },
        s if s >= 500 => ChannelError::Server { status: s },
        s => ChannelError::UnexpectedResponse(format!("HTTP {s}")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn api_paths_fall_into_a_few_endpoint_classes_whatever_their_ids() {
        for (path, class) in [
            ("/stores/abc/v2/orders", "orders"),
            ("/stores/abc/v2/orders/100", "orders"),
            ("/stores/abc/v2/orders/100/products", "order_products"),
            ("/stores/abc/v2/orders/100/shipments", "order_shipments"),
            ("/stores/abc/v3/catalog/products/7/variants/9", "variants"),
            ("/stores/abc/v3/catalog/products", "products"),
            ("/stores/abc/v3/catalog/trees/categories", "categories"),
            ("/stores/abc/v3/inventory/adjustments/absolute", "inventory"),
            ("/stores/abc/v3/hooks/5", "hooks"),
            ("v2/store", "store"),
            ("/stores/abc/v3/anything/else", "other"),
            ("/", "other"),
        ] {
            assert_eq!(endpoint_class(path), class, "{path}");
        }
    }

    #[test]
    fn a_v2_refusal_carries_its_invalid_reason() {
        let body = br#"[{"status":400,"message":"The field 'quantity' is invalid.",
            "details":{"invalid_reason":"Greater than available.","available_quantity":0}}]"#;
        let message = error_message(body);
        assert!(message.contains("'quantity'"), "{message}");
        assert!(message.contains("Greater than available."), "{message}");
        assert_eq!(
            error_message(br#"[{"status":404,"message":"Not found."}]"#),
            "Not found."
        );
        assert_eq!(
            error_message(br#"{"status":422,"title":"Bad","errors":{"name":"missing"}}"#),
            "Bad (name: missing)"
        );
    }

    #[test]
    fn only_writes_sent_once_forgo_transient_retries() {
        assert!(Write::Get.retries_transient());
        assert!(Write::put(&1).unwrap().retries_transient());
        assert!(!Write::post_once(&1).unwrap().retries_transient());
    }
}
