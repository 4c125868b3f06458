//! `batch_orders`: one order a batch named, at its place in pick-list order, with the shipment
//! made for it or why none was (a stable code and a plain message).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "batch_orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub batch_id: i64,
    pub order_id: i64,
    /// Place in the batch (pick-list order), from 0.
    pub position: i64,
    /// The shipment made for it (for an order of a merge: its own shipment).
    pub shipment_id: Option<i64>,
    /// Why it did not ship: a `UserErrorCode` name such as `ORDER_CANCELED`.
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
