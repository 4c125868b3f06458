//! Products low on stock, the longest-low first, with how fast they sold over the last
//! [`SALES_WINDOW_DAYS`] days (docs/rules.md §4).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Alias, Expr, Func};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::pagination::Page;
use super::Principal;
use crate::domain::StockReason;
use crate::entities::{inventory_item as item, stock_movement as movement};
use crate::error::AppResult;
use crate::state::AppState;

/// The days of orders behind the units sold per day.
pub const SALES_WINDOW_DAYS: i64 = 30;

/// A product low on stock and the units its orders took over the sales window (net of
/// orders canceled or restocked in it).
#[derive(Clone, Debug)]
pub struct LowStock {
    pub item: item::Model,
    pub units_sold: i64,
}

/// Where a page starts: after this (`lowStockSince`, id).
pub type After = (DateTime<Utc>, i64);

/// One page of the account's products at or below their threshold, ordered by how long they
/// have been there (longest first, then by id).
pub async fn list(
    state: &AppState,
    p: &Principal,
    first: u64,
    after: Option<After>,
) -> AppResult<Page<LowStock>> {
    let low = item::Entity::find()
        .filter(item::Column::AccountId.eq(p.account_id))
        .filter(item::Column::DeletedAt.is_null())
        .filter(item::Column::LowStockSince.is_not_null());
    let total = low.clone().count(&state.db).await?;
    let mut query = low;
    if let Some((since, id)) = after {
        query = query.filter(
            Condition::any()
                .add(item::Column::LowStockSince.gt(since))
                .add(
                    Condition::all()
                        .add(item::Column::LowStockSince.eq(since))
                        .add(item::Column::Id.gt(id)),
                ),
        );
    }
    let rows = query
        .order_by_asc(item::Column::LowStockSince)
        .order_by_asc(item::Column::Id)
        .limit(first + 1)
        .all(&state.db)
        .await?;
    let page = Page::from_overfetch(rows, first, total);
    let ids: Vec<i64> = page.items.iter().map(|i| i.id).collect();
    let sold = units_sold(state, p.account_id, &ids).await?;
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|item| LowStock {
                units_sold: sold.get(&item.id).copied().unwrap_or(0),
                item,
            })
            .collect(),
        has_next_page: page.has_next_page,
        total_count: page.total_count,
    })
}

/// Units the items' orders took over the sales window, net of what came back from orders
/// canceled or restocked in it: one grouped query.
async fn units_sold(
    state: &AppState,
    account_id: i64,
    ids: &[i64],
) -> AppResult<HashMap<i64, i64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let from = Utc::now() - Duration::days(SALES_WINDOW_DAYS);
    let sums: Vec<(i64, Option<i64>)> = movement::Entity::find()
        .select_only()
        .column(movement::Column::InventoryItemId)
        .expr(Func::cast_as(
            Func::sum(Expr::col(movement::Column::Delta)),
            Alias::new("BIGINT"),
        ))
        .filter(movement::Column::AccountId.eq(account_id))
        .filter(movement::Column::InventoryItemId.is_in(ids.iter().copied()))
        .filter(movement::Column::Reason.is_in([
            StockReason::OrderPlaced,
            StockReason::OrderRestocked,
            StockReason::OrderCanceled,
        ]))
        .filter(movement::Column::CreatedAt.gte(from))
        .group_by(movement::Column::InventoryItemId)
        .into_tuple()
        .all(&state.db)
        .await?;
    Ok(sums
        .into_iter()
        .map(|(id, sum)| (id, (-sum.unwrap_or(0)).max(0)))
        .collect())
}
