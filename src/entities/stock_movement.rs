//! `stock_movements`: the append-only ledger explaining every stock figure.

use sea_orm::entity::prelude::*;

use crate::domain::StockReason;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_movements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub inventory_item_id: i64,
    pub delta: i64,
    pub quantity_after: i64,
    pub reason: StockReason,
    pub actor_user_id: Option<i64>,
    /// The API key that made the change, when a key rather than a user did.
    pub actor_api_key_id: Option<i64>,
    pub integration_id: Option<i64>,
    pub order_id: Option<i64>,
    /// Makes a retried change apply once (unique per account).
    pub idempotency_key: Option<String>,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
    /// The bundle sold, when this movement took (or gave back) a component's share of it.
    pub bundle_item_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
