//! `integrations`: connected stores and their options.

use sea_orm::entity::prelude::*;

use crate::domain::address::StoreContact;
use crate::domain::{
    ChannelKind, ConnectedVia, ContactMode, HistoricalImport, IntegrationStatus, PostalAddress,
    StockBuffer, WebhookState,
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integrations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub channel: ChannelKind,
    pub status: IntegrationStatus,
    pub store_hash: String,
    pub client_id: String,
    /// AES-256-GCM ciphertext of the access token (see `crypto::TokenCipher`); erased on disconnect.
    pub access_token_ciphertext: Option<String>,
    pub access_token_last4: Option<String>,
    pub alias: String,
    pub store_name: String,
    pub store_currency: Option<String>,
    pub order_management: bool,
    pub inventory_management: bool,
    pub historical_import: HistoricalImport,
    pub historical_import_since: Option<Date>,
    pub import_orders_since: DateTimeUtc,
    pub ioss_number: Option<String>,
    #[sea_orm(column_type = "Json", nullable)]
    pub return_address: Option<PostalAddress>,
    pub phone: Option<String>,
    pub phone_mode: ContactMode,
    pub email: Option<String>,
    pub email_mode: ContactMode,
    pub connected_at: DateTimeUtc,
    pub disconnected_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub connected_via: ConnectedVia,
    pub webhook_state: WebhookState,
    /// SHA-256 (hex) of the secret header the store's webhooks carry; never the secret.
    pub webhook_secret_hash: Option<String>,
    /// The URL the webhooks were registered with.
    pub webhook_destination: Option<String>,
    pub webhook_error: Option<String>,
    pub webhooks_registered_at: Option<DateTimeUtc>,
    pub last_webhook_at: Option<DateTimeUtc>,
    /// Stock kept back from this store (`None`: it is offered the whole figure).
    #[sea_orm(column_type = "Json", nullable)]
    pub stock_buffer: Option<StockBuffer>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Associated data binding the encrypted token to this store of this account.
    pub fn token_binding(&self) -> String {
        token_binding(self.account_id, &self.store_hash)
    }

    /// The store's phone and email with the rule each is applied by on shipments and labels.
    pub fn contact(&self) -> StoreContact<'_> {
        StoreContact {
            phone: self.phone.as_deref(),
            phone_mode: self.phone_mode,
            email: self.email.as_deref(),
            email_mode: self.email_mode,
        }
    }
}

/// Associated data of an integration's token ciphertext.
pub fn token_binding(account_id: i64, store_hash: &str) -> String {
    format!("integration:{account_id}:{store_hash}")
}
