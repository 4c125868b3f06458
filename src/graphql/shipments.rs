//! Shipping: `shipOrders`, `retryShipmentPush`, and the `Shipment` type (also `Order.shipments`).

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::audit;
use super::context::{acting, state};
use super::ids;
use super::loaders::{load, ShipmentLinesLoader};
use super::money::Money;
use super::orders::Order;
use super::text;
use crate::domain::money::DecimalText;
use crate::domain::{AuditAction, Permission};
use crate::domain::{CustomsDeclaration, ShipmentMethod, ShipmentPushState};
use crate::entities::{order, shipment, shipment_line};
use crate::error::{into_payload, UserError};
use crate::services::shipments as service;
use crate::services::shipments::plan::{LineRequest, ShipmentRequest};

/// A quantity of one order line to ship.
#[derive(InputObject)]
pub struct ShipmentLineInput {
    /// Global id of the order line.
    pub line_id: ID,
    /// How many ship (at least 1, at most what remains unshipped).
    pub quantity: i64,
}

/// One shipment to make.
#[derive(InputObject)]
pub struct ShipmentInput {
    /// Global id of the order.
    pub order_id: ID,
    /// `MANUAL` (carrier and tracking number required) or `LABEL` (a label printed here).
    pub method: ShipmentMethod,
    /// The carrier's name, e.g. `Royal Mail`, `UPS`, `DHL Express` (at most 100 characters);
    /// known carriers are told to the store by its own code (see `Shipment.storeProvider`).
    pub carrier: Option<String>,
    /// The carrier's service, e.g. `Tracked 24` (at most 100 characters).
    pub service: Option<String>,
    /// The tracking number: at most 50 characters (what BigCommerce takes); on a `LABEL`, at
    /// most 40 printable ASCII characters (the barcode), and when left out a reference
    /// `OD` + 10-digit shipment id + Luhn check digit is generated.
    pub tracking_number: Option<String>,
    /// What ships; leave out to ship everything still unshipped. Lines going to different
    /// shipping addresses make one shipment per address.
    pub lines: Option<Vec<ShipmentLineInput>>,
    /// Parcel weight in the store's unit (above 0); default: the lines' unit weights times
    /// their quantities.
    pub weight: Option<Decimal>,
    /// Repeating a call with the same key returns the shipments made the first time instead
    /// of shipping again (at most 100 characters).
    pub idempotency_key: Option<String>,
}

/// Ships orders.
#[derive(InputObject)]
pub struct ShipOrdersInput {
    /// One to 100 shipments, made in this order; each succeeds or fails on its own.
    pub shipments: Vec<ShipmentInput>,
}

/// The outcome of one `ShipmentInput`.
#[derive(SimpleObject)]
pub struct ShipOrderResult {
    /// The order the input named, as given.
    pub order_id: ID,
    /// The order after shipping (status `PARTIALLY_SHIPPED` or `SHIPPED`); null when refused.
    pub order: Option<Order>,
    /// The shipments made, one per shipping address.
    pub shipments: Vec<Shipment>,
    /// Why this input shipped nothing (its fields are relative to the `ShipmentInput`).
    pub user_errors: Vec<UserError>,
}

/// The outcome of `shipOrders`.
#[derive(SimpleObject)]
pub struct ShipOrdersPayload {
    /// One result per input shipment, in input order.
    pub results: Vec<ShipOrderResult>,
    /// Errors with the call as a whole (no shipments, too many).
    pub user_errors: Vec<UserError>,
}

/// Sends a refused shipment again.
#[derive(InputObject)]
pub struct RetryShipmentPushInput {
    /// Global id of a shipment whose `pushState` is `FAILED`.
    pub shipment_id: ID,
}

/// The outcome of `retryShipmentPush`.
#[derive(SimpleObject)]
pub struct RetryShipmentPushPayload {
    /// The shipment as it stands after the attempt.
    pub shipment: Option<Shipment>,
    /// Why nothing was done.
    pub user_errors: Vec<UserError>,
}

/// A shipment of (part of) an order, made here.
#[derive(Clone)]
pub struct Shipment(pub shipment::Model);

fn present(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// A shipment of (part of) an order, made here and pushed to the order's store.
#[Object]
impl Shipment {
    /// Global id (pass it to `createDocumentLink` with kind `LABEL` for its label).
    async fn id(&self) -> ID {
        ids::encode("Shipment", self.0.id)
    }
    /// Global id of the order.
    async fn order_id(&self) -> ID {
        ids::encode("Order", self.0.order_id)
    }
    /// How it travels.
    async fn method(&self) -> ShipmentMethod {
        self.0.method
    }
    /// The carrier's name as given.
    async fn carrier(&self) -> Option<&str> {
        present(&self.0.carrier)
    }
    /// The carrier's service as given.
    async fn service(&self) -> Option<&str> {
        present(&self.0.service)
    }
    /// The tracking number (generated for labels when none was given).
    async fn tracking_number(&self) -> &str {
        &self.0.tracking_number
    }
    /// The tracking page the store made of it (once pushed).
    async fn tracking_url(&self) -> Option<&str> {
        present(&self.0.tracking_link)
    }
    /// BigCommerce `shipping_provider` the carrier maps to (null when none).
    async fn store_provider(&self) -> Option<&str> {
        Some(self.0.shipping_provider.as_str()).filter(|s| !s.is_empty())
    }
    /// BigCommerce `tracking_carrier` (AfterShip slug) the carrier maps to (null when none).
    async fn store_tracking_carrier(&self) -> Option<&str> {
        Some(self.0.tracking_carrier.as_str()).filter(|s| !s.is_empty())
    }
    /// Parcel weight, in the store's unit.
    async fn weight(&self) -> Option<Decimal> {
        self.0.weight.map(DecimalText::get)
    }
    /// The recipient's phone on the parcel (the order's, with the store's PREFILL/OVERWRITE
    /// rule applied).
    async fn contact_phone(&self) -> Option<&str> {
        present(&self.0.contact_phone)
    }
    /// The recipient's email on the parcel (same rule).
    async fn contact_email(&self) -> Option<&str> {
        present(&self.0.contact_email)
    }
    /// The customs declaration, when the parcel leaves the sender's country (and the EU).
    async fn customs(&self) -> Option<CustomsDeclarationObject> {
        self.0.customs.as_ref().map(CustomsDeclarationObject::from)
    }
    /// What it carries.
    async fn lines(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ShipmentLine>> {
        Ok(load::<ShipmentLinesLoader>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(ShipmentLine)
            .collect())
    }
    /// Where it stands with the store.
    async fn push_state(&self) -> ShipmentPushState {
        self.0.push_state
    }
    /// Attempts made to send it to the store.
    async fn push_attempts(&self) -> i64 {
        self.0.push_attempts
    }
    /// Why the last attempt failed (kept until one succeeds).
    async fn push_error(&self) -> Option<&str> {
        present(&self.0.push_error)
    }
    /// When the next attempt is due (`PENDING` only).
    async fn push_retry_at(&self) -> Option<DateTime<Utc>> {
        match self.0.push_state {
            ShipmentPushState::Pending => self.0.push_due_at,
            _ => None,
        }
    }
    /// When the store got it.
    async fn pushed_at(&self) -> Option<DateTime<Utc>> {
        self.0.pushed_at
    }
    /// The store's id of the shipment, once it has it.
    async fn store_shipment_id(&self) -> Option<String> {
        self.0.external_id.map(|id| id.to_string())
    }
    /// When it was made here.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A quantity of one order line in a shipment.
pub struct ShipmentLine(pub shipment_line::Model);

/// A quantity of one order line in a shipment.
#[Object]
impl ShipmentLine {
    /// Global id of the order line.
    async fn line_id(&self) -> ID {
        ids::encode("OrderLine", self.0.order_line_id)
    }
    /// The line's SKU when shipped.
    async fn sku(&self) -> Option<&str> {
        self.0.sku.as_deref()
    }
    /// The line's name when shipped.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// How many shipped.
    async fn quantity(&self) -> i64 {
        self.0.quantity
    }
}

/// The customs declaration of a parcel.
#[derive(SimpleObject)]
#[graphql(name = "CustomsDeclaration")]
pub struct CustomsDeclarationObject {
    /// What the parcel holds.
    pub items: Vec<CustomsItemObject>,
    /// Sum of the items' values.
    pub total_value: Money,
    /// Sender's country (ISO 3166-1 alpha-2).
    pub origin_country: String,
    /// Destination country (ISO 3166-1 alpha-2).
    pub destination_country: String,
    /// The store's IOSS number, for goods entering the EU.
    pub ioss_number: Option<String>,
}

/// One item of a customs declaration.
#[derive(SimpleObject)]
#[graphql(name = "CustomsItem")]
pub struct CustomsItemObject {
    /// What it is (the line's name).
    pub description: String,
    /// The line's SKU.
    pub sku: Option<String>,
    /// How many.
    pub quantity: i64,
    /// Their value.
    pub value: Money,
}

impl From<&CustomsDeclaration> for CustomsDeclarationObject {
    fn from(c: &CustomsDeclaration) -> Self {
        let money = |amount: Decimal| Money {
            amount,
            currency_code: c.currency.clone(),
        };
        Self {
            items: c
                .items
                .iter()
                .map(|i| CustomsItemObject {
                    description: i.description.clone(),
                    sku: i.sku.clone(),
                    quantity: i.quantity,
                    value: money(i.value),
                })
                .collect(),
            total_value: money(c.total_value),
            origin_country: c.origin_country.clone(),
            destination_country: c.destination_country.clone(),
            ioss_number: c.ioss_number.clone(),
        }
    }
}

fn request(input: ShipmentInput) -> ShipmentRequest {
    ShipmentRequest {
        order_id: ids::decode("Order", &input.order_id),
        method: input.method,
        carrier: input.carrier,
        service: input.service,
        tracking_number: input.tracking_number,
        lines: input.lines.map(|lines| {
            lines
                .into_iter()
                .map(|l| LineRequest {
                    line_id: ids::decode("OrderLine", &l.line_id),
                    quantity: l.quantity,
                })
                .collect()
        }),
        weight: input.weight,
        idempotency_key: input.idempotency_key,
    }
}

/// Shipping mutations.
#[derive(Default)]
pub struct ShipmentMutation;

#[Object]
impl ShipmentMutation {
    /// Ships one or many orders, fully or by lines. Each input gets its own result (an order
    /// of a merge shipped whole ships every order of its merge in one go, with one tracking
    /// number: one result per order, the named one first): its
    /// shipments, or its `userErrors` (`NOT_FOUND`, `ORDER_CANCELED`, `ORDER_NOT_SHIPPABLE`,
    /// `NOTHING_TO_SHIP`, `UNKNOWN_LINE`, `LINE_NOT_SHIPPABLE`, `QUANTITY_EXCEEDS_UNSHIPPED`,
    /// `TRACKING_NUMBER_TOO_LONG`, `REQUIRED`, `TOO_LONG`, `INVALID`,
    /// `INTEGRATION_DISCONNECTED`, `IDEMPOTENCY_KEY_REUSED`), in which case nothing of that
    /// input is saved. The order becomes `PARTIALLY_SHIPPED` or `SHIPPED`. Each shipment is
    /// pushed to its store (which moves the store's order to Partially Shipped or Shipped);
    /// the answer waits up to 5 seconds for those pushes, and a push that fails is retried
    /// with backoff by the push worker (`Shipment.pushState`).
    async fn ship_orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shipments to make.")] input: ShipOrdersInput,
    ) -> async_graphql::Result<ShipOrdersPayload> {
        let (p, allowed) = acting(ctx, Permission::Ship)?;
        let checked = allowed.and(text::plain(&input));
        let given: Vec<ID> = input.shipments.iter().map(|s| s.order_id.clone()).collect();
        let requests = input.shipments.into_iter().map(request).collect();
        let (outcomes, user_errors) = into_payload(
            text::then(checked, service::ship_orders(state(ctx)?, &p, requests)).await,
        )?;
        let shipped: Vec<&order::Model> = outcomes
            .iter()
            .flatten()
            .filter(|o| !o.shipments.is_empty())
            .filter_map(|o| o.order.as_ref())
            .collect();
        if !shipped.is_empty() {
            let target = match shipped.as_slice() {
                [one] => Some(ids::encode("Order", one.id).0),
                _ => None,
            };
            let numbers: Vec<&str> = shipped.iter().map(|o| o.number.as_str()).collect();
            let summary = format!("shipped order(s) {}", numbers.join(", "));
            audit::record(ctx, &p, AuditAction::ShipOrders, target, summary).await;
        }
        let results = outcomes
            .unwrap_or_default()
            .into_iter()
            .map(|o| ShipOrderResult {
                order_id: o.order.as_ref().map_or_else(
                    || given.get(o.request).cloned().unwrap_or_default(),
                    |order| ids::encode("Order", order.id),
                ),
                order: o.order.map(Order),
                shipments: o.shipments.into_iter().map(Shipment).collect(),
                user_errors: o.errors,
            })
            .collect();
        Ok(ShipOrdersPayload {
            results,
            user_errors,
        })
    }

    /// Sends a shipment the store refused (`pushState` `FAILED`) again, after checking the
    /// store does not have it. `NOT_FOUND`, or `SHIPMENT_NOT_RETRYABLE` when it is `PENDING`
    /// or `PUSHED`.
    async fn retry_shipment_push(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shipment.")] input: RetryShipmentPushInput,
    ) -> async_graphql::Result<RetryShipmentPushPayload> {
        let (p, allowed) = acting(ctx, Permission::Ship)?;
        let id = ids::decode("Shipment", &input.shipment_id);
        let (shipment, user_errors) =
            into_payload(text::then(allowed, service::retry_push(state(ctx)?, &p, id)).await)?;
        if let Some(s) = &shipment {
            let target = ids::encode("Shipment", s.id).0;
            let summary = "push retried".to_string();
            audit::record(
                ctx,
                &p,
                AuditAction::RetryShipmentPush,
                Some(target),
                summary,
            )
            .await;
        }
        Ok(RetryShipmentPushPayload {
            shipment: shipment.map(Shipment),
            user_errors,
        })
    }
}
