//! Order statuses, stock reasons, listing tracking modes and sync kinds.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// An order's status in orderdeck (the channel's own status id and name are kept too).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum OrderStatus {
    /// Placed but not paid yet.
    #[sea_orm(string_value = "UNPAID")]
    Unpaid,
    /// Paid (or otherwise ready) and waiting to ship.
    #[sea_orm(string_value = "NEW")]
    New,
    /// Some of its items shipped.
    #[sea_orm(string_value = "PARTIALLY_SHIPPED")]
    PartiallyShipped,
    /// Everything shipped.
    #[sea_orm(string_value = "SHIPPED")]
    Shipped,
    /// Canceled or declined.
    #[sea_orm(string_value = "CANCELED")]
    Canceled,
    /// Refunded in full.
    #[sea_orm(string_value = "REFUNDED")]
    Refunded,
}

impl OrderStatus {
    /// Maps a BigCommerce status id (product.md §5). `None` for 0 (Incomplete): not imported.
    /// Partially Refunded (14) follows the shipped quantities.
    pub fn from_bigcommerce(status_id: i64, items_total: i64, items_shipped: i64) -> Option<Self> {
        Some(match status_id {
            1 | 7 => OrderStatus::Unpaid,
            8 | 9 | 11 | 12 | 13 => OrderStatus::New,
            3 => OrderStatus::PartiallyShipped,
            2 | 10 => OrderStatus::Shipped,
            5 | 6 => OrderStatus::Canceled,
            4 => OrderStatus::Refunded,
            14 => {
                if items_shipped <= 0 {
                    OrderStatus::New
                } else if items_shipped < items_total {
                    OrderStatus::PartiallyShipped
                } else {
                    OrderStatus::Shipped
                }
            }
            _ => return None,
        })
    }

    /// Whether an order in this status holds stock (takes its quantities off stock).
    pub fn is_live(self) -> bool {
        matches!(
            self,
            OrderStatus::Unpaid
                | OrderStatus::New
                | OrderStatus::PartiallyShipped
                | OrderStatus::Shipped
        )
    }
}

/// Why a stock figure changed.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum StockReason {
    /// The starting figure, taken from the channel when the item was first imported.
    #[sea_orm(string_value = "INITIAL_IMPORT")]
    InitialImport,
    /// The channel's figure, imported for a store without inventory management.
    #[sea_orm(string_value = "CHANNEL_IMPORT")]
    ChannelImport,
    /// An order took its quantities.
    #[sea_orm(string_value = "ORDER_PLACED")]
    OrderPlaced,
    /// A canceled or refunded order gave its quantities back.
    #[sea_orm(string_value = "ORDER_RESTOCKED")]
    OrderRestocked,
    /// Set to an absolute figure by a user.
    #[sea_orm(string_value = "MANUAL_SET")]
    ManualSet,
    /// Adjusted by a delta by a user.
    #[sea_orm(string_value = "MANUAL_ADJUST")]
    ManualAdjust,
    /// An order canceled here gave its (unshipped) quantities back.
    #[sea_orm(string_value = "ORDER_CANCELED")]
    OrderCanceled,
    /// A store showed another figure than the one pushed to it (edited on the channel). The
    /// figure here does not change (delta 0); the store is overwritten by the next push.
    #[sea_orm(string_value = "CHANNEL_DRIFT")]
    ChannelDrift,
}

/// How a listing's stock is tracked on its channel.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum StockTracking {
    /// The channel does not track stock for it (pushes cannot reach it).
    #[sea_orm(string_value = "NONE")]
    None,
    /// Tracked on the product (pushed by product id).
    #[sea_orm(string_value = "PRODUCT")]
    Product,
    /// Tracked per variant (pushed by variant id).
    #[sea_orm(string_value = "VARIANT")]
    Variant,
}

/// What a sync job does.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum SyncKind {
    /// Import orders.
    #[sea_orm(string_value = "ORDERS")]
    Orders,
    /// Import products.
    #[sea_orm(string_value = "PRODUCTS")]
    Products,
}

/// How a sync run ended.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum SyncOutcome {
    /// Still running (or its process died; the lease tells).
    #[sea_orm(string_value = "RUNNING")]
    Running,
    /// Finished without error.
    #[sea_orm(string_value = "SUCCEEDED")]
    Succeeded,
    /// Stopped by an error (see `error`).
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

/// What started a sync run.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum SyncTrigger {
    /// The scheduler.
    #[sea_orm(string_value = "SCHEDULE")]
    Schedule,
    /// `syncNow`.
    #[sea_orm(string_value = "MANUAL")]
    Manual,
    /// A webhook delivery from the store: one order imported right away.
    #[sea_orm(string_value = "WEBHOOK")]
    Webhook,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bigcommerce_status_maps_as_the_product_map_says() {
        let map = |id| OrderStatus::from_bigcommerce(id, 4, 0);
        assert_eq!(map(0), None);
        for id in [1, 7] {
            assert_eq!(map(id), Some(OrderStatus::Unpaid));
        }
        for id in [8, 9, 11, 12, 13] {
            assert_eq!(map(id), Some(OrderStatus::New));
        }
        assert_eq!(map(3), Some(OrderStatus::PartiallyShipped));
        for id in [2, 10] {
            assert_eq!(map(id), Some(OrderStatus::Shipped));
        }
        for id in [5, 6] {
            assert_eq!(map(id), Some(OrderStatus::Canceled));
        }
        assert_eq!(map(4), Some(OrderStatus::Refunded));
        assert_eq!(
            OrderStatus::from_bigcommerce(14, 4, 0),
            Some(OrderStatus::New)
        );
        assert_eq!(
            OrderStatus::from_bigcommerce(14, 4, 2),
            Some(OrderStatus::PartiallyShipped)
        );
        assert_eq!(
            OrderStatus::from_bigcommerce(14, 4, 4),
            Some(OrderStatus::Shipped)
        );
    }
}

/// What a queued push sends to a store.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum PushKind {
    /// The item's stock figure, as an absolute level.
    #[sea_orm(string_value = "STOCK")]
    Stock,
    /// The listing's price and sale price.
    #[sea_orm(string_value = "PRICE")]
    Price,
}

/// Where a listing's last price change stands with its store.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum PricePushState {
    /// The price was imported from the store and never changed here.
    #[sea_orm(string_value = "NONE")]
    None,
    /// Changed here; waiting for (another) attempt to reach the store.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// The store holds the price set here.
    #[sea_orm(string_value = "PUSHED")]
    Pushed,
    /// The last attempt failed (see the error); it is retried with backoff unless the store
    /// refused the price.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}
