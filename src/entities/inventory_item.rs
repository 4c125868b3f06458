//! `inventory_items`: one per SKU per account; holds THE stock figure (GraphQL `Product`).

use sea_orm::entity::prelude::*;

use crate::domain::money::DecimalText;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inventory_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    /// `None` for a listing without SKU (it gets an item of its own).
    pub sku: Option<String>,
    pub name: String,
    /// Decimal text.
    pub weight: Option<DecimalText>,
    pub image_url: Option<String>,
    /// The stock figure. Change it only through `services::ledger` (it writes the ledger).
    pub quantity: i64,
    /// At or below this figure the product is low on stock; `None`: never.
    pub low_stock_threshold: Option<i64>,
    /// When the stock last fell to or below the threshold; `None` while above it (or without
    /// a threshold). Kept by `services::ledger` and `services::inventory::set_low_stock_threshold`.
    pub low_stock_since: Option<DateTimeUtc>,
    /// Incremented on every stock change.
    pub version: i64,
    /// Deleted here; the next product import brings it back if the channel still has it.
    pub deleted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// A bundle (kit): its figure is computed from its components (`bundle_components`) and
    /// `quantity` stays 0.
    pub bundle: bool,
    /// Where it lies in the warehouse (free text such as `A-03-2`); pick lists walk in this
    /// order.
    pub bin_location: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
