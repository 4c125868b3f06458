//! The sandbox's in-memory stores. Plain data; the HTTP modules render it in the v2/v3 formats.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::config::SandboxConfig;

/// OAuth scopes the sandbox knows (read-only variants end in `_read_only`).
pub mod scopes {
    pub const ORDERS: &str = "store_v2_orders";
    pub const PRODUCTS: &str = "store_v2_products";
    pub const INVENTORY: &str = "store_inventory";
    pub const INFORMATION: &str = "store_v2_information";
    /// The scopes of a full-access API account.
    pub const ALL: &[&str] = &[ORDERS, PRODUCTS, INVENTORY, INFORMATION];
}

/// An API account (store-level credentials).
#[derive(Clone, Debug, Serialize)]
pub struct ApiAccount {
    pub client_id: String,
    pub access_token: String,
    /// Granted scopes; `x_read_only` allows only GET/HEAD on `x`'s endpoints.
    pub scopes: BTreeSet<String>,
}

/// Fixed-window rate limiting per store.
#[derive(Clone, Debug)]
pub struct RateBucket {
    pub window_start: Instant,
    pub used: u32,
}

/// Forced failures, for tests.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct Faults {
    /// Statuses (429, 500, 503…) answered by the next API requests, one each, in order; a 0
    /// lets its request through (to aim a failure at a later request).
    #[serde(default)]
    pub schedule: VecDeque<u16>,
    /// Probability (0–1) of answering `random_status` instead of serving the request.
    #[serde(default)]
    pub error_rate: f64,
    /// Status used with `error_rate` (default 500).
    #[serde(default)]
    pub random_status: Option<u16>,
    /// Latency added to every API request, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// The next N API requests drop the connection mid-response.
    #[serde(default)]
    pub drop_connections: u32,
    /// The next N API requests answer 200 with malformed JSON.
    #[serde(default)]
    pub malformed_json: u32,
    /// The next N API requests are carried out, then their connection is dropped before the
    /// answer arrives (the client cannot know whether the write happened).
    #[serde(default)]
    pub lose_responses: u32,
}

/// How a product's stock is tracked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tracking {
    None,
    Product,
    Variant,
}

/// A category (tree 1).
#[derive(Clone, Debug, Serialize)]
pub struct Category {
    pub id: i64,
    pub parent_id: i64,
    pub name: String,
    pub sort_order: i64,
    pub is_visible: bool,
}

/// A product image.
#[derive(Clone, Debug, Serialize)]
pub struct Image {
    pub id: i64,
    pub is_thumbnail: bool,
    pub sort_order: i64,
    pub url: String,
}

/// A variant option value (`Size: M`).
#[derive(Clone, Debug, Serialize)]
pub struct OptionValue {
    pub id: i64,
    pub option_id: i64,
    pub label: String,
    pub option_display_name: String,
}

/// A variant. Products without options have one base variant (empty `option_values`).
#[derive(Clone, Debug, Serialize)]
pub struct Variant {
    pub id: i64,
    pub product_id: i64,
    pub sku: String,
    /// `None` inherits the product's value.
    pub price: Option<Decimal>,
    pub sale_price: Option<Decimal>,
    pub weight: Option<Decimal>,
    /// Stock at location 1 (used when the product tracks by variant).
    pub inventory_level: i64,
    pub option_values: Vec<OptionValue>,
}

impl Variant {
    /// Whether this is the base variant of a product without options.
    pub fn is_base(&self) -> bool {
        self.option_values.is_empty()
    }
}

/// A catalog product.
#[derive(Clone, Debug, Serialize)]
pub struct Product {
    pub id: i64,
    pub name: String,
    pub sku: String,
    pub price: Decimal,
    pub sale_price: Decimal,
    pub cost_price: Decimal,
    pub retail_price: Decimal,
    pub weight: Decimal,
    pub categories: Vec<i64>,
    pub inventory_tracking: Tracking,
    /// Stock at location 1 when tracked by product.
    pub inventory_level: i64,
    pub inventory_warning_level: i64,
    pub is_visible: bool,
    pub total_sold: i64,
    pub images: Vec<Image>,
    pub variants: Vec<Variant>,
    pub date_created: DateTime<Utc>,
    pub date_modified: DateTime<Utc>,
}

impl Product {
    /// Whether the product has option variants (then it holds no stock itself).
    pub fn has_options(&self) -> bool {
        self.variants.iter().any(|v| !v.is_base())
    }

    /// `inventory_level` as the catalog shows it: the product's own stock, or the sum of its
    /// variants' when tracked by variant, 0 when untracked.
    pub fn visible_inventory(&self) -> i64 {
        match self.inventory_tracking {
            Tracking::None => 0,
            Tracking::Product => self.inventory_level,
            Tracking::Variant => self.variants.iter().map(|v| v.inventory_level).sum(),
        }
    }
}

/// A postal address as BigCommerce spells it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Address {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub street_1: String,
    pub street_2: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub country: String,
    pub country_iso2: String,
    pub phone: String,
    pub email: String,
}

/// A shipping address (consignment) of an order; its `id` is the `order_address_id`.
#[derive(Clone, Debug, Serialize)]
pub struct ShippingAddress {
    pub id: i64,
    pub address: Address,
    pub shipping_method: String,
    pub cost_ex_tax: Decimal,
    pub cost_inc_tax: Decimal,
}

/// A line of an order (an "order product").
#[derive(Clone, Debug, Serialize)]
pub struct OrderProduct {
    pub id: i64,
    pub product_id: i64,
    pub variant_id: i64,
    pub order_address_id: i64,
    pub name: String,
    pub sku: String,
    pub base_price: Decimal,
    pub price_ex_tax: Decimal,
    pub price_inc_tax: Decimal,
    pub price_tax: Decimal,
    pub quantity: i64,
    pub quantity_shipped: i64,
    pub weight: Decimal,
}

/// A shipment of an order.
#[derive(Clone, Debug, Serialize)]
pub struct Shipment {
    pub id: i64,
    pub order_address_id: i64,
    pub date_created: DateTime<Utc>,
    pub tracking_number: String,
    pub shipping_method: String,
    pub shipping_provider: String,
    pub tracking_carrier: String,
    pub tracking_link: String,
    pub comments: String,
    /// `(order_product_id, quantity)`.
    pub items: Vec<(i64, i64)>,
}

/// An order.
#[derive(Clone, Debug, Serialize)]
pub struct Order {
    pub id: i64,
    pub customer_id: i64,
    pub date_created: DateTime<Utc>,
    pub date_modified: DateTime<Utc>,
    pub date_shipped: Option<DateTime<Utc>>,
    pub status_id: i64,
    pub currency_code: String,
    pub payment_method: String,
    pub payment_status: String,
    pub billing_address: Address,
    pub shipping_addresses: Vec<ShippingAddress>,
    pub products: Vec<OrderProduct>,
    pub shipments: Vec<Shipment>,
    pub shipping_cost_ex_tax: Decimal,
    pub shipping_cost_inc_tax: Decimal,
    pub tax_rate: Decimal,
    pub customer_message: String,
    pub staff_notes: String,
    pub is_deleted: bool,
}

impl Order {
    pub fn items_total(&self) -> i64 {
        self.products.iter().map(|p| p.quantity).sum()
    }
    pub fn items_shipped(&self) -> i64 {
        self.products.iter().map(|p| p.quantity_shipped).sum()
    }
    pub fn subtotal_ex_tax(&self) -> Decimal {
        self.products
            .iter()
            .map(|p| p.price_ex_tax * Decimal::from(p.quantity))
            .sum()
    }
    pub fn subtotal_inc_tax(&self) -> Decimal {
        self.products
            .iter()
            .map(|p| p.price_inc_tax * Decimal::from(p.quantity))
            .sum()
    }
    pub fn total_ex_tax(&self) -> Decimal {
        self.subtotal_ex_tax() + self.shipping_cost_ex_tax
    }
    pub fn total_inc_tax(&self) -> Decimal {
        self.subtotal_inc_tax() + self.shipping_cost_inc_tax
    }
}

/// A registered webhook.
#[derive(Clone, Debug, Serialize)]
pub struct Hook {
    pub id: i64,
    pub client_id: String,
    pub scope: String,
    pub destination: String,
    pub is_active: bool,
    pub headers: BTreeMap<String, String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A request the sandbox received (for the request log).
#[derive(Clone, Debug, Serialize)]
pub struct LoggedRequest {
    pub at: DateTime<Utc>,
    pub store: String,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
}

/// One store.
#[derive(Clone, Debug)]
pub struct Store {
    pub hash: String,
    pub store_id: i64,
    pub name: String,
    pub currency: String,
    pub accounts: Vec<ApiAccount>,
    pub quota: u32,
    pub bucket: RateBucket,
    pub faults: Faults,
    pub categories: Vec<Category>,
    pub products: BTreeMap<i64, Product>,
    pub orders: BTreeMap<i64, Order>,
    pub hooks: BTreeMap<i64, Hook>,
    /// Requests per endpoint key (`GET /v2/orders`).
    pub counters: BTreeMap<String, u64>,
    pub next_id: i64,
}

impl Store {
    /// A fresh id for any object of this store (ids never repeat within a store).
    pub fn new_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    /// The API account holding `token`.
    pub fn account(&self, token: &str) -> Option<&ApiAccount> {
        self.accounts.iter().find(|a| a.access_token == token)
    }

    /// Finds a variant by id across products: `(product_id, index)`.
    pub fn find_variant(&self, variant_id: i64) -> Option<(i64, usize)> {
        self.products.values().find_map(|p| {
            p.variants
                .iter()
                .position(|v| v.id == variant_id)
                .map(|i| (p.id, i))
        })
    }

    /// Finds a product or variant by SKU: `(product_id, Some(variant index))`; a product-level
    /// SKU gives `None` as the index.
    pub fn find_sku(&self, sku: &str) -> Option<(i64, Option<usize>)> {
        for p in self.products.values() {
            if p.sku == sku && !p.has_options() {
                return Some((p.id, None));
            }
            if let Some(i) = p.variants.iter().position(|v| v.sku == sku) {
                return Some((p.id, Some(i)));
            }
            if p.sku == sku {
                return Some((p.id, None));
            }
        }
        None
    }
}

/// The whole sandbox.
#[derive(Debug)]
pub struct SandboxState {
    pub config: SandboxConfig,
    pub stores: BTreeMap<String, Store>,
    pub request_log: VecDeque<LoggedRequest>,
    /// Moment the seeded dates count back from.
    pub anchor: DateTime<Utc>,
    /// Webhook events waiting for delivery (see `events` and `hooks`).
    pub events: VecDeque<crate::events::Event>,
    /// Wakes the delivery worker when an event is queued.
    pub events_notify: std::sync::Arc<tokio::sync::Notify>,
    /// Registered OAuth apps, codes and installations.
    pub oauth: crate::oauth::OAuthState,
}

/// Most requests kept in the request log.
pub const REQUEST_LOG_CAPACITY: usize = 10_000;

impl SandboxState {
    /// Records a request in the log (bounded).
    pub fn log(&mut self, entry: LoggedRequest) {
        if self.request_log.len() >= REQUEST_LOG_CAPACITY {
            self.request_log.pop_front();
        }
        self.request_log.push_back(entry);
    }

    /// The window length for rate limiting.
    pub fn window(&self) -> Duration {
        self.config.window
    }
}

/// Name of a BigCommerce order status id (0–14).
pub fn status_name(id: i64) -> &'static str {
    match id {
        0 => "Incomplete",
        1 => "Pending",
        2 => "Shipped",
        3 => "Partially Shipped",
        4 => "Refunded",
        5 => "Cancelled",
        6 => "Declined",
        7 => "Awaiting Payment",
        8 => "Awaiting Pickup",
        9 => "Awaiting Shipment",
        10 => "Completed",
        11 => "Awaiting Fulfillment",
        12 => "Manual Verification Required",
        13 => "Disputed",
        14 => "Partially Refunded",
        _ => "Unknown",
    }
}

/// The `order` (sort) value of each status, from the docs' example.
pub fn status_sort_order(id: i64) -> i64 {
    match id {
        0 => 0,
        1 => 1,
        7 => 2,
        11 => 3,
        9 => 4,
        8 => 5,
        3 => 6,
        10 => 7,
        2 => 8,
        5 => 9,
        6 => 10,
        4 => 11,
        13 => 12,
        12 => 13,
        14 => 14,
        _ => 99,
    }
}
