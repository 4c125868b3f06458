//! `order_lines`: the lines of an order (BigCommerce "order products").

use sea_orm::entity::prelude::*;

use crate::domain::money::DecimalText;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub order_id: i64,
    /// The channel's order-product id (used when pushing shipments).
    pub external_id: i64,
    pub external_product_id: i64,
    pub external_variant_id: i64,
    /// The channel's shipping address id of this line.
    pub order_address_id: i64,
    pub sku: Option<String>,
    pub name: String,
    pub quantity: i64,
    pub quantity_shipped: i64,
    /// Decimal text.
    pub unit_price: DecimalText,
    /// Decimal text.
    pub total: DecimalText,
    /// Decimal text.
    pub weight: Option<DecimalText>,
    /// The listing it was sold from; `None` when unlinked.
    pub listing_id: Option<i64>,
    /// The inventory item whose stock it moves; `None` when its SKU matches nothing.
    pub inventory_item_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
