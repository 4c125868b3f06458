//! Sandbox settings. Behaviours the BigCommerce docs leave UNVERIFIED are switches here.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What an unknown store hash answers (the real behaviour is unverified).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownStore {
    /// 403 with the missing-scope body (the documented guess).
    Forbidden,
    /// 404 with an HTML body (as some third parties report).
    NotFound,
}

/// What a `limit` above 250 does (unverified).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverLimit {
    /// Clamp to 250.
    Clamp,
    /// Refuse with 413.
    Refuse,
}

/// Everything that shapes a sandbox.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SandboxConfig {
    /// How many stores to seed.
    pub stores: usize,
    /// Seed of the deterministic data.
    pub seed: u64,
    /// Orders per store.
    pub orders: usize,
    /// Products per store.
    pub products: usize,
    /// Colours of products with variants (0: sizes only; else one variant per size and
    /// colour, at most 6 colours).
    #[serde(default)]
    pub colours: usize,
    /// Whether the stores share a catalogue: four products in five have the same SKU and name
    /// on every store, the fifth is each store's own. Off: every SKU names its store.
    #[serde(default)]
    pub shared_catalogue: bool,
    /// Orders are spread over this many days before now.
    pub order_days: i64,
    /// Requests per window per store (150 = Standard/Plus, 450 = Pro).
    pub quota: u32,
    /// Rate-limit window.
    #[serde(with = "millis")]
    pub window: Duration,
    /// Answer of an unknown store hash.
    pub unknown_store: UnknownStore,
    /// Behaviour of `limit` above 250.
    pub over_limit: OverLimit,
    /// Delay before inventory writes show in `inventory_level` (the real API is asynchronous).
    #[serde(with = "millis")]
    pub inventory_delay: Duration,
    /// Whether `/v2/orders/{id}/shippingaddresses` (no underscore) also answers.
    pub legacy_shippingaddresses_path: bool,
    /// Allow webhook destinations other than https on port 443 (local tests need this).
    pub allow_insecure_hooks: bool,
    /// Seconds between webhook delivery retries (compressed from BigCommerce's minutes).
    #[serde(with = "millis")]
    pub hook_retry_base: Duration,
    /// Deliver every webhook event twice (BigCommerce promises at-least-once delivery).
    pub duplicate_hook_deliveries: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            stores: 2,
            seed: 1,
            orders: 200,
            products: 50,
            colours: 0,
            shared_catalogue: false,
            order_days: 90,
            quota: 150,
            window: Duration::from_secs(30),
            unknown_store: UnknownStore::Forbidden,
            over_limit: OverLimit::Clamp,
            inventory_delay: Duration::ZERO,
            legacy_shippingaddresses_path: true,
            allow_insecure_hooks: true,
            hook_retry_base: Duration::from_millis(200),
            duplicate_hook_deliveries: false,
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}
