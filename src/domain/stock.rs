//! Stock: why a figure changed, how a listing tracks it, what the outbox pushes, and the
//! buffer that keeps part of the stock back from a store.

use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

domain_enum! {
    /// Why a stock figure changed.
    pub enum StockReason {
        /// The starting figure, taken from the channel when the item was first imported.
        InitialImport = "INITIAL_IMPORT",
        /// The channel's figure, imported for a store without inventory management.
        ChannelImport = "CHANNEL_IMPORT",
        /// An order took its quantities.
        OrderPlaced = "ORDER_PLACED",
        /// A canceled or refunded order gave its quantities back.
        OrderRestocked = "ORDER_RESTOCKED",
        /// Set to an absolute figure by a user.
        ManualSet = "MANUAL_SET",
        /// Adjusted by a delta by a user.
        ManualAdjust = "MANUAL_ADJUST",
        /// An order canceled here gave its (unshipped) quantities back.
        OrderCanceled = "ORDER_CANCELED",
        /// A store showed another figure than the one pushed to it (edited on the channel). The
        /// figure here does not change (delta 0); the store is overwritten by the next push.
        ChannelDrift = "CHANNEL_DRIFT",
        /// A product became a bundle: the figure it held is set aside (to 0), as a bundle's
        /// figure is computed from its components from now on.
        BundleCreated = "BUNDLE_CREATED",
        /// Set to an absolute figure by a stock count file (`importStockCounts`, mode SET).
        CountSet = "COUNT_SET",
        /// Adjusted by a stock count file (`importStockCounts`, mode ADJUST).
        CountAdjust = "COUNT_ADJUST",
    }
}

domain_enum! {
    /// How a stock buffer holds stock back from a store.
    pub enum StockBufferMode {
        /// This many units are kept back: the store is offered the stock minus `value`.
        Units = "UNITS",
        /// This percentage is kept back: the store is offered `100 - value` percent of the
        /// stock, rounded down.
        Percent = "PERCENT",
    }
}

domain_enum! {
    /// How a stock count file's quantities apply.
    pub enum StockCountMode {
        /// Each quantity is the product's new figure (a count of the shelf).
        Set = "SET",
        /// Each quantity is added to the product's figure (negative takes away).
        Adjust = "ADJUST",
    }
}

domain_enum! {
    /// The outcome of one row of a stock count file.
    pub enum StockCountRowStatus {
        /// Valid: applied (or, in a dry run, would be).
        Ok = "OK",
        /// No product of the account has this SKU.
        UnknownSku = "UNKNOWN_SKU",
        /// The SKU is a bundle's: its stock is computed from its components.
        BundleStockIsComputed = "BUNDLE_STOCK_IS_COMPUTED",
        /// The quantity is not a whole number in range, or would take the stock below zero.
        InvalidQuantity = "INVALID_QUANTITY",
        /// The SKU appears on more than one row; none of its rows is applied.
        DuplicateSku = "DUPLICATE_SKU",
    }
}

/// The largest `UNITS` buffer accepted.
pub const MAX_BUFFER_UNITS: i64 = 1_000_000_000;

/// Stock kept back from a store (stored as JSON on an integration, or on a listing to override
/// its store's buffer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct StockBuffer {
    pub mode: StockBufferMode,
    pub value: i64,
}

impl StockBuffer {
    /// Why `value` does not fit `mode`, if it does not: units are 0 to 1,000,000,000, a
    /// percentage 0 to 100.
    pub fn problem(&self) -> Option<String> {
        match self.mode {
            StockBufferMode::Units if !(0..=MAX_BUFFER_UNITS).contains(&self.value) => {
                Some(format!("A buffer in units is 0 to {MAX_BUFFER_UNITS}."))
            }
            StockBufferMode::Percent if !(0..=100).contains(&self.value) => {
                Some("A buffer in percent is 0 to 100.".to_string())
            }
            _ => None,
        }
    }
}

/// The figure a store is offered for `stock` under `buffer`: never below zero (a store cannot
/// hold a negative level); without a buffer the stock itself.
pub fn offered(stock: i64, buffer: Option<StockBuffer>) -> i64 {
    let stock = stock.max(0);
    match buffer {
        None => stock,
        Some(StockBuffer {
            mode: StockBufferMode::Units,
            value,
        }) => stock.saturating_sub(value.max(0)).max(0),
        Some(StockBuffer {
            mode: StockBufferMode::Percent,
            value,
        }) => {
            let kept = 100 - value.clamp(0, 100);
            // i128: stock up to i64::MAX times 100 does not overflow.
            ((stock as i128 * kept as i128) / 100) as i64
        }
    }
}

/// A bundle's figure from its components' `(stock, quantity per bundle)`: how many whole
/// bundles the components make, never below zero; 0 without components.
pub fn bundle_figure(components: impl IntoIterator<Item = (i64, i64)>) -> i64 {
    components
        .into_iter()
        .map(|(stock, per)| if per > 0 { stock.max(0) / per } else { 0 })
        .min()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer(mode: StockBufferMode, value: i64) -> Option<StockBuffer> {
        Some(StockBuffer { mode, value })
    }

    #[test]
    fn a_buffer_keeps_units_or_a_percentage_back_and_never_offers_below_zero() {
        assert_eq!(offered(10, None), 10);
        assert_eq!(offered(-3, None), 0);
        assert_eq!(offered(10, buffer(StockBufferMode::Percent, 20)), 8);
        assert_eq!(offered(9, buffer(StockBufferMode::Percent, 20)), 7);
        assert_eq!(offered(10, buffer(StockBufferMode::Percent, 100)), 0);
        assert_eq!(offered(10, buffer(StockBufferMode::Percent, 0)), 10);
        assert_eq!(offered(10, buffer(StockBufferMode::Units, 3)), 7);
        assert_eq!(offered(2, buffer(StockBufferMode::Units, 3)), 0);
        assert_eq!(offered(-5, buffer(StockBufferMode::Units, 3)), 0);
    }

    #[test]
    fn a_bundle_is_as_many_as_its_scarcest_component_makes() {
        assert_eq!(bundle_figure([(10, 2), (3, 1)]), 3);
        assert_eq!(bundle_figure([(6, 2), (1, 1)]), 1);
        assert_eq!(bundle_figure([(11, 2), (-4, 1)]), 0);
        assert_eq!(bundle_figure([]), 0);
    }
}

domain_enum! {
    /// How a listing's stock is tracked on its channel.
    pub enum StockTracking {
        /// The channel does not track stock for it (pushes cannot reach it).
        None = "NONE",
        /// Tracked on the product (pushed by product id).
        Product = "PRODUCT",
        /// Tracked per variant (pushed by variant id).
        Variant = "VARIANT",
    }
}

domain_enum! {
    /// What a queued push sends to a store.
    pub enum PushKind {
        /// The item's stock figure, as an absolute level.
        Stock = "STOCK",
        /// The listing's price and sale price.
        Price = "PRICE",
    }
}

domain_enum! {
    /// Where a listing's last price change stands with its store.
    pub enum PricePushState {
        /// The price was imported from the store and never changed here.
        None = "NONE",
        /// Changed here; waiting for (another) attempt to reach the store.
        Pending = "PENDING",
        /// The store holds the price set here.
        Pushed = "PUSHED",
        /// The last attempt failed (see the error); it is retried with backoff unless the store
        /// refused the price.
        Failed = "FAILED",
    }
}
