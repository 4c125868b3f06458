//! From a channel's order to the rows orderdeck stores: the order, its lines and their links
//! to listings and inventory items.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, SubsecRound, Utc};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use super::db_err;
use crate::channels::{ChannelOrder, ChannelOrderLine};
use crate::domain::OrderStatus;
use crate::entities::{integration, inventory_item as item, listing, order, order_line as line};
use crate::error::AppError;
use crate::sync::SyncError;

/// Money as stored: exact decimal text (`12.3456`, `336.32`).
pub(super) fn money(d: Decimal) -> String {
    d.normalize().to_string()
}

/// Timestamps as both databases store them (microseconds), so a re-read compares equal.
pub(super) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// A line's SKU, `None` when blank.
fn sku_of(l: &ChannelOrderLine) -> Option<&str> {
    l.sku.as_deref().filter(|s| !s.trim().is_empty())
}

/// What a line is linked to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Link {
    pub listing_id: Option<i64>,
    pub item_id: Option<i64>,
}

/// The listings and inventory items the lines of a batch of orders can link to, loaded in
/// two queries for the whole batch.
pub(super) struct Links {
    by_variant: HashMap<(i64, i64), listing::Model>,
    by_sku: HashMap<String, listing::Model>,
    item_by_sku: HashMap<String, i64>,
    items: HashMap<i64, item::Model>,
}

impl Links {
    /// Loads what the lines of `orders` may link to: this store's listings by product and
    /// variant id (or by SKU), and the account's inventory items by SKU.
    pub(super) async fn load<C: ConnectionTrait>(
        db: &C,
        integration: &integration::Model,
        orders: &[&ChannelOrder],
    ) -> Result<Self, SyncError> {
        let lines = orders.iter().flat_map(|o| o.lines.iter());
        let mut skus = BTreeSet::new();
        let mut products = BTreeSet::new();
        for l in lines {
            products.insert(l.product_id);
            if let Some(s) = sku_of(l) {
                skus.insert(s.to_string());
            }
        }
        let mut links = Links {
            by_variant: HashMap::new(),
            by_sku: HashMap::new(),
            item_by_sku: HashMap::new(),
            items: HashMap::new(),
        };
        if products.is_empty() && skus.is_empty() {
            return Ok(links);
        }
        let listings = listing::Entity::find()
            .filter(listing::Column::IntegrationId.eq(integration.id))
            .filter(
                Condition::any()
                    .add(listing::Column::ExternalProductId.is_in(products))
                    .add(listing::Column::Sku.is_in(skus.iter().cloned())),
            )
            .all(db)
            .await
            .map_err(db_err("loading the listings of order lines"))?;
        let item_ids: BTreeSet<i64> = listings.iter().map(|l| l.inventory_item_id).collect();
        let items = item::Entity::find()
            .filter(item::Column::AccountId.eq(integration.account_id))
            .filter(
                Condition::any()
                    .add(item::Column::Sku.is_in(skus.iter().cloned()))
                    .add(item::Column::Id.is_in(item_ids)),
            )
            .all(db)
            .await
            .map_err(db_err("loading the inventory items of order lines"))?;
        for l in listings {
            if let Some(sku) = l.sku.clone() {
                // Several listings of one store may share a SKU: the oldest wins, stably.
                match links.by_sku.get(&sku) {
                    Some(known) if known.id < l.id => {}
                    _ => {
                        links.by_sku.insert(sku, l.clone());
                    }
                }
            }
            links
                .by_variant
                .insert((l.external_product_id, l.external_variant_id), l);
        }
        for i in items {
            if let Some(sku) = &i.sku {
                links.item_by_sku.insert(sku.clone(), i.id);
            }
            links.items.insert(i.id, i);
        }
        Ok(links)
    }

    /// The listing (by product and variant id, else by SKU on this store) and the inventory
    /// item (the listing's, else the account's item with this SKU) of a line.
    pub(super) fn resolve(&self, l: &ChannelOrderLine) -> Link {
        let sku = sku_of(l);
        let listing = self
            .by_variant
            .get(&(l.product_id, l.variant_id))
            .or_else(|| sku.and_then(|s| self.by_sku.get(s)));
        Link {
            listing_id: listing.map(|x| x.id),
            item_id: listing
                .map(|x| x.inventory_item_id)
                .or_else(|| sku.and_then(|s| self.item_by_sku.get(s).copied())),
        }
    }

    /// Whether an order placed at `placed_at` takes stock from `item_id`: only when the
    /// item's figure was set before the order was placed. An item created later (by the
    /// first product import) started from the channel's stock, which already had this order
    /// taken off; taking it again would count it twice. Compared at whole seconds, the
    /// channel's precision.
    pub(super) fn item_predates(&self, item_id: i64, placed_at: DateTime<Utc>) -> bool {
        self.items
            .get(&item_id)
            .is_some_and(|i| i.created_at.trunc_subsecs(0) <= placed_at)
    }
}

fn json<T: serde::Serialize>(value: &T, what: &str) -> Result<serde_json::Value, SyncError> {
    serde_json::to_value(value).map_err(|e| {
        SyncError::App(AppError::Internal(
            anyhow::Error::new(e).context(format!("encoding the {what} of an order")),
        ))
    })
}

/// The order row the channel's order becomes, keeping what orderdeck decided before
/// (`historical`, stock flags, import time) when the order is already stored. The stock
/// flags are decided by the caller.
pub(super) fn order_row(
    integration: &integration::Model,
    ch: &ChannelOrder,
    status: OrderStatus,
    existing: Option<&order::Model>,
    now: DateTime<Utc>,
) -> Result<order::Model, SyncError> {
    let billing = &ch.billing_address;
    let mut customer_name = format!("{} {}", billing.first_name.trim(), billing.last_name.trim())
        .trim()
        .to_string();
    if customer_name.is_empty() {
        customer_name = billing.company.trim().to_string();
    }
    let non_blank = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let placed_at = micros(ch.placed_at);
    let modified_at = micros(ch.modified_at);
    // The channel may mark an order shipped without a date (Completed, a status change):
    // then the first time it was seen shipped stands in, and stays.
    let shipped_at = ch
        .shipped_at
        .map(micros)
        .or(existing.and_then(|e| e.shipped_at))
        .or((status == OrderStatus::Shipped).then_some(modified_at));
    // Channel timestamps have whole seconds: an order placed in the second of connecting
    // counts as placed after it.
    let historical = existing.map_or(placed_at < integration.connected_at.trunc_subsecs(0), |e| {
        e.historical
    });
    Ok(order::Model {
        id: existing.map_or(0, |e| e.id),
        account_id: integration.account_id,
        integration_id: integration.id,
        external_id: ch.external_id,
        number: ch.number.clone(),
        status,
        // `from_bigcommerce` accepted it, so it is 1–14.
        channel_status_id: i32::try_from(ch.status_id).unwrap_or(i32::MAX),
        channel_status: ch.status_name.clone(),
        currency: ch.currency.clone(),
        subtotal_ex_tax: money(ch.subtotal_ex_tax),
        subtotal_inc_tax: money(ch.subtotal_inc_tax),
        shipping_cost: money(ch.shipping_cost),
        tax_total: money(ch.tax_total),
        total: money(ch.total),
        customer_name,
        customer_email: non_blank(&billing.email),
        customer_phone: non_blank(&billing.phone),
        billing_address: Some(json(billing, "billing address")?),
        shipping_addresses: Some(json(&ch.shipping_addresses, "shipping addresses")?),
        placed_at,
        channel_modified_at: modified_at,
        shipped_at,
        historical,
        stock_taken: existing.is_some_and(|e| e.stock_taken),
        restocked: existing.is_some_and(|e| e.restocked),
        imported_at: existing.map_or(now, |e| e.imported_at),
        updated_at: existing.map_or(now, |e| e.updated_at),
    })
}

/// The line row of a channel line (`id` 0 for a new line).
pub(super) fn line_row(
    account_id: i64,
    order_id: i64,
    id: i64,
    l: &ChannelOrderLine,
    link: Link,
) -> line::Model {
    line::Model {
        id,
        account_id,
        order_id,
        external_id: l.external_id,
        external_product_id: l.product_id,
        external_variant_id: l.variant_id,
        order_address_id: l.order_address_id,
        sku: sku_of(l).map(str::to_string),
        name: l.name.clone(),
        quantity: l.quantity,
        quantity_shipped: l.quantity_shipped,
        unit_price: money(l.unit_price),
        total: money(l.total),
        weight: l.weight.map(money),
        listing_id: link.listing_id,
        inventory_item_id: link.item_id,
    }
}
