//! Product mutations: `setStock` and `adjustStock` (every change a ledger movement, pushed to
//! the stores), `deleteProduct` (here only) and `setLowStockThreshold`.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};

use super::audit;
use super::catalog::{Product, StockMovement};
use super::context::{acting, state};
use super::ids;
use super::text;
use crate::domain::{AuditAction, Permission};
use crate::error::{into_payload, AppResult, UserError};
use crate::services::inventory::{self, Change, ProductKey, StockChange};

/// What `setStock` and `adjustStock` share: the product, the reason, and the guards.
#[derive(InputObject)]
pub struct StockChangeFields {
    /// Global id of the product; give this or `sku`, not both.
    pub product_id: Option<ID>,
    /// SKU of the product; give this or `productId`, not both.
    pub sku: Option<String>,
    /// Why it changes (1–200 characters); kept on the stock movement as its note.
    pub reason: String,
    /// Up to 200 characters, unique per change within the account: a retry with the same key
    /// and the same input applies once and returns the first result; the same key with
    /// another input is refused (`IDEMPOTENCY_KEY_REUSED`).
    pub idempotency_key: Option<String>,
    /// The figure the caller last read: when the stock is no longer this, nothing changes and
    /// the answer is a `CONFLICT` naming the current figure.
    pub expected_quantity: Option<i64>,
    /// Accept a stock below zero (refused with `INSUFFICIENT_STOCK` otherwise).
    #[graphql(default = false)]
    pub allow_negative: bool,
}

/// Sets a product's stock to an absolute figure.
#[derive(InputObject)]
pub struct SetStockInput {
    /// The new stock figure.
    pub quantity: i64,
    #[graphql(flatten)]
    pub fields: StockChangeFields,
}

/// Adds to or takes from a product's stock.
#[derive(InputObject)]
pub struct AdjustStockInput {
    /// How much to add (positive) or take (negative); not 0.
    pub delta: i64,
    #[graphql(flatten)]
    pub fields: StockChangeFields,
}

/// The outcome of `setStock`.
#[derive(SimpleObject)]
pub struct SetStockPayload {
    /// The product with its stock as it stands now.
    pub product: Option<Product>,
    /// The ledger movement recording the change (for a retry, the first call's).
    pub movement: Option<StockMovement>,
    /// Why nothing was changed.
    pub user_errors: Vec<UserError>,
}

/// The outcome of `adjustStock`.
#[derive(SimpleObject)]
pub struct AdjustStockPayload {
    /// The product with its stock as it stands now.
    pub product: Option<Product>,
    /// The ledger movement recording the change (for a retry, the first call's).
    pub movement: Option<StockMovement>,
    /// Why nothing was changed.
    pub user_errors: Vec<UserError>,
}

/// Sets or clears a product's low-stock threshold.
#[derive(InputObject)]
pub struct SetLowStockThresholdInput {
    /// Global id of the product; give this or `sku`, not both.
    pub product_id: Option<ID>,
    /// SKU of the product; give this or `productId`, not both.
    pub sku: Option<String>,
    /// At or below this stock the product is low (0 to 1,000,000,000); null clears it.
    pub threshold: Option<i64>,
}

/// The outcome of `setLowStockThreshold`.
#[derive(SimpleObject)]
pub struct SetLowStockThresholdPayload {
    /// The product with its threshold and `lowStockSince` as they stand now.
    pub product: Option<Product>,
    /// Why nothing was changed.
    pub user_errors: Vec<UserError>,
}

/// Sets or clears where a product lies in the warehouse.
#[derive(InputObject)]
pub struct SetBinLocationInput {
    /// Global id of the product; give this or `sku`, not both.
    pub product_id: Option<ID>,
    /// SKU of the product; give this or `productId`, not both.
    pub sku: Option<String>,
    /// Free text such as `A-03-2` (at most 50 characters); null clears it.
    pub bin_location: Option<String>,
}

/// The outcome of `setBinLocation`.
#[derive(SimpleObject)]
pub struct SetBinLocationPayload {
    /// The product with its bin location as it stands now.
    pub product: Option<Product>,
    /// Why nothing was changed.
    pub user_errors: Vec<UserError>,
}

/// Deletes a product here.
#[derive(InputObject)]
pub struct DeleteProductInput {
    /// Global id of the product; give this or `sku`, not both.
    pub product_id: Option<ID>,
    /// SKU of the product; give this or `productId`, not both.
    pub sku: Option<String>,
}

/// The outcome of `deleteProduct`.
#[derive(SimpleObject)]
pub struct DeleteProductPayload {
    /// Global id of the product deleted.
    pub deleted_product_id: Option<ID>,
    /// Why nothing was deleted.
    pub user_errors: Vec<UserError>,
}

/// The product a mutation names: its global id or its SKU.
pub(super) fn product_key(product_id: Option<ID>, sku: Option<String>) -> ProductKey {
    ProductKey {
        id: product_id.map(|gid| ids::decode("Product", &gid).unwrap_or(0)),
        sku,
    }
}

/// Runs one stock change for the caller when the text checks of its input passed: the product
/// and its movement, or the user errors.
async fn change_stock(
    ctx: &Context<'_>,
    checked: AppResult<()>,
    fields: StockChangeFields,
    change: Change,
) -> async_graphql::Result<(Option<Product>, Option<StockMovement>, Vec<UserError>)> {
    let needed = match change {
        Change::Set(_) => Permission::SetStock,
        Change::Adjust(_) => Permission::AdjustStock,
    };
    let (p, allowed) = acting(ctx, needed)?;
    let checked = allowed.and(checked);
    let change = StockChange {
        product: product_key(fields.product_id, fields.sku),
        change,
        reason: fields.reason,
        idempotency_key: fields.idempotency_key,
        expected_quantity: fields.expected_quantity,
        allow_negative: fields.allow_negative,
    };
    let (outcome, user_errors) =
        into_payload(text::then(checked, inventory::change_stock(state(ctx)?, &p, change)).await)?;
    if let Some(o) = &outcome {
        let m = &o.movement;
        let action = match needed {
            Permission::SetStock => AuditAction::SetStock,
            _ => AuditAction::AdjustStock,
        };
        let summary = format!(
            "{}: {} → {} ({})",
            o.item.sku.as_deref().unwrap_or("(no SKU)"),
            m.quantity_after - m.delta,
            m.quantity_after,
            m.note.as_deref().unwrap_or_default()
        );
        let target = ids::encode("Product", o.item.id).0;
        audit::record(ctx, &p, action, Some(target), summary).await;
    }
    Ok(match outcome {
        Some(o) => (
            Some(Product(o.item)),
            Some(StockMovement(o.movement)),
            user_errors,
        ),
        None => (None, None, user_errors),
    })
}

/// Product mutations.
#[derive(Default)]
pub struct StockMutation;

#[Object]
impl StockMutation {
    /// Sets a product's stock (by id or SKU) to a figure, recorded as a `MANUAL_SET` movement
    /// by the caller and pushed to every store with inventory management on. Nothing changes
    /// on `AMBIGUOUS_PRODUCT`, `NOT_FOUND`, `REQUIRED`/`TOO_LONG` (reason), `CONFLICT`
    /// (`expectedQuantity`), `INSUFFICIENT_STOCK` (below zero without `allowNegative`) or
    /// `IDEMPOTENCY_KEY_REUSED`.
    async fn set_stock(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product and its new figure.")] input: SetStockInput,
    ) -> async_graphql::Result<SetStockPayload> {
        let change = Change::Set(input.quantity);
        let checked = text::plain(&input);
        let (product, movement, user_errors) =
            change_stock(ctx, checked, input.fields, change).await?;
        Ok(SetStockPayload {
            product,
            movement,
            user_errors,
        })
    }

    /// Adds to or takes from a product's stock (by id or SKU), recorded as a `MANUAL_ADJUST`
    /// movement by the caller and pushed to every store with inventory management on. Nothing
    /// changes on `AMBIGUOUS_PRODUCT`, `NOT_FOUND`, `INVALID` (a delta of 0),
    /// `REQUIRED`/`TOO_LONG` (reason), `CONFLICT` (`expectedQuantity`), `INSUFFICIENT_STOCK`
    /// (below zero without `allowNegative`) or `IDEMPOTENCY_KEY_REUSED`.
    async fn adjust_stock(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product and the change.")] input: AdjustStockInput,
    ) -> async_graphql::Result<AdjustStockPayload> {
        let change = Change::Adjust(input.delta);
        let checked = text::plain(&input);
        let (product, movement, user_errors) =
            change_stock(ctx, checked, input.fields, change).await?;
        Ok(AdjustStockPayload {
            product,
            movement,
            user_errors,
        })
    }

    /// Sets a product's low-stock threshold (by id or SKU), or clears it with null: at or
    /// below it the product is low on stock (`products(filter: { lowStock: true })`), and
    /// `lowStockSince` says since when. Needs the permission to set stock figures.
    /// `AMBIGUOUS_PRODUCT`, `NOT_FOUND`, `INVALID` (a threshold below 0 or too large),
    /// `BUNDLE_STOCK_IS_COMPUTED` (a bundle: set its components' thresholds).
    async fn set_low_stock_threshold(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product and its threshold.")] input: SetLowStockThresholdInput,
    ) -> async_graphql::Result<SetLowStockThresholdPayload> {
        let (p, allowed) = acting(ctx, Permission::SetStock)?;
        let checked = allowed.and(text::plain(&input));
        let key = product_key(input.product_id, input.sku);
        let threshold = input.threshold;
        let (item, user_errors) = into_payload(
            text::then(
                checked,
                inventory::set_low_stock_threshold(state(ctx)?, &p, key, threshold),
            )
            .await,
        )?;
        if let Some(item) = &item {
            let target = ids::encode("Product", item.id).0;
            let what = match threshold {
                Some(t) => format!("threshold {t}"),
                None => "threshold cleared".to_string(),
            };
            audit::record(
                ctx,
                &p,
                AuditAction::SetLowStockThreshold,
                Some(target),
                &what,
            )
            .await;
        }
        Ok(SetLowStockThresholdPayload {
            product: item.map(Product),
            user_errors,
        })
    }

    /// Sets (or clears, with null) where a product lies in the warehouse: pick lists walk
    /// the bins in order. Staff may set it. `AMBIGUOUS_PRODUCT`, `NOT_FOUND`, `INVALID`
    /// (blank), `TOO_LONG` (over 50 characters).
    async fn set_bin_location(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product and its bin.")] input: SetBinLocationInput,
    ) -> async_graphql::Result<SetBinLocationPayload> {
        let (p, allowed) = acting(ctx, Permission::AdjustStock)?;
        let checked = allowed.and(text::plain(&input));
        let key = product_key(input.product_id, input.sku);
        let bin = input.bin_location;
        let what = bin.clone().unwrap_or_else(|| "cleared".to_string());
        let (item, user_errors) = into_payload(
            text::then(
                checked,
                inventory::set_bin_location(state(ctx)?, &p, key, bin),
            )
            .await,
        )?;
        if let Some(item) = &item {
            let target = ids::encode("Product", item.id).0;
            audit::record(ctx, &p, AuditAction::SetBinLocation, Some(target), what).await;
        }
        Ok(SetBinLocationPayload {
            product: item.map(Product),
            user_errors,
        })
    }

    /// Deletes a product (by id or SKU) here only: the stores keep it, and the next product
    /// import brings it back, with its stock and ledger, if a store still has it.
    /// `AMBIGUOUS_PRODUCT`, `NOT_FOUND` (also for a product already deleted), or
    /// `PRODUCT_IN_BUNDLES` for a component of a bundle (the message names the bundles).
    async fn delete_product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product.")] input: DeleteProductInput,
    ) -> async_graphql::Result<DeleteProductPayload> {
        let (p, allowed) = acting(ctx, Permission::DeleteProducts)?;
        let checked = allowed.and(text::plain(&input));
        let key = product_key(input.product_id, input.sku);
        let (id, user_errors) = into_payload(
            text::then(checked, inventory::delete_product(state(ctx)?, &p, key)).await,
        )?;
        if let Some(id) = id {
            let target = ids::encode("Product", id).0;
            audit::record(ctx, &p, AuditAction::DeleteProduct, Some(target), "deleted").await;
        }
        Ok(DeleteProductPayload {
            deleted_product_id: id.map(|id| ids::encode("Product", id)),
            user_errors,
        })
    }
}
