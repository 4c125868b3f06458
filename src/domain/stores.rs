//! Connected stores: the channel, the connection's state and how it was made, webhooks, the
//! contact rule of documents and how much order history is imported.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

domain_enum! {
    /// The sales channel an integration connects to.
    #[graphql(name = "Channel")]
    pub enum ChannelKind {
        /// A BigCommerce store.
        BigCommerce = "BIGCOMMERCE",
    }
}

domain_enum! {
    /// Whether orderdeck is talking to a connected store.
    pub enum IntegrationStatus {
        /// Connected: orders and products are synchronised.
        Active = "ACTIVE",
        /// The store rejected the stored credentials; nothing is synchronised until they are
        /// updated with `updateIntegration`.
        NeedsCredentials = "NEEDS_CREDENTIALS",
        /// Disconnected by the merchant: no sync, no pushes; the imported history is kept and the
        /// stored access token is erased.
        Disconnected = "DISCONNECTED",
    }
}

domain_enum! {
    /// How a store was connected.
    pub enum ConnectedVia {
        /// `connectBigCommerce` with the credentials of a store-level API account.
        Manual = "MANUAL",
        /// The BigCommerce app-store install flow, claimed with `claimBigCommerceInstallation`.
        App = "APP",
    }
}

domain_enum! {
    /// Whether a store's order webhooks are registered.
    pub enum WebhookState {
        /// No webhooks: no public URL is configured, or the store is disconnected. Orders arrive
        /// by polling only.
        Off = "OFF",
        /// Registered on the store: new orders and status changes are imported within seconds.
        Active = "ACTIVE",
        /// Registering failed (see `error`); retried at every scheduled order import. Polling
        /// still imports the orders.
        Failed = "FAILED",
    }
}

domain_enum! {
    /// How the store's phone number or email is applied to shipments and labels.
    pub enum ContactMode {
        /// Used only where the order has none of its own.
        Prefill = "PREFILL",
        /// Always used, replacing the order's own.
        Overwrite = "OVERWRITE",
    }
}

impl ContactMode {
    /// The value printed on a shipment: the store's or the order's, by this mode. Never
    /// rewrites the stored order.
    pub fn apply<'a>(self, store: Option<&'a str>, order: Option<&'a str>) -> Option<&'a str> {
        let order = order.filter(|v| !v.trim().is_empty());
        let store = store.filter(|v| !v.trim().is_empty());
        match self {
            ContactMode::Prefill => order.or(store),
            ContactMode::Overwrite => store.or(order),
        }
    }
}

domain_enum! {
    /// How far back the first order import reaches.
    pub enum HistoricalImport {
        /// Orders placed since the start of the connection day (UTC).
        Today = "TODAY",
        /// Orders of the 7 days before connecting.
        Last7Days = "LAST_7_DAYS",
        /// Orders of the 30 days before connecting.
        Last30Days = "LAST_30_DAYS",
        /// Orders of the 90 days before connecting.
        Last90Days = "LAST_90_DAYS",
        /// Orders since a given date (`historicalImportSince`).
        SinceDate = "SINCE_DATE",
    }
}

impl HistoricalImport {
    /// The moment the first import reaches back to, for a store connected at `connected_at`.
    /// `since` is used (and required) only for [`HistoricalImport::SinceDate`].
    pub fn reach_back(
        self,
        connected_at: DateTime<Utc>,
        since: Option<NaiveDate>,
    ) -> Option<DateTime<Utc>> {
        let start_of = |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc();
        match self {
            HistoricalImport::Today => Some(start_of(connected_at.date_naive())),
            HistoricalImport::Last7Days => Some(connected_at - Duration::days(7)),
            HistoricalImport::Last30Days => Some(connected_at - Duration::days(30)),
            HistoricalImport::Last90Days => Some(connected_at - Duration::days(90)),
            HistoricalImport::SinceDate => since.map(start_of),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn prefill_uses_the_store_value_only_where_the_order_has_none() {
        assert_eq!(
            ContactMode::Prefill.apply(Some("store"), Some("order")),
            Some("order")
        );
        assert_eq!(
            ContactMode::Prefill.apply(Some("store"), Some(" ")),
            Some("store")
        );
        assert_eq!(
            ContactMode::Prefill.apply(Some("store"), None),
            Some("store")
        );
    }

    #[test]
    fn overwrite_always_uses_the_store_value_when_it_has_one() {
        assert_eq!(
            ContactMode::Overwrite.apply(Some("store"), Some("order")),
            Some("store")
        );
        assert_eq!(
            ContactMode::Overwrite.apply(None, Some("order")),
            Some("order")
        );
    }

    #[test]
    fn historical_import_reaches_back_from_the_connection_time() {
        let at = "2026-11-27T15:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            HistoricalImport::Today
                .reach_back(at, None)
                .unwrap()
                .to_rfc3339(),
            "2026-11-27T00:00:00+00:00"
        );
        assert_eq!(
            HistoricalImport::Last7Days
                .reach_back(at, None)
                .unwrap()
                .to_rfc3339(),
            "2026-11-20T15:30:00+00:00"
        );
        let d = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();
        assert_eq!(
            HistoricalImport::SinceDate
                .reach_back(at, Some(d))
                .unwrap()
                .to_rfc3339(),
            "2026-01-02T00:00:00+00:00"
        );
        assert!(HistoricalImport::SinceDate.reach_back(at, None).is_none());
    }
}

domain_enum! {
    /// How a connected store is doing, from what orderdeck sees of it.
    pub enum HealthState {
        /// Orders arrive, stock and shipments reach the store.
        Healthy = "HEALTHY",
        /// Working, with something to look at: pushes or shipments failing, pushes waiting
        /// long, webhooks not registered, the API quota used up (see `reasons`).
        Degraded = "DEGRADED",
        /// Orders have not been imported for more than three import intervals.
        Failing = "FAILING",
        /// The store refused the access token: connect it again with new credentials.
        NeedsCredentials = "NEEDS_CREDENTIALS",
        /// Disconnected here: nothing is imported or pushed.
        Disconnected = "DISCONNECTED",
    }
}
