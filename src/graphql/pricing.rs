//! `updatePrice`: a listing's price and sale price, pushed to its store at once.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use rust_decimal::Decimal;

use super::audit;
use super::catalog::Listing;
use super::context::{acting, state};
use super::ids;
use super::text;
use crate::domain::{AuditAction, Permission};
use crate::error::{into_payload, UserError};
use crate::services::pricing::{self, PriceChange};

/// A new price for one listing (one product or variant on one store).
#[derive(InputObject)]
pub struct UpdatePriceInput {
    /// Global id of the listing.
    pub listing_id: ID,
    /// The price, more than zero, with no more decimals than the store's currency.
    pub price: Decimal,
    /// The sale price (more than zero, at most the price); `null` removes it; leave it out to
    /// keep the current one.
    #[graphql(default)]
    pub sale_price: MaybeUndefined<Decimal>,
}

/// The outcome of `updatePrice`.
#[derive(SimpleObject)]
pub struct UpdatePricePayload {
    /// The listing with its new price; `pricePushState` tells whether the store has it
    /// (`PUSHED`), is still to get it (`PENDING`, retried with backoff after a failure), or
    /// refused it (`FAILED` with `pricePushError`).
    pub listing: Option<Listing>,
    /// Why nothing was changed.
    pub user_errors: Vec<UserError>,
}

/// Price mutations.
#[derive(Default)]
pub struct PricingMutation;

#[Object]
impl PricingMutation {
    /// Sets a listing's price (and sale price), saves it here and pushes it to the product or
    /// variant on its store before answering. `NOT_FOUND`, `PRICE_NOT_POSITIVE`,
    /// `TOO_MANY_DECIMALS`, `SALE_PRICE_ABOVE_PRICE`, `LISTING_MISSING` (deleted on the store),
    /// `INTEGRATION_DISCONNECTED`: nothing changes. A store that fails or refuses the push
    /// leaves the new price here with the push state on the listing (retried unless refused).
    async fn update_price(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The listing and its new price.")] input: UpdatePriceInput,
    ) -> async_graphql::Result<UpdatePricePayload> {
        let (p, allowed) = acting(ctx, Permission::ChangePrices)?;
        let checked = allowed.and(text::plain(&input));
        let change = PriceChange {
            listing_id: ids::decode("Listing", &input.listing_id),
            price: input.price,
            sale_price: match input.sale_price {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(v) => Some(Some(v)),
            },
        };
        let (listing, user_errors) = into_payload(
            text::then(checked, pricing::update_price(state(ctx)?, &p, change)).await,
        )?;
        if let Some(l) = &listing {
            let summary = format!(
                "{}: price {}, sale price {}",
                l.sku.as_deref().unwrap_or("(no SKU)"),
                l.price,
                l.sale_price
                    .as_ref()
                    .map_or_else(|| "none".to_string(), ToString::to_string)
            );
            let target = ids::encode("Listing", l.id).0;
            audit::record(ctx, &p, AuditAction::UpdatePrice, Some(target), summary).await;
        }
        Ok(UpdatePricePayload {
            listing: listing.map(Listing),
            user_errors,
        })
    }
}
