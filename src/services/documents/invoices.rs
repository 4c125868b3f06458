//! Invoice numbers: sequential per store, assigned once per order and never changed.
//!
//! Assignment runs in a write transaction that locks the store's integration row (PostgreSQL;
//! SQLite's write lock is taken first), so two replicas numbering the same store take turns
//! and the sequence has no gaps or repeats. The unique indexes (order; store + sequence) stay
//! the last line of defence: a conflict is retried.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::db::{self, ScopedFutureExt};
use crate::entities::{integration, invoice, order};
use crate::error::AppResult;
use crate::pdf::template::Numbering;
use crate::state::AppState;

const ATTEMPTS: usize = 3;

async fn existing<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    order_ids: &[i64],
) -> Result<HashMap<i64, invoice::Model>, sea_orm::DbErr> {
    Ok(invoice::Entity::find()
        .filter(invoice::Column::AccountId.eq(account_id))
        .filter(invoice::Column::OrderId.is_in(order_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.order_id, i))
        .collect())
}

/// The invoices of `orders` (all of one account), numbering those that have none yet in the
/// given order.
pub async fn assign(
    state: &AppState,
    account_id: i64,
    orders: &[order::Model],
    numbering: &Numbering,
) -> AppResult<HashMap<i64, invoice::Model>> {
    let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
    let mut found = existing(&state.db, account_id, &ids).await?;
    if orders.iter().all(|o| found.contains_key(&o.id)) {
        return Ok(found);
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        let numbered = db::write(&state.db, |txn| {
            number_missing(txn, account_id, orders, numbering).scope_boxed()
        })
        .await;
        match numbered {
            Ok(()) => break,
            Err(e) if attempt < ATTEMPTS && e.is_unique_violation() => {
                tracing::info!(attempt, "invoice numbering raced another process; retrying");
            }
            Err(e) => return Err(e),
        }
    }
    found = existing(&state.db, account_id, &ids).await?;
    Ok(found)
}

async fn number_missing(
    txn: &DatabaseTransaction,
    account_id: i64,
    orders: &[order::Model],
    numbering: &Numbering,
) -> AppResult<()> {
    let mut stores: Vec<i64> = orders.iter().map(|o| o.integration_id).collect();
    stores.sort_unstable();
    stores.dedup();
    // Locked in id order, so two batches over the same stores cannot deadlock.
    integration::Entity::find()
        .filter(integration::Column::Id.is_in(stores.iter().copied()))
        .filter(integration::Column::AccountId.eq(account_id))
        .order_by_asc(integration::Column::Id)
        .lock_exclusive()
        .all(txn)
        .await?;
    let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
    let numbered = existing(txn, account_id, &ids).await?;
    let now = Utc::now();
    let mut rows = Vec::new();
    for store in stores {
        let last: Option<i64> = invoice::Entity::find()
            .select_only()
            .column_as(invoice::Column::Sequence.max(), "last")
            .filter(invoice::Column::IntegrationId.eq(store))
            .into_tuple::<Option<i64>>()
            .one(txn)
            .await?
            .flatten();
        let mut next = last.unwrap_or(0);
        let mut seen = std::collections::HashSet::new();
        for o in orders.iter().filter(|o| o.integration_id == store) {
            if numbered.contains_key(&o.id) || !seen.insert(o.id) {
                continue;
            }
            next += 1;
            rows.push(invoice::ActiveModel {
                account_id: Set(account_id),
                integration_id: Set(store),
                order_id: Set(o.id),
                sequence: Set(next),
                number: Set(numbering.format(next)),
                issued_at: Set(now),
                ..Default::default()
            });
        }
    }
    if !rows.is_empty() {
        let count = rows.len();
        invoice::Entity::insert_many(rows).exec(txn).await?;
        tracing::info!(count, "invoice numbers assigned");
    }
    Ok(())
}
