//! Use cases shared by GraphQL, HTTP routes and workers. They own the transactions and the
//! SQL; callers pass the principal so every query is scoped to its account.

pub mod accounts;
pub(crate) mod api_keys;
pub(crate) mod app_install;
pub(crate) mod audit;
pub(crate) mod batches;
pub mod bundles;
pub(crate) mod catalog;
pub mod documents;
pub mod events;
pub mod health;
pub mod integrations;
pub(crate) mod inventory;
pub(crate) mod leases;
pub mod ledger;
pub(crate) mod logo_image;
pub(crate) mod logos;
pub(crate) mod low_stock;
pub(crate) mod merges;
pub(crate) mod order_actions;
pub(crate) mod order_queries;
pub(crate) mod pagination;
pub(crate) mod passwords;
pub(crate) mod pricing;
pub(crate) mod push;
pub(crate) mod schedule;
pub(crate) mod search;
pub mod sessions;
pub(crate) mod shipments;
pub(crate) mod stock_counts;
pub(crate) mod store_channel;
pub mod team;
pub(crate) mod throttle;
pub(crate) mod thumbnails;
pub(crate) mod webhooks;
pub(crate) mod workers;

pub use sessions::Principal;

/// Runs CPU-heavy work (password hashing, image decoding) off the async executor.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| anyhow::anyhow!("blocking task failed: {e}"))
}
