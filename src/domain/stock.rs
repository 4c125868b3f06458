//! Stock: why a figure changed, how a listing tracks it, and what the outbox pushes.

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
