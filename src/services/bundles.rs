//! Bundles (kits): a product sold as a set of other products (docs/rules.md §4). A bundle
//! holds no stock of its own: its figure is how many whole bundles its components make
//! (`domain::stock::bundle_figure`), computed whenever it is read or pushed, and its
//! `quantity` column stays 0. Selling a bundle takes stock from each component (the order
//! import does that, `sync::orders`), and a change to a component queues a push of every
//! bundle containing it (`services::push::enqueue_items`).
//!
//! Bundles do not nest: a component is never a bundle, and a product that is a component of
//! a bundle cannot become one. Each use case locks the bundle and all its components before it
//! checks that, so two concurrent changes cannot nest bundles between them (a deadlock between
//! two of them is run again by `db::write`).

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::inventory::{self, ProductKey};
use super::ledger::{self, Movement};
use super::Principal;
use crate::db::{self, ScopedFutureExt};
use crate::domain::rules;
use crate::domain::stock::bundle_figure;
use crate::domain::StockReason;
use crate::entities::{bundle_component as component, inventory_item as item};
use crate::error::{ensure_valid, AppError, AppResult, UserError, UserErrorCode as Code};
use crate::state::AppState;

/// The most components a bundle may have.
pub const MAX_COMPONENTS: usize = 50;
/// The most units of one component in one bundle.
pub const MAX_UNITS_PER_BUNDLE: i64 = 1_000_000;

/// One component as asked for: a product by SKU and the units of it in one bundle.
#[derive(Clone, Debug)]
pub struct ComponentInput {
    pub sku: String,
    pub quantity: i64,
}

/// A `createBundle` request.
#[derive(Clone, Debug)]
pub struct NewBundle {
    pub sku: String,
    /// Required for a new SKU; for an existing product, its new name when given.
    pub name: Option<String>,
    pub components: Vec<ComponentInput>,
}

/// One component of a bundle: its product and the units of it in one bundle.
#[derive(Clone, Debug)]
pub struct Component {
    pub item: item::Model,
    pub quantity: i64,
}

/// The trimmed, checked components: SKU and units, in the order given.
fn check_components(
    errors: &mut Vec<UserError>,
    components: &[ComponentInput],
) -> Vec<(String, i64)> {
    if components.is_empty() {
        errors.push(UserError::new(
            "components",
            Code::Required,
            "A bundle needs at least one component.",
        ));
    } else if components.len() > MAX_COMPONENTS {
        errors.push(UserError::new(
            "components",
            Code::Invalid,
            format!("A bundle has at most {MAX_COMPONENTS} components."),
        ));
        return Vec::new();
    }
    let mut seen = HashSet::new();
    let mut checked = Vec::with_capacity(components.len());
    for (i, c) in components.iter().enumerate() {
        let sku = c.sku.trim().to_string();
        if sku.is_empty() {
            errors.push(UserError::new(
                &format!("components.{i}.sku"),
                Code::Required,
                "Give the component's SKU.",
            ));
        } else if !seen.insert(sku.clone()) {
            errors.push(UserError::new(
                &format!("components.{i}.sku"),
                Code::DuplicateSku,
                format!("{sku} is listed twice; give each component once with its full quantity."),
            ));
        }
        if !(1..=MAX_UNITS_PER_BUNDLE).contains(&c.quantity) {
            errors.push(UserError::new(
                &format!("components.{i}.quantity"),
                Code::InvalidQuantity,
                format!("A component's quantity is 1 to {MAX_UNITS_PER_BUNDLE} units per bundle."),
            ));
        }
        checked.push((sku, c.quantity));
    }
    checked
}

fn check_text(errors: &mut Vec<UserError>, field: &str, value: &str) -> Option<String> {
    match rules::non_blank(value) {
        None => {
            errors.push(UserError::new(
                field,
                Code::Required,
                format!("Give the bundle's {field}."),
            ));
            None
        }
        Some(v) if v.chars().count() > rules::MAX_TEXT => {
            errors.push(UserError::new(
                field,
                Code::TooLong,
                format!("The {field} is at most {} characters.", rules::MAX_TEXT),
            ));
            None
        }
        Some(v) => Some(v),
    }
}

/// Creates a bundle of `input.components`, or makes the existing product with that SKU one
/// (its listings then get the computed figure; the figure it held is set aside to 0 in the
/// ledger as `BUNDLE_CREATED`). All or nothing; the stores hear of the bundle's figure.
pub async fn create(state: &AppState, p: &Principal, input: NewBundle) -> AppResult<item::Model> {
    let mut errors = Vec::new();
    let sku = check_text(&mut errors, "sku", &input.sku);
    let name = match &input.name {
        Some(n) => check_text(&mut errors, "name", n),
        None => None,
    };
    let components = check_components(&mut errors, &input.components);
    if let Some(sku) = &sku {
        if let Some(i) = components.iter().position(|(c, _)| c == sku) {
            errors.push(UserError::new(
                &format!("components.{i}.sku"),
                Code::BundleContainsItself,
                "A bundle cannot contain itself.",
            ));
        }
    }
    ensure_valid(errors)?;
    let sku = sku.unwrap_or_default();
    let (sku, name, components) = (&sku, &name, &components);
    let created = db::write(&state.db, |txn| {
        create_in(txn, p, sku, name.as_deref(), components).scope_boxed()
    })
    .await;
    let created = match created {
        // Another request created this SKU meanwhile: judge against it.
        Err(e) if e.is_unique_violation() => {
            db::write(&state.db, |txn| {
                create_in(txn, p, sku, name.as_deref(), components).scope_boxed()
            })
            .await?
        }
        other => other?,
    };
    state.pushes_queued();
    tracing::info!(
        item_id = created.id,
        components = components.len(),
        "bundle created"
    );
    Ok(created)
}

async fn create_in<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    sku: &str,
    name: Option<&str>,
    components: &[(String, i64)],
) -> AppResult<item::Model> {
    let existing = item::Entity::find()
        .filter(item::Column::AccountId.eq(p.account_id))
        .filter(item::Column::Sku.eq(sku))
        .one(db)
        .await?;
    if existing
        .as_ref()
        .is_some_and(|e| e.bundle && e.deleted_at.is_none())
    {
        return Err(UserError::new(
            "sku",
            Code::Conflict,
            format!(
                "{sku} is a bundle already; change its components with updateBundleComponents."
            ),
        )
        .into());
    }
    if existing.is_none() && name.is_none() {
        return Err(UserError::new("name", Code::Required, "Give the new bundle's name.").into());
    }
    let found = find_components(db, p.account_id, components).await?;
    let mut ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    ids.extend(existing.as_ref().map(|e| e.id));
    lock(db, p.account_id, &ids).await?;
    check_not_nested(db, p.account_id, existing.as_ref().map(|e| e.id), &found).await?;
    let now = Utc::now();
    let bundle_id = match existing {
        Some(e) => {
            let mut update = item::Entity::update_many()
                .col_expr(item::Column::Bundle, Expr::value(true))
                .col_expr(
                    item::Column::DeletedAt,
                    Expr::value(None::<chrono::DateTime<Utc>>),
                )
                .col_expr(
                    item::Column::LowStockSince,
                    Expr::value(None::<chrono::DateTime<Utc>>),
                )
                .col_expr(item::Column::UpdatedAt, Expr::value(now))
                .filter(item::Column::Id.eq(e.id));
            if let Some(n) = name {
                update = update.col_expr(item::Column::Name, Expr::value(n));
            }
            update.exec(db).await?;
            let current = inventory::load_item(db, p.account_id, e.id).await?.quantity;
            if current != 0 {
                let m = Movement {
                    account_id: p.account_id,
                    item_id: e.id,
                    reason: StockReason::BundleCreated,
                    actor_user_id: p.user_id(),
                    actor_api_key_id: p.api_key_id(),
                    integration_id: None,
                    order_id: None,
                    idempotency_key: None,
                    note: Some(format!(
                        "made a bundle; the {current} held before are set aside, its figure is computed from its components"
                    )),
                    bundle_item_id: None,
                };
                ledger::change_locked(db, m, current, 0).await?;
            }
            e.id
        }
        None => {
            item::ActiveModel {
                account_id: Set(p.account_id),
                sku: Set(Some(sku.to_string())),
                name: Set(name.unwrap_or(sku).to_string()),
                quantity: Set(0),
                version: Set(0),
                bundle: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?
            .id
        }
    };
    // A bundle deleted here and created again keeps none of its old components.
    component::Entity::delete_many()
        .filter(component::Column::BundleItemId.eq(bundle_id))
        .exec(db)
        .await?;
    write_components(db, p.account_id, bundle_id, &found).await?;
    inventory::load_item(db, p.account_id, bundle_id).await
}

/// Replaces a bundle's components (same rules as `create`); its listings are pushed the new
/// figure.
pub async fn update_components(
    state: &AppState,
    p: &Principal,
    key: ProductKey,
    components: Vec<ComponentInput>,
) -> AppResult<item::Model> {
    let mut errors = inventory::key_errors(&key);
    let components = check_components(&mut errors, &components);
    ensure_valid(errors)?;
    let bundle_id = inventory::resolve(state, p, &key).await?;
    let components = &components;
    let key = &key;
    let updated = db::write(&state.db, |txn| {
        async move {
            lock(txn, p.account_id, &[bundle_id]).await?;
            let bundle = inventory::load_item(txn, p.account_id, bundle_id).await?;
            if !bundle.bundle {
                return Err(not_a_bundle(key));
            }
            if let Some(i) = components
                .iter()
                .position(|(c, _)| bundle.sku.as_deref() == Some(c.as_str()))
            {
                return Err(UserError::new(
                    &format!("components.{i}.sku"),
                    Code::BundleContainsItself,
                    "A bundle cannot contain itself.",
                )
                .into());
            }
            let found = find_components(txn, p.account_id, components).await?;
            let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
            lock(txn, p.account_id, &ids).await?;
            check_not_nested(txn, p.account_id, Some(bundle_id), &found).await?;
            component::Entity::delete_many()
                .filter(component::Column::BundleItemId.eq(bundle_id))
                .exec(txn)
                .await?;
            write_components(txn, p.account_id, bundle_id, &found).await?;
            item::Entity::update_many()
                .col_expr(item::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(item::Column::Id.eq(bundle_id))
                .exec(txn)
                .await?;
            inventory::load_item(txn, p.account_id, bundle_id).await
        }
        .scope_boxed()
    })
    .await?;
    state.pushes_queued();
    Ok(updated)
}

/// Ends a bundle: its components are forgotten and it becomes a plain product with stock 0
/// (pushed as 0 to its stores, so nothing is sold that cannot be made); its ledger stays.
/// Delete the product itself with `deleteProduct`. Returns the product.
pub async fn delete(state: &AppState, p: &Principal, key: ProductKey) -> AppResult<item::Model> {
    ensure_valid(inventory::key_errors(&key))?;
    let bundle_id = inventory::resolve(state, p, &key).await?;
    let key = &key;
    let product = db::write(&state.db, |txn| {
        async move {
            lock(txn, p.account_id, &[bundle_id]).await?;
            let bundle = inventory::load_item(txn, p.account_id, bundle_id).await?;
            if !bundle.bundle {
                return Err(not_a_bundle(key));
            }
            component::Entity::delete_many()
                .filter(component::Column::BundleItemId.eq(bundle_id))
                .exec(txn)
                .await?;
            item::Entity::update_many()
                .col_expr(item::Column::Bundle, Expr::value(false))
                .col_expr(item::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(item::Column::Id.eq(bundle_id))
                .exec(txn)
                .await?;
            super::push::enqueue_items(txn, p.account_id, &[bundle_id]).await?;
            inventory::load_item(txn, p.account_id, bundle_id).await
        }
        .scope_boxed()
    })
    .await?;
    state.pushes_queued();
    Ok(product)
}

fn not_a_bundle(key: &ProductKey) -> AppError {
    let field = if key.id.is_some() { "productId" } else { "sku" };
    UserError::new(field, Code::NotABundle, "This product is not a bundle.").into()
}

/// The account's live products with these SKUs, as (id, units per bundle) in the order given;
/// `NOT_FOUND` for each SKU that is not one.
async fn find_components<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    components: &[(String, i64)],
) -> AppResult<Vec<(i64, i64)>> {
    let ids: HashMap<String, i64> = item::Entity::find()
        .filter(item::Column::AccountId.eq(account_id))
        .filter(item::Column::DeletedAt.is_null())
        .filter(item::Column::Sku.is_in(components.iter().map(|(s, _)| s.as_str())))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|i| i.sku.map(|s| (s, i.id)))
        .collect();
    let mut errors = Vec::new();
    let mut found = Vec::with_capacity(components.len());
    for (i, (sku, units)) in components.iter().enumerate() {
        match ids.get(sku) {
            Some(id) => found.push((*id, *units)),
            None => errors.push(UserError::new(
                &format!("components.{i}.sku"),
                Code::NotFound,
                format!("No product of your account has the SKU {sku}."),
            )),
        }
    }
    ensure_valid(errors)?;
    Ok(found)
}

/// Takes the row locks of these items, in id order (the write lock on SQLite).
async fn lock<C: ConnectionTrait>(db: &C, account_id: i64, ids: &[i64]) -> AppResult<()> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        item::Entity::update_many()
            .col_expr(
                item::Column::Version,
                Expr::col(item::Column::Version).into(),
            )
            .filter(item::Column::Id.eq(id))
            .filter(item::Column::AccountId.eq(account_id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// `BUNDLE_NESTED` when a component is a bundle, or when the bundle is a component of another
/// bundle. Read after [`lock`].
async fn check_not_nested<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    bundle_id: Option<i64>,
    found: &[(i64, i64)],
) -> AppResult<()> {
    let bundles: HashSet<i64> = item::Entity::find()
        .filter(item::Column::AccountId.eq(account_id))
        .filter(item::Column::Id.is_in(found.iter().map(|(id, _)| *id)))
        .filter(item::Column::Bundle.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect();
    let mut errors: Vec<UserError> = found
        .iter()
        .enumerate()
        .filter(|(_, (id, _))| bundles.contains(id))
        .map(|(i, _)| {
            UserError::new(
                &format!("components.{i}.sku"),
                Code::BundleNested,
                "This product is a bundle; bundles do not nest. Add its components instead.",
            )
        })
        .collect();
    if let Some(id) = bundle_id {
        let inside = component::Entity::find()
            .filter(component::Column::AccountId.eq(account_id))
            .filter(component::Column::ComponentItemId.eq(id))
            .one(db)
            .await?;
        if inside.is_some() {
            errors.push(UserError::new(
                "sku",
                Code::BundleNested,
                "This product is a component of another bundle; bundles do not nest.",
            ));
        }
    }
    ensure_valid(errors)
}

async fn write_components<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    bundle_id: i64,
    found: &[(i64, i64)],
) -> AppResult<()> {
    let now = Utc::now();
    component::Entity::insert_many(found.iter().map(|(id, units)| component::ActiveModel {
        account_id: Set(account_id),
        bundle_item_id: Set(bundle_id),
        component_item_id: Set(*id),
        quantity: Set(*units),
        created_at: Set(now),
        ..Default::default()
    }))
    .exec_without_returning(db)
    .await?;
    // The bundle's figure changed: its listings hear of it.
    super::push::enqueue_items(db, account_id, &[bundle_id]).await?;
    Ok(())
}

/// The components of these bundles (of the account), each with its product, in the order they
/// were given.
pub async fn components<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    bundle_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<Component>>> {
    let mut out: HashMap<i64, Vec<Component>> = HashMap::new();
    if bundle_ids.is_empty() {
        return Ok(out);
    }
    let rows = component::Entity::find()
        .filter(component::Column::AccountId.eq(account_id))
        .filter(component::Column::BundleItemId.is_in(bundle_ids.iter().copied()))
        .order_by_asc(component::Column::Id)
        .all(db)
        .await?;
    let items: HashMap<i64, item::Model> = item::Entity::find()
        .filter(item::Column::Id.is_in(rows.iter().map(|r| r.component_item_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    for r in rows {
        if let Some(item) = items.get(&r.component_item_id) {
            out.entry(r.bundle_item_id).or_default().push(Component {
                item: item.clone(),
                quantity: r.quantity,
            });
        }
    }
    Ok(out)
}

/// A bundle's figure from its components.
pub fn figure(components: &[Component]) -> i64 {
    bundle_figure(components.iter().map(|c| (c.item.quantity, c.quantity)))
}

/// The figure of each of `items` (id → figure): its stock, or for a bundle the figure its
/// components make now. One query for the bundles' components, none without bundles.
pub async fn figures<'a, C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    items: impl IntoIterator<Item = &'a item::Model>,
) -> AppResult<HashMap<i64, i64>> {
    let mut out = HashMap::new();
    let mut bundles = Vec::new();
    for i in items {
        if i.bundle {
            bundles.push(i.id);
        } else {
            out.insert(i.id, i.quantity);
        }
    }
    let parts = components(db, account_id, &bundles).await?;
    for id in bundles {
        out.insert(id, parts.get(&id).map_or(0, |c| figure(c)));
    }
    Ok(out)
}
