//! From a channel's order to the rows orderdeck stores: the order, its lines and their links
//! to listings and inventory items.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, SubsecRound, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::channels::{ChannelOrder, ChannelOrderLine};
use crate::domain::money::DecimalText;
use crate::domain::{OrderStatus, ShippingAddresses};
use crate::entities::{integration, inventory_item as item, listing, order, order_line as line};
use crate::error::DbContext;
use crate::sync::SyncError;

/// Money as stored: exact decimal text (`12.3456`, `336.32`).
pub(super) fn money(d: Decimal) -> DecimalText {
    DecimalText::normalized(d)
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

/// What a line needs of a listing: its id and its inventory item.
#[derive(Clone, Copy, Debug)]
struct ListingRef {
    id: i64,
    item_id: i64,
}

/// The listings and inventory items the lines of a batch of orders can link to, loaded for
/// the whole batch: listings by product id (one indexed query), and only for lines without a
/// listing of their product and variant, listings and then inventory items by SKU.
#[derive(Default)]
pub(super) struct Links {
    by_variant: HashMap<(i64, i64), ListingRef>,
    by_sku: HashMap<String, ListingRef>,
    item_by_sku: HashMap<String, i64>,
}

impl Links {
    /// Loads what the lines of `orders` may link to: this store's listings by product and
    /// variant id (or by SKU), and the account's inventory items by SKU.
    pub(super) async fn load<C: ConnectionTrait>(
        db: &C,
        integration: &integration::Model,
        orders: &[&ChannelOrder],
    ) -> Result<Self, SyncError> {
        let lines = || orders.iter().flat_map(|o| o.lines.iter());
        let products: BTreeSet<i64> = lines().map(|l| l.product_id).collect();
        let variants: BTreeSet<i64> = lines().map(|l| l.variant_id).collect();
        let mut links = Links::default();
        if products.is_empty() {
            return Ok(links);
        }
        let listings: Vec<(i64, i64, i64, i64)> = listing::Entity::find()
            .select_only()
            .columns([
                listing::Column::Id,
                listing::Column::InventoryItemId,
                listing::Column::ExternalProductId,
                listing::Column::ExternalVariantId,
            ])
            .filter(listing::Column::IntegrationId.eq(integration.id))
            .filter(listing::Column::ExternalProductId.is_in(padded(products)))
            // Only the variants sold, not every variant of the products. `+ 0` keeps SQLite
            // from probing the index with every product and variant pair (it would try
            // products × variants lookups); it filters the product's rows instead.
            .filter(
                Expr::expr(Expr::col(listing::Column::ExternalVariantId).add(0))
                    .is_in(padded(variants)),
            )
            .into_tuple()
            .all(db)
            .await
            .during("loading the listings of order lines")?;
        for (id, item_id, product_id, variant_id) in listings {
            links
                .by_variant
                .insert((product_id, variant_id), ListingRef { id, item_id });
        }
        // The SKU fallbacks, for the lines the ids did not link.
        let skus: BTreeSet<String> = lines()
            .filter(|l| !links.by_variant.contains_key(&(l.product_id, l.variant_id)))
            .filter_map(sku_of)
            .map(str::to_string)
            .collect();
        if skus.is_empty() {
            return Ok(links);
        }
        let listings: Vec<(i64, i64, Option<String>)> = listing::Entity::find()
            .select_only()
            .columns([
                listing::Column::Id,
                listing::Column::InventoryItemId,
                listing::Column::Sku,
            ])
            .filter(listing::Column::IntegrationId.eq(integration.id))
            .filter(listing::Column::Sku.is_in(skus.iter().cloned()))
            .into_tuple()
            .all(db)
            .await
            .during("loading the listings of order lines by SKU")?;
        for (id, item_id, sku) in listings {
            let Some(sku) = sku else { continue };
            // Several listings of one store may share a SKU: the oldest wins, stably.
            match links.by_sku.get(&sku) {
                Some(known) if known.id < id => {}
                _ => {
                    links.by_sku.insert(sku, ListingRef { id, item_id });
                }
            }
        }
        let skus: Vec<&String> = skus
            .iter()
            .filter(|s| !links.by_sku.contains_key(*s))
            .collect();
        if skus.is_empty() {
            return Ok(links);
        }
        let items: Vec<(i64, Option<String>)> = item::Entity::find()
            .select_only()
            .columns([item::Column::Id, item::Column::Sku])
            .filter(item::Column::AccountId.eq(integration.account_id))
            .filter(item::Column::Sku.is_in(skus.into_iter().cloned()))
            .into_tuple()
            .all(db)
            .await
            .during("loading the inventory items of order lines")?;
        for (id, sku) in items {
            if let Some(sku) = sku {
                links.item_by_sku.insert(sku, id);
            }
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
                .map(|x| x.item_id)
                .or_else(|| sku.and_then(|s| self.item_by_sku.get(s).copied())),
        }
    }
}

/// The values of an `IN (…)` list, repeated up to a power of two: the statement's text then
/// repeats from batch to batch, so the driver prepares it once and caches it (a duplicate in
/// an `IN` list changes nothing).
pub(super) fn padded<T: Clone>(values: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut values: Vec<T> = values.into_iter().collect();
    if let Some(last) = values.last().cloned() {
        values.resize(values.len().next_power_of_two(), last);
    }
    values
}

/// When the account's inventory items `ids` were created.
pub(super) async fn items_created_at<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, DateTime<Utc>>, SyncError> {
    let ids: BTreeSet<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, DateTime<Utc>)> = item::Entity::find()
        .select_only()
        .columns([item::Column::Id, item::Column::CreatedAt])
        .filter(item::Column::AccountId.eq(account_id))
        .filter(item::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await
        .during("loading the inventory items of orders taking stock")?;
    Ok(rows.into_iter().collect())
}

/// Whether an order placed at `placed_at` takes stock from an item created at `created_at`:
/// only when the item's figure was set before the order was placed. An item created later
/// (by the first product import) started from the channel's stock, which already had this
/// order taken off; taking it again would count it twice. Compared at whole seconds, the
/// channel's precision.
pub(super) fn item_predates(created_at: Option<&DateTime<Utc>>, placed_at: DateTime<Utc>) -> bool {
    created_at.is_some_and(|c| c.trunc_subsecs(0) <= placed_at)
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
) -> order::Model {
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
    // An order canceled here stays canceled whatever the channel says (it is never canceled
    // on the channel).
    let canceled_here_at = existing.and_then(|e| e.canceled_here_at);
    let status = if canceled_here_at.is_some() {
        OrderStatus::Canceled
    } else {
        status
    };
    order::Model {
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
        shipping_cost_ex_tax: Some(money(ch.shipping_cost_ex_tax)),
        tax_total: money(ch.tax_total),
        total: money(ch.total),
        customer_name,
        customer_email: non_blank(&billing.email),
        customer_phone: non_blank(&billing.phone),
        customer_message: non_blank(&ch.customer_message),
        billing_address: Some(billing.clone()),
        shipping_addresses: Some(ShippingAddresses(ch.shipping_addresses.clone())),
        placed_at,
        channel_modified_at: modified_at,
        shipped_at,
        historical,
        stock_taken: existing.is_some_and(|e| e.stock_taken),
        restocked: existing.is_some_and(|e| e.restocked),
        imported_at: existing.map_or(now, |e| e.imported_at),
        updated_at: existing.map_or(now, |e| e.updated_at),
        canceled_here_at,
        canceled_by_user_id: existing.and_then(|e| e.canceled_by_user_id),
        merge_id: existing.and_then(|e| e.merge_id),
    }
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
