//! Reading orders and their lines: filters, search, newest-first keyset pages.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::search::{like, like_as_typed};
use super::Principal;
use crate::domain::OrderStatus;
use crate::entities::{order, order_line as line};
use crate::error::AppResult;
use crate::state::AppState;

/// Filters of the order list.
#[derive(Clone, Debug, Default)]
pub struct OrderFilter {
    /// Any of these statuses.
    pub statuses: Vec<OrderStatus>,
    /// Only this integration's orders.
    pub integration_id: Option<i64>,
    /// Placed at or after.
    pub placed_from: Option<DateTime<Utc>>,
    /// Placed before.
    pub placed_to: Option<DateTime<Utc>>,
    /// Order number (exact), or part of the customer's email or name (case-insensitive), or a
    /// line's SKU (exact).
    pub search: Option<String>,
    /// Orders with a line of this SKU.
    pub sku: Option<String>,
}

/// Order of the list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OrderSort {
    /// Newest placement first.
    #[default]
    NewestFirst,
    /// Oldest placement first.
    OldestFirst,
}

/// Where a page starts: after this order (placement time and id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderCursor {
    /// Placement time of the last order of the previous page.
    pub placed_at: DateTime<Utc>,
    /// Its id.
    pub id: i64,
}

/// A page of orders.
#[derive(Debug)]
pub struct OrderPage {
    /// The orders.
    pub items: Vec<order::Model>,
    /// Whether more follow.
    pub has_next_page: bool,
    /// How many match.
    pub total_count: u64,
}

fn with_sku(sku: &str) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(line::Column::OrderId)
        .from(line::Entity)
        .and_where(Expr::col(line::Column::Sku).eq(sku))
        .to_owned()
}

/// The caller's orders matching `filter`, `first` at a time after `after`.
pub async fn list(
    state: &AppState,
    p: &Principal,
    filter: &OrderFilter,
    sort: OrderSort,
    first: u64,
    after: Option<OrderCursor>,
) -> AppResult<OrderPage> {
    let mut query = order::Entity::find().filter(order::Column::AccountId.eq(p.account_id));
    if !filter.statuses.is_empty() {
        query = query.filter(order::Column::Status.is_in(filter.statuses.clone()));
    }
    if let Some(i) = filter.integration_id {
        query = query.filter(order::Column::IntegrationId.eq(i));
    }
    if let Some(from) = filter.placed_from {
        query = query.filter(order::Column::PlacedAt.gte(from));
    }
    if let Some(to) = filter.placed_to {
        query = query.filter(order::Column::PlacedAt.lt(to));
    }
    if let Some(sku) = filter
        .sku
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        query = query.filter(order::Column::Id.in_subquery(with_sku(sku)));
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let number = search.trim_start_matches('#');
        query = query.filter(
            Condition::any()
                .add(order::Column::Number.eq(number))
                .add(
                    Expr::expr(Func::lower(Expr::col(order::Column::CustomerEmail)))
                        .like(like(search)),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col(order::Column::CustomerName)))
                        .like(like(search)),
                )
                // SQLite lower-cases ASCII only: also match non-ASCII names as typed.
                .add(Expr::col(order::Column::CustomerName).like(like_as_typed(search)))
                .add(order::Column::Id.in_subquery(with_sku(search))),
        );
    }
    let total_count = query.clone().count(&state.db).await?;
    if let Some(c) = after {
        query = query.filter(match sort {
            OrderSort::NewestFirst => Condition::any()
                .add(order::Column::PlacedAt.lt(c.placed_at))
                .add(
                    Condition::all()
                        .add(order::Column::PlacedAt.eq(c.placed_at))
                        .add(order::Column::Id.lt(c.id)),
                ),
            OrderSort::OldestFirst => Condition::any()
                .add(order::Column::PlacedAt.gt(c.placed_at))
                .add(
                    Condition::all()
                        .add(order::Column::PlacedAt.eq(c.placed_at))
                        .add(order::Column::Id.gt(c.id)),
                ),
        });
    }
    query = match sort {
        OrderSort::NewestFirst => query
            .order_by_desc(order::Column::PlacedAt)
            .order_by_desc(order::Column::Id),
        OrderSort::OldestFirst => query
            .order_by_asc(order::Column::PlacedAt)
            .order_by_asc(order::Column::Id),
    };
    let mut items = query.limit(first + 1).all(&state.db).await?;
    let has_next_page = items.len() as u64 > first;
    items.truncate(usize::try_from(first).unwrap_or(usize::MAX));
    Ok(OrderPage {
        items,
        has_next_page,
        total_count,
    })
}

/// One of the caller's orders.
pub async fn get(state: &AppState, p: &Principal, id: i64) -> AppResult<Option<order::Model>> {
    Ok(order::Entity::find_by_id(id)
        .filter(order::Column::AccountId.eq(p.account_id))
        .one(&state.db)
        .await?)
}

/// Lines of the given orders, grouped by order, within one account (for loaders).
pub async fn lines_by_order(
    state: &AppState,
    account_id: i64,
    order_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<line::Model>>> {
    let rows = line::Entity::find()
        .filter(line::Column::AccountId.eq(account_id))
        .filter(line::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(line::Column::Id)
        .all(&state.db)
        .await?;
    let mut map: HashMap<i64, Vec<line::Model>> = HashMap::new();
    for r in rows {
        map.entry(r.order_id).or_default().push(r);
    }
    Ok(map)
}
