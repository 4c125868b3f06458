//! `app_installations`: a store that installed the BigCommerce app, waiting to be claimed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "app_installations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub store_hash: String,
    /// The app's client id (the token belongs to it).
    pub client_id: String,
    /// AES-256-GCM ciphertext of the access token (bound to [`token_binding`]).
    pub access_token_ciphertext: String,
    /// The scopes the merchant granted, space-separated.
    pub scope: String,
    /// The control-panel user who installed the app.
    pub user_email: Option<String>,
    /// The store owner.
    pub owner_email: Option<String>,
    /// SHA-256 (hex) of the one-time claim code; never the code.
    pub claim_code_hash: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub claimed_at: Option<DateTimeUtc>,
    pub claimed_by_account_id: Option<i64>,
    pub integration_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Associated data of a pending installation's token ciphertext.
pub fn token_binding(store_hash: &str, claim_code_hash: &str) -> String {
    format!("app_installation:{store_hash}:{claim_code_hash}")
}
