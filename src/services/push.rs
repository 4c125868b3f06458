//! The push queue's producer side: stock and price changes enqueue the listings that must
//! hear of them, inside the caller's transaction (an outbox: a committed change always has its
//! push queued; a rolled-back one never does). One row per listing and kind; a repeated change
//! bumps the row's generation, so the worker sends only the latest figure.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement, Value,
};

use super::leases::Lease;
use crate::domain::PushKind;
use crate::entities::push_queue as queue;
use crate::error::AppResult;

/// Queues a stock push for every listing of these items, and of every bundle containing one of
/// them (a bundle's figure follows its components'), that the worker can push: on stores with
/// inventory management on and not disconnected, tracked on the channel, not missing.
pub async fn enqueue_items<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    item_ids: &[i64],
) -> AppResult<u64> {
    if item_ids.is_empty() {
        return Ok(0);
    }
    let mut queued = 0;
    for chunk in item_ids.chunks(500) {
        // The items and every bundle containing one of them, in the one statement (no extra
        // round trip per change): read after the caller's change locked the items, so a bundle
        // being created around one of them waits for that lock, or committed before.
        let ids = placeholders(db, 3, chunk.len());
        let bundles = format!(
            "SELECT b.bundle_item_id FROM bundle_components b \
             WHERE b.account_id = {} AND b.component_item_id IN ({ids})",
            param(db.get_database_backend(), 1)
        );
        let condition = match db.get_database_backend() {
            // `= ANY` of one array (the bundles' as an InitPlan): an index scan of the listings.
            DbBackend::Postgres => {
                format!("l.inventory_item_id = ANY(ARRAY[{ids}]::bigint[] || ARRAY({bundles}))")
            }
            // One list (the items, then the bundles' rows), each a lookup in the listings'
            // item index (`enqueue` keeps SQLite off the account index).
            _ => {
                let values = (3..3 + chunk.len())
                    .map(|n| format!("({})", param(DbBackend::Sqlite, n)))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("l.inventory_item_id IN (VALUES {values} UNION ALL {bundles})")
            }
        };
        let mut values: Vec<Value> = vec![account_id.into(), Utc::now().into()];
        values.extend(chunk.iter().map(|id| Value::from(*id)));
        queued += enqueue(db, PushKind::Stock, &condition, values).await?;
    }
    Ok(queued)
}

/// Queues a push of `kind` for these listings (same conditions as [`enqueue_items`]; a price
/// push only needs the store to be connected).
pub async fn enqueue_listings<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    kind: PushKind,
    listing_ids: &[i64],
) -> AppResult<u64> {
    let mut queued = 0;
    for chunk in listing_ids.chunks(500) {
        let condition = format!("l.id IN ({})", placeholders(db, 3, chunk.len()));
        let mut values: Vec<Value> = vec![account_id.into(), Utc::now().into()];
        values.extend(chunk.iter().map(|id| Value::from(*id)));
        queued += enqueue(db, kind, &condition, values).await?;
    }
    Ok(queued)
}

/// Claims one listing's queued price for the caller (inside the transaction that queued it),
/// so that the caller's [`Pusher::push_price_now`](super::workers::Pusher::push_price_now)
/// sends it rather than a worker. `None` when a worker holds the row already (it is pushing
/// the previous price; the new one goes out after it).
pub async fn claim_price<C: ConnectionTrait>(db: &C, listing_id: i64) -> AppResult<Option<String>> {
    let lease = Lease::pushes("price-now");
    let claimed = lease
        .take(queue::Entity::update_many(), Utc::now())
        .filter(queue::Column::ListingId.eq(listing_id))
        .filter(queue::Column::Kind.eq(PushKind::Price))
        .exec(db)
        .await?;
    Ok((claimed.rows_affected > 0).then(|| lease.holder().to_string()))
}

/// `$1` account, `$2` now, then the condition's values. Rows are written (and locked) in
/// listing order, the order the push worker records its outcomes in.
async fn enqueue<C: ConnectionTrait>(
    db: &C,
    kind: PushKind,
    condition: &str,
    values: Vec<Value>,
) -> AppResult<u64> {
    let backend = db.get_database_backend();
    let (p1, p2) = (param(backend, 1), param(backend, 2));
    // SQLite without table statistics would walk the account's listings through the account
    // index; `+` leaves it the index of the condition's ids (item or listing).
    let account = match backend {
        DbBackend::Sqlite => format!("+l.account_id = {p1}"),
        _ => format!("l.account_id = {p1}"),
    };
    let stock_only = match kind {
        PushKind::Stock => {
            "AND i.inventory_management = TRUE AND l.tracking <> 'NONE' AND l.missing_since IS NULL"
        }
        PushKind::Price => "",
    };
    let kind = match kind {
        PushKind::Stock => "STOCK",
        PushKind::Price => "PRICE",
    };
    let sql = format!(
        "INSERT INTO push_queue \
           (account_id, integration_id, listing_id, kind, generation, attempts, due_at, \
            created_at, updated_at) \
         SELECT l.account_id, l.integration_id, l.id, '{kind}', 1, 0, {p2}, {p2}, {p2} \
         FROM listings l JOIN integrations i ON i.id = l.integration_id \
         WHERE {account} AND i.status <> 'DISCONNECTED' {stock_only} AND {condition} \
         ORDER BY l.id \
         ON CONFLICT (listing_id, kind) DO UPDATE SET \
           generation = push_queue.generation + 1, updated_at = excluded.updated_at"
    );
    let result = db
        .execute(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(result.rows_affected())
}

/// `$n` placeholders from `first` (PostgreSQL) or `?` (SQLite), comma-separated.
fn placeholders<C: ConnectionTrait>(db: &C, first: usize, count: usize) -> String {
    let backend = db.get_database_backend();
    (first..first + count)
        .map(|n| param(backend, n))
        .collect::<Vec<_>>()
        .join(", ")
}

fn param(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}

/// The backoff before retry number `attempts` (1-based) of a failed push: 2 s doubling up to
/// 10 minutes.
pub fn retry_at(now: DateTime<Utc>, attempts: i64) -> DateTime<Utc> {
    let exp = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    let seconds = 2i64.saturating_mul(2i64.saturating_pow(exp)).min(600);
    now + chrono::Duration::seconds(seconds)
}
