//! What every sales channel delivers, in domain terms (decimals, UTC). Channel modules map
//! their wire formats to these at the edge.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::domain::StockTracking;
pub use crate::domain::{ChannelShippingAddress, OrderAddress};

/// A line of an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelOrderLine {
    /// The channel's order-product id.
    pub external_id: i64,
    pub product_id: i64,
    pub variant_id: i64,
    pub order_address_id: i64,
    pub sku: Option<String>,
    pub name: String,
    pub quantity: i64,
    pub quantity_shipped: i64,
    pub unit_price: Decimal,
    pub total: Decimal,
    pub weight: Option<Decimal>,
}

/// An order as the channel has it now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelOrder {
    pub external_id: i64,
    pub number: String,
    /// The channel's own status id and name (BigCommerce 0–14).
    pub status_id: i64,
    pub status_name: String,
    pub currency: String,
    pub subtotal_ex_tax: Decimal,
    pub subtotal_inc_tax: Decimal,
    pub shipping_cost: Decimal,
    /// Shipping without tax.
    pub shipping_cost_ex_tax: Decimal,
    pub tax_total: Decimal,
    pub total: Decimal,
    pub billing_address: OrderAddress,
    pub shipping_addresses: Vec<ChannelShippingAddress>,
    /// Every line (the client fetches more when the embedded list was capped).
    pub lines: Vec<ChannelOrderLine>,
    pub items_total: i64,
    pub items_shipped: i64,
    pub placed_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub shipped_at: Option<DateTime<Utc>>,
    /// The customer's message (empty when none).
    pub customer_message: String,
}

/// A sellable variant of a product (a product without options has one base variant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelVariant {
    pub external_id: i64,
    pub sku: Option<String>,
    /// `None`: inherits the product's.
    pub price: Option<Decimal>,
    pub sale_price: Option<Decimal>,
    pub weight: Option<Decimal>,
    pub inventory_level: i64,
    /// `Size: M`; empty for a base variant.
    pub option_label: String,
    pub is_base: bool,
}

/// A catalog product with its variants, images and category ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelProduct {
    pub external_id: i64,
    pub name: String,
    pub sku: Option<String>,
    pub price: Decimal,
    /// `None` when the channel has none (BigCommerce sends 0).
    pub sale_price: Option<Decimal>,
    pub weight: Option<Decimal>,
    pub tracking: StockTracking,
    /// Product-level stock (meaningful when tracked by product).
    pub inventory_level: i64,
    pub image_urls: Vec<String>,
    pub category_ids: Vec<i64>,
    pub modified_at: DateTime<Utc>,
    pub variants: Vec<ChannelVariant>,
}

/// A category (for names on listings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelCategory {
    pub id: i64,
    pub parent_id: i64,
    pub name: String,
}

/// Which catalog record a stock level or price is written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelTarget {
    /// A product without options (stock tracked by product).
    Product { product_id: i64 },
    /// One variant of a product with options (stock tracked by variant).
    Variant { product_id: i64, variant_id: i64 },
}

/// An absolute stock level for one catalog record at the default location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLevel {
    pub target: ChannelTarget,
    pub quantity: i64,
}

/// A listing's price; `sale_price: None` removes the sale price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceUpdate {
    pub target: ChannelTarget,
    pub price: Decimal,
    pub sale_price: Option<Decimal>,
}

/// A shipment to create on the channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewShipment {
    pub order_external_id: i64,
    /// BigCommerce `order_address_id`.
    pub order_address_id: i64,
    pub tracking_number: String,
    /// Free text shown to the customer (carrier + service), BigCommerce `shipping_method`.
    pub shipping_method: String,
    /// BigCommerce `shipping_provider` ("" or one of its values).
    pub shipping_provider: String,
    /// BigCommerce `tracking_carrier` ("" or an AfterShip slug).
    pub tracking_carrier: String,
    pub comments: String,
    /// `(order_product_id, quantity)`.
    pub items: Vec<(i64, i64)>,
}

/// A shipment as the channel has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelShipment {
    pub external_id: i64,
    pub order_address_id: i64,
    pub tracking_number: String,
    /// `(order_product_id, quantity)`.
    pub items: Vec<(i64, i64)>,
    /// BigCommerce `generated_tracking_link` (None when empty).
    pub tracking_link: Option<String>,
}
