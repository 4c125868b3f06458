//! `orders`: imported orders, unique by integration and external id.

use sea_orm::entity::prelude::*;

use crate::domain::address::Contact;
use crate::domain::money::DecimalText;
use crate::domain::{OrderAddress, OrderStatus, ShippingAddresses};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub integration_id: i64,
    /// The channel's order id.
    pub external_id: i64,
    /// The order number shown to people (BigCommerce: the order id).
    pub number: String,
    pub status: OrderStatus,
    pub channel_status_id: i32,
    pub channel_status: String,
    pub currency: String,
    /// Decimal text, like every money column.
    pub subtotal_ex_tax: DecimalText,
    pub subtotal_inc_tax: DecimalText,
    pub shipping_cost: DecimalText,
    /// Shipping without tax; null for orders imported before it was kept.
    pub shipping_cost_ex_tax: Option<DecimalText>,
    pub tax_total: DecimalText,
    pub total: DecimalText,
    pub customer_name: String,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    /// The customer's message on the order (a gift message), when there is one.
    pub customer_message: Option<String>,
    #[sea_orm(column_type = "Json", nullable)]
    pub billing_address: Option<OrderAddress>,
    #[sea_orm(column_type = "Json", nullable)]
    pub shipping_addresses: Option<ShippingAddresses>,
    pub placed_at: DateTimeUtc,
    pub channel_modified_at: DateTimeUtc,
    pub shipped_at: Option<DateTimeUtc>,
    /// Placed before the store was connected: never moves stock.
    pub historical: bool,
    /// Its quantities were taken off stock (once).
    pub stock_taken: bool,
    /// Its quantities were given back (once).
    pub restocked: bool,
    pub imported_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Canceled here (never on the channel): later imports keep it canceled.
    pub canceled_here_at: Option<DateTimeUtc>,
    pub canceled_by_user_id: Option<i64>,
    /// The merge this order belongs to (`order_merges`), when it ships with others.
    pub merge_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The customer's own phone and email.
    pub fn customer_contact(&self) -> Contact<'_> {
        Contact {
            phone: self.customer_phone.as_deref(),
            email: self.customer_email.as_deref(),
        }
    }
}
