//! `listings`: one product or variant on one store, linked to its inventory item by SKU.

use sea_orm::entity::prelude::*;

use crate::domain::money::DecimalText;
use crate::domain::{PricePushState, StockBuffer, StockTracking, StringList};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "listings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub integration_id: i64,
    pub inventory_item_id: i64,
    pub external_product_id: i64,
    /// The variant id (the base variant's for a product without options).
    pub external_variant_id: i64,
    pub tracking: StockTracking,
    pub sku: Option<String>,
    pub title: String,
    /// Decimal text.
    pub price: DecimalText,
    /// Decimal text; `None` when the channel has no sale price.
    pub sale_price: Option<DecimalText>,
    /// Decimal text.
    pub weight: Option<DecimalText>,
    /// Image URLs.
    #[sea_orm(column_type = "Json", nullable)]
    pub images: Option<StringList>,
    /// Category names.
    #[sea_orm(column_type = "Json", nullable)]
    pub categories: Option<StringList>,
    /// The stock the channel showed at the last product import.
    pub channel_stock: Option<i64>,
    /// The stock last pushed to the channel.
    pub pushed_stock: Option<i64>,
    pub pushed_at: Option<DateTimeUtc>,
    pub push_error: Option<String>,
    /// Set when the product was no longer on the channel at an import.
    pub missing_since: Option<DateTimeUtc>,
    pub channel_modified_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// One option variant of a product with options (not a product's base variant).
    pub option_variant: bool,
    pub price_push_state: PricePushState,
    pub price_pushed_at: Option<DateTimeUtc>,
    pub price_push_error: Option<String>,
    /// When the last stock push to this listing failed (with `push_error`).
    pub push_failed_at: Option<DateTimeUtc>,
    /// This listing's own buffer, overriding its store's (`None`: the store's applies).
    #[sea_orm(column_type = "Json", nullable)]
    pub stock_buffer: Option<StockBuffer>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
