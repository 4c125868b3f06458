//! Batches: `createBatch` ships up to 500 orders with printed labels in pick-list order and
//! hands out one PDF of every parcel's packing slip and label; `batch` shows one again, with
//! where its pushes to the stores stand.

use std::collections::HashMap;

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::audit;
use super::context::{acting, principal_with_turn, state};
use super::documents::DocumentLink;
use super::ids;
use super::orders::OrderFilterInput;
use super::shipments::Shipment;
use super::text;
use crate::domain::{AuditAction, Permission, ShipmentMethod};
use crate::entities::{order, shipment};
use crate::error::{into_payload, AppResult, UserError, UserErrorCode};
use crate::pdf::DocumentKind;
use crate::services::batches::{self, NewBatch};
use crate::services::documents::{self as documents_service, DocumentRequest};
use crate::services::Principal;
use crate::state::AppState;

/// What one order of a batch came to.
#[derive(SimpleObject)]
pub struct BatchOrder {
    /// Its place in the batch (pick-list order), from 0.
    pub position: i32,
    /// Global id of the order.
    pub order_id: ID,
    /// The order's number.
    pub number: String,
    /// The shipment made for it; null when it did not ship.
    pub shipment: Option<Shipment>,
    /// Why it did not ship (`ORDER_CANCELED`, `ORDER_NOT_SHIPPABLE`, `NOTHING_TO_SHIP`,
    /// `INTEGRATION_DISCONNECTED`, …); empty when it shipped.
    pub user_errors: Vec<UserError>,
}

/// Where a batch's shipments stand with their stores.
#[derive(SimpleObject)]
pub struct BatchPushes {
    /// Waiting to be sent, or retried after a failure that may pass.
    pub pending: i32,
    /// On the store.
    pub pushed: i32,
    /// Refused by the store (`retryShipmentPush` sends one again).
    pub failed: i32,
}

/// A batch as shown: its rows, their orders' numbers and their shipments.
pub struct Batch {
    inner: batches::Batch,
    numbers: HashMap<i64, String>,
    shipments: HashMap<i64, shipment::Model>,
}

/// Orders shipped in one step with labels printed here, in pick-list order, and printed as one
/// PDF (each parcel's packing slip followed by its label).
#[Object]
impl Batch {
    /// Global id (`gid://orderdeck/Batch/…`).
    async fn id(&self) -> ID {
        ids::encode("Batch", self.inner.batch.id)
    }
    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.inner.batch.created_at
    }
    /// How the parcels travel.
    async fn method(&self) -> ShipmentMethod {
        self.inner.batch.method
    }
    /// Carrier name.
    async fn carrier(&self) -> Option<&str> {
        self.inner.batch.carrier.as_deref()
    }
    /// Carrier service.
    async fn service(&self) -> Option<&str> {
        self.inner.batch.service.as_deref()
    }
    /// How many orders it named.
    async fn order_count(&self) -> i32 {
        i32::try_from(self.inner.orders.len()).unwrap_or(i32::MAX)
    }
    /// How many of them shipped.
    async fn shipped_count(&self) -> i32 {
        let n = self
            .inner
            .orders
            .iter()
            .filter(|o| o.shipment_id.is_some())
            .count();
        i32::try_from(n).unwrap_or(i32::MAX)
    }
    /// Where its shipments' pushes to the stores stand now.
    async fn pushes(&self) -> BatchPushes {
        let c = batches::push_counts(&self.shipments);
        let n = |v: u64| i32::try_from(v).unwrap_or(i32::MAX);
        BatchPushes {
            pending: n(c.pending),
            pushed: n(c.pushed),
            failed: n(c.failed),
        }
    }
    /// Each order, in pick-list order, with its shipment or why it did not ship.
    async fn orders(&self) -> Vec<BatchOrder> {
        self.inner
            .orders
            .iter()
            .map(|o| BatchOrder {
                position: i32::try_from(o.position).unwrap_or(i32::MAX),
                order_id: ids::encode("Order", o.order_id),
                number: self.numbers.get(&o.order_id).cloned().unwrap_or_default(),
                shipment: o
                    .shipment_id
                    .and_then(|s| self.shipments.get(&s))
                    .cloned()
                    .map(Shipment),
                user_errors: o
                    .error_code
                    .as_deref()
                    .map(|code| {
                        vec![UserError::new(
                            "orderId",
                            batches::code_of(code),
                            o.error_message.clone().unwrap_or_default(),
                        )]
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }
}

/// Reads what a batch shows: its orders' numbers and its shipments.
async fn view(st: &AppState, b: batches::Batch) -> AppResult<Batch> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let numbers = order::Entity::find()
        .filter(order::Column::AccountId.eq(b.batch.account_id))
        .filter(order::Column::Id.is_in(b.orders.iter().map(|o| o.order_id)))
        .all(&st.db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.number))
        .collect();
    let shipments = batches::shipments_of(st, &b).await?;
    Ok(Batch {
        inner: b,
        numbers,
        shipments,
    })
}

/// Ships a batch of orders.
#[derive(InputObject)]
pub struct CreateBatchInput {
    /// The orders (1–500). Leave out when giving `orderFilter`.
    pub order_ids: Option<Vec<ID>>,
    /// Instead of `orderIds`: every order this filter matches (1–500), e.g. the `NEW` orders
    /// of a store.
    pub order_filter: Option<OrderFilterInput>,
    /// `LABEL`: labels printed here with generated tracking references.
    pub method: ShipmentMethod,
    /// Carrier name printed on the labels (at most 100 characters).
    pub carrier: Option<String>,
    /// Carrier service (at most 100 characters).
    pub service: Option<String>,
}

/// The outcome of `createBatch`.
#[derive(SimpleObject)]
pub struct CreateBatchPayload {
    /// The batch with each order's outcome; null when there are user errors.
    pub batch: Option<Batch>,
    /// A link to its PDF (each parcel's packing slip then its label); null when nothing
    /// shipped.
    pub link: Option<DocumentLink>,
    /// Why nothing was shipped.
    pub user_errors: Vec<UserError>,
}

/// The orders the input names: by ids, or by a filter (resolved now).
async fn named(
    st: &AppState,
    p: &Principal,
    input_ids: Option<Vec<ID>>,
    filter: Option<OrderFilterInput>,
) -> AppResult<Vec<i64>> {
    match (input_ids, filter) {
        (Some(_), Some(_)) => Err(UserError::new(
            "orderFilter",
            UserErrorCode::Invalid,
            "Name orders by ids or by a filter, not both.",
        )
        .into()),
        (None, Some(f)) => super::documents::filtered(st, p, f).await,
        (given, None) => given
            .unwrap_or_default()
            .iter()
            .map(|id| ids::decode("Order", id))
            .collect::<Option<Vec<i64>>>()
            .ok_or_else(|| {
                UserError::new(
                    "orderIds",
                    UserErrorCode::NotFound,
                    "No such order in your account.",
                )
                .into()
            }),
    }
}

/// Batch queries.
#[derive(Default)]
pub struct BatchQuery;

#[Object]
impl BatchQuery {
    /// A batch; null when there is none with this id in the account.
    async fn batch(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global id of the batch.")] id: ID,
    ) -> async_graphql::Result<Option<Batch>> {
        let (p, _turn) = principal_with_turn(ctx, Permission::Read).await?;
        let st = state(ctx)?;
        let Some(batch_id) = ids::decode("Batch", &id) else {
            return Ok(None);
        };
        match batches::get(st, p.account_id, batch_id).await? {
            Some(b) => Ok(Some(view(st, b).await?)),
            None => Ok(None),
        }
    }
}

/// Batch mutations.
#[derive(Default)]
pub struct BatchMutation;

#[Object]
impl BatchMutation {
    /// Ships up to 500 orders with labels printed here, in pick-list order (an order of a
    /// merge ships its whole merge once), each order with its own outcome as in `shipOrders`;
    /// then hands out a link to one PDF with each parcel's packing slip followed by its label.
    /// Print it again with `createDocumentLink(input: { kind: BATCH, batchId })`. `REQUIRED`,
    /// `INVALID` (more than 500 orders, ids and a filter, a method other than `LABEL`),
    /// `TOO_LONG`, or `NOT_FOUND` on `orderIds` / `orderFilter`.
    async fn create_batch(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The orders and how they travel.")] input: CreateBatchInput,
    ) -> async_graphql::Result<CreateBatchPayload> {
        let (p, allowed) = acting(ctx, Permission::Ship)?;
        let checked = allowed.and(text::plain(&input));
        let st = state(ctx)?;
        let result = text::then(checked, async {
            let order_ids = named(st, &p, input.order_ids, input.order_filter).await?;
            let made = batches::create(
                st,
                &p,
                NewBatch {
                    order_ids,
                    method: input.method,
                    carrier: input.carrier,
                    service: input.service,
                },
            )
            .await?;
            let printable = made.orders.iter().any(|o| o.shipment_id.is_some());
            let link = if printable {
                let request = DocumentRequest {
                    kind: DocumentKind::Batch,
                    order_ids: Vec::new(),
                    shipment_ids: Vec::new(),
                    paper: None,
                    shipping: Vec::new(),
                    batch_id: Some(made.batch.id),
                };
                Some(documents_service::create_link(st, &p, request).await?)
            } else {
                None
            };
            Ok((view(st, made).await?, link))
        })
        .await;
        let (made, user_errors) = into_payload(result)?;
        if let Some((b, _)) = &made {
            let target = ids::encode("Batch", b.inner.batch.id).0;
            let shipped = b
                .inner
                .orders
                .iter()
                .filter(|o| o.shipment_id.is_some())
                .count();
            let summary = format!(
                "batch of {} order(s), {shipped} shipped",
                b.inner.orders.len()
            );
            audit::record(ctx, &p, AuditAction::CreateBatch, Some(target), summary).await;
        }
        let (batch, link) = match made {
            Some((b, l)) => (Some(b), l.map(DocumentLink::from)),
            None => (None, None),
        };
        Ok(CreateBatchPayload {
            batch,
            link,
            user_errors,
        })
    }
}
