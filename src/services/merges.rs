//! Merged orders (docs/rules.md §6): orders of one store going to one address, none shipped
//! yet, sent as one parcel. The orders stay separate records (each keeps its lines, stock and
//! status); the merge only ties them together for shipping: shipping any of them ships all,
//! with one tracking number, one shipment per order pushed to its store. Merging never moves
//! stock.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::shipments::plan;
use super::Principal;
use crate::db::{self, ScopedFutureExt};
use crate::domain::address::{address_key, destination};
use crate::domain::OrderStatus;
use crate::entities::{order, order_line, order_merge as merge, shipment};
use crate::error::{ensure_valid, AppResult, UserError, UserErrorCode as Code};
use crate::state::AppState;

/// Most orders in one merge.
pub const MAX_MERGED: usize = 50;
/// Open orders looked at for merge candidates, newest first.
pub const CANDIDATE_SCAN: u64 = 5_000;

/// A merge with its orders (by id).
#[derive(Clone, Debug)]
pub struct Merge {
    /// The merge.
    pub merge: merge::Model,
    /// Its orders, oldest first.
    pub orders: Vec<order::Model>,
}

/// Locks the account's orders of `ids` (a write, so concurrent merges and shipments take
/// turns) and reads them.
async fn lock_orders(
    txn: &DatabaseTransaction,
    account_id: i64,
    filter: sea_orm::Condition,
) -> AppResult<Vec<order::Model>> {
    order::Entity::update_many()
        .col_expr(
            order::Column::UpdatedAt,
            Expr::col(order::Column::UpdatedAt).into(),
        )
        .filter(order::Column::AccountId.eq(account_id))
        .filter(filter.clone())
        .exec(txn)
        .await?;
    Ok(order::Entity::find()
        .filter(order::Column::AccountId.eq(account_id))
        .filter(filter)
        .order_by_asc(order::Column::PlacedAt)
        .order_by_asc(order::Column::Id)
        .all(txn)
        .await?)
}

/// Whether anything of these orders has shipped: a status, a line's shipped quantity, or a
/// shipment recorded here.
async fn anything_shipped(
    txn: &DatabaseTransaction,
    account_id: i64,
    orders: &[order::Model],
) -> AppResult<Option<i64>> {
    if let Some(o) = orders.iter().find(|o| {
        matches!(
            o.status,
            OrderStatus::Shipped | OrderStatus::PartiallyShipped
        )
    }) {
        return Ok(Some(o.id));
    }
    let ids = || orders.iter().map(|o| o.id);
    let line = order_line::Entity::find()
        .filter(order_line::Column::AccountId.eq(account_id))
        .filter(order_line::Column::OrderId.is_in(ids()))
        .filter(order_line::Column::QuantityShipped.gt(0))
        .one(txn)
        .await?;
    if let Some(l) = line {
        return Ok(Some(l.order_id));
    }
    let parcel = shipment::Entity::find()
        .filter(shipment::Column::AccountId.eq(account_id))
        .filter(shipment::Column::OrderId.is_in(ids()))
        .one(txn)
        .await?;
    Ok(parcel.map(|s| s.order_id))
}

/// Checks the orders (in the order of `ids`) can go out as one parcel: the first fault.
fn check(ids: &[i64], orders: &HashMap<i64, order::Model>) -> Result<(), UserError> {
    let field = |i: usize| format!("orderIds.{i}");
    let first = orders.get(&ids[0]);
    let first_key = first.map(|o| {
        address_key(&destination(
            o.shipping_addresses.as_ref(),
            o.billing_address.as_ref(),
        ))
    });
    for (i, id) in ids.iter().enumerate() {
        let Some(o) = orders.get(id) else {
            return Err(UserError::new(
                &field(i),
                Code::NotFound,
                "No such order in your account.",
            ));
        };
        if let Some(mut e) = plan::refuse_status(o.status) {
            if o.status == OrderStatus::Shipped {
                e = UserError::new("", Code::AlreadyShipped, "This order has shipped already.");
            }
            return Err(UserError::new(&field(i), e.code, e.message));
        }
        if o.merge_id.is_some() {
            return Err(UserError::new(
                &field(i),
                Code::AlreadyMerged,
                format!(
                    "Order {} is already merged with others; unmerge it first.",
                    o.number
                ),
            ));
        }
        if o.shipping_addresses.as_ref().is_some_and(|a| a.0.len() > 1) {
            return Err(UserError::new(
                &field(i),
                Code::DifferentAddress,
                format!(
                    "Order {} ships to several addresses; only orders going to one address merge.",
                    o.number
                ),
            ));
        }
        if first.is_some_and(|f| f.integration_id != o.integration_id) {
            return Err(UserError::new(
                &field(i),
                Code::DifferentStore,
                "Only orders of one store merge: each store is told of its own shipment.",
            ));
        }
        let key = address_key(&destination(
            o.shipping_addresses.as_ref(),
            o.billing_address.as_ref(),
        ));
        if first_key.as_ref() != Some(&key) {
            return Err(UserError::new(
                &field(i),
                Code::DifferentAddress,
                format!(
                    "Order {} goes to another address than order {}.",
                    o.number,
                    first.map_or("", |f| f.number.as_str())
                ),
            ));
        }
    }
    Ok(())
}

/// Merges the orders of `order_ids` (2–50, all of the caller's account, one store, one
/// address, nothing shipped, none merged already).
pub async fn merge(state: &AppState, p: &Principal, order_ids: Vec<i64>) -> AppResult<Merge> {
    let mut ids = order_ids;
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
    let mut errors = Vec::new();
    if ids.len() < 2 {
        errors.push(UserError::new(
            "orderIds",
            Code::Required,
            "Give at least two different orders to merge.",
        ));
    }
    if ids.len() > MAX_MERGED {
        errors.push(UserError::new(
            "orderIds",
            Code::Invalid,
            format!("At most {MAX_MERGED} orders merge into one parcel."),
        ));
    }
    ensure_valid(errors)?;
    let ids = &ids;
    db::write(&state.db, |txn| {
        async move {
            let rows = lock_orders(
                txn,
                p.account_id,
                sea_orm::Condition::all().add(order::Column::Id.is_in(ids.iter().copied())),
            )
            .await?;
            let by_id: HashMap<i64, order::Model> =
                rows.iter().cloned().map(|o| (o.id, o)).collect();
            check(ids, &by_id)?;
            if let Some(id) = anything_shipped(txn, p.account_id, &rows).await? {
                let i = ids.iter().position(|x| *x == id).unwrap_or(0);
                return Err(UserError::new(
                    &format!("orderIds.{i}"),
                    Code::AlreadyShipped,
                    "Part of this order has shipped already; only orders with nothing shipped merge.",
                )
                .into());
            }
            let made = merge::ActiveModel {
                account_id: Set(p.account_id),
                integration_id: Set(rows[0].integration_id),
                created_by_user_id: Set(p.user_id()),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            order::Entity::update_many()
                .col_expr(order::Column::MergeId, Expr::value(made.id))
                .col_expr(order::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(order::Column::AccountId.eq(p.account_id))
                .filter(order::Column::Id.is_in(ids.iter().copied()))
                .exec(txn)
                .await?;
            let orders = orders_of(txn, p.account_id, made.id).await?;
            Ok(Merge {
                merge: made,
                orders,
            })
        }
        .scope_boxed()
    })
    .await
}

/// Takes the merge `merge_id` apart before it ships; its orders ship on their own again.
pub async fn unmerge(
    state: &AppState,
    p: &Principal,
    merge_id: i64,
) -> AppResult<Vec<order::Model>> {
    db::write(&state.db, |txn| {
        async move {
            let rows = lock_orders(
                txn,
                p.account_id,
                sea_orm::Condition::all().add(order::Column::MergeId.eq(merge_id)),
            )
            .await?;
            if rows.is_empty() {
                return Err(UserError::new(
                    "mergeId",
                    Code::NotFound,
                    "No such merge in your account.",
                )
                .into());
            }
            if anything_shipped(txn, p.account_id, &rows).await?.is_some() {
                return Err(UserError::new(
                    "mergeId",
                    Code::AlreadyShipped,
                    "The merged orders have shipped (in part): a merge that shipped stays as it went out.",
                )
                .into());
            }
            order::Entity::update_many()
                .col_expr(order::Column::MergeId, Expr::value(Option::<i64>::None))
                .col_expr(order::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(order::Column::AccountId.eq(p.account_id))
                .filter(order::Column::MergeId.eq(merge_id))
                .exec(txn)
                .await?;
            merge::Entity::delete_many()
                .filter(merge::Column::AccountId.eq(p.account_id))
                .filter(merge::Column::Id.eq(merge_id))
                .exec(txn)
                .await?;
            let ids: Vec<i64> = rows.iter().map(|o| o.id).collect();
            Ok(order::Entity::find()
                .filter(order::Column::AccountId.eq(p.account_id))
                .filter(order::Column::Id.is_in(ids))
                .order_by_asc(order::Column::PlacedAt)
                .order_by_asc(order::Column::Id)
                .all(txn)
                .await?)
        }
        .scope_boxed()
    })
    .await
}

/// The account's merge `merge_id` with its orders; `None` when there is none.
pub async fn get(state: &AppState, account_id: i64, merge_id: i64) -> AppResult<Option<Merge>> {
    let Some(m) = merge::Entity::find_by_id(merge_id)
        .filter(merge::Column::AccountId.eq(account_id))
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    let orders = orders_of(&state.db, account_id, m.id).await?;
    Ok(Some(Merge { merge: m, orders }))
}

/// The account's orders of merge `merge_id`, oldest first.
pub async fn orders_of<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    merge_id: i64,
) -> AppResult<Vec<order::Model>> {
    Ok(order::Entity::find()
        .filter(order::Column::AccountId.eq(account_id))
        .filter(order::Column::MergeId.eq(merge_id))
        .order_by_asc(order::Column::PlacedAt)
        .order_by_asc(order::Column::Id)
        .all(db)
        .await?)
}

/// The orders of each of `merge_ids` (by merge), oldest first: one query.
pub async fn orders_of_merges<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    merge_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<order::Model>>> {
    let mut out: HashMap<i64, Vec<order::Model>> = HashMap::new();
    if merge_ids.is_empty() {
        return Ok(out);
    }
    for o in order::Entity::find()
        .filter(order::Column::AccountId.eq(account_id))
        .filter(order::Column::MergeId.is_in(merge_ids.iter().copied()))
        .order_by_asc(order::Column::PlacedAt)
        .order_by_asc(order::Column::Id)
        .all(db)
        .await?
    {
        if let Some(m) = o.merge_id {
            out.entry(m).or_default().push(o);
        }
    }
    Ok(out)
}

/// Groups of the account's open orders (new, none merged) that would merge: same store, same
/// address, two or more orders; the newest groups first, at most `limit`. Looks at the newest
/// [`CANDIDATE_SCAN`] open orders.
pub async fn candidates(
    state: &AppState,
    p: &Principal,
    limit: usize,
) -> AppResult<Vec<Vec<order::Model>>> {
    let open = order::Entity::find()
        .filter(order::Column::AccountId.eq(p.account_id))
        .filter(order::Column::Status.eq(OrderStatus::New))
        .filter(order::Column::MergeId.is_null())
        .order_by_desc(order::Column::PlacedAt)
        .order_by_desc(order::Column::Id)
        .limit(CANDIDATE_SCAN)
        .all(&state.db)
        .await?;
    // Orders with something shipped (a status NEW the store has not caught up with) are left
    // out: their lines say so.
    let shipped: std::collections::HashSet<i64> = order_line::Entity::find()
        .select_only()
        .column(order_line::Column::OrderId)
        .filter(order_line::Column::AccountId.eq(p.account_id))
        .filter(order_line::Column::OrderId.is_in(open.iter().map(|o| o.id)))
        .filter(order_line::Column::QuantityShipped.gt(0))
        .into_tuple::<i64>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let mut groups: Vec<((i64, String), Vec<order::Model>)> = Vec::new();
    let mut index: HashMap<(i64, String), usize> = HashMap::new();
    for o in open {
        if shipped.contains(&o.id) || o.shipping_addresses.as_ref().is_some_and(|a| a.0.len() > 1) {
            continue;
        }
        let key = (
            o.integration_id,
            address_key(&destination(
                o.shipping_addresses.as_ref(),
                o.billing_address.as_ref(),
            )),
        );
        match index.get(&key) {
            Some(i) => groups[*i].1.push(o),
            None => {
                index.insert(key.clone(), groups.len());
                groups.push((key, vec![o]));
            }
        }
    }
    Ok(groups
        .into_iter()
        .filter(|(_, orders)| orders.len() >= 2)
        .take(limit)
        .map(|(_, mut orders)| {
            orders.reverse();
            orders.truncate(MAX_MERGED);
            orders
        })
        .collect())
}
