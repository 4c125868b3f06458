//! How each connected store is doing (`Integration.health`, docs/rules.md §3): when orders
//! last arrived, what waits to be pushed or failed, the API quota, the webhooks. Computed for
//! a page of stores in a fixed number of statements (one per figure, grouped by store).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::domain::{
    HealthState, IntegrationStatus, PushKind, ShipmentPushState, SyncKind, SyncOutcome,
    WebhookState,
};
use crate::entities::{integration, listing, push_queue, shipment, sync_run};
use crate::error::AppResult;
use crate::state::AppState;

/// A stock push waiting longer than this is worth a look.
const SLOW_PUSH: Duration = Duration::minutes(15);
/// Missed order imports before a store counts as failing.
const MISSED_IMPORTS: i32 = 3;

/// How a store is doing, from what orderdeck sees of it.
#[derive(Clone, Debug, async_graphql::SimpleObject)]
#[graphql(name = "StoreHealth")]
pub struct Health {
    /// The verdict: `HEALTHY`; `DEGRADED` (something to look at, see `reasons`); `FAILING`
    /// (no order import has succeeded for three import intervals); `NEEDS_CREDENTIALS`;
    /// `DISCONNECTED`.
    pub state: HealthState,
    /// Why it is not `HEALTHY`, in plain words; empty when it is.
    pub reasons: Vec<String>,
    /// When an order import of this store last succeeded (scheduled, webhook-driven or
    /// `syncNow`); null when none has.
    pub last_order_import_at: Option<DateTime<Utc>>,
    /// Seconds since that import (since connecting when none has succeeded).
    pub order_import_lag_seconds: i64,
    /// Stock figures queued for the store and not yet on it.
    pub pending_stock_pushes: i64,
    /// When the oldest of them was queued; null when none waits.
    pub oldest_pending_push_at: Option<DateTime<Utc>>,
    /// Listings whose last stock push failed (see each listing's `pushError`); retried with
    /// backoff.
    pub failed_stock_pushes: i64,
    /// Shipments the store refused (`retryShipmentPush` sends one again).
    pub failed_shipments: i64,
    /// Requests left in the store's API quota as the store's last answer to this server
    /// process said (BigCommerce counts per store, across apps); null before any call.
    pub quota_left: Option<i64>,
    /// When that quota window starts afresh.
    pub quota_reset_at: Option<DateTime<Utc>>,
    /// Whether order webhooks are registered (`OFF`: polling only).
    pub webhook_state: WebhookState,
}

fn counts(rows: Vec<(i64, i64)>) -> HashMap<i64, i64> {
    rows.into_iter().collect()
}

/// The health of each of `stores` (of one account), by id.
pub async fn of_stores(
    state: &AppState,
    account_id: i64,
    stores: &[integration::Model],
) -> AppResult<HashMap<i64, Health>> {
    let ids: Vec<i64> = stores.iter().map(|s| s.id).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let db = &state.db;
    let imports: HashMap<i64, Option<DateTime<Utc>>> = sync_run::Entity::find()
        .select_only()
        .column(sync_run::Column::IntegrationId)
        .column_as(Expr::col(sync_run::Column::FinishedAt).max(), "last")
        .filter(sync_run::Column::AccountId.eq(account_id))
        .filter(sync_run::Column::IntegrationId.is_in(ids.clone()))
        .filter(sync_run::Column::Kind.eq(SyncKind::Orders))
        .filter(sync_run::Column::Outcome.eq(SyncOutcome::Succeeded))
        .group_by(sync_run::Column::IntegrationId)
        .into_tuple::<(i64, Option<DateTime<Utc>>)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let queued: HashMap<i64, (i64, Option<DateTime<Utc>>)> = push_queue::Entity::find()
        .select_only()
        .column(push_queue::Column::IntegrationId)
        .column_as(Expr::col(push_queue::Column::Id).count(), "n")
        .column_as(Expr::col(push_queue::Column::CreatedAt).min(), "oldest")
        .filter(push_queue::Column::AccountId.eq(account_id))
        .filter(push_queue::Column::IntegrationId.is_in(ids.clone()))
        .filter(push_queue::Column::Kind.eq(PushKind::Stock))
        .group_by(push_queue::Column::IntegrationId)
        .into_tuple::<(i64, i64, Option<DateTime<Utc>>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, n, oldest)| (id, (n, oldest)))
        .collect();
    let failed_pushes = counts(
        listing::Entity::find()
            .select_only()
            .column(listing::Column::IntegrationId)
            .column_as(Expr::col(listing::Column::Id).count(), "n")
            .filter(listing::Column::AccountId.eq(account_id))
            .filter(listing::Column::IntegrationId.is_in(ids.clone()))
            .filter(listing::Column::PushError.is_not_null())
            .group_by(listing::Column::IntegrationId)
            .into_tuple()
            .all(db)
            .await?,
    );
    let failed_shipments = counts(
        shipment::Entity::find()
            .select_only()
            .column(shipment::Column::IntegrationId)
            .column_as(Expr::col(shipment::Column::Id).count(), "n")
            .filter(shipment::Column::AccountId.eq(account_id))
            .filter(shipment::Column::IntegrationId.is_in(ids))
            .filter(shipment::Column::PushState.eq(ShipmentPushState::Failed))
            .group_by(shipment::Column::IntegrationId)
            .into_tuple()
            .all(db)
            .await?,
    );
    let now = Utc::now();
    let interval = Duration::from_std(state.settings.order_sync_interval)
        .unwrap_or_else(|_| Duration::minutes(10));
    Ok(stores
        .iter()
        .map(|s| {
            let last = imports.get(&s.id).copied().flatten();
            let (pending, oldest) = queued.get(&s.id).copied().unwrap_or((0, None));
            let quota = state.bigcommerce.quota(&s.store_hash);
            let mut h = Health {
                state: HealthState::Healthy,
                reasons: Vec::new(),
                last_order_import_at: last,
                order_import_lag_seconds: (now - last.unwrap_or(s.connected_at))
                    .num_seconds()
                    .max(0),
                pending_stock_pushes: pending,
                oldest_pending_push_at: oldest,
                failed_stock_pushes: failed_pushes.get(&s.id).copied().unwrap_or(0),
                failed_shipments: failed_shipments.get(&s.id).copied().unwrap_or(0),
                quota_left: quota.map(|q| i64::try_from(q.left).unwrap_or(i64::MAX)),
                quota_reset_at: quota.map(|q| q.reset_at),
                webhook_state: s.webhook_state,
            };
            judge(&mut h, s, interval, now);
            (s.id, h)
        })
        .collect())
}

/// Sets the verdict and its reasons from the figures.
fn judge(h: &mut Health, s: &integration::Model, interval: Duration, now: DateTime<Utc>) {
    match s.status {
        IntegrationStatus::Disconnected => {
            h.state = HealthState::Disconnected;
            h.reasons.push("the store is disconnected".into());
            return;
        }
        IntegrationStatus::NeedsCredentials => {
            h.state = HealthState::NeedsCredentials;
            h.reasons
                .push("the store refused the access token: connect it with new credentials".into());
            return;
        }
        IntegrationStatus::Active => {}
    }
    if s.order_management && h.order_import_lag_seconds > (interval * MISSED_IMPORTS).num_seconds()
    {
        h.state = HealthState::Failing;
        h.reasons.push(format!(
            "no order import has succeeded for {} minutes",
            h.order_import_lag_seconds / 60
        ));
    }
    let mut degraded = Vec::new();
    if h.failed_stock_pushes > 0 {
        degraded.push(format!(
            "{} listing(s) failed their last stock push",
            h.failed_stock_pushes
        ));
    }
    if h.failed_shipments > 0 {
        degraded.push(format!(
            "{} shipment(s) refused by the store",
            h.failed_shipments
        ));
    }
    if h.oldest_pending_push_at
        .is_some_and(|at| now - at > SLOW_PUSH)
    {
        degraded.push("stock pushes have waited more than 15 minutes".into());
    }
    if h.webhook_state == WebhookState::Failed {
        degraded.push("order webhooks could not be registered (polling goes on)".into());
    }
    if h.quota_left == Some(0) {
        degraded.push("the store's API quota is used up until it resets".into());
    }
    if h.state == HealthState::Healthy && !degraded.is_empty() {
        h.state = HealthState::Degraded;
    }
    h.reasons.extend(degraded);
}
