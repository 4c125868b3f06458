//! Changes people make to products: `setStock` and `adjustStock` (through the ledger in
//! `services::ledger`, with an idempotency key and a compare-and-set figure), and
//! `deleteProduct` (here only; the next product import brings it back), and
//! `setLowStockThreshold`.
//!
//! A stock change locks the item's row first (the write lock on SQLite), then checks the key,
//! the expected figure and the result against what it locked, so concurrent changes of one
//! item serialise and every check holds at commit.

use chrono::Utc;
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::events::Event;
use super::ledger::{self, Movement};
use super::Principal;
use crate::db::{self, ScopedFutureExt};
use crate::domain::{PushKind, StockBuffer, StockReason};
use crate::entities::{inventory_item as item, listing, stock_movement as movement};
use crate::error::{ensure_valid, AppError, AppResult, UserError, UserErrorCode as Code};
use crate::state::AppState;

/// The largest stock figure or delta accepted, either way (keeps sums far from overflow).
const MAX_STOCK: i64 = 1_000_000_000;
/// The longest reason and idempotency key accepted, in characters.
const MAX_REASON: usize = 200;
const MAX_KEY: usize = 200;

/// Which product a mutation is about: exactly one of its id and its SKU.
#[derive(Clone, Debug, Default)]
pub struct ProductKey {
    /// The row id of a `Product` global id (0 for an id that is not a product's).
    pub id: Option<i64>,
    pub sku: Option<String>,
}

/// The change asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Set the figure to this.
    Set(i64),
    /// Add this (non-zero) to the figure.
    Adjust(i64),
}

/// A `setStock` or `adjustStock` request.
#[derive(Clone, Debug)]
pub struct StockChange {
    pub product: ProductKey,
    pub change: Change,
    /// Why; stored as the movement's note.
    pub reason: String,
    /// Makes a retry apply once (scoped to the account).
    pub idempotency_key: Option<String>,
    /// Compare-and-set: the figure the caller believes is current.
    pub expected_quantity: Option<i64>,
    /// Accept a figure below zero.
    pub allow_negative: bool,
}

/// The product after the change and the movement that recorded it (the first call's
/// movement for a retry).
#[derive(Clone, Debug)]
pub struct StockChangeOutcome {
    pub item: item::Model,
    pub movement: movement::Model,
}

impl Change {
    /// The input field carrying the figure.
    fn field(self) -> &'static str {
        match self {
            Change::Set(_) => "quantity",
            Change::Adjust(_) => "delta",
        }
    }

    fn reason(self) -> StockReason {
        match self {
            Change::Set(_) => StockReason::ManualSet,
            Change::Adjust(_) => StockReason::ManualAdjust,
        }
    }
}

pub(super) fn key_errors(key: &ProductKey) -> Vec<UserError> {
    if key.id.is_some() == key.sku.is_some() {
        vec![UserError::new(
            "productId",
            Code::AmbiguousProduct,
            "Give either productId or sku (exactly one).",
        )]
    } else {
        Vec::new()
    }
}

/// `BUNDLE_STOCK_IS_COMPUTED` on `field`.
pub(crate) fn bundle_stock_is_computed(field: &str) -> UserError {
    UserError::new(
        field,
        Code::BundleStockIsComputed,
        "This product is a bundle: its stock is computed from its components. Change theirs instead.",
    )
}

fn not_found(key: &ProductKey) -> UserError {
    let field = if key.id.is_some() { "productId" } else { "sku" };
    UserError::new(field, Code::NotFound, "No such product in your account.")
}

/// `REQUIRED` or `TOO_LONG` for the reason of a stock change (kept as its movements' note).
pub(super) fn reason_errors(reason: &str) -> Vec<UserError> {
    let reason = reason.trim();
    if reason.is_empty() {
        vec![UserError::new(
            "reason",
            Code::Required,
            "Say why the stock changes (it is kept in the ledger).",
        )]
    } else if reason.chars().count() > MAX_REASON {
        vec![UserError::new(
            "reason",
            Code::TooLong,
            format!("The reason is at most {MAX_REASON} characters."),
        )]
    } else {
        Vec::new()
    }
}

fn validate(c: &StockChange) -> Vec<UserError> {
    let mut errors = key_errors(&c.product);
    errors.extend(reason_errors(&c.reason));
    if let Some(k) = &c.idempotency_key {
        if k.trim().is_empty() {
            errors.push(UserError::new(
                "idempotencyKey",
                Code::Invalid,
                "An idempotency key cannot be blank; leave it out instead.",
            ));
        } else if k.chars().count() > MAX_KEY {
            errors.push(UserError::new(
                "idempotencyKey",
                Code::TooLong,
                format!("An idempotency key is at most {MAX_KEY} characters."),
            ));
        }
    }
    let field = c.change.field();
    match c.change {
        Change::Adjust(0) => errors.push(UserError::new(
            field,
            Code::Invalid,
            "A delta of 0 changes nothing; give a positive or negative number.",
        )),
        Change::Set(n) | Change::Adjust(n) if !(-MAX_STOCK..=MAX_STOCK).contains(&n) => errors
            .push(UserError::new(
                field,
                Code::Invalid,
                format!("The {field} must be between -{MAX_STOCK} and {MAX_STOCK}."),
            )),
        _ => {}
    }
    errors
}

/// The id of the caller's product (not deleted) named by `key`.
pub(super) async fn resolve(state: &AppState, p: &Principal, key: &ProductKey) -> AppResult<i64> {
    let mut query = item::Entity::find()
        .select_only()
        .column(item::Column::Id)
        .filter(item::Column::AccountId.eq(p.account_id))
        .filter(item::Column::DeletedAt.is_null());
    query = match (key.id, &key.sku) {
        (Some(id), _) => query.filter(item::Column::Id.eq(id)),
        (None, Some(sku)) => query.filter(item::Column::Sku.eq(sku.trim())),
        (None, None) => return Err(not_found(key).into()),
    };
    query
        .into_tuple::<i64>()
        .one(&state.db)
        .await?
        .ok_or_else(|| not_found(key).into())
}

/// Sets or adjusts a product's stock for a user. All or nothing: the movement, the new
/// figure and the queued pushes commit together. A retry with the same idempotency key and
/// the same change returns the first call's movement; with another change,
/// `IDEMPOTENCY_KEY_REUSED`. Run again from the start if PostgreSQL aborts it as a deadlock.
pub async fn change_stock(
    state: &AppState,
    p: &Principal,
    c: StockChange,
) -> AppResult<StockChangeOutcome> {
    ensure_valid(validate(&c))?;
    let c = &c;
    let item_id = resolve(state, p, &c.product).await?;
    let key = c.idempotency_key.as_deref().map(|k| format!("user:{k}"));
    let applied = db::write(&state.db, |txn| {
        apply(txn, p, item_id, c, key.clone()).scope_boxed()
    })
    .await;
    match applied {
        Ok(Applied::Changed(outcome)) => {
            if outcome.movement.delta != 0 {
                state.pushes_queued();
            }
            state.events.publish([Event::StockChanged {
                account_id: p.account_id,
                item_id: outcome.item.id,
                movement_id: outcome.movement.id,
            }]);
            Ok(outcome)
        }
        Ok(Applied::Replayed(outcome)) => Ok(outcome),
        // Another request with this key committed first, for another product (a row lock of
        // one item does not cover it): judge this one against what it recorded.
        Err(e) if e.is_unique_violation() => replay(state, p, item_id, c, key).await,
        Err(e) => Err(e),
    }
}

enum Applied {
    Changed(StockChangeOutcome),
    Replayed(StockChangeOutcome),
}

async fn apply<C: ConnectionTrait>(
    db: &C,
    p: &Principal,
    item_id: i64,
    c: &StockChange,
    key: Option<String>,
) -> AppResult<Applied> {
    // Write first: the row lock (PostgreSQL) or the write lock (SQLite), held to commit.
    let locked = item::Entity::update_many()
        .col_expr(
            item::Column::Version,
            Expr::col(item::Column::Version).into(),
        )
        .filter(item::Column::Id.eq(item_id))
        .filter(item::Column::AccountId.eq(p.account_id))
        .filter(item::Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    if locked.rows_affected == 0 {
        return Err(not_found(&c.product).into());
    }
    if let Some(k) = &key {
        if let Some(first) = find_key(db, p.account_id, k).await? {
            let item = load_item(db, p.account_id, item_id).await?;
            return judge(first, item_id, c)
                .map(|movement| Applied::Replayed(StockChangeOutcome { item, movement }));
        }
    }
    let current = load_item(db, p.account_id, item_id).await?;
    if current.bundle {
        return Err(bundle_stock_is_computed(c.change.field()).into());
    }
    let current = current.quantity;
    if let Some(expected) = c.expected_quantity.filter(|e| *e != current) {
        return Err(UserError::new(
            "expectedQuantity",
            Code::Conflict,
            format!(
                "The stock is {current} now, not {expected}; read it again before changing it."
            ),
        )
        .into());
    }
    let after = match c.change {
        Change::Set(q) => Some(q),
        Change::Adjust(d) => current.checked_add(d),
    }
    .filter(|a| (-MAX_STOCK..=MAX_STOCK).contains(a))
    .ok_or_else(|| {
        UserError::new(
            c.change.field(),
            Code::Invalid,
            format!("The stock would leave the range -{MAX_STOCK} to {MAX_STOCK}."),
        )
    })?;
    if after < 0 && !c.allow_negative {
        return Err(UserError::new(
            c.change.field(),
            Code::InsufficientStock,
            format!("This would take the stock from {current} to {after}; pass allowNegative: true to allow a figure below zero."),
        )
        .into());
    }
    let m = Movement {
        account_id: p.account_id,
        item_id,
        reason: c.change.reason(),
        actor_user_id: p.user_id(),
        actor_api_key_id: p.api_key_id(),
        integration_id: None,
        order_id: None,
        idempotency_key: key,
        note: Some(c.reason.trim().to_string()),
        bundle_item_id: None,
    };
    // Locked above, the key checked above, `current` read after the lock.
    let movement = ledger::change_locked(db, m, current, after).await?;
    let item = load_item(db, p.account_id, item_id).await?;
    Ok(Applied::Changed(StockChangeOutcome { item, movement }))
}

/// The first call's outcome for a retry, outside any transaction (the first call committed).
async fn replay(
    state: &AppState,
    p: &Principal,
    item_id: i64,
    c: &StockChange,
    key: Option<String>,
) -> AppResult<StockChangeOutcome> {
    let key =
        key.ok_or_else(|| AppError::internal("a stock change without key met a key conflict"))?;
    let first = find_key(&state.db, p.account_id, &key)
        .await?
        .ok_or_else(|| {
            AppError::internal(format!(
                "idempotency key {key} conflicted but is not recorded"
            ))
        })?;
    let movement = judge(first, item_id, c)?;
    let item = load_item(&state.db, p.account_id, item_id).await?;
    Ok(StockChangeOutcome { item, movement })
}

/// The recorded movement when it is the change asked for again, else
/// `IDEMPOTENCY_KEY_REUSED`. The preconditions are checked against the figure the first call
/// saw: an `expectedQuantity` must be that figure, and a result below zero needs
/// `allowNegative` again.
fn judge(first: movement::Model, item_id: i64, c: &StockChange) -> AppResult<movement::Model> {
    let figure = match c.change {
        Change::Set(q) => first.quantity_after == q,
        Change::Adjust(d) => first.delta == d,
    };
    let before = first.quantity_after.saturating_sub(first.delta);
    let same = first.reason == c.change.reason()
        && first.inventory_item_id == item_id
        && figure
        && first.note.as_deref() == Some(c.reason.trim())
        && c.expected_quantity.is_none_or(|e| e == before)
        && (first.quantity_after >= 0 || c.allow_negative);
    if same {
        Ok(first)
    } else {
        Err(UserError::new(
            "idempotencyKey",
            Code::IdempotencyKeyReused,
            "This idempotency key was already used for a different change; use a new key.",
        )
        .into())
    }
}

async fn find_key<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    key: &str,
) -> AppResult<Option<movement::Model>> {
    Ok(movement::Entity::find()
        .filter(movement::Column::AccountId.eq(account_id))
        .filter(movement::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

pub(super) async fn load_item<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    item_id: i64,
) -> AppResult<item::Model> {
    item::Entity::find_by_id(item_id)
        .filter(item::Column::AccountId.eq(account_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal(format!("inventory item {item_id} vanished")))
}

/// Sets (or, with `None`, clears) a product's low-stock threshold: at or below it the product
/// is low on stock. `lowStockSince` follows at once: now when the stock is already at or below
/// the new threshold (kept when it was low already), cleared otherwise. Thresholds are 0 to
/// 1,000,000,000 (`INVALID`).
pub async fn set_low_stock_threshold(
    state: &AppState,
    p: &Principal,
    key: ProductKey,
    threshold: Option<i64>,
) -> AppResult<item::Model> {
    let mut errors = key_errors(&key);
    if threshold.is_some_and(|t| !(0..=MAX_STOCK).contains(&t)) {
        errors.push(UserError::new(
            "threshold",
            Code::Invalid,
            format!("A threshold is 0 to {MAX_STOCK}, or null to clear it."),
        ));
    }
    ensure_valid(errors)?;
    let id = resolve(state, p, &key).await?;
    if load_item(&state.db, p.account_id, id).await?.bundle {
        // Its components run low, not the bundle: their thresholds say when to reorder.
        return Err(bundle_stock_is_computed("threshold").into());
    }
    let now = Utc::now();
    let since = ledger::low_stock_since(
        Expr::col(item::Column::Quantity).into(),
        Expr::value(threshold),
    );
    update_live(
        state,
        p,
        &key,
        id,
        [
            (item::Column::LowStockThreshold, Expr::value(threshold)),
            (item::Column::LowStockSince, since),
            (item::Column::UpdatedAt, Expr::value(now)),
        ],
    )
    .await?;
    item::Entity::find_by_id(id)
        .filter(item::Column::AccountId.eq(p.account_id))
        .one(&state.db)
        .await?
        .ok_or_else(|| not_found(&key).into())
}

/// The longest bin location accepted, in characters.
const MAX_BIN: usize = 50;

/// Sets (or, with `None`, clears) where a product lies in the warehouse: free text such as
/// `A-03-2`, at most 50 characters (`TOO_LONG`); blank is `INVALID` (clear it with null).
pub async fn set_bin_location(
    state: &AppState,
    p: &Principal,
    key: ProductKey,
    bin: Option<String>,
) -> AppResult<item::Model> {
    let mut errors = key_errors(&key);
    let bin = bin.map(|b| b.trim().to_string());
    match &bin {
        Some(b) if b.is_empty() => errors.push(UserError::new(
            "binLocation",
            Code::Invalid,
            "A bin location cannot be blank; pass null to clear it.",
        )),
        Some(b) if b.chars().count() > MAX_BIN => errors.push(UserError::new(
            "binLocation",
            Code::TooLong,
            format!("A bin location is at most {MAX_BIN} characters."),
        )),
        _ => {}
    }
    ensure_valid(errors)?;
    let id = resolve(state, p, &key).await?;
    update_live(
        state,
        p,
        &key,
        id,
        [
            (item::Column::BinLocation, Expr::value(bin)),
            (item::Column::UpdatedAt, Expr::value(Utc::now())),
        ],
    )
    .await?;
    load_item(&state.db, p.account_id, id).await
}

/// Deletes a product here (never on a store); it disappears from `products` and `product`,
/// and the next product import brings it back, with its stock, if a store still has it.
/// A component of a bundle is refused (`PRODUCT_IN_BUNDLES`, naming the bundles): a bundle
/// cannot be made of a product that is gone. Returns its id.
pub async fn delete_product(state: &AppState, p: &Principal, key: ProductKey) -> AppResult<i64> {
    use crate::entities::bundle_component as component;
    ensure_valid(key_errors(&key))?;
    let id = resolve(state, p, &key).await?;
    let key = &key;
    db::write(&state.db, |txn| {
        async move {
            // The item's row first: a bundle taking it as a component locks it too.
            let now = Utc::now();
            let locked = item::Entity::update_many()
                .col_expr(item::Column::UpdatedAt, Expr::value(now))
                .filter(item::Column::Id.eq(id))
                .filter(item::Column::AccountId.eq(p.account_id))
                .filter(item::Column::DeletedAt.is_null())
                .exec(txn)
                .await?;
            if locked.rows_affected == 0 {
                return Err(not_found(key).into());
            }
            let holders: Vec<i64> = component::Entity::find()
                .select_only()
                .column(component::Column::BundleItemId)
                .filter(component::Column::AccountId.eq(p.account_id))
                .filter(component::Column::ComponentItemId.eq(id))
                .into_tuple()
                .all(txn)
                .await?;
            let bundles: Vec<String> = if holders.is_empty() {
                Vec::new()
            } else {
                item::Entity::find()
                    .filter(item::Column::AccountId.eq(p.account_id))
                    .filter(item::Column::Id.is_in(holders))
                    .filter(item::Column::DeletedAt.is_null())
                    .filter(item::Column::Bundle.eq(true))
                    .all(txn)
                    .await?
                    .into_iter()
                    .map(|b| b.sku.unwrap_or(b.name))
                    .collect()
            };
            if !bundles.is_empty() {
                let field = if key.id.is_some() { "productId" } else { "sku" };
                return Err(UserError::new(
                    field,
                    Code::ProductInBundles,
                    format!(
                        "The product is a component of {}: change their components or delete \
                         them first.",
                        bundles.join(", ")
                    ),
                )
                .into());
            }
            item::Entity::update_many()
                .col_expr(item::Column::DeletedAt, Expr::value(now))
                .filter(item::Column::Id.eq(id))
                .exec(txn)
                .await?;
            Ok(id)
        }
        .scope_boxed()
    })
    .await
}

/// Writes `columns` of the account's item `id` unless it is deleted (then `NOT_FOUND`).
async fn update_live<const N: usize>(
    state: &AppState,
    p: &Principal,
    key: &ProductKey,
    id: i64,
    columns: [(item::Column, SimpleExpr); N],
) -> AppResult<()> {
    let mut update = item::Entity::update_many();
    for (column, value) in columns {
        update = update.col_expr(column, value);
    }
    let updated = update
        .filter(item::Column::Id.eq(id))
        .filter(item::Column::AccountId.eq(p.account_id))
        .filter(item::Column::DeletedAt.is_null())
        .exec(&state.db)
        .await?;
    if updated.rows_affected == 0 {
        return Err(not_found(key).into());
    }
    Ok(())
}

/// Sets (or, with `None`, clears) one listing's own stock buffer and queues the listing's
/// push with the figure it is offered now, in one transaction. `NOT_FOUND` for a listing that
/// is not the caller's, `INVALID` for a value out of range.
pub async fn set_listing_stock_buffer(
    state: &AppState,
    p: &Principal,
    listing_id: Option<i64>,
    buffer: Option<StockBuffer>,
) -> AppResult<listing::Model> {
    if let Some(problem) = buffer.and_then(|b| b.problem()) {
        return Err(UserError::new("stockBuffer.value", Code::Invalid, problem).into());
    }
    let not_found = || {
        UserError::new(
            "listingId",
            Code::NotFound,
            "No such listing in your account.",
        )
    };
    let id = listing_id.ok_or_else(not_found)?;
    let saved = db::write(&state.db, |txn| {
        async move {
            let updated = listing::Entity::update_many()
                .col_expr(listing::Column::StockBuffer, Expr::value(buffer))
                .col_expr(listing::Column::UpdatedAt, Expr::value(Utc::now()))
                .filter(listing::Column::Id.eq(id))
                .filter(listing::Column::AccountId.eq(p.account_id))
                .exec(txn)
                .await?;
            if updated.rows_affected == 0 {
                return Err(not_found().into());
            }
            super::push::enqueue_listings(txn, p.account_id, PushKind::Stock, &[id]).await?;
            listing::Entity::find_by_id(id)
                .one(txn)
                .await?
                .ok_or_else(|| AppError::internal(format!("listing {id} vanished")))
        }
        .scope_boxed()
    })
    .await?;
    state.pushes_queued();
    Ok(saved)
}
