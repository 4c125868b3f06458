//! Products (one per SKU: the stock figure), their listings on stores, and the stock ledger:
//! `products`, `product`, `stockMovements`.

use async_graphql::{Context, InputObject, Object, ID};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::context::{principal_with_turn, state};
use super::ids;
use super::integrations::Integration;
use super::loaders::{
    feed, feed_lists, load, selects, BundleComponentsLoader, IntegrationLoader, ItemListingsLoader,
    ItemLoader,
};
use crate::domain::money::DecimalText;
use crate::domain::stock;
use crate::domain::Permission;
use crate::domain::{
    PricePushState, StockBuffer, StockBufferMode, StockReason, StockTracking, StringList,
};
use crate::entities::{inventory_item, listing, stock_movement};
use crate::services::bundles;
use crate::services::catalog::{self as service, ProductFilter};
use crate::services::low_stock;
use crate::services::pagination::PageRequest;

/// A product: one SKU of the account with its single stock figure, listed on any number of stores.
#[derive(Clone)]
pub struct Product(pub inventory_item::Model);

/// A product: one SKU of the account with its single stock figure, listed on any number of stores.
#[Object]
impl Product {
    /// Global id.
    async fn id(&self) -> ID {
        ids::encode("Product", self.0.id)
    }
    /// The SKU that links listings across stores; null for a listing imported without SKU.
    async fn sku(&self) -> Option<&str> {
        self.0.sku.as_deref()
    }
    /// Name (from the first listing imported).
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Weight in the store's unit.
    async fn weight(&self) -> Option<Decimal> {
        self.0.weight.map(DecimalText::get)
    }
    /// Main image URL.
    async fn image_url(&self) -> Option<&str> {
        self.0.image_url.as_deref()
    }
    /// The stock figure, pushed to every store with inventory management on (less each
    /// store's buffer). A bundle's is computed: how many whole bundles its components make.
    async fn stock(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        figure(ctx, &self.0).await
    }
    /// Where it lies in the warehouse (set with `setBinLocation`); null when unknown.
    async fn bin_location(&self) -> Option<&str> {
        self.0.bin_location.as_deref()
    }
    /// Whether this product is a bundle (kit) of other products: its stock is computed from
    /// its components, and selling it takes stock from each of them.
    async fn is_bundle(&self) -> bool {
        self.0.bundle
    }
    /// What one bundle is made of; empty for a product that is not a bundle.
    async fn components(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<BundleComponent>> {
        if !self.0.bundle {
            return Ok(Vec::new());
        }
        Ok(load::<BundleComponentsLoader>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(BundleComponent)
            .collect())
    }
    /// At or below this figure the product counts as low on stock (0 when unset).
    async fn low_stock_threshold(&self) -> Option<i64> {
        self.0.low_stock_threshold
    }
    /// Since when the stock has been at or below its threshold (set with
    /// `setLowStockThreshold`): the moment it last fell there, kept while it stays there,
    /// null while above it or without a threshold.
    async fn low_stock_since(&self) -> Option<DateTime<Utc>> {
        self.0.low_stock_since
    }
    /// The product on each store.
    async fn listings(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Listing>> {
        Ok(load::<ItemListingsLoader>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Listing)
            .collect())
    }
    /// The stock ledger of this product, newest first.
    #[graphql(complexity = "first.max(1) as usize * child_complexity + super::QUERY_COST")]
    async fn stock_movements(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page size (1–100).",
            default = 20,
            validator(minimum = 1, maximum = 100)
        )]
        first: i32,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
    ) -> async_graphql::Result<StockMovementConnection> {
        movements_page(ctx, self.0.id, first, after).await
    }
    /// When the product was created here.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When anything about it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// An item's figure: its stock, or for a bundle what its components make now.
async fn figure(ctx: &Context<'_>, item: &inventory_item::Model) -> async_graphql::Result<i64> {
    if !item.bundle {
        return Ok(item.quantity);
    }
    let parts = load::<BundleComponentsLoader>(ctx, item.id)
        .await?
        .unwrap_or_default();
    Ok(bundles::figure(&parts))
}

/// One component of a bundle.
pub struct BundleComponent(pub bundles::Component);

/// One component of a bundle: a product and how many units of it one bundle takes.
#[Object]
impl BundleComponent {
    /// The component.
    async fn product(&self) -> Product {
        Product(self.0.item.clone())
    }
    /// Units of it in one bundle (at least 1).
    async fn quantity(&self) -> i64 {
        self.0.quantity
    }
}

/// Stock kept back from a store.
#[derive(async_graphql::SimpleObject)]
#[graphql(name = "StockBuffer")]
pub struct StockBufferObject {
    /// Units or a percentage.
    pub mode: StockBufferMode,
    /// How many units, or what percentage (0–100), is kept back.
    pub value: i64,
}

impl From<StockBuffer> for StockBufferObject {
    fn from(b: StockBuffer) -> Self {
        StockBufferObject {
            mode: b.mode,
            value: b.value,
        }
    }
}

/// One product or variant on one store.
#[derive(Clone)]
pub struct Listing(pub listing::Model);

impl Listing {
    /// The figure this store should hold: the product's figure less the buffer that applies,
    /// never below zero. `None` when the product is gone.
    async fn offered(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i64>> {
        let Some(item) = load::<ItemLoader>(ctx, self.0.inventory_item_id).await? else {
            return Ok(None);
        };
        let figure = figure(ctx, &item).await?;
        let store = load::<IntegrationLoader>(ctx, self.0.integration_id)
            .await?
            .and_then(|i| i.stock_buffer);
        Ok(Some(stock::offered(figure, self.0.stock_buffer.or(store))))
    }
}

/// Where a listing's stock on its store stands against the figure here.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StockPushState {
    /// The store holds the figure here.
    InSync,
    /// A change is on its way to the store.
    Pending,
    /// The last push failed (see `pushError`); it is retried with backoff.
    Failed,
    /// The store's inventory management is off in orderdeck: its stock is not pushed.
    NotManaged,
    /// The store does not track stock for this product: pushes cannot reach it (turn
    /// tracking on at the store).
    TrackingOff,
    /// The store tracks stock for the whole product, not per variant, so per-variant figures
    /// cannot be pushed (switch the product to variant tracking at the store).
    TrackedByProduct,
    /// The store no longer has the product.
    Missing,
}

/// One product or variant on one store.
#[Object]
impl Listing {
    /// Global id.
    async fn id(&self) -> ID {
        ids::encode("Listing", self.0.id)
    }
    /// The store it is on.
    async fn integration(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Integration>> {
        Ok(load::<IntegrationLoader>(ctx, self.0.integration_id)
            .await?
            .map(Integration))
    }
    /// The product (SKU) it sells.
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Product>> {
        Ok(load::<ItemLoader>(ctx, self.0.inventory_item_id)
            .await?
            .map(Product))
    }
    /// The store's product id.
    async fn external_product_id(&self) -> String {
        self.0.external_product_id.to_string()
    }
    /// The store's variant id (the base variant's for a product without options).
    async fn external_variant_id(&self) -> String {
        self.0.external_variant_id.to_string()
    }
    /// How the store tracks its stock.
    async fn tracking(&self) -> StockTracking {
        self.0.tracking
    }
    /// SKU on the store.
    async fn sku(&self) -> Option<&str> {
        self.0.sku.as_deref()
    }
    /// Title on the store.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Price on the store.
    async fn price(&self) -> Decimal {
        self.0.price.get()
    }
    /// Sale price on the store, if any.
    async fn sale_price(&self) -> Option<Decimal> {
        self.0.sale_price.map(DecimalText::get)
    }
    /// Weight on the store.
    async fn weight(&self) -> Option<Decimal> {
        self.0.weight.map(DecimalText::get)
    }
    /// Image URLs.
    async fn images(&self) -> Vec<String> {
        strings(self.0.images.as_ref())
    }
    /// Category names.
    async fn categories(&self) -> Vec<String> {
        strings(self.0.categories.as_ref())
    }
    /// The stock the store showed at the last product import.
    async fn channel_stock(&self) -> Option<i64> {
        self.0.channel_stock
    }
    /// The stock last pushed to the store.
    async fn pushed_stock(&self) -> Option<i64> {
        self.0.pushed_stock
    }
    /// When stock was last pushed.
    async fn pushed_at(&self) -> Option<DateTime<Utc>> {
        self.0.pushed_at
    }
    /// Why the last push failed, if it did.
    async fn push_error(&self) -> Option<&str> {
        self.0.push_error.as_deref()
    }
    /// This listing's own stock buffer, overriding its store's; null when the store's applies.
    async fn stock_buffer(&self) -> Option<StockBufferObject> {
        self.0.stock_buffer.map(Into::into)
    }
    /// The buffer that applies to this listing: its own, else its store's; null without one.
    async fn applied_stock_buffer(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<StockBufferObject>> {
        if let Some(own) = self.0.stock_buffer {
            return Ok(Some(own.into()));
        }
        Ok(load::<IntegrationLoader>(ctx, self.0.integration_id)
            .await?
            .and_then(|i| i.stock_buffer)
            .map(Into::into))
    }
    /// The figure this store is offered: the product's stock less the buffer that applies,
    /// never below zero (compare with `pushedStock`, what it was last sent). Null when the
    /// product was deleted here.
    async fn offered_stock(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i64>> {
        self.offered(ctx).await
    }
    /// When the last stock push to the store failed (with `pushError`).
    async fn push_failed_at(&self) -> Option<DateTime<Utc>> {
        self.0.push_failed_at
    }
    /// Where the store's stock stands against the figure here.
    async fn stock_push_state(&self, ctx: &Context<'_>) -> async_graphql::Result<StockPushState> {
        let l = &self.0;
        let managed = load::<IntegrationLoader>(ctx, l.integration_id)
            .await?
            .is_some_and(|i| i.inventory_management);
        let quantity = self.offered(ctx).await?;
        Ok(if !managed {
            StockPushState::NotManaged
        } else if l.tracking == StockTracking::None {
            StockPushState::TrackingOff
        } else if l.tracking == StockTracking::Product && l.option_variant {
            StockPushState::TrackedByProduct
        } else if l.missing_since.is_some() {
            StockPushState::Missing
        } else if l.push_error.is_some() {
            StockPushState::Failed
        } else if quantity.is_some()
            && (l.pushed_stock == quantity
                || (l.pushed_stock.is_none() && l.channel_stock == quantity))
        {
            StockPushState::InSync
        } else {
            StockPushState::Pending
        })
    }
    /// Where the last price change made here stands with the store.
    async fn price_push_state(&self) -> PricePushState {
        self.0.price_push_state
    }
    /// When the store last accepted a price pushed from here.
    async fn price_pushed_at(&self) -> Option<DateTime<Utc>> {
        self.0.price_pushed_at
    }
    /// Why the last price push failed, if it did.
    async fn price_push_error(&self) -> Option<&str> {
        self.0.price_push_error.as_deref()
    }
    /// Set when the store no longer has this product (it is kept here).
    async fn missing_since(&self) -> Option<DateTime<Utc>> {
        self.0.missing_since
    }
    /// When the store last changed the product.
    async fn channel_modified_at(&self) -> Option<DateTime<Utc>> {
        self.0.channel_modified_at
    }
}

fn strings(v: Option<&StringList>) -> Vec<String> {
    v.map(|l| l.0.clone()).unwrap_or_default()
}

/// One change of a product's stock.
#[derive(Clone)]
pub struct StockMovement(pub stock_movement::Model);

/// One change of a product's stock.
#[Object]
impl StockMovement {
    /// Global id.
    async fn id(&self) -> ID {
        ids::encode("StockMovement", self.0.id)
    }
    /// Change of the stock figure.
    async fn delta(&self) -> i64 {
        self.0.delta
    }
    /// The stock figure after the change.
    async fn quantity_after(&self) -> i64 {
        self.0.quantity_after
    }
    /// Why it changed.
    async fn reason(&self) -> StockReason {
        self.0.reason
    }
    /// The user who changed it, if a user did.
    async fn actor_user_id(&self) -> Option<ID> {
        self.0.actor_user_id.map(|id| ids::encode("User", id))
    }
    /// The API key that changed it, if a key did.
    async fn actor_api_key_id(&self) -> Option<ID> {
        self.0.actor_api_key_id.map(|id| ids::encode("ApiKey", id))
    }
    /// The store involved, if any.
    async fn integration_id(&self) -> Option<ID> {
        self.0
            .integration_id
            .map(|id| ids::encode("Integration", id))
    }
    /// The order that caused it, if any.
    async fn order_id(&self) -> Option<ID> {
        self.0.order_id.map(|id| ids::encode("Order", id))
    }
    /// The bundle sold, when this movement took (or gave back) this component's share of it.
    async fn bundle_id(&self) -> Option<ID> {
        self.0.bundle_item_id.map(|id| ids::encode("Product", id))
    }
    /// A free-text note.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// When it happened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

super::connection::connection!(ProductConnection, ProductEdge, Product, "products");

/// A product at or below its low-stock threshold, with how fast it sells.
pub struct LowStockProduct(pub low_stock::LowStock);

/// Units sold per day over the sales window, to two decimals; `None` without sales.
fn per_day(units: i64) -> Option<Decimal> {
    (units > 0).then(|| {
        (Decimal::from(units) / Decimal::from(low_stock::SALES_WINDOW_DAYS))
            .round_dp(2)
            .normalize()
    })
}

/// A product at or below its low-stock threshold, with how fast it sells.
#[Object]
impl LowStockProduct {
    /// The product, with its stock, threshold and `lowStockSince`.
    async fn product(&self) -> Product {
        Product(self.0.item.clone())
    }
    /// Since when its stock has been at or below its threshold.
    async fn since(&self) -> Option<DateTime<Utc>> {
        self.0.item.low_stock_since
    }
    /// Units its orders took per day over the last 30 days (net of orders canceled or
    /// restocked), to at most two decimals; null when it sold nothing.
    async fn units_sold_per_day(&self) -> Option<Decimal> {
        per_day(self.0.units_sold)
    }
    /// How many days the stock lasts at that pace (stock ÷ units sold per day, to at most
    /// one decimal; 0 at or below zero stock); null when it sold nothing.
    async fn days_of_cover(&self) -> Option<Decimal> {
        let sold = self.0.units_sold;
        (sold > 0).then(|| {
            let stock = Decimal::from(self.0.item.quantity.max(0));
            (stock * Decimal::from(low_stock::SALES_WINDOW_DAYS) / Decimal::from(sold))
                .round_dp(1)
                .normalize()
        })
    }
}

super::connection::connection!(
    LowStockProductConnection,
    LowStockProductEdge,
    LowStockProduct,
    "products low on stock"
);

/// Cursors of `lowStockProducts`: (since, id), opaque.
mod low_stock_cursor {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use chrono::{DateTime, Utc};

    pub fn encode(since: Option<DateTime<Utc>>, id: i64) -> String {
        let micros = since.map_or(0, |s| s.timestamp_micros());
        URL_SAFE_NO_PAD.encode(format!("low:{micros}:{id}"))
    }

    pub fn decode(cursor: &str) -> async_graphql::Result<(DateTime<Utc>, i64)> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                let rest = s.strip_prefix("low:")?;
                let (micros, id) = rest.split_once(':')?;
                let since = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
                Some((since, id.parse().ok()?))
            })
            .ok_or_else(|| async_graphql::Error::new("`after` is not a cursor from this list."))
    }
}
super::connection::connection!(
    StockMovementConnection,
    StockMovementEdge,
    StockMovement,
    "stock movements"
);

/// Filters of `products`.
#[derive(InputObject, Default)]
pub struct ProductFilterInput {
    /// Exact SKU.
    pub sku: Option<String>,
    /// Part of the name or SKU (case-insensitive).
    pub search: Option<String>,
    /// Only products at or below their low-stock threshold (0 when unset); bundles never
    /// (their components are what runs low).
    #[graphql(default = false)]
    pub low_stock: bool,
}

async fn movements_page(
    ctx: &Context<'_>,
    item_id: i64,
    first: i32,
    after: Option<String>,
) -> async_graphql::Result<StockMovementConnection> {
    let (p, _turn) = principal_with_turn(ctx, Permission::Read).await?;
    let after = after.as_deref().map(ids::decode_cursor).transpose()?;
    let page = service::movements(
        state(ctx)?,
        &p,
        item_id,
        PageRequest {
            first: u64::try_from(first).unwrap_or(1),
            after,
        },
    )
    .await?;
    Ok(StockMovementConnection::build(
        page,
        after.is_some(),
        |m| ids::cursor(m.id),
        StockMovement,
    ))
}

/// Product queries.
#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// The account's products (one per SKU), by id.
    #[graphql(
        complexity = "first.max(1) as usize * child_complexity + super::QUERY_COST + super::search_cost(filter.as_ref().and_then(|f| f.search.as_deref()))"
    )]
    async fn products(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page size (1–100).",
            default = 20,
            validator(minimum = 1, maximum = 100)
        )]
        first: i32,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
        #[graphql(desc = "Filters.")] filter: Option<ProductFilterInput>,
    ) -> async_graphql::Result<ProductConnection> {
        let (p, _turn) = principal_with_turn(ctx, Permission::Read).await?;
        let after = after.as_deref().map(ids::decode_cursor).transpose()?;
        let filter = filter.unwrap_or_default();
        let filter = ProductFilter {
            sku: filter.sku,
            search: filter.search,
            low_stock: filter.low_stock,
        };
        let page = service::list(
            state(ctx)?,
            &p,
            &filter,
            PageRequest {
                first: u64::try_from(first).unwrap_or(1),
                after,
            },
        )
        .await?;
        if selects(ctx, &["listings"]) {
            let st = state(ctx)?;
            let ids: Vec<i64> = page.items.iter().map(|i| i.id).collect();
            let by_item = service::listings_by_item(st, p.account_id, &ids).await?;
            if selects(ctx, &["listings", "integration"]) {
                let integration_ids: Vec<i64> = by_item
                    .values()
                    .flatten()
                    .map(|l| l.integration_id)
                    .collect();
                let found = service::integrations_by_id(st, p.account_id, &integration_ids).await?;
                feed::<IntegrationLoader>(ctx, found).await?;
            }
            feed_lists::<ItemListingsLoader, _>(ctx, &ids, by_item).await?;
        }
        Ok(ProductConnection::build(
            page,
            after.is_some(),
            |m| ids::cursor(m.id),
            Product,
        ))
    }

    /// The products at or below their low-stock threshold (`setLowStockThreshold`), the
    /// longest-low first, each with how fast it sold over the last 30 days.
    #[graphql(complexity = "first.max(1) as usize * child_complexity + super::QUERY_COST")]
    async fn low_stock_products(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page size (1–100).",
            default = 20,
            validator(minimum = 1, maximum = 100)
        )]
        first: i32,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
    ) -> async_graphql::Result<LowStockProductConnection> {
        let (p, _turn) = principal_with_turn(ctx, Permission::Read).await?;
        let after = after.as_deref().map(low_stock_cursor::decode).transpose()?;
        let page =
            low_stock::list(state(ctx)?, &p, u64::try_from(first).unwrap_or(1), after).await?;
        Ok(LowStockProductConnection::build(
            page,
            after.is_some(),
            |l| low_stock_cursor::encode(l.item.low_stock_since, l.item.id),
            LowStockProduct,
        ))
    }

    /// One product by id or SKU; null when it does not exist or is another account's.
    async fn product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global id of the product.")] id: Option<ID>,
        #[graphql(desc = "SKU of the product.")] sku: Option<String>,
    ) -> async_graphql::Result<Option<Product>> {
        let (p, _turn) = principal_with_turn(ctx, Permission::Read).await?;
        let row_id = match &id {
            Some(gid) => match ids::decode("Product", gid) {
                Some(n) => Some(n),
                None => return Ok(None),
            },
            None => None,
        };
        Ok(service::get(state(ctx)?, &p, row_id, sku.as_deref())
            .await?
            .map(Product))
    }

    /// The stock ledger of one product, newest first.
    #[graphql(complexity = "first.max(1) as usize * child_complexity + super::QUERY_COST")]
    async fn stock_movements(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global id of the product.")] product_id: ID,
        #[graphql(
            desc = "Page size (1–100).",
            default = 20,
            validator(minimum = 1, maximum = 100)
        )]
        first: i32,
        #[graphql(desc = "Cursor after which the page starts.")] after: Option<String>,
    ) -> async_graphql::Result<StockMovementConnection> {
        let item_id = ids::decode("Product", &product_id).unwrap_or(0);
        movements_page(ctx, item_id, first, after).await
    }
}
