//! Sync runs: what they import, what started them and how they ended.

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
