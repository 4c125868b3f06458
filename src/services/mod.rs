//! Use cases shared by GraphQL, HTTP routes and workers. They own the transactions and the
//! SQL; callers pass the principal so every query is scoped to its account.

pub mod accounts;
pub mod app_install;
pub mod catalog;
pub mod documents;
pub mod integrations;
pub mod inventory;
pub mod leases;
pub mod ledger;
pub mod logo_image;
pub mod logos;
pub mod order_actions;
pub mod order_queries;
pub mod pagination;
pub mod pricing;
pub mod push;
pub mod schedule;
pub mod search;
pub mod sessions;
pub mod shipments;
pub mod store_channel;
pub mod webhooks;
pub mod workers;

pub use sessions::Principal;

/// Runs CPU-heavy work (password hashing, image decoding) off the async executor.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| anyhow::anyhow!("blocking task failed: {e}"))
}
