//! One store's handle: its credentials, call counter and the `SalesChannel` implementation
//! (orders with their lines, catalog products with variants and images, categories, shipments).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::future::try_join_all;
use serde::de::DeserializeOwned;

use super::client::{Credentials, Write};
use super::{map, wire, BigCommerceClient};
use crate::channels::{
    id_spans, ChannelCategory, ChannelError, ChannelOrder, ChannelProduct, ChannelShipment,
    ChannelTarget, NewShipment, PriceUpdate, SalesChannel, StockLevel, PAGE_SIZE,
};

/// A connected BigCommerce store. Clones share the call counter; every handle on the same
/// store hash (from the same client) shares its concurrency bound and rate-limit waits.
#[derive(Clone)]
pub struct BigCommerceStore {
    pub(super) client: BigCommerceClient,
    pub(super) hash: String,
    pub(super) token: String,
    pub(super) calls: Arc<AtomicU64>,
}

impl std::fmt::Debug for BigCommerceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BigCommerceStore")
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

impl BigCommerceClient {
    /// A handle on one store.
    pub fn store(&self, hash: &str, token: &str) -> BigCommerceStore {
        BigCommerceStore {
            client: self.clone(),
            hash: hash.to_string(),
            token: token.to_string(),
            calls: Arc::new(AtomicU64::new(0)),
        }
    }
}

/// `include` and `consignment_structure` of order reads: every line in one call (up to 50
/// per consignment).
fn order_includes() -> [(&'static str, String); 2] {
    [
        ("include", "consignments.line_items".to_string()),
        ("consignment_structure", "object".to_string()),
    ]
}

impl BigCommerceStore {
    /// The store hash.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// `GET /v2/store` with this handle's token (also: does the token still work?).
    pub async fn store_info(&self) -> Result<super::StoreInfo, ChannelError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.client.store_info(self.creds()).await
    }

    fn creds(&self) -> Credentials<'_> {
        Credentials {
            store_hash: &self.hash,
            access_token: &self.token,
        }
    }

    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Option<T>, ChannelError> {
        self.client
            .get(self.creds(), path, query, &self.calls)
            .await
    }

    pub(super) async fn write<T: DeserializeOwned>(
        &self,
        path: &str,
        write: Write,
    ) -> Result<Option<T>, ChannelError> {
        self.client
            .write(self.creds(), write, path, &self.calls)
            .await
    }

    /// A call on a sub-resource of an order (a 404 means the order is gone).
    async fn order_resource<T: DeserializeOwned>(
        &self,
        path: &str,
        write: Write,
        query: &[(&str, String)],
    ) -> Result<Option<T>, ChannelError> {
        self.client
            .order_resource(self.creds(), write, path, query, &self.calls)
            .await
    }

    /// Every line of an order through `GET /v2/orders/{id}/products`, page by page until a
    /// short page (or 204).
    async fn order_products(&self, order_id: i64) -> Result<Vec<wire::OrderProduct>, ChannelError> {
        let path = format!("v2/orders/{order_id}/products");
        let mut all = Vec::new();
        for page in 1u32.. {
            let query = [("limit", PAGE_SIZE.to_string()), ("page", page.to_string())];
            let items: Vec<wire::OrderProduct> = self.get(&path, &query).await?.unwrap_or_default();
            let short = items.len() < PAGE_SIZE as usize;
            all.extend(items);
            if short {
                break;
            }
        }
        Ok(all)
    }

    /// Maps an order, fetching its lines separately when the embedded ones were capped.
    async fn complete(&self, mut order: wire::Order) -> Result<ChannelOrder, ChannelError> {
        let embedded = map::take_embedded(&mut order);
        let lines = if embedded.capped {
            tracing::debug!(
                store = %self.hash,
                order_id = order.id,
                "consignment lines capped; fetching the order's products"
            );
            self.order_products(order.id).await?
        } else {
            embedded.lines
        };
        map::order(order, embedded.shipping_addresses, lines)
    }
}

#[async_trait::async_trait]
impl SalesChannel for BigCommerceStore {
    async fn orders_modified_since(
        &self,
        since: DateTime<Utc>,
        page: u32,
    ) -> Result<Vec<ChannelOrder>, ChannelError> {
        let mut query = vec![
            (
                "min_date_modified",
                since.to_rfc3339_opts(SecondsFormat::Secs, false),
            ),
            ("sort", "date_modified:asc".to_string()),
            ("limit", PAGE_SIZE.to_string()),
            ("page", page.max(1).to_string()),
        ];
        query.extend(order_includes());
        let orders: Vec<wire::Order> = self.get("v2/orders", &query).await?.unwrap_or_default();
        // Capped orders fetch their products concurrently; the store's gate bounds it.
        try_join_all(orders.into_iter().map(|o| self.complete(o))).await
    }

    async fn order(&self, external_id: i64) -> Result<Option<ChannelOrder>, ChannelError> {
        let path = format!("v2/orders/{external_id}");
        match self.get::<wire::Order>(&path, &order_includes()).await {
            Ok(Some(order)) => self.complete(order).await.map(Some),
            Ok(None) | Err(ChannelError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One order alone through `GET /v2/orders/{id}`; several closer than [`PAGE_SIZE`]
    /// through one `GET /v2/orders?min_id=…&max_id=…` (one page holds them all; archived
    /// orders are left out there, as in the modified-since import).
    async fn orders_by_id(&self, ids: &[i64]) -> Result<Vec<ChannelOrder>, ChannelError> {
        let mut found = Vec::with_capacity(ids.len());
        for span in id_spans(ids) {
            let (Some(&first), Some(&last)) = (span.first(), span.last()) else {
                continue;
            };
            if first == last {
                found.extend(self.order(first).await?);
                continue;
            }
            let mut query = vec![
                ("min_id", first.to_string()),
                ("max_id", last.to_string()),
                ("sort", "id:asc".to_string()),
                ("limit", PAGE_SIZE.to_string()),
            ];
            query.extend(order_includes());
            let orders: Vec<wire::Order> = self.get("v2/orders", &query).await?.unwrap_or_default();
            let wanted = orders
                .into_iter()
                .filter(|o| span.binary_search(&o.id).is_ok());
            found.extend(try_join_all(wanted.map(|o| self.complete(o))).await?);
        }
        Ok(found)
    }

    async fn products(&self, page: u32) -> Result<Vec<ChannelProduct>, ChannelError> {
        let query = [
            ("include", "variants,images".to_string()),
            ("limit", PAGE_SIZE.to_string()),
            ("page", page.max(1).to_string()),
            ("sort", "id".to_string()),
            ("direction", "asc".to_string()),
        ];
        let body: Option<wire::Page<wire::Product>> =
            self.get("v3/catalog/products", &query).await?;
        body.map(|b| b.data)
            .unwrap_or_default()
            .into_iter()
            .map(map::product)
            .collect()
    }

    async fn categories(&self) -> Result<Vec<ChannelCategory>, ChannelError> {
        let mut all = Vec::new();
        for page in 1u32.. {
            let query = [("limit", PAGE_SIZE.to_string()), ("page", page.to_string())];
            let Some(body) = self
                .get::<wire::Page<wire::TreeCategory>>("v3/catalog/trees/categories", &query)
                .await?
            else {
                break;
            };
            let last = body.data.len() < PAGE_SIZE as usize
                || body
                    .meta
                    .pagination
                    .as_ref()
                    .is_some_and(|p| p.total_pages > 0 && p.current_page >= p.total_pages);
            all.extend(body.data.into_iter().map(map::category));
            if last {
                break;
            }
        }
        Ok(all)
    }

    async fn set_stock_levels(&self, levels: &[StockLevel]) -> Result<(), ChannelError> {
        if levels.is_empty() {
            return Ok(());
        }
        let items: Vec<serde_json::Value> = levels
            .iter()
            .map(|l| match l.target {
                ChannelTarget::Product { product_id } => serde_json::json!({
                    "location_id": DEFAULT_LOCATION,
                    "product_id": product_id,
                    "quantity": l.quantity,
                }),
                ChannelTarget::Variant { variant_id, .. } => serde_json::json!({
                    "location_id": DEFAULT_LOCATION,
                    "variant_id": variant_id,
                    "quantity": l.quantity,
                }),
            })
            .collect();
        let body = serde_json::json!({ "reason": "orderdeck stock sync", "items": items });
        self.write::<serde::de::IgnoredAny>("v3/inventory/adjustments/absolute", Write::put(&body)?)
            .await
            .map(|_| ())
    }

    async fn update_price(&self, update: &PriceUpdate) -> Result<(), ChannelError> {
        let price = number(update.price)?;
        match update.target {
            ChannelTarget::Product { product_id } => {
                // A product's sale price of 0 means "no sale".
                let sale = match update.sale_price {
                    Some(s) => number(s)?,
                    None => serde_json::Value::from(0),
                };
                let body = serde_json::json!({ "price": price, "sale_price": sale });
                let path = format!("v3/catalog/products/{product_id}");
                self.write::<serde::de::IgnoredAny>(&path, Write::put(&body)?)
                    .await
                    .map(|_| ())
            }
            ChannelTarget::Variant {
                product_id,
                variant_id,
            } => {
                // A variant's null sale price inherits the product's; 0 removes it.
                let sale = match update.sale_price {
                    Some(s) => number(s)?,
                    None => serde_json::Value::from(0),
                };
                let body = serde_json::json!({ "price": price, "sale_price": sale });
                let path = format!("v3/catalog/products/{product_id}/variants/{variant_id}");
                self.write::<serde::de::IgnoredAny>(&path, Write::put(&body)?)
                    .await
                    .map(|_| ())
            }
        }
    }

    async fn create_shipment(
        &self,
        shipment: &NewShipment,
    ) -> Result<ChannelShipment, ChannelError> {
        let body = wire::NewShipment {
            order_address_id: shipment.order_address_id,
            tracking_number: &shipment.tracking_number,
            shipping_method: &shipment.shipping_method,
            shipping_provider: &shipment.shipping_provider,
            tracking_carrier: &shipment.tracking_carrier,
            comments: &shipment.comments,
            items: shipment
                .items
                .iter()
                .map(|&(order_product_id, quantity)| wire::NewShipmentItem {
                    order_product_id,
                    quantity,
                })
                .collect(),
        };
        let path = format!("v2/orders/{}/shipments", shipment.order_external_id);
        let created: Option<wire::Shipment> = self
            .order_resource(&path, Write::post_once(&body)?, &[])
            .await?;
        created.map(map::shipment).ok_or_else(|| {
            // The store answered 2xx without a body: the shipment exists, but its id is
            // unknown here; the caller finds it through `shipments`.
            ChannelError::UnexpectedResponse(format!("{path}: created without a shipment body"))
        })
    }

    async fn shipments(
        &self,
        order_external_id: i64,
    ) -> Result<Vec<ChannelShipment>, ChannelError> {
        let path = format!("v2/orders/{order_external_id}/shipments");
        let mut all = Vec::new();
        for page in 1u32.. {
            let query = [("limit", PAGE_SIZE.to_string()), ("page", page.to_string())];
            // 204: no shipment (on page 1) or past the end.
            let items: Vec<wire::Shipment> = self
                .order_resource(&path, Write::Get, &query)
                .await?
                .unwrap_or_default();
            let short = items.len() < PAGE_SIZE as usize;
            all.extend(items.into_iter().map(map::shipment));
            if short {
                break;
            }
        }
        Ok(all)
    }

    fn api_calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

/// The Inventory API's default location (every store has it).
const DEFAULT_LOCATION: i64 = 1;

/// Money as the JSON number the catalog expects.
fn number(value: rust_decimal::Decimal) -> Result<serde_json::Value, ChannelError> {
    use rust_decimal::prelude::ToPrimitive;
    value
        .to_f64()
        .and_then(serde_json::Number::from_f64)
        .map(serde_json::Value::Number)
        .ok_or_else(|| ChannelError::UnexpectedResponse(format!("{value} is not a price")))
}
