//! Batches (docs/rules.md §6): up to 500 orders shipped in one step with printed labels, in
//! pick-list order, and one PDF of every parcel's packing slip followed by its label. Each
//! order gets its own outcome, as in `shipOrders`: one refused order leaves the others shipped.
//! A batch is kept (what each order came to), can be printed again, and shows where its
//! shipments' pushes to the stores stand.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_graphql::{InputType, Name, Value};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::documents::{self, picking};
use super::shipments::plan::{trimmed, ShipmentRequest, MAX_NAME_LEN};
use super::shipments::{self, MAX_SHIPMENTS_PER_CALL};
use super::Principal;
use crate::domain::{ShipmentMethod, ShipmentPushState};
use crate::entities::{batch, batch_order, order, shipment};
use crate::error::{ensure_valid, AppResult, UserError, UserErrorCode as Code};
use crate::state::AppState;

/// Most orders in one batch.
pub const MAX_BATCH: usize = 500;

/// What `createBatch` asks for.
#[derive(Clone, Debug)]
pub struct NewBatch {
    /// The orders (ids of the account), in any order.
    pub order_ids: Vec<i64>,
    /// How the parcels travel (labels printed here).
    pub method: ShipmentMethod,
    /// Carrier name.
    pub carrier: Option<String>,
    /// Carrier service.
    pub service: Option<String>,
}

/// A batch with what each order came to, in pick-list order.
#[derive(Clone, Debug)]
pub struct Batch {
    /// The batch.
    pub batch: batch::Model,
    /// One row per order, by position.
    pub orders: Vec<batch_order::Model>,
}

/// Where a batch's shipments stand with the stores.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PushCounts {
    /// Waiting to be sent, or retried after a failure that may pass.
    pub pending: u64,
    /// On the store.
    pub pushed: u64,
    /// Refused by the store (see each shipment).
    pub failed: u64,
}

fn code_name(code: Code) -> String {
    match code.to_value() {
        Value::Enum(name) => name.to_string(),
        other => other.to_string(),
    }
}

/// The stored code name back as a code (`INVALID` for a name this build does not know).
pub fn code_of(name: &str) -> Code {
    Code::parse(Some(Value::Enum(Name::new(name)))).unwrap_or(Code::Invalid)
}

fn checked(mut input: NewBatch) -> AppResult<NewBatch> {
    let mut seen = HashSet::new();
    input.order_ids.retain(|id| seen.insert(*id));
    input.carrier = trimmed(&input.carrier);
    input.service = trimmed(&input.service);
    let mut errors = Vec::new();
    if input.order_ids.is_empty() {
        errors.push(UserError::new(
            "orderIds",
            Code::Required,
            "Give at least one order.",
        ));
    }
    if input.order_ids.len() > MAX_BATCH {
        errors.push(UserError::new(
            "orderIds",
            Code::Invalid,
            format!("At most {MAX_BATCH} orders make one batch."),
        ));
    }
    if input.method != ShipmentMethod::Label {
        errors.push(UserError::new(
            "method",
            Code::Invalid,
            "A batch prints its labels here: use LABEL. Parcels sent with a carrier's own \
             tracking numbers ship with shipOrders, one number each.",
        ));
    }
    for (field, value) in [("carrier", &input.carrier), ("service", &input.service)] {
        if value
            .as_ref()
            .is_some_and(|v| v.chars().count() > MAX_NAME_LEN)
        {
            errors.push(UserError::new(
                field,
                Code::TooLong,
                format!("At most {MAX_NAME_LEN} characters."),
            ));
        }
    }
    ensure_valid(errors)?;
    Ok(input)
}

/// Ships the orders of `input` in pick-list order and records the batch. An order of a merge
/// ships its whole merge once; its merged orders in the batch are recorded with their own
/// shipments.
pub async fn create(state: &AppState, p: &Principal, input: NewBatch) -> AppResult<Batch> {
    let input = checked(input)?;
    let orders: Vec<order::Model> = order::Entity::find()
        .filter(order::Column::AccountId.eq(p.account_id))
        .filter(order::Column::Id.is_in(input.order_ids.iter().copied()))
        .all(&state.db)
        .await?;
    if orders.len() != input.order_ids.len() {
        return Err(
            UserError::new("orderIds", Code::NotFound, "No such order in your account.").into(),
        );
    }
    let (lines, items, components) = picking::rows(state, p.account_id, &orders).await?;
    let walk = picking::walk_order(&orders, &lines, &items, &components);
    let made = batch::ActiveModel {
        account_id: Set(p.account_id),
        method: Set(input.method),
        carrier: Set(input.carrier.clone()),
        service: Set(input.service.clone()),
        created_by_user_id: Set(p.user_id()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;

    // One request per parcel: an order of a merge speaks for its merge.
    let by_id: HashMap<i64, &order::Model> = orders.iter().map(|o| (o.id, o)).collect();
    let mut merges_seen = HashSet::new();
    let requests: Vec<ShipmentRequest> = walk
        .iter()
        .filter(|id| {
            by_id
                .get(id)
                .and_then(|o| o.merge_id)
                .is_none_or(|m| merges_seen.insert(m))
        })
        .map(|id| ShipmentRequest {
            order_id: Some(*id),
            method: input.method,
            carrier: input.carrier.clone(),
            service: input.service.clone(),
            tracking_number: None,
            lines: None,
            weight: None,
            idempotency_key: Some(format!("batch:{}:order:{id}", made.id)),
        })
        .collect();
    let mut shipped: HashMap<i64, i64> = HashMap::new();
    let mut refused: HashMap<i64, UserError> = HashMap::new();
    for chunk in requests.chunks(MAX_SHIPMENTS_PER_CALL) {
        // The pushes go on in the background: a batch of 500 answers without waiting for them.
        let outcomes =
            shipments::ship_orders_waiting(state, p, chunk.to_vec(), Duration::ZERO).await?;
        for o in outcomes {
            match (&o.order, o.shipments.first(), o.errors.into_iter().next()) {
                (Some(order), Some(s), _) => {
                    shipped.insert(order.id, s.id);
                }
                (_, _, Some(e)) => {
                    if let Some(id) = chunk.get(o.request).and_then(|r| r.order_id) {
                        refused.insert(id, e);
                    }
                }
                _ => {}
            }
        }
    }
    let rows: Vec<batch_order::ActiveModel> = walk
        .iter()
        .enumerate()
        .map(|(position, id)| {
            let error = refused.get(id).or_else(|| {
                // An order of a merge whose first order was refused.
                by_id
                    .get(id)
                    .and_then(|o| o.merge_id)
                    .and_then(|m| {
                        walk.iter()
                            .find(|x| by_id.get(x).and_then(|o| o.merge_id) == Some(m))
                    })
                    .and_then(|first| refused.get(first))
            });
            batch_order::ActiveModel {
                account_id: Set(p.account_id),
                batch_id: Set(made.id),
                order_id: Set(*id),
                position: Set(i64::try_from(position).unwrap_or(i64::MAX)),
                shipment_id: Set(shipped.get(id).copied()),
                error_code: Set(error
                    .filter(|_| !shipped.contains_key(id))
                    .map(|e| code_name(e.code))),
                error_message: Set(error
                    .filter(|_| !shipped.contains_key(id))
                    .map(|e| e.message.clone())),
                ..Default::default()
            }
        })
        .collect();
    for chunk in rows.chunks(500) {
        batch_order::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&state.db)
            .await?;
    }
    get(state, p.account_id, made.id)
        .await?
        .ok_or_else(|| crate::error::AppError::internal("a batch just made is gone"))
}

/// The account's batch `batch_id` with its orders in position order; `None` when there is
/// none.
pub async fn get(state: &AppState, account_id: i64, batch_id: i64) -> AppResult<Option<Batch>> {
    let Some(b) = batch::Entity::find_by_id(batch_id)
        .filter(batch::Column::AccountId.eq(account_id))
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    let orders = batch_order::Entity::find()
        .filter(batch_order::Column::AccountId.eq(account_id))
        .filter(batch_order::Column::BatchId.eq(b.id))
        .order_by_asc(batch_order::Column::Position)
        .all(&state.db)
        .await?;
    Ok(Some(Batch { batch: b, orders }))
}

/// The shipments a batch made, by id.
pub async fn shipments_of(state: &AppState, b: &Batch) -> AppResult<HashMap<i64, shipment::Model>> {
    Ok(shipment::Entity::find()
        .filter(shipment::Column::AccountId.eq(b.batch.account_id))
        .filter(shipment::Column::Id.is_in(b.orders.iter().filter_map(|o| o.shipment_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect())
}

/// Where the batch's shipments stand with their stores now.
pub fn push_counts(shipments: &HashMap<i64, shipment::Model>) -> PushCounts {
    let mut c = PushCounts::default();
    for s in shipments.values() {
        match s.push_state {
            ShipmentPushState::Pending => c.pending += 1,
            ShipmentPushState::Pushed => c.pushed += 1,
            ShipmentPushState::Failed => c.failed += 1,
        }
    }
    c
}

/// The parcels of a batch in its order, each as (its orders, the shipment whose label it
/// carries): an order that shipped alone, or a merge once (at its first order's place).
pub async fn parcels(
    state: &AppState,
    b: &Batch,
) -> AppResult<Vec<(Vec<order::Model>, shipment::Model)>> {
    let shipments = shipments_of(state, b).await?;
    let ids: Vec<i64> = b
        .orders
        .iter()
        .filter(|o| o.shipment_id.is_some())
        .map(|o| o.order_id)
        .collect();
    let orders: Vec<order::Model> = order::Entity::find()
        .filter(order::Column::AccountId.eq(b.batch.account_id))
        .filter(order::Column::Id.is_in(ids.iter().copied()))
        .all(&state.db)
        .await?;
    let mut by_id: HashMap<i64, order::Model> = orders.into_iter().map(|o| (o.id, o)).collect();
    let in_order: Vec<order::Model> = ids.iter().filter_map(|id| by_id.remove(id)).collect();
    let first_shipment: HashMap<i64, i64> = b
        .orders
        .iter()
        .filter_map(|o| o.shipment_id.map(|s| (o.order_id, s)))
        .collect();
    let grouped = documents::parcels(state, b.batch.account_id, in_order).await?;
    Ok(grouped
        .into_iter()
        .filter_map(|orders| {
            let shipment = orders
                .iter()
                .find_map(|o| first_shipment.get(&o.id))
                .and_then(|s| shipments.get(s))?
                .clone();
            Some((orders, shipment))
        })
        .collect())
}
