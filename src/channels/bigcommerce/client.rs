//! Typed calls to BigCommerce with timeouts, error mapping and tracing. Tokens never reach
//! a log line.

use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::StatusCode;

use super::wire;
use crate::channels::ChannelError;

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

/// A BigCommerce API client; cheap to clone (shares one connection pool).
#[derive(Clone, Debug)]
pub struct BigCommerceClient {
    http: reqwest::Client,
    base: String,
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
        })
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
        let response = match result {
            Ok(r) => r,
            Err(e) => {
                let err = map_transport_error(&e);
                tracing::warn!(store = creds.store_hash, path, error = %err, "BigCommerce call failed");
                return Err(err);
            }
        };
        let status = response.status();
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

fn map_transport_error(e: &reqwest::Error) -> ChannelError {
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
