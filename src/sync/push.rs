//! The push worker: drains the push queue (`services::push` fills it in the transaction of
//! every stock or price change) to the stores.
//!
//! Per store, stock rows are claimed with a lease (so replicas never push the same listing at
//! the same time, and a crashed replica's rows are taken over when the lease runs out), read
//! with the item's figure *at that moment* (coalescing: only the latest figure is sent) and
//! sent as Inventory API absolute levels (a bundle's computed figure; less the store's or the
//! listing's buffer; never below zero), up to 2,000 per call, one call at a time per store.
//! A row is deleted after a successful push only if its generation did not move meanwhile;
//! otherwise it stays queued and the new figure goes out next. A failure keeps the row with
//! a backoff and shows on the listing. A store that rejects a batch (422) has it split in
//! halves until the listings at fault are found; the others still go out.

use std::collections::HashMap;
use std::time::Duration;

use crate::domain::money::DecimalText;
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::channel_for;
use crate::channels::{ChannelError, ChannelTarget, PriceUpdate, SalesChannel, StockLevel};
use crate::db::{self, ScopedFutureExt};
use crate::domain::stock;
use crate::domain::{IntegrationStatus, PricePushState, PushKind, StockTracking};
use crate::entities::{integration, inventory_item as item, listing, push_queue as queue};
use crate::error::{AppError, AppResult};
use crate::services::bundles;
use crate::services::events::Event;
use crate::services::leases::{self, Lease, PUSH_LEASE};
use crate::services::push::retry_at;
use crate::services::workers::Pusher;
use crate::state::AppState;

/// Price rows pushed per claim (one call each).
const PRICE_BATCH: u64 = 50;
/// Longest error text kept on a listing.
const MAX_ERROR_CHARS: usize = 500;

/// What one pass pushed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PushReport {
    /// Listings whose stock level reached their store.
    pub stock_pushed: u64,
    /// Listings whose price reached their store.
    pub prices_pushed: u64,
    /// Listings whose push failed (kept queued with a backoff, or flagged).
    pub failed: u64,
    /// Calls made to the stores.
    pub calls: u64,
    /// Shipments the stores have now, and shipment attempts that failed.
    pub shipments: super::shipments::ShipmentPushReport,
}

impl PushReport {
    fn add(&mut self, o: PushReport) {
        self.stock_pushed += o.stock_pushed;
        self.prices_pushed += o.prices_pushed;
        self.failed += o.failed;
        self.calls += o.calls;
        self.shipments.pushed += o.shipments.pushed;
        self.shipments.found += o.shipments.found;
        self.shipments.failed += o.shipments.failed;
    }
}

/// A running push worker; [`PushWorkerHandle::shutdown`] stops it.
pub struct PushWorkerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Spawns the push worker: it wakes on [`AppState::pushes_queued`] and every `push_poll`.
pub fn start(state: AppState) -> PushWorkerHandle {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run_loop(state, leases::new_owner_id(), stopped));
    PushWorkerHandle { stop, task }
}

impl PushWorkerHandle {
    /// Stops after the pass in progress (bounded by the shutdown timeout).
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            tracing::warn!("push worker cut off at shutdown; its claims will run out");
            task.abort();
        }
    }
}

async fn run_loop(state: AppState, owner: String, mut stopped: watch::Receiver<bool>) {
    tracing::info!(owner = %owner, poll = ?state.settings.push_poll, "push worker started");
    let signal = state.push_signal.clone();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            _ = signal.notified() => {}
            _ = tokio::time::sleep(state.settings.push_poll) => {}
        }
        // Let changes committed together arrive together (coalescing).
        tokio::time::sleep(Duration::from_millis(5)).await;
        if let Err(e) = run_once(&state, &owner).await {
            tracing::error!(error = ?e, "push pass failed; retrying at the next poll");
        }
    }
    tracing::info!(owner = %owner, "push worker stopped");
}

/// One pass: every store with due rows, concurrently (one call at a time per store).
pub async fn run_once(state: &AppState, owner: &str) -> AppResult<PushReport> {
    let now = Utc::now();
    let mut due: Vec<i64> = queue::Entity::find()
        .select_only()
        .column(queue::Column::IntegrationId)
        .distinct()
        .filter(queue::Column::DueAt.lte(now))
        .filter(leases::free::<queue::Entity>(now))
        .into_tuple()
        .all(&state.db)
        .await?;
    for id in super::shipments::stores_due(state).await? {
        if !due.contains(&id) {
            due.push(id);
        }
    }
    let mut report = PushReport::default();
    for result in join_all(due.into_iter().map(|id| push_store(state, owner, id))).await {
        report.add(result?);
    }
    Ok(report)
}

/// Pushes one store's due rows until none is left.
async fn push_store(state: &AppState, owner: &str, integration_id: i64) -> AppResult<PushReport> {
    let mut report = PushReport::default();
    let Some(integration) = integration::Entity::find_by_id(integration_id)
        .one(&state.db)
        .await?
    else {
        return Ok(report);
    };
    match integration.status {
        IntegrationStatus::Active => {}
        IntegrationStatus::Disconnected => {
            queue::Entity::delete_many()
                .filter(queue::Column::IntegrationId.eq(integration.id))
                .exec(&state.db)
                .await?;
            return Ok(report);
        }
        // Kept queued until new credentials arrive.
        IntegrationStatus::NeedsCredentials => return Ok(report),
    }
    let channel = match channel_for(state, &integration) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(integration_id, error = %e.describe(), "no channel handle for pushes");
            return Ok(report);
        }
    };
    let max = channel.max_stock_levels_per_call();
    loop {
        let (lease, rows) = claim(state, owner, &integration, PushKind::Stock, max as u64).await?;
        if rows.is_empty() {
            break;
        }
        // The store's settings as they are now, read after the claim: a buffer changed during
        // this pass (its listings queued again after the change commits) is sent, not the one
        // the pass started with.
        let current = integration::Entity::find_by_id(integration.id)
            .one(&state.db)
            .await?
            .unwrap_or_else(|| integration.clone());
        match push_stock(state, &current, &channel, rows).await {
            Ok(r) => report.add(r),
            Err(e) => {
                release_claims(state, &lease).await;
                return Err(e);
            }
        }
        if report.failed > 0 && report.stock_pushed == 0 {
            break;
        }
    }
    loop {
        let (lease, rows) = claim(state, owner, &integration, PushKind::Price, PRICE_BATCH).await?;
        if rows.is_empty() {
            break;
        }
        match push_prices(state, &integration, &channel, rows).await {
            Ok(r) => report.add(r),
            Err(e) => {
                release_claims(state, &lease).await;
                return Err(e);
            }
        }
    }
    report.shipments = super::shipments::push_due(state, owner, &integration, &channel).await?;
    Ok(report)
}

/// Pushes the price rows claimed with `token` by `services::push::claim_price` (the
/// `updatePrice` mutation does this, through [`PushNow`], so its answer carries the outcome).
pub async fn push_price_now(state: &AppState, listing_id: i64, token: &str) -> AppResult<()> {
    let Some(l) = listing::Entity::find_by_id(listing_id)
        .one(&state.db)
        .await?
    else {
        return Ok(());
    };
    let Some(integration) = integration::Entity::find_by_id(l.integration_id)
        .one(&state.db)
        .await?
    else {
        return Ok(());
    };
    if integration.status != IntegrationStatus::Active {
        return Ok(());
    }
    let channel = channel_for(state, &integration).map_err(|e| {
        AppError::internal(format!(
            "no channel handle for a price push: {}",
            e.describe()
        ))
    })?;
    let lease = Lease::new(token, PUSH_LEASE);
    let rows = load_claimed(&state.db, &lease).await?;
    if !rows.is_empty() {
        if let Err(e) = push_prices(state, &integration, &channel, rows).await {
            release_claims(state, &lease).await;
            return Err(e);
        }
    }
    Ok(())
}

/// The [`Pusher`] use cases call to push what they claimed before they answer: prices here,
/// shipments through `sync::shipments`.
#[derive(Clone, Copy, Debug, Default)]
pub struct PushNow;

#[async_trait::async_trait]
impl Pusher for PushNow {
    async fn push_price_now(
        &self,
        state: &AppState,
        listing_id: i64,
        token: &str,
    ) -> AppResult<()> {
        push_price_now(state, listing_id, token).await
    }

    async fn push_shipments_claimed(&self, state: AppState, token: String) -> AppResult<()> {
        super::shipments::push_claimed(state, token)
            .await
            .map(|_| ())
    }
}

/// A claimed row with what it pushes.
struct Claimed {
    row: queue::Model,
    listing: listing::Model,
    quantity: Option<i64>,
}

/// Takes up to `limit` due rows of one store and kind for [`PUSH_LEASE`], and loads their
/// listings and item figures. Returns the lease with the rows.
async fn claim(
    state: &AppState,
    owner: &str,
    integration: &integration::Model,
    kind: PushKind,
    limit: u64,
) -> AppResult<(Lease, Vec<Claimed>)> {
    let now = Utc::now();
    let lease = Lease::pushes(owner);
    // On PostgreSQL the rows are locked in id order and rows another transaction holds are
    // skipped (an import queuing them, a replica's pass recording its outcome): the claim never
    // waits, so it cannot take part in a deadlock. SQLite has one writer at a time (and no row
    // locks: the clause is left out there).
    let due = queue::Entity::find()
        .select_only()
        .column(queue::Column::Id)
        .filter(queue::Column::IntegrationId.eq(integration.id))
        .filter(queue::Column::Kind.eq(kind))
        .filter(queue::Column::DueAt.lte(now))
        .filter(leases::free::<queue::Entity>(now))
        .order_by_asc(queue::Column::Id)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .into_query();
    lease
        .take(queue::Entity::update_many(), now)
        .filter(queue::Column::Id.in_subquery(due))
        .exec(&state.db)
        .await?;
    let rows = load_claimed(&state.db, &lease).await?;
    Ok((lease, rows))
}

/// Gives back every row `lease` still holds (a pass that failed half-way): they go out at the
/// next pass instead of waiting for the lease to run out. Sending a figure twice is harmless
/// (levels are absolute).
async fn release_claims(state: &AppState, lease: &Lease) {
    let released = lease
        .give_up(queue::Entity::update_many())
        .exec(&state.db)
        .await;
    if let Err(e) = released {
        tracing::warn!(error = %e, "could not release push claims; they are taken over when their lease ends");
    }
}

/// The rows `lease` holds, with their listings and item figures.
async fn load_claimed<C: ConnectionTrait>(db: &C, lease: &Lease) -> AppResult<Vec<Claimed>> {
    let rows = queue::Entity::find()
        .filter(lease.holds::<queue::Entity>())
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut listings: HashMap<i64, listing::Model> = listing::Entity::find()
        .filter(listing::Column::Id.is_in(rows.iter().map(|r| r.listing_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let items: Vec<item::Model> = item::Entity::find()
        .filter(item::Column::Id.is_in(listings.values().map(|l| l.inventory_item_id)))
        .filter(item::Column::DeletedAt.is_null())
        .all(db)
        .await?;
    // A bundle's figure is computed from its components now.
    let figures = bundles::figures(db, rows[0].account_id, &items).await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(listing) = listings.remove(&row.listing_id) else {
            continue;
        };
        let quantity = figures.get(&listing.inventory_item_id).copied();
        claimed.push(Claimed {
            row,
            listing,
            quantity,
        });
    }
    Ok(claimed)
}

/// Why a listing's stock cannot be pushed (flagged on the listing, not retried).
fn unpushable(integration: &integration::Model, c: &Claimed) -> Option<&'static str> {
    if !integration.inventory_management {
        return Some("inventory management is off for this store; its stock is not pushed");
    }
    if c.listing.missing_since.is_some() {
        return Some("the listing was deleted on the store");
    }
    match c.listing.tracking {
        StockTracking::None => Some(
            "the store does not track stock for this product; turn on inventory tracking on the store",
        ),
        StockTracking::Product if c.listing.option_variant => Some(
            "the store tracks stock for the whole product, not per variant; switch it to variant tracking on the store",
        ),
        _ => None,
    }
}

fn target(l: &listing::Model) -> ChannelTarget {
    if l.option_variant {
        ChannelTarget::Variant {
            product_id: l.external_product_id,
            variant_id: l.external_variant_id,
        }
    } else {
        ChannelTarget::Product {
            product_id: l.external_product_id,
        }
    }
}

fn stock_target(l: &listing::Model) -> ChannelTarget {
    match l.tracking {
        StockTracking::Variant => ChannelTarget::Variant {
            product_id: l.external_product_id,
            variant_id: l.external_variant_id,
        },
        _ => ChannelTarget::Product {
            product_id: l.external_product_id,
        },
    }
}

async fn push_stock(
    state: &AppState,
    integration: &integration::Model,
    channel: &dyn SalesChannel,
    rows: Vec<Claimed>,
) -> AppResult<PushReport> {
    let mut report = PushReport::default();
    let mut sendable = Vec::with_capacity(rows.len());
    let mut done: Vec<&Claimed> = Vec::new();
    let mut flagged: Vec<(&Claimed, &'static str)> = Vec::new();
    for c in &rows {
        match (unpushable(integration, c), c.quantity) {
            // The item was deleted here: nothing to push.
            (_, None) => done.push(c),
            (Some(why), _) => flagged.push((c, why)),
            // What this store is offered: the figure less its buffer (the listing's own, else
            // the store's), never below zero.
            (None, Some(q)) => {
                let buffer = c.listing.stock_buffer.or(integration.stock_buffer);
                sendable.push((c, stock::offered(q, buffer)));
            }
        }
    }
    report.failed += flagged.len() as u64;
    if !done.is_empty() || !flagged.is_empty() {
        db::write(&state.db, |txn| {
            settle_unsendable(txn, &done, &flagged).scope_boxed()
        })
        .await?;
    }

    let before = channel.api_calls();
    let outcomes = send_levels(channel, &sendable).await;
    report.calls += channel.api_calls() - before;
    if outcomes
        .iter()
        .any(|o| matches!(o, Err(ChannelError::Unauthorized)))
    {
        super::runner::needs_credentials(state, integration).await?;
    }
    let (pushed, failed) = db::write(&state.db, |txn| {
        record_outcomes(txn, &sendable, &outcomes).scope_boxed()
    })
    .await?;
    state.events.publish(
        sendable
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| o.is_err())
            .map(|((c, _), _)| listing_failed(&c.listing)),
    );
    report.stock_pushed += pushed;
    report.failed += failed;
    state
        .metrics
        .pushes(integration.id, "stock", report.stock_pushed, report.failed);
    if report.failed > 0 {
        tracing::warn!(
            integration_id = integration.id,
            failed = report.failed,
            pushed = report.stock_pushed,
            "some stock pushes failed; retrying with backoff"
        );
    }
    Ok(report)
}

/// Rows with nothing to push (item deleted here) are done; unpushable ones are flagged on the
/// listing and done. Listings are locked before queue rows, each in id order, like everywhere
/// else that writes both (see [`record_outcomes`]).
async fn settle_unsendable(
    txn: &DatabaseTransaction,
    done: &[&Claimed],
    flagged: &[(&Claimed, &'static str)],
) -> AppResult<()> {
    let now = Utc::now();
    let mut flagged: Vec<&(&Claimed, &'static str)> = flagged.iter().collect();
    flagged.sort_by_key(|(c, _)| c.listing.id);
    for (c, why) in &flagged {
        listing::Entity::update_many()
            .col_expr(listing::Column::PushError, Expr::value(why.to_string()))
            .col_expr(listing::Column::PushFailedAt, Expr::value(now))
            .filter(listing::Column::Id.eq(c.listing.id))
            .exec(txn)
            .await?;
    }
    let mut rows: Vec<&queue::Model> = done
        .iter()
        .map(|c| &c.row)
        .chain(flagged.iter().map(|(c, _)| &c.row))
        .collect();
    rows.sort_by_key(|r| r.listing_id);
    for row in rows {
        finish(txn, row).await?;
    }
    Ok(())
}

/// Records what the store answered, in one transaction: the pushed figure or the error on
/// each listing, then each queue row done or kept with a backoff. Listings first and queue
/// rows second, each in listing order — the order in which an import or a stock change locks
/// them (listing, item, then the queue rows it enqueues in listing order) — so that two of
/// them wait for each other instead of deadlocking. Returns (pushed, failed).
async fn record_outcomes(
    txn: &DatabaseTransaction,
    sendable: &[(&Claimed, i64)],
    outcomes: &[Result<(), ChannelError>],
) -> AppResult<(u64, u64)> {
    let now = Utc::now();
    let mut results: Vec<(&Claimed, i64, &Result<(), ChannelError>)> = sendable
        .iter()
        .zip(outcomes)
        .map(|((c, q), o)| (*c, *q, o))
        .collect();
    results.sort_by_key(|(c, _, _)| c.listing.id);
    let (mut pushed, mut failed) = (0, 0);
    for (c, quantity, outcome) in &results {
        let update = listing::Entity::update_many().filter(listing::Column::Id.eq(c.listing.id));
        let update = match outcome {
            Ok(()) => update
                .col_expr(listing::Column::PushedStock, Expr::value(*quantity))
                .col_expr(listing::Column::PushedAt, Expr::value(now))
                .col_expr(listing::Column::PushError, Expr::value(None::<String>))
                .col_expr(
                    listing::Column::PushFailedAt,
                    Expr::value(None::<DateTime<Utc>>),
                ),
            Err(e) => update
                .col_expr(listing::Column::PushError, Expr::value(error_text(e)))
                .col_expr(listing::Column::PushFailedAt, Expr::value(now)),
        };
        update.exec(txn).await?;
    }
    for (c, _, outcome) in &results {
        match outcome {
            Ok(()) => {
                finish(txn, &c.row).await?;
                pushed += 1;
            }
            Err(e) => {
                retry_later(txn, &c.row, &error_text(e), now).await?;
                failed += 1;
            }
        }
    }
    Ok((pushed, failed))
}

/// Sends the levels in one call; a rejected batch is split in halves until the rejected
/// levels are isolated. One outcome per level, in order.
async fn send_levels(
    channel: &dyn SalesChannel,
    levels: &[(&Claimed, i64)],
) -> Vec<Result<(), ChannelError>> {
    let mut outcomes: Vec<Result<(), ChannelError>> = vec![Ok(()); levels.len()];
    // Ranges still to send, last first.
    let mut pending = vec![(0usize, levels.len())];
    while let Some((start, end)) = pending.pop() {
        if start >= end {
            continue;
        }
        let batch: Vec<StockLevel> = levels[start..end]
            .iter()
            .map(|(c, q)| StockLevel {
                target: stock_target(&c.listing),
                quantity: *q,
            })
            .collect();
        match channel.set_stock_levels(&batch).await {
            Ok(()) => {}
            Err(ChannelError::Rejected { .. }) if end - start > 1 => {
                let mid = start + (end - start) / 2;
                pending.push((mid, end));
                pending.push((start, mid));
            }
            Err(e) => {
                for outcome in &mut outcomes[start..end] {
                    *outcome = Err(e.clone());
                }
            }
        }
    }
    outcomes
}

/// The event of a failed push of `l`'s stock or price (sent after the failure is recorded).
fn listing_failed(l: &listing::Model) -> Event {
    Event::PushFailed {
        account_id: l.account_id,
        listing_id: Some(l.id),
        shipment_id: None,
    }
}

async fn push_prices(
    state: &AppState,
    integration: &integration::Model,
    channel: &dyn SalesChannel,
    rows: Vec<Claimed>,
) -> AppResult<PushReport> {
    let mut report = PushReport::default();
    for c in rows {
        let before = channel.api_calls();
        let outcome = channel.update_price(&price_update(&c.listing)).await;
        report.calls += channel.api_calls() - before;
        if matches!(outcome, Err(ChannelError::Unauthorized)) {
            super::runner::needs_credentials(state, integration).await?;
        }
        let failure = db::write(&state.db, |txn| {
            record_price_outcome(txn, &c, &outcome).scope_boxed()
        })
        .await?;
        match failure {
            None => report.prices_pushed += 1,
            Some(message) => {
                report.failed += 1;
                state.events.publish([listing_failed(&c.listing)]);
                tracing::warn!(
                    integration_id = integration.id,
                    listing_id = c.listing.id,
                    error = %message,
                    "price push failed"
                );
            }
        }
    }
    state
        .metrics
        .pushes(integration.id, "price", report.prices_pushed, report.failed);
    Ok(report)
}

/// Records what the store answered to a price push: the listing's price state, and the queue
/// row done (pushed, or refused for good) or kept with a backoff. The error text when it failed.
async fn record_price_outcome(
    txn: &DatabaseTransaction,
    c: &Claimed,
    outcome: &Result<(), ChannelError>,
) -> AppResult<Option<String>> {
    let now = Utc::now();
    match outcome {
        Ok(()) => {
            set_price_state(txn, c.listing.id, PricePushState::Pushed, None, Some(now)).await?;
            finish(txn, &c.row).await?;
            Ok(None)
        }
        Err(e) => {
            let message = error_text(e);
            set_price_state(
                txn,
                c.listing.id,
                PricePushState::Failed,
                Some(message.clone()),
                None,
            )
            .await?;
            if matches!(e, ChannelError::Rejected { .. }) {
                // The store refused this price: retrying the same one cannot help.
                finish(txn, &c.row).await?;
            } else {
                retry_later(txn, &c.row, &message, now).await?;
            }
            Ok(Some(message))
        }
    }
}

fn price_update(l: &listing::Model) -> PriceUpdate {
    PriceUpdate {
        target: target(l),
        price: l.price.get(),
        sale_price: l.sale_price.map(DecimalText::get).filter(|d| !d.is_zero()),
    }
}

async fn set_price_state<C: ConnectionTrait>(
    db: &C,
    listing_id: i64,
    state: PricePushState,
    error: Option<String>,
    pushed_at: Option<DateTime<Utc>>,
) -> AppResult<()> {
    let mut update = listing::Entity::update_many()
        .col_expr(listing::Column::PricePushState, Expr::value(state))
        .col_expr(listing::Column::PricePushError, Expr::value(error))
        .filter(listing::Column::Id.eq(listing_id));
    if let Some(at) = pushed_at {
        update = update.col_expr(listing::Column::PricePushedAt, Expr::value(at));
    }
    update.exec(db).await?;
    Ok(())
}

/// Deletes a pushed row unless a newer change arrived meanwhile; then it is released to go
/// out with the new figure.
async fn finish<C: ConnectionTrait>(db: &C, row: &queue::Model) -> AppResult<()> {
    let deleted = queue::Entity::delete_many()
        .filter(queue::Column::Id.eq(row.id))
        .filter(queue::Column::Generation.eq(row.generation))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        release(db, row, None, None).await?;
    }
    Ok(())
}

/// Keeps a failed row with a backoff.
async fn retry_later<C: ConnectionTrait>(
    db: &C,
    row: &queue::Model,
    error: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    release(db, row, Some(error), Some(retry_at(now, row.attempts + 1))).await
}

async fn release<C: ConnectionTrait>(
    db: &C,
    row: &queue::Model,
    error: Option<&str>,
    due_at: Option<DateTime<Utc>>,
) -> AppResult<()> {
    let mut update = leases::give_up(queue::Entity::update_many())
        .col_expr(queue::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(queue::Column::Id.eq(row.id));
    if let (Some(error), Some(due)) = (error, due_at) {
        update = update
            .col_expr(queue::Column::Attempts, Expr::value(row.attempts + 1))
            .col_expr(queue::Column::DueAt, Expr::value(due))
            .col_expr(queue::Column::LastError, Expr::value(error.to_string()));
    }
    update.exec(db).await?;
    Ok(())
}

fn error_text(e: &ChannelError) -> String {
    e.to_string().chars().take(MAX_ERROR_CHARS).collect()
}
