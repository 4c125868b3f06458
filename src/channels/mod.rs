//! Sales channels: the stores orderdeck connects to. One folder per channel; each channel's
//! wire formats stay private to its folder and are mapped to domain types at the edge.

pub mod bigcommerce;
pub(crate) mod types;

use std::time::Duration;

use chrono::{DateTime, Utc};

pub use types::{
    ChannelCategory, ChannelOrder, ChannelOrderLine, ChannelProduct, ChannelShipment,
    ChannelShippingAddress, ChannelTarget, ChannelVariant, NewShipment, OrderAddress, PriceUpdate,
    StockLevel,
};

/// Page size of channel list calls (BigCommerce's maximum).
pub const PAGE_SIZE: u32 = 250;

/// One connected store, as the sync engine sees it. Implementations spend the store's API
/// quota carefully (largest pages, sub-resources included), obey rate limits, retry transient
/// failures with backoff, and count every call.
#[async_trait::async_trait]
pub trait SalesChannel: Send + Sync {
    /// Orders modified at or after `since`, oldest modification first (then by id), page
    /// `page` (1-based) of [`PAGE_SIZE`]; an empty page means the end. Every line is included.
    async fn orders_modified_since(
        &self,
        since: DateTime<Utc>,
        page: u32,
    ) -> Result<Vec<ChannelOrder>, ChannelError>;

    /// One order with all its lines; `None` when the channel does not have it.
    async fn order(&self, external_id: i64) -> Result<Option<ChannelOrder>, ChannelError>;

    /// The orders among `ids` (sorted, distinct) the channel has, with all their lines. By
    /// default one [`SalesChannel::order`] call each; BigCommerce reads each of the
    /// [`id_spans`] in one list call.
    async fn orders_by_id(&self, ids: &[i64]) -> Result<Vec<ChannelOrder>, ChannelError> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            found.extend(self.order(*id).await?);
        }
        Ok(found)
    }

    /// Page `page` (1-based) of all catalog products with variants and images, by id; an
    /// empty page means the end.
    async fn products(&self, page: u32) -> Result<Vec<ChannelProduct>, ChannelError>;

    /// Every category.
    async fn categories(&self) -> Result<Vec<ChannelCategory>, ChannelError>;

    /// Most absolute stock levels one [`SalesChannel::set_stock_levels`] call takes.
    fn max_stock_levels_per_call(&self) -> usize {
        2_000
    }
    /// Sets absolute stock levels at the default location in one call (at most
    /// [`SalesChannel::max_stock_levels_per_call`]). A rejection fails the whole call.
    async fn set_stock_levels(&self, levels: &[StockLevel]) -> Result<(), ChannelError>;
    /// Sets a product's or variant's price and sale price.
    async fn update_price(&self, update: &PriceUpdate) -> Result<(), ChannelError>;
    /// Creates a shipment. Sent at most once: never retried once the request may have reached
    /// the store (only a 429, which BigCommerce answers before doing anything, is waited out and
    /// retried).
    async fn create_shipment(
        &self,
        shipment: &NewShipment,
    ) -> Result<ChannelShipment, ChannelError> {
        let _ = shipment;
        Err(shipments_unsupported())
    }
    /// Every shipment of an order (all pages; BigCommerce answers 204 when there is none →
    /// empty vec).
    async fn shipments(
        &self,
        order_external_id: i64,
    ) -> Result<Vec<ChannelShipment>, ChannelError> {
        let _ = order_external_id;
        Err(shipments_unsupported())
    }
    /// API calls made through this handle so far (retries included).
    fn api_calls(&self) -> u64;
}

/// Sorted, distinct ids cut into runs that each fit in one list page by id range: no run
/// spans more than [`PAGE_SIZE`] ids, so the channel holds at most a page of orders in it.
pub fn id_spans(sorted: &[i64]) -> Vec<&[i64]> {
    let mut spans = Vec::new();
    let mut rest = sorted;
    while let Some(&first) = rest.first() {
        let len = rest.partition_point(|id| id - first < i64::from(PAGE_SIZE));
        let (span, tail) = rest.split_at(len);
        spans.push(span);
        rest = tail;
    }
    spans
}

/// The answer of a channel without shipments (the default of the shipment methods, so that
/// test fakes need not implement them).
fn shipments_unsupported() -> ChannelError {
    ChannelError::UnexpectedResponse("shipments are not supported by this channel".into())
}

/// Why a call to a store failed, in terms the rest of orderdeck can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// HTTP 401: the access token is wrong or revoked.
    #[error("the store rejected the access token (401)")]
    Unauthorized,
    /// HTTP 403: the token lacks a scope (BigCommerce also answers so for a wrong store hash).
    #[error("the store refused the request: missing OAuth scope (403)")]
    Forbidden,
    /// HTTP 404 on a store-level resource: no store at this hash.
    #[error("no store at this address (404)")]
    NotFound,
    /// HTTP 429: the store's shared quota is spent.
    #[error("the store's API quota is spent (429)")]
    RateLimited {
        /// How long the store asked us to wait.
        retry_after: Option<Duration>,
    },
    /// No answer within the timeout.
    #[error("the store did not answer in time")]
    Timeout,
    /// Connection refused, DNS or TLS failure, dropped connection.
    #[error("the store could not be reached: {0}")]
    Unreachable(String),
    /// HTTP 5xx.
    #[error("the store answered with a server error ({status})")]
    Server {
        /// The HTTP status.
        status: u16,
    },
    /// HTTP 400/409/413/422, or 404 on a sub-resource of an order (the order is gone): the
    /// store refused the data we sent (its message, without secrets).
    #[error("the store refused the change ({status}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The store's explanation.
        message: String,
    },
    /// Any other unexpected status or an unparsable body.
    #[error("unexpected answer from the store: {0}")]
    UnexpectedResponse(String),
}
