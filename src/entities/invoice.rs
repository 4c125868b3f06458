//! `invoices`: the invoice number of an order, sequential per store, assigned once.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub integration_id: i64,
    /// Unique: one invoice per order.
    pub order_id: i64,
    /// 1, 2, 3… per integration (unique with it).
    pub sequence: i64,
    /// The number as printed, fixed when assigned.
    pub number: String,
    /// The invoice date.
    pub issued_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
