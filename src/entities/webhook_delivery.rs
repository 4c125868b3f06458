//! `webhook_deliveries`: the webhook deliveries a store sent and orderdeck accepted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub integration_id: i64,
    /// The webhook scope, e.g. `store/order/created`.
    pub scope: String,
    /// The payload's `hash` (SHA-1 of its data).
    pub hash: String,
    /// The payload's `created_at` (unix seconds): when the store raised the event.
    pub sent_at: i64,
    /// The order the event is about.
    pub order_external_id: Option<i64>,
    pub received_at: DateTimeUtc,
    /// When the order import it triggered finished (successfully or not).
    pub processed_at: Option<DateTimeUtc>,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
