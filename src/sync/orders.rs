//! Order import (docs/rules.md §5): incremental by the channel's modification time with an
//! overlap, one transaction per page that also saves the cursor, idempotent upserts.
//!
//! Which orders: those placed at or after the integration's `import_orders_since` (the
//! historical-import option), on every run, not only the first. A merchant who chose "the
//! last 30 days" expects to see the orders of the last 30 days; an older order edited or
//! refunded on the channel later does not appear here (it is historical, so it could never
//! move stock anyway). Widening the option later applies to orders modified after the change.

mod apply;
mod rows;
mod shipped;

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, SecondsFormat, Utc};

pub use apply::{apply_orders, Changed};

use super::{jobs, ImportReport, SyncError};
use crate::channels::{ChannelOrder, SalesChannel};
use crate::db::{self, ScopedFutureExt};
use crate::domain::{IntegrationStatus, SyncKind};
use crate::entities::integration;
use crate::error::AppError;
use crate::services::events::Event;
use crate::state::AppState;

/// How far before the saved cursor each run starts reading again: covers clock skew and
/// orders modified within the cursor's second (re-reads are harmless: upserts are idempotent).
pub const OVERLAP: Duration = Duration::minutes(5);

/// Whether the integration's orders are imported at all.
fn imports_orders(integration: &integration::Model) -> bool {
    integration.status == IntegrationStatus::Active && integration.order_management
}

fn is_unique_conflict(e: &SyncError) -> bool {
    matches!(e, SyncError::App(a) if a.is_unique_violation())
}

/// Applies one page in its own transaction, saving `cursor` with it (a crash keeps both or
/// neither). A page that lost an insert race (a webhook importing the same order) is tried
/// once more: the other writer's rows are visible by then. A page aborted as a deadlock with
/// another replica's transaction (orders of two stores taking the same items' stock) is run
/// again from the start.
async fn commit_page(
    state: &AppState,
    integration: &integration::Model,
    orders: &[ChannelOrder],
    cursor: Option<DateTime<Utc>>,
) -> Result<ImportReport, SyncError> {
    let (report, changed) = match write_page(state, integration, orders, cursor).await {
        Err(e) if is_unique_conflict(&e) => {
            tracing::info!(integration_id = integration.id, error = %e.describe(), "order page raced another import; retrying");
            write_page(state, integration, orders, cursor).await
        }
        other => other,
    }?;
    // Stock taken or given back queued pushes to the stores.
    state.pushes_queued();
    let account_id = integration.account_id;
    let orders = changed
        .orders
        .into_iter()
        .map(|order_id| Event::OrderChanged {
            account_id,
            integration_id: integration.id,
            order_id,
        });
    let stock = changed
        .stock
        .into_iter()
        .map(|(item_id, movement_id)| Event::StockChanged {
            account_id,
            item_id,
            movement_id,
        });
    state.events.publish(orders.chain(stock));
    Ok(report)
}

async fn write_page(
    state: &AppState,
    integration: &integration::Model,
    orders: &[ChannelOrder],
    cursor: Option<DateTime<Utc>>,
) -> Result<(ImportReport, Changed), SyncError> {
    db::write(&state.db, |txn| {
        async move {
            let mut changed = Changed::default();
            let report = apply_orders(txn, integration, orders, &mut changed).await?;
            if let Some(c) = cursor {
                let text = c.to_rfc3339_opts(SecondsFormat::Micros, true);
                jobs::save_cursor(txn, integration.id, SyncKind::Orders, &text).await?;
            }
            Ok((report, changed))
        }
        .scope_boxed()
    })
    .await
}

/// The saved cursor, if any and readable.
async fn load_cursor(
    state: &AppState,
    integration: &integration::Model,
) -> Result<Option<DateTime<Utc>>, SyncError> {
    let saved = jobs::load_cursor(&state.db, integration.id, SyncKind::Orders).await?;
    Ok(saved.and_then(|text| match DateTime::parse_from_rfc3339(&text) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(e) => {
            tracing::warn!(integration_id = integration.id, cursor = %text, error = %e, "unreadable orders cursor; starting from the historical-import date");
            None
        }
    }))
}

/// The cursor of a run: the newest modification seen, held back when orders shifted
/// between pages (see [`import_orders`]).
struct Progress {
    start: DateTime<Utc>,
    watermark: DateTime<Utc>,
    /// External id → the index of the page it was first read on.
    first_seen: HashMap<i64, usize>,
    /// The watermark after each page.
    watermarks: Vec<DateTime<Utc>>,
    rewind: Option<DateTime<Utc>>,
}

impl Progress {
    fn new(start: DateTime<Utc>) -> Self {
        Progress {
            start,
            watermark: start,
            first_seen: HashMap::new(),
            watermarks: Vec::new(),
            rewind: None,
        }
    }

    /// Notes a page; the cursor to save with it.
    fn page(&mut self, orders: &[ChannelOrder]) -> DateTime<Utc> {
        let index = self.watermarks.len();
        for o in orders {
            match self.first_seen.get(&o.external_id) {
                // Read before on an earlier page: it moved to the end, and the order that
                // slid into that page's place since was skipped. Its modification time is
                // past the watermark before that earlier page.
                Some(&p) if p < index => {
                    let safe = p
                        .checked_sub(1)
                        .and_then(|i| self.watermarks.get(i).copied())
                        .unwrap_or(self.start);
                    self.rewind = Some(self.rewind.map_or(safe, |r| r.min(safe)));
                }
                Some(_) => {}
                None => {
                    self.first_seen.insert(o.external_id, index);
                }
            }
            self.watermark = self.watermark.max(o.modified_at);
        }
        self.watermarks.push(self.watermark);
        self.rewind.unwrap_or(self.watermark)
    }
}

async fn timed<F: std::future::Future>(f: F) -> (F::Output, StdDuration) {
    let started = std::time::Instant::now();
    let out = f.await;
    (out, started.elapsed())
}

/// A page being stored on its own task; dropping it (the import was cancelled) aborts the
/// task, which rolls its transaction back, as if the store had run in the import's task.
struct StoreTask(tokio::task::JoinHandle<(Result<ImportReport, SyncError>, StdDuration)>);

impl StoreTask {
    fn spawn(
        state: &AppState,
        integration: &integration::Model,
        orders: Vec<ChannelOrder>,
        cursor: DateTime<Utc>,
    ) -> Self {
        let (state, integration) = (state.clone(), integration.clone());
        StoreTask(tokio::spawn(async move {
            timed(commit_page(&state, &integration, &orders, Some(cursor))).await
        }))
    }

    /// The page's report and how long storing it took.
    async fn finish(mut self) -> Result<(Result<ImportReport, SyncError>, StdDuration), SyncError> {
        (&mut self.0)
            .await
            .map_err(|e| AppError::internal(format!("storing a page of orders failed: {e}")).into())
    }
}

impl Drop for StoreTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Imports the orders modified since the job's cursor (the first run reaches back to the
/// integration's `import_orders_since`), page by page, saving the cursor after each page.
///
/// Pages are read by offset over the orders modified since a fixed moment. When an order
/// already read is modified during the run it moves to the end, and the order that slid into
/// the page already read is skipped; seeing an order twice reveals this, and the cursor then
/// stays where it was before that order's first page, so the next run reads the skipped
/// order again.
pub async fn import_orders(
    state: &AppState,
    integration: &integration::Model,
    channel: &dyn SalesChannel,
) -> Result<ImportReport, SyncError> {
    if !imports_orders(integration) {
        return Ok(ImportReport::default());
    }
    let floor = integration.import_orders_since;
    let cursor = load_cursor(state, integration).await?;
    // Every order placed since the floor was modified since the floor too.
    let since = cursor.map_or(floor, |c| (c - OVERLAP).max(floor));
    let mut report = ImportReport::default();
    let mut progress = Progress::new(cursor.unwrap_or(floor));
    // The next page is fetched while the current one is stored (the same calls, in less
    // time); waiting for the store and storing are timed apart for the log.
    let (mut fetching, mut storing) = (StdDuration::ZERO, StdDuration::ZERO);
    let (first, took) = timed(channel.orders_modified_since(since, 1)).await;
    fetching += took;
    let mut orders = first?;
    let mut page = 1u32;
    while !orders.is_empty() {
        let save = progress.page(&orders);
        // Stored on another task, so that reading the next page (parsing it costs CPU too)
        // runs on another thread meanwhile.
        let store = StoreTask::spawn(state, integration, orders, save);
        let (next, fetch_took) = timed(channel.orders_modified_since(since, page + 1)).await;
        let (stored, store_took) = store.finish().await?;
        storing += store_took;
        fetching += fetch_took;
        report.add(stored?);
        orders = next?;
        page += 1;
    }
    if progress.rewind.is_some() {
        tracing::info!(
            integration_id = integration.id,
            "orders shifted between pages during the import; the next run reads them again"
        );
    }
    tracing::info!(
        integration_id = integration.id,
        created = report.created,
        updated = report.updated,
        unchanged = report.unchanged,
        pages = page - 1,
        fetch_ms = fetching.as_millis() as u64,
        store_ms = storing.as_millis() as u64,
        "orders imported"
    );
    Ok(report)
}

/// Imports one order now (tests; webhooks import several through [`import_orders_by_id`]).
pub async fn import_order(
    state: &AppState,
    integration: &integration::Model,
    channel: &dyn SalesChannel,
    external_id: i64,
) -> Result<ImportReport, SyncError> {
    import_orders_by_id(state, integration, channel, &[external_id]).await
}

/// Imports the orders `ids` (sorted, distinct) now, in one transaction: those the channel no
/// longer has are skipped. The reads are [`SalesChannel::orders_by_id`]'s.
pub async fn import_orders_by_id(
    state: &AppState,
    integration: &integration::Model,
    channel: &dyn SalesChannel,
    ids: &[i64],
) -> Result<ImportReport, SyncError> {
    if !imports_orders(integration) || ids.is_empty() {
        return Ok(ImportReport::default());
    }
    let orders = channel.orders_by_id(ids).await?;
    if orders.is_empty() {
        return Ok(ImportReport::default());
    }
    commit_page(state, integration, &orders, None).await
}
