//! Reading orders and their lines: filters, search, newest-first keyset pages.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, Func, LikeExpr, Query, SelectStatement, UnionType};
use sea_orm::{
    ActiveEnum, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, IdenStatic,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
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
    /// Only these integrations' orders (all when empty).
    pub integration_ids: Vec<i64>,
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

/// Orders of the account with a line of this SKU (index on lines by account and SKU).
fn with_sku(account_id: i64, sku: &str) -> SelectStatement {
    Query::select()
        .column(line::Column::OrderId)
        .from(line::Entity)
        .and_where(Expr::col(line::Column::AccountId).eq(account_id))
        .and_where(Expr::col(line::Column::Sku).eq(sku))
        .to_owned()
}

/// `orders.account_id = ?` that SQLite cannot answer from an index (`+`): for queries whose
/// other conditions name few orders by id. Without statistics SQLite's planner would rather
/// walk an account index of every order (a covering index looks cheap), testing each one.
fn account_off_index(account_id: i64) -> sea_orm::sea_query::SimpleExpr {
    Expr::cust_with_values("+\"orders\".\"account_id\" = ?", [account_id])
}

/// Shortest text the SQLite trigram index can look up; shorter text is matched by scanning.
const MIN_INDEXED_TEXT: usize = 3;
/// Most candidates the SQLite trigram index may propose for one search before the search
/// falls back to scanning (text made only of the most common trigrams, like `com`).
const MAX_CANDIDATES: i64 = 50_000;
/// How many of the search text's trigrams the trigram index is asked for.
const LEADING_TRIGRAMS: usize = 3;

/// Ids of the account's orders matching `search`, as one `UNION` of indexed lookups: the
/// order number (exact, `#` optional), a line's SKU (exact), and part of the customer's email
/// or name (case-insensitive). PostgreSQL finds the text through trigram GIN indexes on the
/// lower-cased columns; SQLite through [`text_matches_sqlite`].
async fn search_ids(state: &AppState, account_id: i64, search: &str) -> AppResult<SelectStatement> {
    let backend = state.db.get_database_backend();
    let number = search.trim_start_matches('#');
    let mut by_number = Query::select()
        .column(order::Column::Id)
        .from(order::Entity)
        .and_where(Expr::col(order::Column::AccountId).eq(account_id))
        .and_where(Expr::col(order::Column::Number).eq(number))
        .to_owned();
    let indexed = match backend {
        DbBackend::Sqlite => text_matches_sqlite(state, account_id, search).await?,
        _ => None,
    };
    let by_text = match indexed {
        Some(ids) => Query::select()
            .column(order::Column::Id)
            .from(order::Entity)
            .and_where(Expr::cust_with_values(
                "id IN (SELECT value FROM json_each(?))",
                [serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into())],
            ))
            .to_owned(),
        None => {
            let drivers = match backend {
                DbBackend::Postgres => rare_trigrams(search, true),
                _ => Vec::new(),
            };
            let lower_like = |column: order::Column| {
                if drivers.is_empty() {
                    return Condition::all()
                        .add(Expr::expr(Func::lower(Expr::col(column))).like(like(search)));
                }
                // PostgreSQL: the GIN index is asked for a few rare trigrams only (asking for
                // the whole text reads the long posting lists of its common trigrams too); the
                // whole text is then checked on those rows, by a test the index cannot take
                // (`$1`: sea-query numbers a PostgreSQL custom expression's own values).
                let mut all = Condition::all();
                for d in &drivers {
                    all = all.add(
                        Expr::expr(Func::lower(Expr::col(column)))
                            .like(LikeExpr::new(format!("%{}%", d.to_lowercase()))),
                    );
                }
                all.add(Expr::cust_with_values(
                    format!("strpos(lower({}), $1) > 0", column.as_str()),
                    [search.to_lowercase()],
                ))
            };
            let mut text = Condition::any()
                .add(lower_like(order::Column::CustomerEmail))
                .add(lower_like(order::Column::CustomerName));
            if backend == DbBackend::Sqlite {
                // SQLite lower-cases ASCII only: also match non-ASCII names as typed.
                text = text.add(Expr::col(order::Column::CustomerName).like(like_as_typed(search)));
            }
            Query::select()
                .column(order::Column::Id)
                .from(order::Entity)
                .and_where(Expr::col(order::Column::AccountId).eq(account_id))
                .cond_where(text)
                .to_owned()
        }
    };
    Ok(by_number
        .union(UnionType::Distinct, with_sku(account_id, search))
        .union(UnionType::Distinct, by_text)
        .to_owned())
}

/// On SQLite, the ids of the account's orders whose customer email or name contains `search`,
/// compared in lower case for every alphabet. The FTS5 trigram table proposes the orders that
/// hold a few of the text's rarest trigrams (a cheap lookup; FTS5's own phrase matching walks
/// the whole position list of every trigram, and some — `com`, `gma` — are in almost every
/// row), and each proposal is checked here. `None` when the text is too short for the index or
/// its trigrams too common (the caller scans instead).
async fn text_matches_sqlite(
    state: &AppState,
    account_id: i64,
    search: &str,
) -> AppResult<Option<Vec<i64>>> {
    if search.chars().count() < MIN_INDEXED_TEXT {
        return Ok(None);
    }
    let rows = order::Entity::find()
        .select_only()
        .column(order::Column::Id)
        .column(order::Column::CustomerEmail)
        .column(order::Column::CustomerName)
        .filter(account_off_index(account_id))
        .filter(Expr::cust_with_values(
            "id IN (SELECT rowid FROM orders_search WHERE orders_search MATCH ? LIMIT ?)",
            [
                sea_orm::Value::from(trigram_query(search)),
                sea_orm::Value::from(MAX_CANDIDATES + 1),
            ],
        ))
        .into_tuple::<(i64, Option<String>, String)>()
        .all(&state.db)
        .await?;
    if rows.len() as i64 > MAX_CANDIDATES {
        return Ok(None);
    }
    let wanted = search.to_lowercase();
    Ok(Some(
        rows.into_iter()
            .filter(|(_, email, name)| {
                email
                    .as_deref()
                    .is_some_and(|e| e.to_lowercase().contains(&wanted))
                    || name.to_lowercase().contains(&wanted)
            })
            .map(|(id, ..)| id)
            .collect(),
    ))
}

/// Up to [`LEADING_TRIGRAMS`] of the text's rarest trigrams (in its own case), rarest first.
/// Rarity is guessed: digits are rarer than non-ASCII letters, which are rarer than ASCII
/// letters, which are rarer than punctuation and spaces; among equals the earlier trigram goes
/// first. `alphanumeric` keeps only trigrams of letters and digits (pg_trgm indexes words).
fn rare_trigrams(search: &str, alphanumeric: bool) -> Vec<String> {
    let chars: Vec<char> = search.chars().collect();
    let rarity = |c: &char| match c {
        c if c.is_numeric() => 3,
        c if c.is_alphanumeric() && !c.is_ascii() => 2,
        c if c.is_alphanumeric() => 1,
        _ => 0,
    };
    let mut trigrams: Vec<(usize, String, u32)> = Vec::new();
    for (at, window) in chars.windows(3).enumerate() {
        if alphanumeric && !window.iter().all(|c| c.is_alphanumeric()) {
            continue;
        }
        let text: String = window.iter().collect();
        let lower = text.to_lowercase();
        if trigrams.iter().any(|(_, t, _)| t.to_lowercase() == lower) {
            continue;
        }
        trigrams.push((at, text, window.iter().map(rarity).sum()));
    }
    trigrams.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    trigrams
        .into_iter()
        .take(LEADING_TRIGRAMS)
        .map(|(_, t, _)| t)
        .collect()
}

/// An FTS5 query for the rows that hold each of the text's [`rare_trigrams`] (in any order: a
/// superset of the rows holding the text).
fn trigram_query(search: &str) -> String {
    rare_trigrams(search, false)
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Whether `filter` only narrows by status and store, so that its count can be read from
/// `order_counts` (kept by triggers) instead of counting orders.
fn counted_ahead(filter: &OrderFilter) -> bool {
    filter.placed_from.is_none()
        && filter.placed_to.is_none()
        && blank(filter.search.as_deref()).is_none()
        && blank(filter.sku.as_deref()).is_none()
}

fn blank(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|s| !s.is_empty())
}

/// How many of the account's orders have these statuses (all when empty), in one store or
/// some or all: a sum over `order_counts`.
async fn count_ahead(state: &AppState, account_id: i64, filter: &OrderFilter) -> AppResult<u64> {
    let mut query = Query::select()
        // PostgreSQL sums BIGINT into NUMERIC: back to BIGINT, as on SQLite.
        .expr(Expr::cust("CAST(COALESCE(SUM(n), 0) AS BIGINT)"))
        .from(Alias::new("order_counts"))
        .and_where(Expr::col(Alias::new("account_id")).eq(account_id))
        .to_owned();
    if !filter.integration_ids.is_empty() {
        query.and_where(
            Expr::col(Alias::new("integration_id")).is_in(filter.integration_ids.iter().copied()),
        );
    }
    if !filter.statuses.is_empty() {
        let statuses: Vec<String> = filter.statuses.iter().map(ActiveEnum::to_value).collect();
        query.and_where(Expr::col(Alias::new("status")).is_in(statuses));
    }
    let backend = state.db.get_database_backend();
    let row = state
        .db
        .query_one(backend.build(&query))
        .await?
        .ok_or_else(|| anyhow::anyhow!("the order count query answered nothing"))?;
    Ok(u64::try_from(row.try_get_by_index::<i64>(0)?).unwrap_or(0))
}

/// The caller's orders matching `filter`, `first` at a time after `after`. `count` asks for
/// the total (left at 0 otherwise: the client did not select it).
pub async fn list(
    state: &AppState,
    p: &Principal,
    filter: &OrderFilter,
    sort: OrderSort,
    first: u64,
    after: Option<OrderCursor>,
    count: bool,
) -> AppResult<OrderPage> {
    let narrowed_by_id =
        blank(filter.search.as_deref()).is_some() || blank(filter.sku.as_deref()).is_some();
    let mut query = if narrowed_by_id && state.db.get_database_backend() == DbBackend::Sqlite {
        // A search or SKU names few orders: look them up by id.
        order::Entity::find().filter(account_off_index(p.account_id))
    } else {
        order::Entity::find().filter(order::Column::AccountId.eq(p.account_id))
    };
    if !filter.statuses.is_empty() {
        query = query.filter(order::Column::Status.is_in(filter.statuses.clone()));
    }
    if !filter.integration_ids.is_empty() {
        query = query
            .filter(order::Column::IntegrationId.is_in(filter.integration_ids.iter().copied()));
    }
    if let Some(from) = filter.placed_from {
        query = query.filter(order::Column::PlacedAt.gte(from));
    }
    if let Some(to) = filter.placed_to {
        query = query.filter(order::Column::PlacedAt.lt(to));
    }
    if let Some(sku) = blank(filter.sku.as_deref()) {
        query = query.filter(order::Column::Id.in_subquery(with_sku(p.account_id, sku)));
    }
    if let Some(search) = blank(filter.search.as_deref()) {
        query = query
            .filter(order::Column::Id.in_subquery(search_ids(state, p.account_id, search).await?));
    }
    let total_count = match (count, counted_ahead(filter)) {
        (false, _) => 0,
        (true, true) => count_ahead(state, p.account_id, filter).await?,
        (true, false) => query.clone().count(&state.db).await?,
    };
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

#[cfg(test)]
mod tests {
    use super::{rare_trigrams, trigram_query};

    #[test]
    fn a_short_text_is_its_one_trigram() {
        assert_eq!(trigram_query("abc"), "\"abc\"");
    }

    #[test]
    fn the_rarest_trigrams_are_asked_for() {
        assert_eq!(
            trigram_query("customer12@x"),
            "\"r12\" AND \"12@\" AND \"er1\""
        );
        assert_eq!(trigram_query("Łucja"), "\"Łuc\" AND \"ucj\" AND \"cja\"");
        // Repeats (in any case) are asked for once.
        assert_eq!(trigram_query("abcABC"), "\"abc\" AND \"bcA\" AND \"cAB\"");
    }

    #[test]
    fn postgresql_is_asked_for_trigrams_of_letters_and_digits_only() {
        assert_eq!(rare_trigrams("ab@cd.ef", true), Vec::<String>::new());
        assert_eq!(rare_trigrams("jo@example.com", true), ["exa", "xam", "amp"]);
    }

    #[test]
    fn quotes_are_text() {
        assert_eq!(trigram_query("a\"b"), "\"a\"\"b\"");
    }
}
