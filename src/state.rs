//! The shared state every request handler, resolver and worker receives.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::channels::bigcommerce::BigCommerceClient;
use crate::config::Settings;
use crate::crypto::{LinkSigner, TokenCipher};
use crate::pdf::Renderer;
use crate::services::workers::{ImportQueue, Pusher};

/// Cheap to clone: every field is a handle.
#[derive(Clone)]
pub struct AppState {
    /// The connection pool.
    pub db: DatabaseConnection,
    /// Validated settings.
    pub settings: Arc<Settings>,
    /// Encrypts and decrypts store tokens.
    pub cipher: TokenCipher,
    /// The BigCommerce API client.
    pub bigcommerce: BigCommerceClient,
    /// Wakes this process's push worker after a commit that queued pushes (other replicas
    /// find them by polling).
    pub push_signal: Arc<tokio::sync::Notify>,
    /// The document templates and fonts, loaded at start.
    pub documents: Arc<Renderer>,
    /// Signs and checks document download links.
    pub links: LinkSigner,
    /// Pushes what a use case claimed before it answers (the sync layer's `PushNow`).
    pub pusher: Arc<dyn Pusher>,
    /// The orders webhook deliveries announced, merged per store (the sync layer's
    /// `WebhookImports`).
    pub webhook_imports: Arc<dyn ImportQueue>,
    /// Slots for logos being decoded: uploads beyond them wait (`services::logos`).
    pub logo_slots: Arc<tokio::sync::Semaphore>,
    /// Live events for subscriptions, published after commits (`services::events`).
    pub events: crate::services::events::Events,
    /// Hashes and checks passwords, a bounded number at once (`services::passwords`).
    pub passwords: crate::services::passwords::PasswordPool,
    /// This process's Prometheus metrics (off unless `ORDERDECK_METRICS_BIND` is set).
    pub metrics: crate::metrics::Metrics,
}

impl AppState {
    /// Tells the push worker that committed changes queued pushes.
    pub fn pushes_queued(&self) {
        self.push_signal.notify_one();
    }
}
