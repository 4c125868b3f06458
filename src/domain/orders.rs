//! Orders: their status in orderdeck and how a BigCommerce status maps to it.

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
