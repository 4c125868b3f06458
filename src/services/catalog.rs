//! Reading products (inventory items), their listings and their stock ledger.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::pagination::{Page, PageRequest};
use super::search::{like, like_as_typed};
use super::Principal;
use crate::entities::{inventory_item as item, listing, stock_movement as movement};
use crate::error::AppResult;
use crate::state::AppState;

/// Filters of the product list.
#[derive(Clone, Debug, Default)]
pub struct ProductFilter {
    /// Exact SKU.
    pub sku: Option<String>,
    /// Part of the name or SKU (case-insensitive).
    pub search: Option<String>,
    /// Only items at or below their low-stock threshold (0 when none is set); never bundles.
    pub low_stock: bool,
}

/// The caller's products (deleted ones excluded), by id.
pub async fn list(
    state: &AppState,
    p: &Principal,
    filter: &ProductFilter,
    page: PageRequest,
) -> AppResult<Page<item::Model>> {
    let mut query = item::Entity::find()
        .filter(item::Column::AccountId.eq(p.account_id))
        .filter(item::Column::DeletedAt.is_null());
    if let Some(sku) = &filter.sku {
        query = query.filter(item::Column::Sku.eq(sku.trim()));
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        query = query.filter(
            Condition::any()
                .add(Expr::expr(Func::lower(Expr::col(item::Column::Name))).like(like(search)))
                .add(Expr::col(item::Column::Name).like(like_as_typed(search)))
                .add(Expr::expr(Func::lower(Expr::col(item::Column::Sku))).like(like(search))),
        );
    }
    if filter.low_stock {
        // A bundle's figure is computed from its components: they are the ones to reorder.
        query = query.filter(item::Column::Bundle.eq(false)).filter(
            Expr::col(item::Column::Quantity).lte(Expr::expr(Func::coalesce([
                Expr::col(item::Column::LowStockThreshold).into(),
                Expr::val(0).into(),
            ]))),
        );
    }
    let total = query.clone().count(&state.db).await?;
    if let Some(after) = page.after {
        query = query.filter(item::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(item::Column::Id)
        .limit(page.first + 1)
        .all(&state.db)
        .await?;
    Ok(Page::from_overfetch(rows, page.first, total))
}

/// One of the caller's products by id or SKU.
pub async fn get(
    state: &AppState,
    p: &Principal,
    id: Option<i64>,
    sku: Option<&str>,
) -> AppResult<Option<item::Model>> {
    let mut query = item::Entity::find()
        .filter(item::Column::AccountId.eq(p.account_id))
        .filter(item::Column::DeletedAt.is_null());
    match (id, sku) {
        (Some(id), _) => query = query.filter(item::Column::Id.eq(id)),
        (None, Some(sku)) => query = query.filter(item::Column::Sku.eq(sku.trim())),
        (None, None) => return Ok(None),
    }
    Ok(query.one(&state.db).await?)
}

/// Items by id, within one account (for loaders).
pub async fn items_by_id(
    state: &AppState,
    account_id: i64,
    ids: &[i64],
) -> AppResult<HashMap<i64, item::Model>> {
    let rows = item::Entity::find()
        .filter(item::Column::AccountId.eq(account_id))
        .filter(item::Column::Id.is_in(ids.iter().copied()))
        .all(&state.db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}

/// Listings by id, within one account (for loaders).
pub async fn listings_by_id(
    state: &AppState,
    account_id: i64,
    ids: &[i64],
) -> AppResult<HashMap<i64, listing::Model>> {
    let rows = listing::Entity::find()
        .filter(listing::Column::AccountId.eq(account_id))
        .filter(listing::Column::Id.is_in(ids.iter().copied()))
        .all(&state.db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}

/// Listings of the given items, grouped by item, within one account (for loaders).
pub async fn listings_by_item(
    state: &AppState,
    account_id: i64,
    item_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<listing::Model>>> {
    let rows = listing::Entity::find()
        .filter(listing::Column::AccountId.eq(account_id))
        .filter(listing::Column::InventoryItemId.is_in(item_ids.iter().copied()))
        .order_by_asc(listing::Column::Id)
        .all(&state.db)
        .await?;
    let mut map: HashMap<i64, Vec<listing::Model>> = HashMap::new();
    for r in rows {
        map.entry(r.inventory_item_id).or_default().push(r);
    }
    Ok(map)
}

/// The ledger of one of the caller's items, newest first (`after` is a movement id).
pub async fn movements(
    state: &AppState,
    p: &Principal,
    item_id: i64,
    page: PageRequest,
) -> AppResult<Page<movement::Model>> {
    let mut query = movement::Entity::find()
        .filter(movement::Column::AccountId.eq(p.account_id))
        .filter(movement::Column::InventoryItemId.eq(item_id));
    let total = query.clone().count(&state.db).await?;
    if let Some(after) = page.after {
        query = query.filter(movement::Column::Id.lt(after));
    }
    let rows = query
        .order_by_desc(movement::Column::Id)
        .limit(page.first + 1)
        .all(&state.db)
        .await?;
    Ok(Page::from_overfetch(rows, page.first, total))
}

/// Integrations by id, within one account (for loaders).
pub async fn integrations_by_id(
    state: &AppState,
    account_id: i64,
    ids: &[i64],
) -> AppResult<HashMap<i64, crate::entities::integration::Model>> {
    use crate::entities::integration;
    let rows = integration::Entity::find()
        .filter(integration::Column::AccountId.eq(account_id))
        .filter(integration::Column::Id.is_in(ids.iter().copied()))
        .all(&state.db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}
