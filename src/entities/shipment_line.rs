//! `shipment_lines`: what a shipment carries, per order line.

use sea_orm::entity::prelude::*;

/// A quantity of one order line in a shipment.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipment_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub shipment_id: i64,
    pub order_line_id: i64,
    /// The store's order-product id (BigCommerce `order_product_id`).
    pub order_product_id: i64,
    pub sku: Option<String>,
    pub name: String,
    pub quantity: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
