//! `shipments`: shipments made here, each also the outbox row of its push to the store.

use sea_orm::entity::prelude::*;

use crate::domain::money::DecimalText;
use crate::domain::{CustomsDeclaration, ShipmentMethod, ShipmentPushState};

/// A shipment of (part of) an order.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub integration_id: i64,
    pub order_id: i64,
    pub method: ShipmentMethod,
    pub carrier: Option<String>,
    pub service: Option<String>,
    pub tracking_number: String,
    /// BigCommerce `shipping_provider` the carrier maps to ("" when none).
    pub shipping_provider: String,
    /// BigCommerce `tracking_carrier` the carrier maps to ("" when none).
    pub tracking_carrier: String,
    /// The store's id of the shipping address the lines go to.
    pub order_address_id: i64,
    /// Decimal text, in the store's weight unit.
    pub weight: Option<DecimalText>,
    pub contact_phone: Option<String>,
    pub contact_email: Option<String>,
    /// The customs declaration, when the parcel needs one.
    #[sea_orm(column_type = "Json", nullable)]
    pub customs: Option<CustomsDeclaration>,
    pub idempotency_key: Option<String>,
    pub push_state: ShipmentPushState,
    pub push_attempts: i64,
    pub push_error: Option<String>,
    /// When the next push attempt is due (`None` once pushed or refused).
    pub push_due_at: Option<DateTimeUtc>,
    pub push_claimed_by: Option<String>,
    pub push_claimed_until: Option<DateTimeUtc>,
    pub pushed_at: Option<DateTimeUtc>,
    /// The store's shipment id, once the store has it.
    pub external_id: Option<i64>,
    pub tracking_link: Option<String>,
    pub created_by_user_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
