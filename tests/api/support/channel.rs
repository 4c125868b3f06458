//! The one in-memory [`SalesChannel`] of the tests, for driving order and product imports
//! without HTTP; and the import reports they expect.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use orderdeck::channels::{
    ChannelCategory, ChannelError, ChannelOrder, ChannelProduct, PriceUpdate, SalesChannel,
    StockLevel,
};
use orderdeck::sync::ImportReport;
use rust_decimal::Decimal;

/// Runs before an order page is served: (the page, the store's orders).
pub type PageHook = Box<dyn FnMut(u32, &mut Vec<ChannelOrder>) + Send>;

/// A store held in memory. Orders come in pages of `page_size` over those modified since a
/// moment, oldest modification first, like the real one; it can fail once on an order page
/// and run a hook before serving one (a merchant acting during an import). Products come in
/// pages of `page_size` by id from a catalog the test edits directly, with three categories.
/// Every call counts; writes are refused.
pub struct FakeChannel {
    pub orders: Mutex<Vec<ChannelOrder>>,
    pub catalog: Mutex<BTreeMap<i64, ChannelProduct>>,
    pub categories: Vec<ChannelCategory>,
    pub page_size: usize,
    pub order_calls: AtomicU64,
    pub product_calls: AtomicU64,
    pub category_calls: AtomicU64,
    pub fail_once_on_page: Mutex<Option<u32>>,
    pub before_page: Mutex<Option<PageHook>>,
}

impl FakeChannel {
    fn empty(page_size: usize) -> Self {
        FakeChannel {
            orders: Mutex::new(Vec::new()),
            catalog: Mutex::new(BTreeMap::new()),
            categories: Vec::new(),
            page_size,
            order_calls: AtomicU64::new(0),
            product_calls: AtomicU64::new(0),
            category_calls: AtomicU64::new(0),
            fail_once_on_page: Mutex::new(None),
            before_page: Mutex::new(None),
        }
    }

    /// A store with these orders (pages of 250), no products and no categories.
    pub fn with_orders(orders: Vec<ChannelOrder>) -> Self {
        Self::paged(orders, 250)
    }

    /// A store with these orders in pages of `page_size`.
    pub fn paged(orders: Vec<ChannelOrder>, page_size: usize) -> Self {
        let channel = Self::empty(page_size);
        *channel.orders.lock().unwrap() = orders;
        channel
    }

    /// A store with this catalog (pages of 250), three categories and no orders.
    pub fn with_products(products: Vec<ChannelProduct>) -> Self {
        let mut channel = Self::empty(250);
        *channel.catalog.lock().unwrap() =
            products.into_iter().map(|p| (p.external_id, p)).collect();
        channel.categories = vec![
            ChannelCategory {
                id: 1,
                parent_id: 0,
                name: "Shirts".into(),
            },
            ChannelCategory {
                id: 2,
                parent_id: 1,
                name: "Summer Sale".into(),
            },
            ChannelCategory {
                id: 3,
                parent_id: 0,
                name: "Mugs".into(),
            },
        ];
        channel
    }

    /// The merchant changes an order on the channel (its modification time moves on).
    pub fn change(&self, id: i64, f: impl FnOnce(&mut ChannelOrder)) {
        let mut orders = self.orders.lock().unwrap();
        let o = orders.iter_mut().find(|o| o.external_id == id).unwrap();
        f(o);
        o.modified_at = o.modified_at.max(Utc::now().trunc_subsecs(0)) + Duration::seconds(1);
    }

    /// Order reads so far.
    pub fn calls(&self) -> u64 {
        self.order_calls.load(Ordering::SeqCst)
    }

    /// The merchant edits a product of the catalog.
    pub fn edit(&self, id: i64, f: impl FnOnce(&mut ChannelProduct)) {
        let mut catalog = self.catalog.lock().unwrap();
        f(catalog.get_mut(&id).unwrap());
    }

    /// The merchant deletes a product; the product.
    pub fn remove(&self, id: i64) -> ChannelProduct {
        self.catalog.lock().unwrap().remove(&id).unwrap()
    }

    /// The merchant adds (or replaces) a product.
    pub fn put(&self, p: ChannelProduct) {
        self.catalog.lock().unwrap().insert(p.external_id, p);
    }
}

#[async_trait::async_trait]
impl SalesChannel for FakeChannel {
    async fn orders_modified_since(
        &self,
        since: DateTime<Utc>,
        page: u32,
    ) -> Result<Vec<ChannelOrder>, ChannelError> {
        self.order_calls.fetch_add(1, Ordering::SeqCst);
        {
            let mut fail = self.fail_once_on_page.lock().unwrap();
            if *fail == Some(page) {
                *fail = None;
                return Err(ChannelError::Server { status: 500 });
            }
        }
        let mut orders = self.orders.lock().unwrap();
        if let Some(hook) = self.before_page.lock().unwrap().as_mut() {
            hook(page, &mut orders);
        }
        let mut matching: Vec<&ChannelOrder> =
            orders.iter().filter(|o| o.modified_at >= since).collect();
        matching.sort_by_key(|o| (o.modified_at, o.external_id));
        Ok(matching
            .into_iter()
            .skip((page as usize - 1) * self.page_size)
            .take(self.page_size)
            .cloned()
            .collect())
    }

    async fn order(&self, external_id: i64) -> Result<Option<ChannelOrder>, ChannelError> {
        self.order_calls.fetch_add(1, Ordering::SeqCst);
        Ok(self
            .orders
            .lock()
            .unwrap()
            .iter()
            .find(|o| o.external_id == external_id)
            .cloned())
    }

    async fn products(&self, page: u32) -> Result<Vec<ChannelProduct>, ChannelError> {
        self.product_calls.fetch_add(1, Ordering::Relaxed);
        let skip = (page as usize - 1) * self.page_size;
        Ok(self
            .catalog
            .lock()
            .unwrap()
            .values()
            .skip(skip)
            .take(self.page_size)
            .cloned()
            .collect())
    }

    async fn categories(&self) -> Result<Vec<ChannelCategory>, ChannelError> {
        self.category_calls.fetch_add(1, Ordering::Relaxed);
        Ok(self.categories.clone())
    }

    fn api_calls(&self) -> u64 {
        self.calls()
            + self.product_calls.load(Ordering::Relaxed)
            + self.category_calls.load(Ordering::Relaxed)
    }

    async fn set_stock_levels(&self, _levels: &[StockLevel]) -> Result<(), ChannelError> {
        Err(ChannelError::UnexpectedResponse(
            "the fake store takes no writes".into(),
        ))
    }

    async fn update_price(&self, _update: &PriceUpdate) -> Result<(), ChannelError> {
        Err(ChannelError::UnexpectedResponse(
            "the fake store takes no writes".into(),
        ))
    }
}

/// The report an import should return.
pub fn report(created: u64, updated: u64, unchanged: u64) -> ImportReport {
    ImportReport {
        created,
        updated,
        unchanged,
    }
}

/// A decimal from its text.
pub fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}
