//! `batches`: orders shipped in one step and printed as one PDF (each parcel's packing slip
//! and label, in pick-list order). What each order came to is in `batch_orders`.

use sea_orm::entity::prelude::*;

use crate::domain::ShipmentMethod;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "batches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub method: ShipmentMethod,
    pub carrier: Option<String>,
    pub service: Option<String>,
    /// Who made it (null for an API key or a removed user).
    pub created_by_user_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
