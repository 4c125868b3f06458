//! What people do to orders here: `cancelOrder`. Nothing is sent to the store; the order
//! import keeps an order canceled here canceled whatever the store says later.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};

use super::events::Event;
use super::ledger::{self, Movement};
use super::Principal;
use crate::db::{self, ScopedFutureExt};
use crate::domain::{OrderStatus, StockReason};
use crate::entities::{order, order_line as line, stock_movement as movement};
use crate::error::{AppResult, UserError, UserErrorCode as Code};
use crate::state::AppState;

/// Cancels one of the caller's orders here. `NEW` and `UNPAID`: `CANCELED`, and what its
/// import took off stock comes back; `PARTIALLY_SHIPPED`: `CANCELED`, and what had not
/// shipped comes back; `SHIPPED`: `CANCELED`, no stock moves; `CANCELED`: nothing changes;
/// `REFUNDED`: `ORDER_NOT_CANCELABLE`. Returns the order as it stands. Run again from the
/// start if PostgreSQL aborts it as a deadlock (with an import taking the same items' stock).
pub async fn cancel(
    state: &AppState,
    p: &Principal,
    order_id: Option<i64>,
) -> AppResult<order::Model> {
    let not_found = || UserError::new("orderId", Code::NotFound, "No such order in your account.");
    let id = order_id.ok_or_else(not_found)?;
    let (canceled, moved) = db::write(&state.db, |txn| cancel_in(txn, p, id).scope_boxed()).await?;
    if !moved.is_empty() {
        state.pushes_queued();
    }
    state.events.publish([Event::OrderChanged {
        account_id: canceled.account_id,
        integration_id: canceled.integration_id,
        order_id: canceled.id,
    }]);
    state.events.publish(
        moved
            .into_iter()
            .map(|(item_id, movement_id)| Event::StockChanged {
                account_id: canceled.account_id,
                item_id,
                movement_id,
            }),
    );
    Ok(canceled)
}

/// Cancels order `id` inside `txn`: the order after, and the stock that came back (the item
/// and movement of each line given back).
async fn cancel_in(
    txn: &DatabaseTransaction,
    p: &Principal,
    id: i64,
) -> AppResult<(order::Model, Vec<(i64, i64)>)> {
    let not_found = || UserError::new("orderId", Code::NotFound, "No such order in your account.");
    // Write first: the row lock (PostgreSQL) or the write lock (SQLite), so two cancels of one
    // order take turns and the second sees the first.
    let locked = order::Entity::update_many()
        .col_expr(
            order::Column::UpdatedAt,
            Expr::col(order::Column::UpdatedAt).into(),
        )
        .filter(order::Column::Id.eq(id))
        .filter(order::Column::AccountId.eq(p.account_id))
        .exec(txn)
        .await?;
    if locked.rows_affected == 0 {
        return Err(not_found().into());
    }
    let o = order::Entity::find_by_id(id)
        .filter(order::Column::AccountId.eq(p.account_id))
        .one(txn)
        .await?
        .ok_or_else(not_found)?;
    match o.status {
        OrderStatus::Canceled => return Ok((o, Vec::new())),
        OrderStatus::Refunded => {
            return Err(UserError::new(
                "orderId",
                Code::OrderNotCancelable,
                "A refunded order cannot be canceled.",
            )
            .into())
        }
        OrderStatus::Unpaid
        | OrderStatus::New
        | OrderStatus::PartiallyShipped
        | OrderStatus::Shipped => {}
    }
    let moved = restock(txn, p, &o).await?;
    let now = Utc::now();
    let mut am = o.clone().into_active_model();
    am.status = Set(OrderStatus::Canceled);
    am.restocked = Set(o.restocked || !moved.is_empty());
    am.canceled_here_at = Set(Some(now));
    am.canceled_by_user_id = Set(p.user_id());
    am.updated_at = Set(now);
    Ok((am.update(txn).await?, moved))
}

/// Gives back what the order's import took (its `ORDER_PLACED` movements), less what shipped
/// for a partially shipped order; nothing for a shipped one. Once per line: the keys are the
/// ones the import uses when the store cancels an order, so neither path gives back twice.
/// The item and movement of each line given back.
async fn restock<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    o: &order::Model,
) -> AppResult<Vec<(i64, i64)>> {
    let mut moved = Vec::new();
    if o.status == OrderStatus::Shipped || !o.stock_taken || o.restocked {
        return Ok(moved);
    }
    let mut taken = movement::Entity::find()
        .filter(movement::Column::AccountId.eq(p.account_id))
        .filter(movement::Column::OrderId.eq(o.id))
        .filter(movement::Column::Reason.eq(StockReason::OrderPlaced))
        .order_by_asc(movement::Column::Id)
        .all(db)
        .await?;
    // One item after the other in id order, as every multi-item writer should, so two
    // cancels sharing items wait for each other instead of deadlocking.
    taken.sort_by_key(|m| (m.inventory_item_id, m.id));
    let lines: HashMap<i64, line::Model> = line::Entity::find()
        .filter(line::Column::AccountId.eq(p.account_id))
        .filter(line::Column::OrderId.eq(o.id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    for m in taken {
        if m.delta >= 0 {
            continue;
        }
        let took = m.delta.saturating_neg();
        let line_id = placed_line(&m, o.id);
        let back = match (o.status, line_id.and_then(|id| lines.get(&id))) {
            // A bundle's component: its units per bundle times the bundles not shipped.
            (OrderStatus::PartiallyShipped, Some(l)) if m.bundle_item_id.is_some() => {
                let per = took / l.quantity.max(1);
                ((l.quantity - l.quantity_shipped) * per).clamp(0, took)
            }
            (OrderStatus::PartiallyShipped, Some(l)) => {
                (l.quantity - l.quantity_shipped).clamp(0, took)
            }
            _ => took,
        };
        if back == 0 {
            continue;
        }
        let key = restocked_key(&m, o.id);
        let back_movement = Movement {
            account_id: p.account_id,
            item_id: m.inventory_item_id,
            reason: StockReason::OrderCanceled,
            actor_user_id: p.user_id(),
            actor_api_key_id: p.api_key_id(),
            integration_id: Some(o.integration_id),
            order_id: Some(o.id),
            idempotency_key: Some(key),
            note: None,
            bundle_item_id: m.bundle_item_id,
        };
        if let Some(recorded) = ledger::adjust(db, back_movement, back).await? {
            moved.push((recorded.inventory_item_id, recorded.id));
        }
    }
    Ok(moved)
}

/// The idempotency key of the stock an order line took: one per line, or for a bundle one
/// per component (`order:{order}:line:{line}[:component:{item}]:placed`).
pub(crate) fn placed_key(order_id: i64, line_id: i64, component: Option<i64>) -> String {
    match component {
        Some(item) => format!("order:{order_id}:line:{line_id}:component:{item}:placed"),
        None => format!("order:{order_id}:line:{line_id}:placed"),
    }
}

/// What a `placed` key names after the order: `{line}` or `{line}:component:{item}`.
fn placed_part(m: &movement::Model, order_id: i64) -> Option<&str> {
    m.idempotency_key
        .as_deref()?
        .strip_prefix(&format!("order:{order_id}:line:"))?
        .strip_suffix(":placed")
}

/// The order line whose stock a `placed` movement took.
fn placed_line(m: &movement::Model, order_id: i64) -> Option<i64> {
    placed_part(m, order_id)?.split(':').next()?.parse().ok()
}

/// The idempotency key giving back what a `placed` movement took: the same whether the order
/// is canceled here or on the store, so neither gives back twice.
pub(crate) fn restocked_key(m: &movement::Model, order_id: i64) -> String {
    match placed_part(m, order_id) {
        Some(part) => format!("order:{order_id}:line:{part}:restocked"),
        None => format!("order:{order_id}:movement:{}:restocked", m.id),
    }
}
