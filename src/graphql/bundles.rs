//! Bundle mutations (`createBundle`, `updateBundleComponents`, `deleteBundle`) and a listing's
//! own stock buffer (`setListingStockBuffer`).

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};

use super::audit;
use super::catalog::{Listing, Product};
use super::context::{acting, state};
use super::ids;
use super::integrations::StockBufferInput;
use super::stock::product_key;
use super::text;
use crate::domain::{AuditAction, Permission};
use crate::entities::inventory_item;
use crate::error::{into_payload, AppResult, UserError};
use crate::services::bundles::{self, ComponentInput, NewBundle};
use crate::services::inventory;

/// One component of a bundle to save.
#[derive(InputObject)]
pub struct BundleComponentInput {
    /// SKU of the component (an existing product that is not a bundle).
    pub sku: String,
    /// Units of it in one bundle (1 to 1,000,000).
    pub quantity: i64,
}

/// Creates a bundle.
#[derive(InputObject)]
pub struct CreateBundleInput {
    /// The bundle's SKU: the SKU the stores list it under. When a product with this SKU
    /// exists (imported from a store), that product becomes the bundle.
    pub sku: String,
    /// Its name (required for a new SKU; renames an existing product when given).
    pub name: Option<String>,
    /// What one bundle is made of: 1 to 50 components, each SKU once.
    pub components: Vec<BundleComponentInput>,
}

/// Replaces a bundle's components.
#[derive(InputObject)]
pub struct UpdateBundleComponentsInput {
    /// Global id of the bundle; give this or `sku`, not both.
    pub product_id: Option<ID>,
    /// SKU of the bundle; give this or `productId`, not both.
    pub sku: Option<String>,
    /// The new components: 1 to 50, each SKU once.
    pub components: Vec<BundleComponentInput>,
}

/// Ends a bundle.
#[derive(InputObject)]
pub struct DeleteBundleInput {
    /// Global id of the bundle; give this or `sku`, not both.
    pub product_id: Option<ID>,
    /// SKU of the bundle; give this or `productId`, not both.
    pub sku: Option<String>,
}

/// The outcome of a bundle mutation.
#[derive(SimpleObject)]
pub struct BundlePayload {
    /// The product as it stands now (for `deleteBundle`, a plain product again).
    pub product: Option<Product>,
    /// Why nothing was changed.
    pub user_errors: Vec<UserError>,
}

/// Sets or clears one listing's own stock buffer.
#[derive(InputObject)]
pub struct SetListingStockBufferInput {
    /// Global id of the listing.
    pub listing_id: ID,
    /// Stock to keep back from this listing, overriding its store's buffer (`UNITS` 0 keeps
    /// nothing back even when the store has a buffer); null: the store's buffer applies.
    pub stock_buffer: Option<StockBufferInput>,
}

/// The outcome of `setListingStockBuffer`.
#[derive(SimpleObject)]
pub struct SetListingStockBufferPayload {
    /// The listing with its buffer and offered figure as they stand now.
    pub listing: Option<Listing>,
    /// Why nothing was changed.
    pub user_errors: Vec<UserError>,
}

fn components(input: Vec<BundleComponentInput>) -> Vec<ComponentInput> {
    input
        .into_iter()
        .map(|c| ComponentInput {
            sku: c.sku,
            quantity: c.quantity,
        })
        .collect()
}

/// Answers a bundle mutation, recording it in the audit trail when it changed something.
async fn answer(
    ctx: &Context<'_>,
    p: &crate::services::Principal,
    action: AuditAction,
    result: AppResult<inventory_item::Model>,
) -> async_graphql::Result<BundlePayload> {
    let (item, user_errors) = into_payload(result)?;
    if let Some(item) = &item {
        let target = ids::encode("Product", item.id).0;
        let sku = item.sku.as_deref().unwrap_or("(no SKU)");
        audit::record(ctx, p, action, Some(target), sku).await;
    }
    Ok(BundlePayload {
        product: item.map(Product),
        user_errors,
    })
}

/// Bundle and buffer mutations.
#[derive(Default)]
pub struct BundleMutation;

#[Object]
impl BundleMutation {
    /// Creates a bundle (kit): a product whose stock is how many whole bundles its components
    /// make, pushed to every store listing its SKU; an order for it takes stock from each
    /// component. Bundles do not nest. `REQUIRED`/`TOO_LONG` (sku, name), `NOT_FOUND`,
    /// `DUPLICATE_SKU`, `INVALID_QUANTITY`, `INVALID` (more than 50 components),
    /// `BUNDLE_CONTAINS_ITSELF`, `BUNDLE_NESTED`, `CONFLICT` (already a bundle). Needs the
    /// permission to set stock figures.
    async fn create_bundle(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bundle and its components.")] input: CreateBundleInput,
    ) -> async_graphql::Result<BundlePayload> {
        let (p, allowed) = acting(ctx, Permission::SetStock)?;
        let checked = allowed.and(text::plain(&input));
        let bundle = NewBundle {
            sku: input.sku,
            name: input.name,
            components: components(input.components),
        };
        let result = text::then(checked, bundles::create(state(ctx)?, &p, bundle)).await;
        answer(ctx, &p, AuditAction::CreateBundle, result).await
    }

    /// Replaces a bundle's components (same rules as `createBundle`); its stores get the new
    /// figure. `NOT_A_BUNDLE` for a product that is not one.
    async fn update_bundle_components(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bundle and its new components.")] input: UpdateBundleComponentsInput,
    ) -> async_graphql::Result<BundlePayload> {
        let (p, allowed) = acting(ctx, Permission::SetStock)?;
        let checked = allowed.and(text::plain(&input));
        let key = product_key(input.product_id, input.sku);
        let parts = components(input.components);
        let result = text::then(
            checked,
            bundles::update_components(state(ctx)?, &p, key, parts),
        )
        .await;
        answer(ctx, &p, AuditAction::UpdateBundleComponents, result).await
    }

    /// Ends a bundle: it becomes a plain product with stock 0 (pushed as 0, so its stores stop
    /// selling what cannot be made); its ledger stays. `NOT_A_BUNDLE`, `NOT_FOUND`,
    /// `AMBIGUOUS_PRODUCT`.
    async fn delete_bundle(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The bundle.")] input: DeleteBundleInput,
    ) -> async_graphql::Result<BundlePayload> {
        let (p, allowed) = acting(ctx, Permission::SetStock)?;
        let checked = allowed.and(text::plain(&input));
        let key = product_key(input.product_id, input.sku);
        let result = text::then(checked, bundles::delete(state(ctx)?, &p, key)).await;
        answer(ctx, &p, AuditAction::DeleteBundle, result).await
    }

    /// Sets (or clears, with null) one listing's own stock buffer, overriding its store's:
    /// the listing is then offered the product's figure less this buffer, and pushed it.
    /// `NOT_FOUND`, `INVALID` (units 0 to 1,000,000,000, percent 0 to 100). Needs the
    /// permission to manage stores.
    async fn set_listing_stock_buffer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The listing and its buffer.")] input: SetListingStockBufferInput,
    ) -> async_graphql::Result<SetListingStockBufferPayload> {
        let (p, allowed) = acting(ctx, Permission::ManageStores)?;
        let checked = allowed.and(text::plain(&input));
        let id = ids::decode("Listing", &input.listing_id);
        let buffer = input.stock_buffer.map(Into::into);
        let result = text::then(
            checked,
            inventory::set_listing_stock_buffer(state(ctx)?, &p, id, buffer),
        )
        .await;
        let (listing, user_errors) = into_payload(result)?;
        if let Some(l) = &listing {
            let target = ids::encode("Listing", l.id).0;
            let what = match buffer {
                Some(b) => format!("{} {}", b.mode.as_str(), b.value),
                None => "cleared".to_string(),
            };
            audit::record(
                ctx,
                &p,
                AuditAction::SetListingStockBuffer,
                Some(target),
                &what,
            )
            .await;
        }
        Ok(SetListingStockBufferPayload {
            listing: listing.map(Listing),
            user_errors,
        })
    }
}
