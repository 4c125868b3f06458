//! How each connected store is doing (`Integration.health`, docs/rules.md §3): when orders
//! last arrived, what waits to be pushed or failed, the API quota, the webhooks. Computed for
//! a page of stores in a fixed number of statements (one per figure, grouped by store), and
//! for every store at once for the metrics scrape (`everywhere`).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Select};

use crate::domain::{
    HealthState, IntegrationStatus, PushKind, ShipmentPushState, SyncKind, SyncOutcome,
    WebhookState,
};
use crate::entities::{integration, listing, push_queue, shipment, sync_run};
use crate::error::AppResult;
use crate::metrics::StoreFigures;
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
    /// Shipments waiting to be sent to the store: new, or retried after a failure that may
    /// pass (a timeout, a store error).
    pub pending_shipments: i64,
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

/// Which stores a computation covers: some of one account's (the API), or every store of
/// every account (the metrics scrape).
#[derive(Clone, Copy)]
enum Scope<'a> {
    Stores(i64, &'a [i64]),
    All,
}

impl Scope<'_> {
    /// `q` limited to the scope's stores.
    fn limit<E: EntityTrait>(
        self,
        q: Select<E>,
        account: E::Column,
        store: E::Column,
    ) -> Select<E> {
        match self {
            Scope::Stores(account_id, ids) => q
                .filter(account.eq(account_id))
                .filter(store.is_in(ids.iter().copied())),
            Scope::All => q,
        }
    }
}

/// The figures of the stores in a scope, each by store id; one statement each.
struct Figures {
    imports: HashMap<i64, Option<DateTime<Utc>>>,
    queued: HashMap<i64, (i64, Option<DateTime<Utc>>)>,
    failed_pushes: HashMap<i64, i64>,
    pending_shipments: HashMap<i64, i64>,
    failed_shipments: HashMap<i64, i64>,
}

impl Figures {
    async fn read(db: &DatabaseConnection, scope: Scope<'_>) -> AppResult<Self> {
        let imports = scope
            .limit(
                sync_run::Entity::find(),
                sync_run::Column::AccountId,
                sync_run::Column::IntegrationId,
            )
            .select_only()
            .column(sync_run::Column::IntegrationId)
            .column_as(Expr::col(sync_run::Column::FinishedAt).max(), "last")
            .filter(sync_run::Column::Kind.eq(SyncKind::Orders))
            .filter(sync_run::Column::Outcome.eq(SyncOutcome::Succeeded))
            .group_by(sync_run::Column::IntegrationId)
            .into_tuple::<(i64, Option<DateTime<Utc>>)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let queued = scope
            .limit(
                push_queue::Entity::find(),
                push_queue::Column::AccountId,
                push_queue::Column::IntegrationId,
            )
            .select_only()
            .column(push_queue::Column::IntegrationId)
            .column_as(Expr::col(push_queue::Column::Id).count(), "n")
            .column_as(Expr::col(push_queue::Column::CreatedAt).min(), "oldest")
            .filter(push_queue::Column::Kind.eq(PushKind::Stock))
            .group_by(push_queue::Column::IntegrationId)
            .into_tuple::<(i64, i64, Option<DateTime<Utc>>)>()
            .all(db)
            .await?
            .into_iter()
            .map(|(id, n, oldest)| (id, (n, oldest)))
            .collect();
        let failed_pushes = counts(
            scope
                .limit(
                    listing::Entity::find(),
                    listing::Column::AccountId,
                    listing::Column::IntegrationId,
                )
                .select_only()
                .column(listing::Column::IntegrationId)
                .column_as(Expr::col(listing::Column::Id).count(), "n")
                .filter(listing::Column::PushError.is_not_null())
                .group_by(listing::Column::IntegrationId)
                .into_tuple()
                .all(db)
                .await?,
        );
        let shipments = |push_state: ShipmentPushState| {
            scope
                .limit(
                    shipment::Entity::find(),
                    shipment::Column::AccountId,
                    shipment::Column::IntegrationId,
                )
                .select_only()
                .column(shipment::Column::IntegrationId)
                .column_as(Expr::col(shipment::Column::Id).count(), "n")
                .filter(shipment::Column::PushState.eq(push_state))
                .group_by(shipment::Column::IntegrationId)
                .into_tuple::<(i64, i64)>()
        };
        let pending_shipments = counts(shipments(ShipmentPushState::Pending).all(db).await?);
        let failed_shipments = counts(shipments(ShipmentPushState::Failed).all(db).await?);
        Ok(Self {
            imports,
            queued,
            failed_pushes,
            pending_shipments,
            failed_shipments,
        })
    }

    /// The health of store `s` from these figures.
    fn health(&self, state: &AppState, s: &integration::Model, now: DateTime<Utc>) -> Health {
        let interval = Duration::from_std(state.settings.order_sync_interval)
            .unwrap_or_else(|_| Duration::minutes(10));
        let last = self.imports.get(&s.id).copied().flatten();
        let (pending, oldest) = self.queued.get(&s.id).copied().unwrap_or((0, None));
        let quota = state.bigcommerce.quota(&s.store_hash);
        let mut h = Health {
            state: HealthState::Healthy,
            reasons: Vec::new(),
            last_order_import_at: last,
            order_import_lag_seconds: (now - last.unwrap_or(s.connected_at)).num_seconds().max(0),
            pending_stock_pushes: pending,
            oldest_pending_push_at: oldest,
            failed_stock_pushes: self.failed_pushes.get(&s.id).copied().unwrap_or(0),
            pending_shipments: self.pending_shipments.get(&s.id).copied().unwrap_or(0),
            failed_shipments: self.failed_shipments.get(&s.id).copied().unwrap_or(0),
            quota_left: quota.map(|q| i64::try_from(q.left).unwrap_or(i64::MAX)),
            quota_reset_at: quota.map(|q| q.reset_at),
            webhook_state: s.webhook_state,
        };
        judge(&mut h, s, interval, now);
        h
    }
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
    let figures = Figures::read(&state.db, Scope::Stores(account_id, &ids)).await?;
    let now = Utc::now();
    Ok(stores
        .iter()
        .map(|s| (s.id, figures.health(state, s, now)))
        .collect())
}

/// The figures of every connected store of every account, for the metrics scrape: a fixed
/// number of statements whatever the number of stores, read through `db` (the scrape's own
/// connection, so that a scrape never takes one from requests and workers).
pub async fn everywhere(state: &AppState, db: &DatabaseConnection) -> AppResult<Vec<StoreFigures>> {
    let stores = integration::Entity::find()
        .filter(integration::Column::Status.ne(IntegrationStatus::Disconnected))
        .all(db)
        .await?;
    let figures = Figures::read(db, Scope::All).await?;
    let now = Utc::now();
    Ok(stores
        .iter()
        .map(|s| {
            let h = figures.health(state, s, now);
            StoreFigures {
                integration_id: s.id,
                state: h.state.as_str().to_ascii_lowercase(),
                order_import_age_seconds: h.order_import_lag_seconds,
                pending_stock_pushes: h.pending_stock_pushes,
                oldest_pending_push_seconds: h
                    .oldest_pending_push_at
                    .map_or(0, |at| (now - at).num_seconds().max(0)),
                failed_stock_pushes: h.failed_stock_pushes,
                pending_shipments: h.pending_shipments,
                failed_shipments: h.failed_shipments,
                requests_left: h.quota_left,
            }
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
