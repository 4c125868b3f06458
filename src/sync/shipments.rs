//! Pushing shipments to their stores, each exactly once. A shipment row is its own outbox
//! entry: whoever pushes it first claims it with a lease (the `shipOrders` mutation for its
//! new shipments, else the push worker), counts the attempt, and only then sends it. An
//! attempt that may have reached the store (its answer lost, the process stopped) is followed
//! by a check of the store's shipments of that order before anything is sent again: a
//! shipment found there with the same address, tracking number and items is taken as ours and
//! its id stored. `POST` shipments are never retried blind (the client does not retry them).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::channel_for;
use crate::channels::{ChannelError, ChannelShipment, NewShipment, SalesChannel};
use crate::domain::{IntegrationStatus, ShipmentPushState};
use crate::entities::{integration, order, shipment, shipment_line};
use crate::error::AppResult;
use crate::services::events::Event;
use crate::services::leases::{self, Lease, SHIPMENT_LEASE};
use crate::services::push::retry_at;
use crate::state::AppState;

/// Shipments claimed per worker round and store.
const BATCH: u64 = 50;
/// Longest push error kept.
const MAX_ERROR_CHARS: usize = 500;

/// Counts of a push round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShipmentPushReport {
    /// Shipments the store has now (created, or found there after a lost answer).
    pub pushed: u64,
    /// Shipments found on the store instead of being sent again.
    pub found: u64,
    /// Attempts that failed (kept for a retry, or refused).
    pub failed: u64,
}

impl ShipmentPushReport {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Created => self.pushed += 1,
            Outcome::Found => {
                self.pushed += 1;
                self.found += 1;
            }
            Outcome::Failed => self.failed += 1,
            Outcome::Lost => {}
        }
    }
}

/// Pushes the shipments held by the lease named `token` (by `shipOrders` or `retryShipmentPush`, through
/// [`crate::services::workers::Pusher`]).
pub async fn push_claimed(state: AppState, token: String) -> AppResult<ShipmentPushReport> {
    let lease = Lease::new(token, SHIPMENT_LEASE);
    let rows = shipment::Entity::find()
        .filter(lease.holds::<shipment::Entity>())
        .filter(shipment::Column::PushState.eq(ShipmentPushState::Pending))
        .order_by_asc(shipment::Column::Id)
        .all(&state.db)
        .await?;
    let mut by_store: HashMap<i64, Vec<shipment::Model>> = HashMap::new();
    for r in rows {
        by_store.entry(r.integration_id).or_default().push(r);
    }
    let mut report = ShipmentPushReport::default();
    for (integration_id, rows) in by_store {
        let Some(store) = integration::Entity::find_by_id(integration_id)
            .one(&state.db)
            .await?
        else {
            continue;
        };
        if store.status != IntegrationStatus::Active {
            release_all(&state, &rows, &lease).await?;
            continue;
        }
        let channel = match channel_for(&state, &store) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(integration_id, error = %e.describe(), "no channel handle for shipments");
                release_all(&state, &rows, &lease).await?;
                continue;
            }
        };
        for row in rows {
            let outcome = push_one(&state, &store, &channel, row, &lease).await?;
            counted(&state, store.id, outcome);
            report.add(outcome);
        }
    }
    Ok(report)
}

/// Gives claimed rows back to the worker (store not active: they wait for it).
async fn release_all(state: &AppState, rows: &[shipment::Model], lease: &Lease) -> AppResult<()> {
    lease
        .give_up(shipment::Entity::update_many())
        .filter(shipment::Column::Id.is_in(rows.iter().map(|r| r.id)))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Integrations with shipments due now (for the push worker).
pub async fn stores_due(state: &AppState) -> AppResult<Vec<i64>> {
    let now = Utc::now();
    Ok(shipment::Entity::find()
        .select_only()
        .column(shipment::Column::IntegrationId)
        .distinct()
        .filter(due(now))
        .into_tuple()
        .all(&state.db)
        .await?)
}

fn due(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(shipment::Column::PushState.eq(ShipmentPushState::Pending))
        .add(shipment::Column::PushDueAt.lte(now))
        .add(leases::free::<shipment::Entity>(now))
}

/// Pushes one active store's due shipments (the push worker's part), a batch at a time.
pub async fn push_due(
    state: &AppState,
    owner: &str,
    store: &integration::Model,
    channel: &dyn SalesChannel,
) -> AppResult<ShipmentPushReport> {
    let mut report = ShipmentPushReport::default();
    loop {
        let now = Utc::now();
        let candidates: Vec<i64> = shipment::Entity::find()
            .select_only()
            .column(shipment::Column::Id)
            .filter(shipment::Column::IntegrationId.eq(store.id))
            .filter(due(now))
            .order_by_asc(shipment::Column::Id)
            .limit(BATCH)
            .into_tuple()
            .all(&state.db)
            .await?;
        if candidates.is_empty() {
            break;
        }
        let lease = Lease::shipments(owner);
        // Taken with the same condition: a row another pusher took meanwhile is left to it.
        lease
            .take(shipment::Entity::update_many(), now)
            .filter(shipment::Column::Id.is_in(candidates))
            .filter(due(now))
            .exec(&state.db)
            .await?;
        let rows = shipment::Entity::find()
            .filter(lease.holds::<shipment::Entity>())
            .order_by_asc(shipment::Column::Id)
            .all(&state.db)
            .await?;
        if rows.is_empty() {
            break;
        }
        let mut failures = 0;
        for row in rows {
            let outcome = push_one(state, store, channel, row, &lease).await?;
            counted(state, store.id, outcome);
            failures += u64::from(outcome == Outcome::Failed);
            report.add(outcome);
        }
        if failures > 0 {
            // A store failing now is not hammered: the rest waits for the next round.
            break;
        }
    }
    Ok(report)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Created,
    Found,
    Failed,
    /// Someone else holds the row now (our lease ran out).
    Lost,
}

/// Counts an attempt's outcome in the metrics (a row another pusher took is not counted).
fn counted(state: &AppState, integration_id: i64, outcome: Outcome) {
    let (sent, failed) = match outcome {
        Outcome::Created | Outcome::Found => (1, 0),
        Outcome::Failed => (0, 1),
        Outcome::Lost => return,
    };
    state
        .metrics
        .pushes(integration_id, "shipment", sent, failed);
}

/// One attempt for one claimed shipment.
async fn push_one(
    state: &AppState,
    store: &integration::Model,
    channel: &dyn SalesChannel,
    row: shipment::Model,
    lease: &Lease,
) -> AppResult<Outcome> {
    // Count the attempt before anything is sent: if this process stops half-way, the next
    // pusher knows the store may have it.
    let counted = shipment::Entity::update_many()
        .col_expr(
            shipment::Column::PushAttempts,
            Expr::col(shipment::Column::PushAttempts).add(1),
        )
        .filter(shipment::Column::Id.eq(row.id))
        .filter(lease.holds::<shipment::Entity>())
        .filter(shipment::Column::PushState.eq(ShipmentPushState::Pending))
        .exec(&state.db)
        .await?;
    if counted.rows_affected == 0 {
        return Ok(Outcome::Lost);
    }
    let attempt = row.push_attempts + 1;
    let Some(order) = order::Entity::find_by_id(row.order_id)
        .one(&state.db)
        .await?
    else {
        return Ok(Outcome::Lost);
    };
    let items: Vec<(i64, i64)> = shipment_line::Entity::find()
        .filter(shipment_line::Column::ShipmentId.eq(row.id))
        .order_by_asc(shipment_line::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|l| (l.order_product_id, l.quantity))
        .collect();
    if row.push_attempts > 0 {
        // An earlier attempt may have reached the store: look before sending again.
        match channel.shipments(order.external_id).await {
            Ok(theirs) => {
                let taken = taken_ids(state, store.id, row.id).await?;
                if let Some(found) = find_ours(&row, &items, &theirs, &taken) {
                    tracing::info!(
                        shipment_id = row.id,
                        store_shipment_id = found.external_id,
                        "shipment found on the store after an unanswered attempt; not sent again"
                    );
                    return record_pushed(state, &row, found, lease, Outcome::Found).await;
                }
            }
            Err(e) => return record_failure(state, store, &row, lease, attempt, &e).await,
        }
    }
    let new = NewShipment {
        order_external_id: order.external_id,
        order_address_id: row.order_address_id,
        tracking_number: row.tracking_number.clone(),
        shipping_method: shipping_method(&row),
        shipping_provider: row.shipping_provider.clone(),
        tracking_carrier: row.tracking_carrier.clone(),
        comments: String::new(),
        items: items.clone(),
    };
    match channel.create_shipment(&new).await {
        Ok(created) => record_pushed(state, &row, &created, lease, Outcome::Created).await,
        Err(e) => record_failure(state, store, &row, lease, attempt, &e).await,
    }
}

/// What the customer sees as the shipping method: carrier and service.
fn shipping_method(row: &shipment::Model) -> String {
    let parts: Vec<&str> = [row.carrier.as_deref(), row.service.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    parts.join(" ")
}

/// Store shipment ids other shipments here already stand for.
async fn taken_ids(state: &AppState, integration_id: i64, except: i64) -> AppResult<HashSet<i64>> {
    let ids: Vec<Option<i64>> = shipment::Entity::find()
        .select_only()
        .column(shipment::Column::ExternalId)
        .filter(shipment::Column::IntegrationId.eq(integration_id))
        .filter(shipment::Column::ExternalId.is_not_null())
        .filter(shipment::Column::Id.ne(except))
        .into_tuple()
        .all(&state.db)
        .await?;
    Ok(ids.into_iter().flatten().collect())
}

/// The store's shipment that is this one: same address, tracking number and items, not yet
/// claimed by another shipment here (the oldest such).
fn find_ours<'a>(
    ours: &shipment::Model,
    items: &[(i64, i64)],
    theirs: &'a [ChannelShipment],
    taken: &HashSet<i64>,
) -> Option<&'a ChannelShipment> {
    let mut wanted = items.to_vec();
    wanted.sort_unstable();
    theirs
        .iter()
        .filter(|t| !taken.contains(&t.external_id))
        .filter(|t| t.order_address_id == ours.order_address_id)
        .filter(|t| t.tracking_number == ours.tracking_number)
        .filter(|t| {
            let mut got = t.items.clone();
            got.sort_unstable();
            got == wanted
        })
        .min_by_key(|t| t.external_id)
}

async fn record_pushed(
    state: &AppState,
    row: &shipment::Model,
    on_store: &ChannelShipment,
    lease: &Lease,
    outcome: Outcome,
) -> AppResult<Outcome> {
    let now = Utc::now();
    let done = lease
        .give_up(
            shipment::Entity::update_many()
                .col_expr(
                    shipment::Column::PushState,
                    Expr::value(ShipmentPushState::Pushed),
                )
                .col_expr(
                    shipment::Column::ExternalId,
                    Expr::value(on_store.external_id),
                )
                .col_expr(
                    shipment::Column::TrackingLink,
                    Expr::value(on_store.tracking_link.clone()),
                )
                .col_expr(shipment::Column::PushedAt, Expr::value(now))
                .col_expr(shipment::Column::PushError, Expr::value(None::<String>))
                .col_expr(
                    shipment::Column::PushDueAt,
                    Expr::value(None::<DateTime<Utc>>),
                )
                .col_expr(shipment::Column::UpdatedAt, Expr::value(now)),
        )
        .filter(shipment::Column::Id.eq(row.id))
        .exec(&state.db)
        .await?;
    if done.rows_affected == 0 {
        // Our lease ran out while the store answered; whoever holds the row now will find
        // this shipment on the store before sending anything.
        tracing::warn!(
            shipment_id = row.id,
            "shipment pushed after its lease ran out"
        );
        return Ok(Outcome::Lost);
    }
    Ok(outcome)
}

async fn record_failure(
    state: &AppState,
    store: &integration::Model,
    row: &shipment::Model,
    lease: &Lease,
    attempt: i64,
    error: &ChannelError,
) -> AppResult<Outcome> {
    if matches!(error, ChannelError::Unauthorized) {
        super::runner::needs_credentials(state, store).await?;
    }
    let now = Utc::now();
    // A refusal of the data is final until someone changes something; anything else may pass.
    let refused = matches!(error, ChannelError::Rejected { .. });
    let (next_state, due_at) = if refused {
        (ShipmentPushState::Failed, None)
    } else {
        (ShipmentPushState::Pending, Some(retry_at(now, attempt)))
    };
    let message: String = error.to_string().chars().take(MAX_ERROR_CHARS).collect();
    tracing::warn!(shipment_id = row.id, attempt, error = %message, "shipment push failed");
    lease
        .give_up(
            shipment::Entity::update_many()
                .col_expr(shipment::Column::PushState, Expr::value(next_state))
                .col_expr(shipment::Column::PushError, Expr::value(message))
                .col_expr(shipment::Column::PushDueAt, Expr::value(due_at))
                .col_expr(shipment::Column::UpdatedAt, Expr::value(now)),
        )
        .filter(shipment::Column::Id.eq(row.id))
        .exec(&state.db)
        .await?;
    state.events.publish([Event::PushFailed {
        account_id: row.account_id,
        listing_id: None,
        shipment_id: Some(row.id),
    }]);
    Ok(Outcome::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ShipmentMethod;

    fn ours() -> shipment::Model {
        shipment::Model {
            id: 1,
            account_id: 1,
            integration_id: 1,
            order_id: 1,
            method: ShipmentMethod::Manual,
            carrier: Some("UPS".into()),
            service: None,
            tracking_number: "1Z999".into(),
            shipping_provider: "ups".into(),
            tracking_carrier: String::new(),
            order_address_id: 7,
            weight: None,
            contact_phone: None,
            contact_email: None,
            customs: None,
            idempotency_key: None,
            push_state: ShipmentPushState::Pending,
            push_attempts: 1,
            push_error: None,
            push_due_at: None,
            push_claimed_by: None,
            push_claimed_until: None,
            pushed_at: None,
            external_id: None,
            tracking_link: None,
            created_by_user_id: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn theirs(id: i64, tracking: &str, items: Vec<(i64, i64)>) -> ChannelShipment {
        ChannelShipment {
            external_id: id,
            order_address_id: 7,
            tracking_number: tracking.into(),
            items,
            tracking_link: None,
        }
    }

    #[test]
    fn a_store_shipment_is_ours_only_with_the_same_tracking_items_and_address() {
        let items = [(10, 1), (11, 2)];
        let store = [
            theirs(5, "OTHER", vec![(10, 1), (11, 2)]),
            theirs(6, "1Z999", vec![(10, 1)]),
            theirs(8, "1Z999", vec![(11, 2), (10, 1)]),
        ];
        let found = find_ours(&ours(), &items, &store, &HashSet::new());
        assert_eq!(found.map(|s| s.external_id), Some(8));
        let taken = HashSet::from([8]);
        assert_eq!(find_ours(&ours(), &items, &store, &taken), None);
    }
}
