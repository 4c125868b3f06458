//! The seam between use cases and the sync layer's workers. A use case that must have work
//! done by a worker *now* (a price pushed before its mutation answers, a delivery's order
//! imported) claims or records that work itself, in its own transaction, and then asks
//! through these traits; the sync layer implements them (`sync::push::PushNow`,
//! `sync::webhook_imports::WebhookImports`) and startup puts them in [`AppState`]. So this
//! layer never names the sync layer, and the claim semantics stay in one place.

use async_trait::async_trait;

use crate::error::AppResult;
use crate::state::AppState;

/// Sends what a use case claimed to the stores, before the use case answers.
#[async_trait]
pub trait Pusher: Send + Sync {
    /// Pushes the price of `listing_id` claimed with `token` (`services::push::claim_price`).
    async fn push_price_now(&self, state: &AppState, listing_id: i64, token: &str)
        -> AppResult<()>;

    /// Pushes the shipments held by the lease named `token` (a
    /// [`Lease::shipments`](super::leases::Lease::shipments)).
    async fn push_shipments_claimed(&self, state: AppState, token: String) -> AppResult<()>;
}

/// What became of a delivery's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Added to the pending orders.
    Added,
    /// Already pending: nothing more to do.
    Merged,
    /// The store has too many orders waiting already: left to polling.
    Full,
}

/// Imports the orders that accepted webhook deliveries announce.
pub trait ImportQueue: Send + Sync {
    /// Adds the order a delivery announced to its integration's pending orders (and starts
    /// importing them when nothing does).
    fn queue(&self, state: &AppState, integration_id: i64, order: i64) -> Queued;
}
