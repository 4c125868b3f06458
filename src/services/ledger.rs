//! The stock ledger: every change of an inventory item's quantity goes through here, inside
//! the caller's transaction, and leaves a `stock_movements` row. Writes come first (the
//! `UPDATE` takes the row lock on PostgreSQL and the write lock on SQLite), reads after, so
//! concurrent changes serialise instead of losing updates. A change that moves the figure
//! queues its push to the stores in the same transaction (`services::push`).

use chrono::{SubsecRound, Utc};
use sea_orm::sea_query::{Expr, Func, SimpleExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::domain::StockReason;
use crate::entities::{inventory_item as item, stock_movement as movement};
use crate::error::{AppError, AppResult};

/// A change to record.
#[derive(Clone, Debug)]
pub struct Movement {
    pub account_id: i64,
    pub item_id: i64,
    pub reason: StockReason,
    /// The user who made the change, when a user did.
    pub actor_user_id: Option<i64>,
    /// The API key that made the change, when a key did.
    pub actor_api_key_id: Option<i64>,
    pub integration_id: Option<i64>,
    pub order_id: Option<i64>,
    /// A change with a key already in the ledger is not applied again.
    pub idempotency_key: Option<String>,
    pub note: Option<String>,
    /// The bundle sold, when the change takes (or gives back) a component's share of it.
    pub bundle_item_id: Option<i64>,
}

async fn already_applied<C: ConnectionTrait>(
    db: &C,
    m: &Movement,
) -> AppResult<Option<movement::Model>> {
    let Some(key) = &m.idempotency_key else {
        return Ok(None);
    };
    Ok(movement::Entity::find()
        .filter(movement::Column::AccountId.eq(m.account_id))
        .filter(movement::Column::IdempotencyKey.eq(key.as_str()))
        .one(db)
        .await?)
}

/// The `stock_movements` row of `m`.
fn row(m: Movement, delta: i64, after: i64, at: chrono::DateTime<Utc>) -> movement::ActiveModel {
    movement::ActiveModel {
        account_id: Set(m.account_id),
        inventory_item_id: Set(m.item_id),
        delta: Set(delta),
        quantity_after: Set(after),
        reason: Set(m.reason),
        actor_user_id: Set(m.actor_user_id),
        actor_api_key_id: Set(m.actor_api_key_id),
        integration_id: Set(m.integration_id),
        order_id: Set(m.order_id),
        idempotency_key: Set(m.idempotency_key),
        note: Set(m.note),
        created_at: Set(at),
        bundle_item_id: Set(m.bundle_item_id),
        ..Default::default()
    }
}

async fn record<C: ConnectionTrait>(
    db: &C,
    m: Movement,
    delta: i64,
    after: i64,
) -> AppResult<movement::Model> {
    Ok(row(m, delta, after, Utc::now()).insert(db).await?)
}

/// When the item ran low, given its new `quantity` and `threshold` (the other columns as
/// they were): kept while the stock stays at or below the threshold, now when it falls there,
/// cleared above it or without a threshold (docs/rules.md §4). The ledger's `UPDATE` and
/// `setLowStockThreshold` both write it with this.
pub fn low_stock_since(quantity: SimpleExpr, threshold: SimpleExpr) -> SimpleExpr {
    let low = Expr::expr(threshold.clone())
        .is_not_null()
        .and(Expr::expr(quantity).lte(threshold));
    Expr::case(
        low,
        Func::coalesce([
            Expr::col(item::Column::LowStockSince).into(),
            // Microseconds, as PostgreSQL keeps them: a `lowStockProducts` cursor holds them.
            Expr::value(Utc::now().trunc_subsecs(6)),
        ]),
    )
    .finally(Expr::value(Option::<chrono::DateTime<Utc>>::None))
    .into()
}

/// Bumps the item's version, with its new `quantity` when given: the write that takes the row
/// lock on PostgreSQL and the write lock on SQLite. An item that is not there is a bug.
async fn bump<C: ConnectionTrait>(
    db: &C,
    m: &Movement,
    quantity: Option<SimpleExpr>,
) -> AppResult<()> {
    let mut update = item::Entity::update_many().col_expr(
        item::Column::Version,
        Expr::col(item::Column::Version).add(1),
    );
    if let Some(quantity) = quantity {
        update = update
            .col_expr(
                item::Column::LowStockSince,
                low_stock_since(
                    quantity.clone(),
                    Expr::col(item::Column::LowStockThreshold).into(),
                ),
            )
            .col_expr(item::Column::Quantity, quantity)
            .col_expr(item::Column::UpdatedAt, Expr::value(Utc::now()));
    }
    let updated = update
        .filter(item::Column::Id.eq(m.item_id))
        .filter(item::Column::AccountId.eq(m.account_id))
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(AppError::internal(format!(
            "inventory item {} not found",
            m.item_id
        )));
    }
    Ok(())
}

async fn current<C: ConnectionTrait>(db: &C, account_id: i64, item_id: i64) -> AppResult<i64> {
    item::Entity::find_by_id(item_id)
        .filter(item::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .map(|i| i.quantity)
        .ok_or_else(|| AppError::internal(format!("inventory item {item_id} vanished")))
}

/// Adds `delta` to the item's stock and records it. `Ok(None)` when the idempotency key was
/// already used (nothing changes). Use inside a transaction.
pub async fn adjust<C: ConnectionTrait>(
    db: &C,
    m: Movement,
    delta: i64,
) -> AppResult<Option<movement::Model>> {
    if already_applied(db, &m).await?.is_some() {
        return Ok(None);
    }
    bump(db, &m, Some(Expr::col(item::Column::Quantity).add(delta))).await?;
    let after = current(db, m.account_id, m.item_id).await?;
    if delta != 0 {
        crate::services::push::enqueue_items(db, m.account_id, &[m.item_id]).await?;
    }
    record(db, m, delta, after).await.map(Some)
}

/// Moves an item the caller has already locked from `before` to `after` and records it: one
/// `UPDATE` (figure and version), the push queued when the figure moves, one movement row. For
/// a caller that took the row lock first, read `before` after it and checked the idempotency
/// key itself (a user's stock change), so nothing is locked, looked up or read twice. A key
/// recorded meanwhile by another transaction fails the insert as a unique violation.
pub async fn change_locked<C: ConnectionTrait>(
    db: &C,
    m: Movement,
    before: i64,
    after: i64,
) -> AppResult<movement::Model> {
    bump(db, &m, Some(Expr::value(after))).await?;
    if after != before {
        crate::services::push::enqueue_items(db, m.account_id, &[m.item_id]).await?;
    }
    record(db, m, after - before, after).await
}

/// Applies many changes to items the caller has already locked, as [`change_locked`] does one
/// at a time: one `UPDATE` per item, the movements inserted together, and the pushes queued
/// together (a burst the push worker sends in as few calls as the stores allow). For bulk
/// changes such as a stock count file; each `(movement, before, after)`.
pub async fn change_many_locked<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    changes: Vec<(Movement, i64, i64)>,
) -> AppResult<()> {
    let mut moved = Vec::new();
    for (m, before, after) in &changes {
        bump(db, m, Some(Expr::value(*after))).await?;
        if after != before {
            moved.push(m.item_id);
        }
    }
    let now = Utc::now();
    let rows: Vec<movement::ActiveModel> = changes
        .into_iter()
        .map(|(m, before, after)| row(m, after - before, after, now))
        .collect();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(500).collect();
        movement::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    crate::services::push::enqueue_items(db, account_id, &moved).await?;
    Ok(())
}

/// Sets the item's stock to `quantity` and records the difference. `Ok(None)` when the key was
/// already used. Use inside a transaction.
pub async fn set<C: ConnectionTrait>(
    db: &C,
    m: Movement,
    quantity: i64,
) -> AppResult<Option<movement::Model>> {
    if already_applied(db, &m).await?.is_some() {
        return Ok(None);
    }
    // Lock first, then read, then write the new figure.
    bump(db, &m, None).await?;
    let before = current(db, m.account_id, m.item_id).await?;
    change_locked(db, m, before, quantity).await.map(Some)
}

/// Records an observation that does not change the figure (delta 0 at the current figure),
/// such as a store showing another figure than the one pushed. `Ok(None)` when the key was
/// already used. Use inside a transaction.
pub async fn record_only<C: ConnectionTrait>(
    db: &C,
    m: Movement,
) -> AppResult<Option<movement::Model>> {
    if already_applied(db, &m).await?.is_some() {
        return Ok(None);
    }
    bump(db, &m, None).await?;
    let now = current(db, m.account_id, m.item_id).await?;
    record(db, m, 0, now).await.map(Some)
}
