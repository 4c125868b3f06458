//! DataLoaders: nested fields of a page load in one query per relation, whatever its size.
//! Every loader is built per request for the caller's account and never sees other accounts.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};

use crate::entities::{
    integration, inventory_item, listing, order_line, shipment, shipment_line, sync_job,
};
use crate::error::AppResult;
use crate::services::logos::{self, LogoMeta};
use crate::services::{bundles, catalog, order_queries, shipments};
use crate::state::AppState;

/// What every loader knows: the state and the caller's account.
#[derive(Clone)]
pub struct Scope {
    /// Shared state.
    pub state: AppState,
    /// The caller's account (0 when anonymous: loads nothing).
    pub account_id: i64,
}

/// A loader built from a [`Scope`]: per request as a batching [`DataLoader`], or on its own
/// where there is no request (a subscription's event, see [`load`]).
pub trait Scoped: Loader<i64, Error = Arc<anyhow::Error>> {
    /// The loader for `scope`.
    fn scoped(scope: Scope) -> Self;
}

macro_rules! scoped {
    ($($loader:ident),+) => {
        $(impl Scoped for $loader {
            fn scoped(scope: Scope) -> Self {
                $loader(scope)
            }
        })+
    };
}

scoped!(
    BundleComponentsLoader,
    LogoLoader,
    OrderLinesLoader,
    OrderShipmentsLoader,
    ShipmentLinesLoader,
    ListingLoader,
    ItemListingsLoader,
    ItemLoader,
    IntegrationLoader,
    HealthLoader,
    SyncJobsLoader
);

fn wrap<T>(r: AppResult<T>, what: &str) -> Result<T, Arc<anyhow::Error>> {
    r.map_err(|e| Arc::new(anyhow::anyhow!("loading {what}: {}", e.report())))
}

/// Loads the components of bundles, by bundle (inventory item) id; nothing for a product that
/// is not a bundle.
pub struct BundleComponentsLoader(pub Scope);

impl Loader<i64> for BundleComponentsLoader {
    type Value = Vec<bundles::Component>;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        wrap(
            bundles::components(&self.0.state.db, self.0.account_id, keys).await,
            "bundle components",
        )
    }
}

/// Loads logo metadata by integration id.
pub struct LogoLoader(pub Scope);

impl Loader<i64> for LogoLoader {
    type Value = LogoMeta;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, LogoMeta>, Self::Error> {
        wrap(
            logos::meta_for(&self.0.state, self.0.account_id, keys).await,
            "logos",
        )
    }
}

/// Loads the lines of orders, by order id.
pub struct OrderLinesLoader(pub Scope);

impl Loader<i64> for OrderLinesLoader {
    type Value = Vec<order_line::Model>;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        wrap(
            order_queries::lines_by_order(&self.0.state, self.0.account_id, keys).await,
            "order lines",
        )
    }
}

/// Loads the shipments of orders, by order id.
pub struct OrderShipmentsLoader(pub Scope);

impl Loader<i64> for OrderShipmentsLoader {
    type Value = Vec<shipment::Model>;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        wrap(
            shipments::by_order(&self.0.state, self.0.account_id, keys).await,
            "shipments",
        )
    }
}

/// Loads the lines of shipments, by shipment id.
pub struct ShipmentLinesLoader(pub Scope);

impl Loader<i64> for ShipmentLinesLoader {
    type Value = Vec<shipment_line::Model>;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        wrap(
            shipments::lines_by_shipment(&self.0.state, self.0.account_id, keys).await,
            "shipment lines",
        )
    }
}

/// Loads listings by id.
pub struct ListingLoader(pub Scope);

impl Loader<i64> for ListingLoader {
    type Value = listing::Model;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        wrap(
            catalog::listings_by_id(&self.0.state, self.0.account_id, keys).await,
            "listings",
        )
    }
}

/// Loads the listings of products, by inventory item id.
pub struct ItemListingsLoader(pub Scope);

impl Loader<i64> for ItemListingsLoader {
    type Value = Vec<listing::Model>;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        wrap(
            catalog::listings_by_item(&self.0.state, self.0.account_id, keys).await,
            "listings",
        )
    }
}

/// Loads inventory items by id.
pub struct ItemLoader(pub Scope);

impl Loader<i64> for ItemLoader {
    type Value = inventory_item::Model;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        wrap(
            catalog::items_by_id(&self.0.state, self.0.account_id, keys).await,
            "products",
        )
    }
}

/// Loads integrations by id.
pub struct IntegrationLoader(pub Scope);

impl Loader<i64> for IntegrationLoader {
    type Value = integration::Model;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        wrap(
            catalog::integrations_by_id(&self.0.state, self.0.account_id, keys).await,
            "integrations",
        )
    }
}

/// Loads stores' health by integration id (a fixed number of statements per batch).
pub struct HealthLoader(pub Scope);

impl Loader<i64> for HealthLoader {
    type Value = crate::services::health::Health;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let (state, account) = (&self.0.state, self.0.account_id);
        let stores = wrap(
            catalog::integrations_by_id(state, account, keys).await,
            "stores",
        )?;
        let stores: Vec<integration::Model> = stores.into_values().collect();
        wrap(
            crate::services::health::of_stores(state, account, &stores).await,
            "store health",
        )
    }
}

/// How long a loader collects keys before querying. Batches are time-based, so list
/// resolvers also prefetch (see `feed`) to make the statement count independent of page size.
const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(2);

/// The loaders of one request: cached for the request, so list resolvers can prefetch a
/// whole page's relations with [`DataLoader::feed_many`] and nested fields never query again.
pub type RequestLoader<L> = DataLoader<L, HashMapCache>;

fn loader<L: Loader<i64>>(l: L) -> RequestLoader<L> {
    DataLoader::with_cache(l, tokio::spawn, HashMapCache::default()).delay(BATCH_WINDOW)
}

/// Loads the sync jobs of integrations, by integration id.
pub struct SyncJobsLoader(pub Scope);

impl Loader<i64> for SyncJobsLoader {
    type Value = Vec<sync_job::Model>;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let rows = wrap(
            crate::sync::jobs::jobs_of(&self.0.state.db, self.0.account_id, keys).await,
            "sync jobs",
        )?;
        let mut map: HashMap<i64, Self::Value> = HashMap::new();
        for row in rows {
            map.entry(row.integration_id).or_default().push(row);
        }
        Ok(map)
    }
}

/// Adds every loader to a request.
pub fn attach(
    request: async_graphql::Request,
    state: &AppState,
    account_id: i64,
) -> async_graphql::Request {
    let scope = Scope {
        state: state.clone(),
        account_id,
    };
    request
        .data(loader(BundleComponentsLoader(scope.clone())))
        .data(loader(LogoLoader(scope.clone())))
        .data(loader(OrderLinesLoader(scope.clone())))
        .data(loader(OrderShipmentsLoader(scope.clone())))
        .data(loader(ShipmentLinesLoader(scope.clone())))
        .data(loader(ListingLoader(scope.clone())))
        .data(loader(ItemListingsLoader(scope.clone())))
        .data(loader(ItemLoader(scope.clone())))
        .data(loader(IntegrationLoader(scope.clone())))
        .data(loader(HealthLoader(scope.clone())))
        .data(loader(SyncJobsLoader(scope)))
}

/// Loads one key through the request's loader of type `L`, mapping failures to the one
/// GraphQL error shape. A subscription's events carry no request loaders (a connection lives
/// for hours: a cache would go stale, and loaders held per connection cost memory): there the
/// key is loaded on its own, one query per relation of the event's object.
pub async fn load<L: Scoped>(
    ctx: &async_graphql::Context<'_>,
    key: i64,
) -> async_graphql::Result<Option<L::Value>> {
    let found = match ctx.data_opt::<RequestLoader<L>>() {
        Some(loader) => loader.load_one(key).await,
        None => {
            let scope = Scope {
                state: super::context::state(ctx)?.clone(),
                account_id: ctx
                    .data_opt::<super::RequestData>()
                    .and_then(|d| d.principal.as_ref())
                    .map_or(0, |p| p.account_id),
            };
            L::scoped(scope)
                .load(&[key])
                .await
                .map(|mut values| values.remove(&key))
        }
    };
    Ok(found.map_err(|e| crate::error::AppError::internal(format!("{e:#}")))?)
}

/// Puts already loaded values into the request's loader of type `L`.
pub async fn feed<L>(
    ctx: &async_graphql::Context<'_>,
    values: HashMap<i64, L::Value>,
) -> async_graphql::Result<()>
where
    L: Loader<i64, Error = Arc<anyhow::Error>>,
{
    // Without request loaders (a subscription's event) there is nothing to prefetch into.
    if let Some(loader) = ctx.data_opt::<RequestLoader<L>>() {
        loader.feed_many(values).await;
    }
    Ok(())
}

/// [`feed`] for loaders of lists: every key of `keys` gets its list, empty when `values` holds
/// none for it, so that no resolver queries again for a key already known to have nothing.
pub async fn feed_lists<L, T>(
    ctx: &async_graphql::Context<'_>,
    keys: &[i64],
    mut values: HashMap<i64, Vec<T>>,
) -> async_graphql::Result<()>
where
    L: Loader<i64, Value = Vec<T>, Error = Arc<anyhow::Error>>,
    T: Send + Sync + Clone + 'static,
{
    for key in keys {
        values.entry(*key).or_default();
    }
    feed::<L>(ctx, values).await
}

/// Whether the selection of a connection's items (`nodes { … }` or `edges { node { … } }`)
/// contains the field path `path`.
pub fn selects(ctx: &async_graphql::Context<'_>, path: &[&str]) -> bool {
    let look = ctx.look_ahead();
    [look.field("nodes"), look.field("edges").field("node")]
        .into_iter()
        .any(|base| path.iter().fold(base, |f, name| f.field(name)).exists())
}
