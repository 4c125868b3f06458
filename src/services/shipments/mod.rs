//! Shipping orders here (docs/rules.md §6): `shipOrders` checks each request against its order,
//! records the shipments and what they carry, moves the order to `PARTIALLY_SHIPPED` or
//! `SHIPPED`, and hands the shipments to the push (`sync::shipments`), which sends each to the
//! store exactly once. Queries for the GraphQL types live here too.

pub(crate) mod plan;

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};

use self::plan::{Parcel, ShipmentRequest};
use super::events::Event;
use super::leases::Lease;
use super::Principal;
use crate::channels::bigcommerce::carriers;
use crate::db::{self, ScopedFutureExt};
use crate::domain::address::{parcel_address, recipient_contact};
use crate::domain::money::DecimalText;
use crate::domain::shipping::{label_reference, shipped_status, CustomsDeclaration, CustomsLine};
use crate::domain::{IntegrationStatus, OrderStatus, ShipmentMethod, ShipmentPushState};
use crate::entities::{integration, order, order_line, shipment, shipment_line};
use crate::error::{AppError, AppResult, UserError, UserErrorCode as Code};
use crate::state::AppState;

/// Most shipments one `shipOrders` call takes.
pub const MAX_SHIPMENTS_PER_CALL: usize = 100;
/// How long `shipOrders` waits for its pushes before answering (they go on after).
const INLINE_PUSH_WAIT: Duration = Duration::from_secs(5);

/// What `shipOrders` answers for one request.
#[derive(Debug)]
pub struct ShipOutcome {
    /// The index of the request it answers (a request naming a merged order has one outcome
    /// per order of the merge).
    pub request: usize,
    /// The order after shipping.
    pub order: Option<order::Model>,
    /// The shipments made (one per shipping address).
    pub shipments: Vec<shipment::Model>,
    /// Why nothing was shipped.
    pub errors: Vec<UserError>,
}

/// Ships each request in turn, each in its own transaction: one refused request leaves the
/// others shipped. The new shipments are pushed at once; the answer waits a few seconds for
/// those pushes and shows where each stands.
pub async fn ship_orders(
    state: &AppState,
    p: &Principal,
    requests: Vec<ShipmentRequest>,
) -> AppResult<Vec<ShipOutcome>> {
    ship_orders_waiting(state, p, requests, INLINE_PUSH_WAIT).await
}

/// [`ship_orders`], waiting at most `wait` for the pushes (a batch waits for none: its many
/// pushes go on while it answers, and `Batch.pushes` shows them).
pub async fn ship_orders_waiting(
    state: &AppState,
    p: &Principal,
    requests: Vec<ShipmentRequest>,
    wait: Duration,
) -> AppResult<Vec<ShipOutcome>> {
    if requests.is_empty() {
        return Err(
            UserError::new("shipments", Code::Required, "Give at least one shipment.").into(),
        );
    }
    if requests.len() > MAX_SHIPMENTS_PER_CALL {
        return Err(UserError::new(
            "shipments",
            Code::Invalid,
            format!("At most {MAX_SHIPMENTS_PER_CALL} shipments per call."),
        )
        .into());
    }
    let lease = Lease::shipments("ship-now");
    let mut outcomes = Vec::with_capacity(requests.len());
    let mut fresh = false;
    for (request, r) in requests.iter().enumerate() {
        match ship_one(state, p, r, &lease).await {
            Ok(shipped) => {
                for (order, shipments, new) in shipped {
                    fresh |= new;
                    if new {
                        state.events.publish([Event::OrderChanged {
                            account_id: order.account_id,
                            integration_id: order.integration_id,
                            order_id: order.id,
                        }]);
                    }
                    outcomes.push(ShipOutcome {
                        request,
                        order: Some(order),
                        shipments,
                        errors: Vec::new(),
                    });
                }
            }
            Err(AppError::User(errors)) => outcomes.push(ShipOutcome {
                request,
                order: None,
                shipments: Vec::new(),
                errors,
            }),
            Err(other) => return Err(other),
        }
    }
    if fresh {
        let push = tokio::spawn(push_claimed(state.clone(), lease.holder().to_string()));
        match tokio::time::timeout(wait, push).await {
            Ok(Ok(Err(e))) => tracing::error!(error = ?e, "pushing new shipments failed"),
            Ok(Err(e)) => tracing::error!(error = %e, "the shipment push task failed"),
            Ok(Ok(Ok(_))) | Err(_) => {}
        }
        for o in &mut outcomes {
            if o.shipments.is_empty() {
                continue;
            }
            let ids: Vec<i64> = o.shipments.iter().map(|s| s.id).collect();
            o.shipments = shipment::Entity::find()
                .filter(shipment::Column::AccountId.eq(p.account_id))
                .filter(shipment::Column::Id.is_in(ids))
                .order_by_asc(shipment::Column::Id)
                .all(&state.db)
                .await?;
        }
    }
    Ok(outcomes)
}

/// The idempotency key of the shipment of order `order_id` made for a request with `key` that
/// named another order of the same merge.
fn sibling_key(key: &str, order_id: i64) -> String {
    format!("{key}:order:{order_id}")
}

/// Shipments already made with this idempotency key (for the same order, and for the other
/// orders of its merge), if any.
async fn replay<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    r: &ShipmentRequest,
) -> AppResult<Option<Vec<(order::Model, Vec<shipment::Model>)>>> {
    let Some(found) = replay_one(db, p, r).await? else {
        return Ok(None);
    };
    let (Some(key), Some(merge_id)) = (&r.idempotency_key, found.0.merge_id) else {
        return Ok(Some(vec![found]));
    };
    let mut out = vec![found];
    for sibling in super::merges::orders_of(db, p.account_id, merge_id).await? {
        if sibling.id == out[0].0.id {
            continue;
        }
        let made = shipment::Entity::find()
            .filter(shipment::Column::AccountId.eq(p.account_id))
            .filter(shipment::Column::IdempotencyKey.eq(sibling_key(key, sibling.id)))
            .order_by_asc(shipment::Column::Id)
            .all(db)
            .await?;
        if !made.is_empty() {
            out.push((sibling, made));
        }
    }
    Ok(Some(out))
}

/// Shipments already made with this idempotency key for the request's own order, if any.
async fn replay_one<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    r: &ShipmentRequest,
) -> AppResult<Option<(order::Model, Vec<shipment::Model>)>> {
    let Some(key) = &r.idempotency_key else {
        return Ok(None);
    };
    let prior = shipment::Entity::find()
        .filter(shipment::Column::AccountId.eq(p.account_id))
        .filter(shipment::Column::IdempotencyKey.eq(key.as_str()))
        .order_by_asc(shipment::Column::Id)
        .all(db)
        .await?;
    let Some(first) = prior.first() else {
        return Ok(None);
    };
    if Some(first.order_id) != r.order_id {
        return Err(UserError::new(
            "idempotencyKey",
            Code::IdempotencyKeyReused,
            "This idempotency key was used for another order's shipment.",
        )
        .into());
    }
    let order = order::Entity::find_by_id(first.order_id)
        .filter(order::Column::AccountId.eq(p.account_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("a shipment's order is gone"))?;
    Ok(Some((order, prior)))
}

fn not_found() -> UserError {
    UserError::new("orderId", Code::NotFound, "No such order in your account.")
}

/// An order after shipping, its new shipments, and whether they are new.
type Shipped = (order::Model, Vec<shipment::Model>, bool);

fn replayed(prior: Vec<(order::Model, Vec<shipment::Model>)>) -> Vec<Shipped> {
    prior.into_iter().map(|(o, s)| (o, s, false)).collect()
}

/// Ships one request: each order it ships (one, or every order of a merge) after shipping.
async fn ship_one(
    state: &AppState,
    p: &Principal,
    request: &ShipmentRequest,
    lease: &Lease,
) -> AppResult<Vec<Shipped>> {
    let r = request.checked().map_err(AppError::User)?;
    if let Some(prior) = replay(&state.db, p, &r).await? {
        return Ok(replayed(prior));
    }
    let order_id = r.order_id.ok_or_else(not_found)?;
    let written = db::write(&state.db, |txn| {
        ship_order_or_merge(txn, p, &r, order_id, lease).scope_boxed()
    })
    .await;
    match written {
        Ok(made) => Ok(made.into_iter().map(|(o, s)| (o, s, true)).collect()),
        // The same idempotency key committed meanwhile: answer with its shipments.
        Err(e) if r.idempotency_key.is_some() && e.is_unique_violation() => {
            replay(&state.db, p, &r).await?.map(replayed).ok_or(e)
        }
        Err(e) => Err(e),
    }
}

/// Ships the order as `r` asks; an order of a merge asked to ship whole ships with every order
/// of its merge in this transaction: one tracking number (the request's, or the label
/// reference of the first shipment), one shipment per order.
async fn ship_order_or_merge(
    txn: &DatabaseTransaction,
    p: &Principal,
    r: &ShipmentRequest,
    order_id: i64,
    lease: &Lease,
) -> AppResult<Vec<(order::Model, Vec<shipment::Model>)>> {
    let merge_id = order::Entity::find_by_id(order_id)
        .filter(order::Column::AccountId.eq(p.account_id))
        .one(txn)
        .await?
        .and_then(|o| o.merge_id);
    let Some(merge_id) = merge_id.filter(|_| r.lines.is_none()) else {
        return Ok(vec![ship_in(txn, p, r, order_id, lease).await?]);
    };
    let siblings = super::merges::orders_of(txn, p.account_id, merge_id).await?;
    // Locked in id order, as every shipping of this merge does.
    let mut ids: Vec<i64> = siblings.iter().map(|o| o.id).collect();
    ids.sort_unstable();
    let mut tracking = r.tracking_number.clone();
    let mut out = Vec::with_capacity(ids.len());
    for id in &ids {
        let mut each = r.clone();
        each.tracking_number.clone_from(&tracking);
        if *id != order_id {
            // The parcel's weight is given once; the idempotency key names the request.
            each.weight = None;
            each.idempotency_key = r.idempotency_key.as_deref().map(|k| sibling_key(k, *id));
        }
        let (o, made) = ship_in(txn, p, &each, *id, lease)
            .await
            .map_err(|e| in_merge(e, siblings.iter().find(|o| o.id == *id), *id == order_id))?;
        if tracking.is_none() {
            tracking = made.first().map(|s| s.tracking_number.clone());
        }
        out.push((o, made));
    }
    // The named order's result first.
    out.sort_by_key(|(o, _)| o.id != order_id);
    // Unmerged meanwhile: nothing of this holds.
    let now: Vec<i64> = super::merges::orders_of(txn, p.account_id, merge_id)
        .await?
        .iter()
        .map(|o| o.id)
        .collect();
    if now.len() != ids.len() {
        return Err(UserError::new(
            "orderId",
            Code::Conflict,
            "The merge changed while shipping; try again.",
        )
        .into());
    }
    Ok(out)
}

/// A refusal of a merged order other than the named one, saying which order it was.
fn in_merge(e: AppError, order: Option<&order::Model>, named: bool) -> AppError {
    match (e, order) {
        (AppError::User(errors), Some(o)) if !named => AppError::User(
            errors
                .into_iter()
                .map(|u| {
                    UserError::new(
                        "orderId",
                        u.code,
                        format!(
                            "Order {} of this merge: {} (unmerge it to ship the others)",
                            o.number, u.message
                        ),
                    )
                })
                .collect(),
        ),
        (e, _) => e,
    }
}

/// Ships order `order_id` as `r` asks inside `txn`: the order after and its new shipments.
async fn ship_in(
    txn: &DatabaseTransaction,
    p: &Principal,
    r: &ShipmentRequest,
    order_id: i64,
    lease: &Lease,
) -> AppResult<(order::Model, Vec<shipment::Model>)> {
    // Write first: two shipments of one order take turns and the second sees the first.
    let locked = order::Entity::update_many()
        .col_expr(
            order::Column::UpdatedAt,
            Expr::col(order::Column::UpdatedAt).into(),
        )
        .filter(order::Column::Id.eq(order_id))
        .filter(order::Column::AccountId.eq(p.account_id))
        .exec(txn)
        .await?;
    if locked.rows_affected == 0 {
        return Err(not_found().into());
    }
    let o = order::Entity::find_by_id(order_id)
        .filter(order::Column::AccountId.eq(p.account_id))
        .one(txn)
        .await?
        .ok_or_else(not_found)?;
    if let Some(e) = plan::refuse_status(o.status) {
        return Err(e.into());
    }
    let store = integration::Entity::find_by_id(o.integration_id)
        .filter(integration::Column::AccountId.eq(p.account_id))
        .one(txn)
        .await?
        .ok_or_else(not_found)?;
    if store.status == IntegrationStatus::Disconnected {
        return Err(UserError::new(
            "orderId",
            Code::IntegrationDisconnected,
            "The order's store is disconnected: reconnect it to ship its orders.",
        )
        .into());
    }
    let lines = order_line::Entity::find()
        .filter(order_line::Column::AccountId.eq(p.account_id))
        .filter(order_line::Column::OrderId.eq(o.id))
        .order_by_asc(order_line::Column::Id)
        .all(txn)
        .await?;
    let parcels = plan::parcels(r.lines.as_deref(), &lines).map_err(AppError::User)?;
    let mut made = Vec::new();
    for (address_id, parcel) in &parcels {
        made.push(insert_shipment(txn, p, r, &o, &store, *address_id, parcel, lease).await?);
    }
    // What has shipped of each line now, and the status that makes.
    let shipped: HashMap<i64, i64> = parcels
        .iter()
        .flat_map(|(_, parcel)| parcel.iter().map(|(l, q)| (l.id, *q)))
        .collect();
    let quantities: Vec<(i64, i64)> = lines
        .iter()
        .map(|l| {
            (
                l.quantity,
                l.quantity_shipped + shipped.get(&l.id).copied().unwrap_or(0),
            )
        })
        .collect();
    let now = Utc::now();
    let status = shipped_status(o.status, &quantities);
    let mut am = o.clone().into_active_model();
    am.status = Set(status);
    if status == OrderStatus::Shipped && o.shipped_at.is_none() {
        am.shipped_at = Set(Some(now));
    }
    am.updated_at = Set(now);
    let order = am.update(txn).await?;
    Ok((order, made))
}

/// Inserts one parcel's shipment and lines, and adds its quantities to the order lines.
#[allow(clippy::too_many_arguments)]
async fn insert_shipment<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    r: &ShipmentRequest,
    o: &order::Model,
    store: &integration::Model,
    address_id: i64,
    parcel: &Parcel,
    lease: &Lease,
) -> AppResult<shipment::Model> {
    let now = Utc::now();
    let to = parcel_address(
        o.shipping_addresses.as_ref(),
        o.billing_address.as_ref(),
        address_id,
    );
    let (phone, email) = recipient_contact(
        &to,
        o.customer_contact(),
        o.billing_address.as_ref(),
        store.contact(),
    );
    let codes = carriers::codes(r.carrier.as_deref().unwrap_or(""));
    let weight = r.weight.or_else(|| {
        let weights: Vec<Decimal> = parcel
            .iter()
            .filter_map(|(l, q)| l.weight.map(|w| w.get() * Decimal::from(*q)))
            .collect();
        (!weights.is_empty()).then(|| weights.iter().sum())
    });
    let from = store
        .return_address
        .as_ref()
        .map(|a| a.country_code.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty());
    let customs = CustomsDeclaration::of_parcel(
        parcel
            .iter()
            .map(|(l, q)| CustomsLine::of(&l.name, l.sku.as_deref(), *q, l.unit_price.get()))
            .collect(),
        &o.currency,
        from.as_deref(),
        &to.country_code,
        store.ioss_number.as_deref(),
    );
    let row = shipment::ActiveModel {
        account_id: Set(p.account_id),
        integration_id: Set(o.integration_id),
        order_id: Set(o.id),
        method: Set(r.method),
        carrier: Set(r.carrier.clone()),
        service: Set(r.service.clone()),
        tracking_number: Set(r.tracking_number.clone().unwrap_or_default()),
        shipping_provider: Set(codes.shipping_provider.to_string()),
        tracking_carrier: Set(codes.tracking_carrier.to_string()),
        order_address_id: Set(address_id),
        weight: Set(weight.map(DecimalText::normalized)),
        contact_phone: Set(phone),
        contact_email: Set(email),
        customs: Set(customs),
        idempotency_key: Set(r.idempotency_key.clone()),
        push_state: Set(ShipmentPushState::Pending),
        push_attempts: Set(0),
        push_error: Set(None),
        push_due_at: Set(Some(now)),
        push_claimed_by: Set(Some(lease.holder().to_string())),
        push_claimed_until: Set(Some(lease.until(now))),
        pushed_at: Set(None),
        external_id: Set(None),
        tracking_link: Set(None),
        created_by_user_id: Set(p.user_id()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let row = if r.method == ShipmentMethod::Label && r.tracking_number.is_none() {
        let mut am = row.clone().into_active_model();
        am.tracking_number = Set(label_reference(row.id));
        am.update(db).await?
    } else {
        row
    };
    shipment_line::Entity::insert_many(parcel.iter().map(|(l, q)| shipment_line::ActiveModel {
        account_id: Set(p.account_id),
        shipment_id: Set(row.id),
        order_line_id: Set(l.id),
        order_product_id: Set(l.external_id),
        sku: Set(l.sku.clone()),
        name: Set(l.name.clone()),
        quantity: Set(*q),
        ..Default::default()
    }))
    .exec_without_returning(db)
    .await?;
    for (l, q) in parcel {
        order_line::Entity::update_many()
            .col_expr(
                order_line::Column::QuantityShipped,
                Expr::col(order_line::Column::QuantityShipped).add(*q),
            )
            .filter(order_line::Column::Id.eq(l.id))
            .exec(db)
            .await?;
    }
    Ok(row)
}

/// The caller's shipments of these orders, oldest first, by order id.
pub async fn by_order(
    state: &AppState,
    account_id: i64,
    order_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<shipment::Model>>> {
    let mut map: HashMap<i64, Vec<shipment::Model>> = HashMap::new();
    for s in shipment::Entity::find()
        .filter(shipment::Column::AccountId.eq(account_id))
        .filter(shipment::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(shipment::Column::Id)
        .all(&state.db)
        .await?
    {
        map.entry(s.order_id).or_default().push(s);
    }
    Ok(map)
}

/// The lines of the caller's shipments, by shipment id.
pub async fn lines_by_shipment(
    state: &AppState,
    account_id: i64,
    shipment_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<shipment_line::Model>>> {
    let mut map: HashMap<i64, Vec<shipment_line::Model>> = HashMap::new();
    for l in shipment_line::Entity::find()
        .filter(shipment_line::Column::AccountId.eq(account_id))
        .filter(shipment_line::Column::ShipmentId.is_in(shipment_ids.iter().copied()))
        .order_by_asc(shipment_line::Column::Id)
        .all(&state.db)
        .await?
    {
        map.entry(l.shipment_id).or_default().push(l);
    }
    Ok(map)
}

/// One of the caller's shipments.
pub async fn find(
    state: &AppState,
    account_id: i64,
    id: i64,
) -> AppResult<Option<shipment::Model>> {
    Ok(shipment::Entity::find_by_id(id)
        .filter(shipment::Column::AccountId.eq(account_id))
        .one(&state.db)
        .await?)
}

/// Sends a shipment the store refused (`FAILED`) again: it goes back to `PENDING` and is pushed
/// now (after checking the store does not have it already). `PUSHED` and `PENDING` shipments
/// are answered with `SHIPMENT_NOT_RETRYABLE`.
pub async fn retry_push(
    state: &AppState,
    p: &Principal,
    id: Option<i64>,
) -> AppResult<shipment::Model> {
    let id = id.ok_or_else(missing_shipment)?;
    let lease = Lease::shipments("retry-now");
    db::write(&state.db, |txn| {
        reopen(txn, p.account_id, id, &lease).scope_boxed()
    })
    .await?;
    let push = tokio::spawn(push_claimed(state.clone(), lease.holder().to_string()));
    let _ = tokio::time::timeout(INLINE_PUSH_WAIT, push).await;
    find(state, p.account_id, id)
        .await?
        .ok_or_else(|| missing_shipment().into())
}

fn missing_shipment() -> UserError {
    UserError::new(
        "shipmentId",
        Code::NotFound,
        "No such shipment in your account.",
    )
}

/// Puts a `FAILED` shipment back to `PENDING`, taken by `lease` for an immediate push.
async fn reopen(
    txn: &DatabaseTransaction,
    account_id: i64,
    id: i64,
    lease: &Lease,
) -> AppResult<()> {
    let now = Utc::now();
    let update = shipment::Entity::update_many()
        .col_expr(
            shipment::Column::PushState,
            Expr::value(ShipmentPushState::Pending),
        )
        .col_expr(shipment::Column::PushDueAt, Expr::value(now))
        .col_expr(shipment::Column::UpdatedAt, Expr::value(now));
    let reopened = lease
        .take(update, now)
        .filter(shipment::Column::Id.eq(id))
        .filter(shipment::Column::AccountId.eq(account_id))
        .filter(shipment::Column::PushState.eq(ShipmentPushState::Failed))
        .exec(txn)
        .await?;
    if reopened.rows_affected == 0 {
        let exists = shipment::Entity::find_by_id(id)
            .filter(shipment::Column::AccountId.eq(account_id))
            .one(txn)
            .await?;
        return Err(match exists {
            None => missing_shipment(),
            Some(s) => UserError::new(
                "shipmentId",
                Code::ShipmentNotRetryable,
                match s.push_state {
                    ShipmentPushState::Pushed => "The store has this shipment already.",
                    _ => "This shipment is waiting for its push already.",
                },
            ),
        }
        .into());
    }
    Ok(())
}

/// Pushes the shipments claimed with `token` through the state's [`Pusher`](super::workers::Pusher).
async fn push_claimed(state: AppState, token: String) -> AppResult<()> {
    let pusher = state.pusher.clone();
    pusher.push_shipments_claimed(state, token).await
}
