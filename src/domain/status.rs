//! Order statuses, stock reasons, listing tracking modes and sync kinds.

domain_enum! {
    /// An order's status in orderdeck (the channel's own status id and name are kept too).
    pub enum OrderStatus {
        /// Placed but not paid yet.
        Unpaid = "UNPAID",
        /// Paid (or otherwise ready) and waiting to ship.
        New = "NEW",
        /// Some of its items shipped.
        PartiallyShipped = "PARTIALLY_SHIPPED",
        /// Everything shipped.
        Shipped = "SHIPPED",
        /// Canceled or declined.
        Canceled = "CANCELED",
        /// Refunded in full.
        Refunded = "REFUNDED",
    }
}

impl OrderStatus {
    /// Maps a BigCommerce status id (docs/rules.md §5). `None` for 0 (Incomplete): not imported.
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
    /// What a sync job does.
    pub enum SyncKind {
        /// Import orders.
        Orders = "ORDERS",
        /// Import products.
        Products = "PRODUCTS",
    }
}

domain_enum! {
    /// How a sync run ended.
    pub enum SyncOutcome {
        /// Still running (or its process died; the lease tells).
        Running = "RUNNING",
        /// Finished without error.
        Succeeded = "SUCCEEDED",
        /// Stopped by an error (see `error`).
        Failed = "FAILED",
    }
}

domain_enum! {
    /// What started a sync run.
    pub enum SyncTrigger {
        /// The scheduler.
        Schedule = "SCHEDULE",
        /// `syncNow`.
        Manual = "MANUAL",
        /// A webhook delivery from the store: one order imported right away.
        Webhook = "WEBHOOK",
    }
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
