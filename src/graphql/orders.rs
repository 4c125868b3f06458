//! Imported orders: `orders` (filters, search, sort) and `order`.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::catalog::{Listing, Product};
use super::context::{principal_with_turn, state};
use super::ids;
use super::integrations::Integration;
use super::loaders::{
    feed, feed_lists, load, selects, IntegrationLoader, ItemListingsLoader, ItemLoader,
    ListingLoader, OrderLinesLoader, OrderShipmentsLoader, ShipmentLinesLoader,
};
use super::money::{money, Money};
use crate::domain::money::DecimalText;
use crate::domain::Permission;
use crate::domain::{OrderAddress, OrderStatus};
use crate::entities::{order, order_line};
use crate::services::order_queries::{self as service, OrderCursor, OrderFilter, OrderSort};

/// An address on an order.
#[derive(SimpleObject, Clone)]
#[graphql(name = "OrderAddress")]
pub struct OrderAddressObject {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Company.
    pub company: String,
    /// First street line.
    pub street1: String,
    /// Second street line.
    pub street2: String,
    /// City.
    pub city: String,
    /// State or region.
    pub state: String,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country_code: String,
    /// Country name.
    pub country: String,
    /// Phone number.
    pub phone: String,
    /// Email address.
    pub email: String,
}

impl From<OrderAddress> for OrderAddressObject {
    fn from(a: OrderAddress) -> Self {
        Self {
            first_name: a.first_name,
            last_name: a.last_name,
            company: a.company,
            street1: a.street1,
            street2: a.street2,
            city: a.city,
            state: a.state,
            postal_code: a.postal_code,
            country_code: a.country_code,
            country: a.country,
            phone: a.phone,
            email: a.email,
        }
    }
}

/// A shipping address (consignment) of an order.
#[derive(SimpleObject)]
pub struct ShippingAddress {
    /// The store's id of this address (used when pushing shipments).
    pub external_id: String,
    /// The address.
    pub address: OrderAddressObject,
    /// The shipping method the customer chose.
    pub shipping_method: String,
}

/// An order imported from a store.
#[derive(Clone)]
pub struct Order(pub order::Model);

/// An order imported from a store.
#[Object]
impl Order {
    /// Global id.
    async fn id(&self) -> ID {
        ids::encode("Order", self.0.id)
    }
    /// The order number people use (on BigCommerce: the order id).
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// Status in orderdeck.
    async fn status(&self) -> OrderStatus {
        self.0.status
    }
    /// The store's own status id.
    async fn channel_status_id(&self) -> i32 {
        self.0.channel_status_id
    }
    /// The store's own status name.
    async fn channel_status(&self) -> &str {
        &self.0.channel_status
    }
    /// The store it came from.
    async fn integration(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Integration>> {
        Ok(load::<IntegrationLoader>(ctx, self.0.integration_id)
            .await?
            .map(Integration))
    }
    /// Currency of every amount.
    async fn currency_code(&self) -> &str {
        &self.0.currency
    }
    /// Sum of the lines before tax.
    async fn subtotal_ex_tax(&self) -> Money {
        money(self.0.subtotal_ex_tax, &self.0.currency)
    }
    /// Sum of the lines with tax.
    async fn subtotal_inc_tax(&self) -> Money {
        money(self.0.subtotal_inc_tax, &self.0.currency)
    }
    /// Shipping cost, tax included.
    async fn shipping(&self) -> Money {
        money(self.0.shipping_cost, &self.0.currency)
    }
    /// Shipping cost without tax (its tax is in `tax`); null for orders imported before this
    /// figure was kept.
    async fn shipping_ex_tax(&self) -> Option<Money> {
        self.0
            .shipping_cost_ex_tax
            .map(|s| money(s, &self.0.currency))
    }
    /// Total tax.
    async fn tax(&self) -> Money {
        money(self.0.tax_total, &self.0.currency)
    }
    /// Grand total.
    async fn total(&self) -> Money {
        money(self.0.total, &self.0.currency)
    }
    /// Customer's name (billing).
    async fn customer_name(&self) -> &str {
        &self.0.customer_name
    }
    /// Customer's email.
    async fn customer_email(&self) -> Option<&str> {
        self.0.customer_email.as_deref()
    }
    /// Customer's phone.
    async fn customer_phone(&self) -> Option<&str> {
        self.0.customer_phone.as_deref()
    }

    /// The merge this order belongs to (see `mergeOrders`): it ships in one parcel with the
    /// merge's other orders. Null when it ships on its own.
    async fn merge_id(&self) -> Option<ID> {
        self.0.merge_id.map(|m| ids::encode("OrderMerge", m))
    }

    /// The customer's message on the order (often a gift message), printed on its packing
    /// slips; null when there is none.
    async fn customer_message(&self) -> Option<&str> {
        self.0.customer_message.as_deref()
    }
    /// Billing address.
    async fn billing_address(&self) -> Option<OrderAddressObject> {
        self.0.billing_address.clone().map(OrderAddressObject::from)
    }
    /// Shipping addresses (usually one).
    async fn shipping_addresses(&self) -> Vec<ShippingAddress> {
        self.0
            .shipping_addresses
            .clone()
            .map(|s| s.0)
            .unwrap_or_default()
            .into_iter()
            .map(|s| ShippingAddress {
                external_id: s.external_id.to_string(),
                address: s.address.into(),
                shipping_method: s.shipping_method,
            })
            .collect()
    }
    /// The lines.
    async fn lines(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<OrderLine>> {
        let currency = self.0.currency.clone();
        Ok(load::<OrderLinesLoader>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|l| OrderLine(l, currency.clone()))
            .collect())
    }
    /// When the customer placed it.
    async fn placed_at(&self) -> DateTime<Utc> {
        self.0.placed_at
    }
    /// When the store last changed it.
    async fn channel_modified_at(&self) -> DateTime<Utc> {
        self.0.channel_modified_at
    }
    /// When it was fully shipped, per the store.
    async fn shipped_at(&self) -> Option<DateTime<Utc>> {
        self.0.shipped_at
    }
    /// Placed before the store was connected: it never moves stock.
    async fn historical(&self) -> bool {
        self.0.historical
    }
    /// Whether its quantities were taken off stock.
    async fn stock_taken(&self) -> bool {
        self.0.stock_taken
    }
    /// Whether its quantities were given back.
    async fn restocked(&self) -> bool {
        self.0.restocked
    }
    /// When orderdeck first imported it.
    async fn imported_at(&self) -> DateTime<Utc> {
        self.0.imported_at
    }
    /// Shipments made here, oldest first.
    async fn shipments(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::shipments::Shipment>> {
        Ok(load::<OrderShipmentsLoader>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(super::shipments::Shipment)
            .collect())
    }
    /// When it was canceled here (`cancelOrder`); imports keep such an order canceled.
    async fn canceled_here_at(&self) -> Option<DateTime<Utc>> {
        self.0.canceled_here_at
    }
}

/// A line of an order.
pub struct OrderLine(pub order_line::Model, pub String);

/// A line of an order.
#[Object]
impl OrderLine {
    /// Global id.
    async fn id(&self) -> ID {
        ids::encode("OrderLine", self.0.id)
    }
    /// The store's order-product id.
    async fn external_id(&self) -> String {
        self.0.external_id.to_string()
    }
    /// SKU sold.
    async fn sku(&self) -> Option<&str> {
        self.0.sku.as_deref()
    }
    /// Name as the customer saw it.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Quantity ordered.
    async fn quantity(&self) -> i64 {
        self.0.quantity
    }
    /// Quantity shipped so far.
    async fn quantity_shipped(&self) -> i64 {
        self.0.quantity_shipped
    }
    /// Price of one unit.
    async fn unit_price(&self) -> Money {
        money(self.0.unit_price, &self.1)
    }
    /// Line total.
    async fn total(&self) -> Money {
        money(self.0.total, &self.1)
    }
    /// Weight of one unit.
    async fn weight(&self) -> Option<Decimal> {
        self.0.weight.map(DecimalText::get)
    }
    /// False when its SKU matches no product: it moves no stock.
    async fn linked(&self) -> bool {
        self.0.inventory_item_id.is_some()
    }
    /// The listing it was sold from.
    async fn listing(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Listing>> {
        match self.0.listing_id {
            Some(id) => Ok(load::<ListingLoader>(ctx, id).await?.map(Listing)),
            None => Ok(None),
        }
    }
    /// The product whose stock it moves.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        match self.0.inventory_item_id {
            Some(id) => Ok(load::<ItemLoader>(ctx, id).await?.map(Product)),
            None => Ok(None),
        }
    }
}

super::connection::connection!(OrderConnection, OrderEdge, Order, "orders");

/// Order of `orders`.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderSortInput {
    /// Newest placement first.
    #[default]
    NewestFirst,
    /// Oldest placement first.
    OldestFirst,
}

/// Filters of `orders`.
#[derive(InputObject, Default)]
pub struct OrderFilterInput {
    /// Any of these statuses.
    pub status: Option<Vec<OrderStatus>>,
    /// Only this store's orders.
    pub integration_id: Option<ID>,
    /// Only these stores' orders (with `integrationId`: any of them; at most 50).
    #[graphql(validator(max_items = 50))]
    pub integration_ids: Option<Vec<ID>>,
    /// Placed at or after.
    pub placed_from: Option<DateTime<Utc>>,
    /// Placed before.
    pub placed_to: Option<DateTime<Utc>>,
    /// Order number, part of the customer's email or name, or a SKU.
    pub search: Option<String>,
    /// Only orders with a line of this SKU.
    pub sku: Option<String>,
}

impl OrderFilterInput {
    /// The service's filter; an id that is not a store's matches no order.
    pub fn into_filter(self) -> OrderFilter {
        OrderFilter {
            statuses: self.status.unwrap_or_default(),
            integration_ids: self
                .integration_id
                .into_iter()
                .chain(self.integration_ids.unwrap_or_default())
                .map(|gid| ids::decode("Integration", &gid).unwrap_or(0))
                .collect(),
            placed_from: self.placed_from,
            placed_to: self.placed_to,
            search: self.search,
            sku: self.sku,
        }
    }
}

fn order_cursor(o: &order::Model) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{}:{}", o.placed_at.timestamp_micros(), o.id))
}

fn decode_order_cursor(c: &str) -> async_graphql::Result<OrderCursor> {
    let bad = || async_graphql::Error::new("`after` is not a cursor from this list.");
    let text =
        String::from_utf8(URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?).map_err(|_| bad())?;
    let mut parts = text.strip_prefix("o:").ok_or_else(bad)?.split(':');
    let micros: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let id: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    Ok(OrderCursor {
        placed_at: DateTime::from_timestamp_micros(micros).ok_or_else(bad)?,
        id,
    })
}

/// Loads, in one query per relation, what the selection of a page of orders asks for, so the
/// statement count does not grow with the page size.
async fn prefetch(
    ctx: &Context<'_>,
    account_id: i64,
    orders: &[order::Model],
) -> async_graphql::Result<()> {
    use std::collections::{BTreeSet, HashMap};
    let st = state(ctx)?;
    let mut integration_ids: BTreeSet<i64> = orders.iter().map(|o| o.integration_id).collect();
    let mut listings = HashMap::new();
    if selects(ctx, &["lines"]) {
        let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
        let lines = crate::services::order_queries::lines_by_order(st, account_id, &ids).await?;
        let all: Vec<&order_line::Model> = lines.values().flatten().collect();
        let listing_ids: Vec<i64> = all.iter().filter_map(|l| l.listing_id).collect();
        let mut item_ids: BTreeSet<i64> = all.iter().filter_map(|l| l.inventory_item_id).collect();
        if selects(ctx, &["lines", "listing"]) && !listing_ids.is_empty() {
            listings =
                crate::services::catalog::listings_by_id(st, account_id, &listing_ids).await?;
            item_ids.extend(listings.values().map(|l| l.inventory_item_id));
            integration_ids.extend(listings.values().map(|l| l.integration_id));
        }
        let wants_items =
            selects(ctx, &["lines", "product"]) || selects(ctx, &["lines", "listing", "product"]);
        if wants_items && !item_ids.is_empty() {
            let ids: Vec<i64> = item_ids.into_iter().collect();
            let items = crate::services::catalog::items_by_id(st, account_id, &ids).await?;
            let wants_listings = selects(ctx, &["lines", "product", "listings"])
                || selects(ctx, &["lines", "listing", "product", "listings"]);
            if wants_listings {
                let by_item =
                    crate::services::catalog::listings_by_item(st, account_id, &ids).await?;
                feed_lists::<ItemListingsLoader, _>(ctx, &ids, by_item).await?;
            }
            feed::<ItemLoader>(ctx, items).await?;
        }
        feed::<ListingLoader>(ctx, listings).await?;
        feed_lists::<OrderLinesLoader, _>(ctx, &ids, lines).await?;
    }
    if selects(ctx, &["shipments"]) {
        let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
        let shipments = crate::services::shipments::by_order(st, account_id, &ids).await?;
        if !shipments.is_empty() && selects(ctx, &["shipments", "lines"]) {
            let shipment_ids: Vec<i64> = shipments.values().flatten().map(|s| s.id).collect();
            let lines =
                crate::services::shipments::lines_by_shipment(st, account_id, &shipment_ids)
                    .await?;
            feed_lists::<ShipmentLinesLoader, _>(ctx, &shipment_ids, lines).await?;
        }
        feed_lists::<OrderShipmentsLoader, _>(ctx, &ids, shipments).await?;
    }
    if selects(ctx, &["integration"]) || selects(ctx, &["lines", "listing", "integration"]) {
        let ids: Vec<i64> = integration_ids.into_iter().collect();
        let found = crate::services::catalog::integrations_by_id(st, account_id, &ids).await?;
        feed::<IntegrationLoader>(ctx, found).await?;
    }
    Ok(())
}

/// Order queries.
#[derive(Default)]
pub struct OrderQuery;

#[Object]
impl OrderQuery {
    /// The account's orders, newest first by default.
    #[graphql(
        complexity = "first.max(1) as usize * child_complexity + super::QUERY_COST + super::search_cost(filter.as_ref().and_then(|f| f.search.as_deref()))"
    )]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page size (1–100).",
            default = 20,
            validator(minimum = 1, maximum = 100)
        )]
        first: i32,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Filters.")] filter: Option<OrderFilterInput>,
        #[graphql(desc = "Order of the list (default NEWEST_FIRST).")] sort: Option<OrderSortInput>,
    ) -> async_graphql::Result<OrderConnection> {
        let (p, _turn) = principal_with_turn(ctx, Permission::Read).await?;
        let cursor = after.as_deref().map(decode_order_cursor).transpose()?;
        let filter = filter.unwrap_or_default().into_filter();
        let sort = match sort.unwrap_or_default() {
            OrderSortInput::NewestFirst => OrderSort::NewestFirst,
            OrderSortInput::OldestFirst => OrderSort::OldestFirst,
        };
        let page = service::list(
            state(ctx)?,
            &p,
            &filter,
            sort,
            u64::try_from(first).unwrap_or(1),
            cursor,
            ctx.look_ahead().field("totalCount").exists(),
        )
        .await?;
        prefetch(ctx, p.account_id, &page.items).await?;
        Ok(OrderConnection::build(
            crate::services::pagination::Page {
                items: page.items,
                has_next_page: page.has_next_page,
                total_count: page.total_count,
            },
            cursor.is_some(),
            order_cursor,
            Order,
        ))
    }

    /// One order; null when it does not exist or is another account's.
    async fn order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global id of the order.")] id: ID,
    ) -> async_graphql::Result<Option<Order>> {
        let (p, _turn) = principal_with_turn(ctx, Permission::Read).await?;
        let Some(row_id) = ids::decode("Order", &id) else {
            return Ok(None);
        };
        Ok(service::get(state(ctx)?, &p, row_id).await?.map(Order))
    }
}
