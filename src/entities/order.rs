//! `orders`: imported orders, unique by integration and external id.

use sea_orm::entity::prelude::*;

use crate::domain::OrderStatus;

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
    pub subtotal_ex_tax: String,
    pub subtotal_inc_tax: String,
    pub shipping_cost: String,
    pub tax_total: String,
    pub total: String,
    pub customer_name: String,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    /// `channels::OrderAddress` as JSON.
    pub billing_address: Option<Json>,
    /// `Vec<channels::ChannelShippingAddress>` as JSON.
    pub shipping_addresses: Option<Json>,
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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
