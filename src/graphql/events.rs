//! Subscriptions: live events of the caller's account over `/graphql/ws`
//! (`graphql-transport-ws`). Each event carries ids (`services::events`); the subscriber's own
//! process reads the rows, so a subscription sees what the writer committed.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

use async_graphql::{Context, ErrorExtensions, SimpleObject, Subscription, ID};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use futures_util::{Stream, StreamExt};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::catalog::{Listing, Product, StockMovement};
use super::context::{principal, state};
use super::ids;
use super::orders::Order;
use super::shipments::Shipment;
use super::sync::SyncRun;
use crate::domain::Permission;
use crate::entities::{inventory_item, listing, order, shipment, stock_movement, sync_run};
use crate::error::codes;
use crate::error::AppError;
use crate::services::events::{Event, BUFFERED};
use crate::state::AppState;

/// Subscriptions one WebSocket connection may hold at once.
pub const SUBSCRIPTIONS_PER_CONNECTION: usize = 20;

/// The subscription slots of one connection (connection data of `/graphql/ws`), and its
/// signal that a subscription fell too far behind (the connection then closes).
#[derive(Clone)]
pub struct SubscriptionSlots {
    slots: Arc<Semaphore>,
    /// Notified when a subscription of the connection was dropped as too slow.
    pub too_slow: Arc<Notify>,
}

impl Default for SubscriptionSlots {
    fn default() -> Self {
        Self {
            slots: Arc::new(Semaphore::new(SUBSCRIPTIONS_PER_CONNECTION)),
            too_slow: Arc::new(Notify::new()),
        }
    }
}

/// A stock change: the product with its new figure and the movement that made it.
#[derive(Clone, SimpleObject)]
pub struct StockChange {
    /// The product, with its stock after the change.
    pub product: Product,
    /// The movement that changed it.
    pub movement: StockMovement,
}

/// A push a store refused or failed: the listing (stock or price) or the shipment, with its
/// push state and error as recorded.
#[derive(Clone, SimpleObject)]
pub struct PushFailure {
    /// The listing whose stock or price push failed (see its `pushError`,
    /// `stockPushState`, `pricePushState`); null for a shipment.
    pub listing: Option<Listing>,
    /// The shipment whose push failed (see its `pushState` and `pushError`); null for a
    /// listing.
    pub shipment: Option<Shipment>,
}

/// Every event of the account from now on; `Err(missed)` last when the subscriber fell too
/// far behind (it is dropped rather than slowing writers, and its connection is told).
fn account_events(
    st: &AppState,
    account_id: i64,
    slot: OwnedSemaphorePermit,
    too_slow: Arc<Notify>,
) -> impl Stream<Item = Result<Event, u64>> {
    let rx = st.events.subscribe();
    futures_util::stream::unfold(Some((rx, slot)), move |held| {
        let too_slow = too_slow.clone();
        async move {
            let (mut rx, slot) = held?;
            loop {
                match rx.recv().await {
                    Ok(e) if e.account_id() == account_id => {
                        return Some((Ok(e), Some((rx, slot))))
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(account_id, missed, "a slow subscriber was dropped");
                        too_slow.notify_one();
                        return Some((Err(missed), None));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    })
}

/// The error ending a subscription that fell `missed` events behind.
fn too_slow_error(missed: u64) -> async_graphql::Error {
    async_graphql::Error::new(format!(
        "This subscription fell {missed} events behind (more than {BUFFERED} unread) and was \
         ended; the connection closes. Reconnect, subscribe again, and re-read what changed."
    ))
    .extend_with(|_, ext| ext.set("code", codes::SUBSCRIBER_TOO_SLOW))
}

/// The connection's slots (none outside `/graphql/ws`: then a fresh set) and one more
/// subscription's slot, or an error naming the limit.
fn slot(ctx: &Context<'_>) -> async_graphql::Result<(SubscriptionSlots, OwnedSemaphorePermit)> {
    let slots = ctx
        .data_opt::<SubscriptionSlots>()
        .cloned()
        .unwrap_or_default();
    let permit = slots.slots.clone().try_acquire_owned().map_err(|_| {
        async_graphql::Error::new(format!(
            "At most {SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection: complete one first."
        ))
    })?;
    Ok((slots, permit))
}

/// How many recent events keep their rows for the subscriptions still delivering them.
const RECENT: usize = 1024;

/// What one event's rows were read as, shared by every subscription delivering it.
type SharedRows = Shared<BoxFuture<'static, Result<Option<Arc<dyn Any + Send + Sync>>, Arc<str>>>>;

/// The rows of recent events, read once per event in this process however many subscriptions
/// deliver it (a thousand subscribers of one account cost one read per event, not a thousand).
/// Each event's rows are read after it was committed; the last [`RECENT`] events are kept.
#[derive(Clone, Default)]
pub struct RecentRows(Arc<Mutex<Recent>>);

#[derive(Default)]
struct Recent {
    rows: HashMap<Event, SharedRows>,
    order: VecDeque<Event>,
}

impl RecentRows {
    /// The rows of `event`, read by `read` unless another subscription did or does already.
    /// Every event kind is read as one type `T` (the answer of the one field delivering it).
    fn get<T, F>(&self, event: Event, read: F) -> impl Future<Output = Result<Option<T>, AppError>>
    where
        T: Clone + Send + Sync + 'static,
        F: Future<Output = Result<Option<T>, AppError>> + Send + 'static,
    {
        let shared = self.0.lock().ok().map(|mut recent| {
            if let Some(found) = recent.rows.get(&event) {
                return found.clone();
            }
            let reading: SharedRows = async move {
                match read.await {
                    Ok(found) => Ok(found.map(|t| Arc::new(t) as Arc<dyn Any + Send + Sync>)),
                    Err(e) => Err(Arc::from(e.report().to_string())),
                }
            }
            .boxed()
            .shared();
            recent.rows.insert(event, reading.clone());
            recent.order.push_back(event);
            while recent.order.len() > RECENT {
                if let Some(old) = recent.order.pop_front() {
                    recent.rows.remove(&old);
                }
            }
            reading
        });
        async move {
            let shared =
                shared.ok_or_else(|| AppError::internal("the recent events' lock is poisoned"))?;
            match shared.await {
                Ok(found) => Ok(found.and_then(|rows| rows.downcast_ref::<T>().cloned())),
                Err(report) => Err(AppError::internal(report)),
            }
        }
    }
}

/// The events of the caller's account that `pick` keeps, each turned into its answer by
/// `read` (the rows, read once per event for every subscription: see [`RecentRows`]; `None`
/// skips an event whose row is gone) and delivered when `keep` says so. Every subscription
/// field needs `Permission::Read` and one of the connection's slots.
fn deliver<K, T, P, R, F, W>(
    ctx: &Context<'_>,
    recent: &RecentRows,
    pick: P,
    read: R,
    keep: W,
) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<T>>>
where
    K: Send + 'static,
    T: Clone + Send + Sync + 'static,
    P: Fn(Event) -> Option<K> + Send + 'static,
    R: Fn(Arc<AppState>, i64, K) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Option<T>, AppError>> + Send + 'static,
    W: Fn(&T) -> bool + Send + 'static,
{
    let p = principal(ctx, Permission::Read)?;
    // Behind an `Arc`: every idle subscription holds a pointer, not a copy of the state.
    let st = Arc::new(state(ctx)?.clone());
    let recent = recent.clone();
    let (slots, permit) = slot(ctx)?;
    let events = account_events(&st, p.account_id, permit, slots.too_slow);
    Ok(events
        .filter_map(move |e| {
            std::future::ready(match e {
                Ok(e) => pick(e).map(|key| Ok((e, key))),
                Err(missed) => Some(Err(missed)),
            })
        })
        // Boxed: an idle subscription holds no room for the reading future, only a pointer.
        .then(move |wanted: Result<(Event, K), u64>| {
            let (st, read, recent) = (st.clone(), read.clone(), recent.clone());
            Box::pin(async move {
                match wanted {
                    Ok((event, key)) => recent
                        .get(event, read(st, p.account_id, key))
                        .await
                        .map_err(async_graphql::Error::from),
                    Err(missed) => Err(too_slow_error(missed)),
                }
            })
        })
        .filter_map(move |r| {
            std::future::ready(match r {
                Ok(Some(t)) if keep(&t) => Some(Ok(t)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
        }))
}

/// The subscription root, with the rows of recent events its subscriptions share.
#[derive(Default)]
pub struct SubscriptionRoot {
    recent: RecentRows,
}

/// Live events of the caller's account, over WebSocket at `/graphql/ws`
/// (`graphql-transport-ws`, the token in `connection_init`'s payload). Each is sent after the
/// change is committed.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// An order of the account was created or changed: imported from its store (new or
    /// updated), shipped or canceled here. Sent after the change is committed, with the order
    /// as it stands.
    async fn order_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this store's orders (all stores when left out).")]
        integration_id: Option<ID>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Order>>> {
        let store = integration_id.map(|id| ids::decode("Integration", &id).unwrap_or(0));
        deliver(
            ctx,
            &self.recent,
            move |e| match e {
                Event::OrderChanged {
                    integration_id,
                    order_id,
                    ..
                } if store.is_none_or(|s| s == integration_id) => Some(order_id),
                _ => None,
            },
            |st: Arc<AppState>, account_id, id| async move {
                let found = order::Entity::find_by_id(id)
                    .filter(order::Column::AccountId.eq(account_id))
                    .one(&st.db)
                    .await?;
                Ok(found.map(Order))
            },
            |_| true,
        )
    }

    /// A product's stock changed: set or adjusted here (`setStock`, `adjustStock`), taken by
    /// an imported order or given back when it was canceled (here or on its store), started
    /// or taken from a store by a product import. Sent for each movement, with the product as
    /// it stands and the movement that made the change.
    async fn stock_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this SKU's changes (every product when left out).")] sku: Option<
            String,
        >,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<StockChange>>> {
        deliver(
            ctx,
            &self.recent,
            |e| match e {
                Event::StockChanged {
                    item_id,
                    movement_id,
                    ..
                } => Some((item_id, movement_id)),
                _ => None,
            },
            |st: Arc<AppState>, account_id, (item_id, movement_id)| async move {
                let item = inventory_item::Entity::find_by_id(item_id)
                    .filter(inventory_item::Column::AccountId.eq(account_id))
                    .one(&st.db)
                    .await?;
                let Some(item) = item else {
                    return Ok(None);
                };
                let movement = stock_movement::Entity::find_by_id(movement_id)
                    .one(&st.db)
                    .await?;
                Ok(movement.map(|m| StockChange {
                    product: Product(item),
                    movement: StockMovement(m),
                }))
            },
            move |change: &StockChange| sku.is_none() || change.product.0.sku == sku,
        )
    }

    /// A store refused or failed a push of the account: a listing's stock or price, or a
    /// shipment. Retried pushes that fail again are sent again.
    async fn push_failed(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<PushFailure>>> {
        deliver(
            ctx,
            &self.recent,
            |e| match e {
                Event::PushFailed {
                    listing_id,
                    shipment_id,
                    ..
                } => Some((listing_id, shipment_id)),
                _ => None,
            },
            |st: Arc<AppState>,
             account_id,
             (listing_id, shipment_id): (Option<i64>, Option<i64>)| async move {
                let listing = match listing_id {
                    Some(id) => listing::Entity::find_by_id(id)
                        .filter(listing::Column::AccountId.eq(account_id))
                        .one(&st.db)
                        .await?
                        .map(Listing),
                    None => None,
                };
                let shipment = match shipment_id {
                    Some(id) => shipment::Entity::find_by_id(id)
                        .filter(shipment::Column::AccountId.eq(account_id))
                        .one(&st.db)
                        .await?
                        .map(Shipment),
                    None => None,
                };
                Ok((listing.is_some() || shipment.is_some())
                    .then_some(PushFailure { listing, shipment }))
            },
            |_| true,
        )
    }

    /// An import run of one of the account's stores finished (succeeded or failed).
    async fn sync_run_finished(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<SyncRun>>> {
        deliver(
            ctx,
            &self.recent,
            |e| match e {
                Event::SyncRunFinished { run_id, .. } => Some(run_id),
                _ => None,
            },
            |st: Arc<AppState>, account_id, id| async move {
                let found = sync_run::Entity::find_by_id(id)
                    .filter(sync_run::Column::AccountId.eq(account_id))
                    .one(&st.db)
                    .await?;
                Ok(found.map(SyncRun))
            },
            |_| true,
        )
    }
}
