//! Product import (docs/rules.md §4): a store's catalog becomes listings (one per product without
//! options, one per variant otherwise), linked by SKU to one inventory item per SKU across the
//! account's stores. An item created from a listing starts with the channel's stock; later
//! imports take the channel's stock only for stores without inventory management. Listings the
//! channel no longer has are kept and marked missing; items deleted here come back.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SubsecRound, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QuerySelect, Set, TryInsertResult,
};

use super::{ImportReport, SyncError};
use crate::channels::{ChannelProduct, ChannelVariant, SalesChannel};
use crate::db::{self, ScopedFutureExt};
use crate::domain::money::DecimalText;
use crate::domain::{IntegrationStatus, PricePushState, StockReason, StockTracking, StringList};
use crate::entities::{integration, inventory_item as item, listing};
use crate::error::{AppError, DbContext};
use crate::services::events::Event;
use crate::services::ledger::{self, Movement};
use crate::state::AppState;

mod drift;

/// Rows per multi-row statement (well under SQLite's and PostgreSQL's parameter limits).
const CHUNK: usize = 500;

/// A listing's identity on its store: (external product id, external variant id).
type Key = (i64, i64);

/// Imports the whole catalog of the store: listings linked by SKU to inventory items.
/// Each page of products is written in one transaction; counts are of listings.
pub async fn import_products(
    state: &AppState,
    integration: &integration::Model,
    channel: &dyn SalesChannel,
) -> Result<ImportReport, SyncError> {
    if integration.status != IntegrationStatus::Active {
        return Ok(ImportReport::default());
    }
    let categories: HashMap<i64, String> = channel
        .categories()
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let mut report = ImportReport::default();
    let mut seen = HashSet::new();
    for page in 1u32.. {
        let products = channel.products(page).await?;
        if products.is_empty() {
            break;
        }
        let mut drafts: Vec<Draft> = products
            .iter()
            .flat_map(|p| Draft::of_product(p, &categories))
            .filter(|d| seen.insert(d.key()))
            .collect();
        // Ascending SKU order: concurrent imports of other stores lock shared items in the
        // same order, so they wait for each other instead of deadlocking.
        drafts.sort_by(|a, b| a.sku.cmp(&b.sku));
        // A deadlock with another replica's transaction (PostgreSQL aborts one of the two):
        // the page is applied again from the start.
        let (page, moved) = db::write(&state.db, |txn| {
            import_page(txn, integration, drafts.clone()).scope_boxed()
        })
        .await?;
        report.add(page);
        state.pushes_queued();
        state.events.publish(
            moved
                .into_iter()
                .map(|(item_id, movement_id)| Event::StockChanged {
                    account_id: integration.account_id,
                    item_id,
                    movement_id,
                }),
        );
    }
    report.updated += mark_missing(&state.db, integration, &seen).await?;
    Ok(report)
}

/// One listing as the channel shows it now, in the form it is stored.
#[derive(Clone, Debug)]
struct Draft {
    product_id: i64,
    variant_id: i64,
    sku: Option<String>,
    title: String,
    price: DecimalText,
    sale_price: Option<DecimalText>,
    weight: Option<DecimalText>,
    images: StringList,
    categories: StringList,
    image_url: Option<String>,
    tracking: StockTracking,
    channel_stock: Option<i64>,
    modified_at: DateTime<Utc>,
    /// An option variant of a product with options.
    option_variant: bool,
}

fn money(value: Decimal) -> DecimalText {
    DecimalText::normalized(value)
}

fn sku(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl Draft {
    fn key(&self) -> Key {
        (self.product_id, self.variant_id)
    }

    /// One draft for a product without options (its base variant), else one per option
    /// variant (the parent holds no stock and gets no listing).
    fn of_product(p: &ChannelProduct, categories: &HashMap<i64, String>) -> Vec<Draft> {
        let options: Vec<&ChannelVariant> = p.variants.iter().filter(|v| !v.is_base).collect();
        if options.is_empty() {
            let base = p.variants.iter().find(|v| v.is_base);
            let channel_stock = match p.tracking {
                StockTracking::None => None,
                StockTracking::Product => Some(p.inventory_level),
                StockTracking::Variant => {
                    Some(base.map_or(p.inventory_level, |v| v.inventory_level))
                }
            };
            let mut d = Draft::base(p, categories, p.tracking, channel_stock);
            d.variant_id = base.map_or(0, |v| v.external_id);
            d.sku = sku(p.sku.as_deref()).or_else(|| sku(base.and_then(|v| v.sku.as_deref())));
            return vec![d];
        }
        options
            .into_iter()
            .map(|v| {
                let (tracking, channel_stock) = match p.tracking {
                    StockTracking::None => (StockTracking::None, None),
                    StockTracking::Product => (StockTracking::Product, Some(p.inventory_level)),
                    StockTracking::Variant => (StockTracking::Variant, Some(v.inventory_level)),
                };
                let mut d = Draft::base(p, categories, tracking, channel_stock);
                d.variant_id = v.external_id;
                d.option_variant = true;
                d.sku = sku(v.sku.as_deref());
                if !v.option_label.is_empty() {
                    d.title = format!("{} — {}", p.name, v.option_label);
                }
                if let Some(price) = v.price {
                    d.price = money(price);
                }
                if let Some(sale) = v.sale_price {
                    d.sale_price = Some(money(sale));
                }
                if let Some(weight) = v.weight {
                    d.weight = Some(money(weight));
                }
                d
            })
            .collect()
    }

    /// The product's own values (variants override some of them).
    fn base(
        p: &ChannelProduct,
        categories: &HashMap<i64, String>,
        tracking: StockTracking,
        channel_stock: Option<i64>,
    ) -> Draft {
        let names: Vec<String> = p
            .category_ids
            .iter()
            .filter_map(|id| categories.get(id).cloned())
            .collect();
        Draft {
            product_id: p.external_id,
            variant_id: 0,
            sku: None,
            title: p.name.clone(),
            price: money(p.price),
            sale_price: p.sale_price.map(money),
            weight: p.weight.map(money),
            images: StringList(p.image_urls.clone()),
            categories: StringList(names),
            image_url: p.image_urls.first().cloned(),
            tracking,
            channel_stock,
            // Stored timestamps keep microseconds; compare like with like.
            modified_at: p.modified_at.trunc_subsecs(6),
            option_variant: false,
        }
    }
}

/// The page's existing listings and the items they or their SKUs link to.
struct Page {
    listings: HashMap<Key, listing::Model>,
    items: HashMap<i64, item::Model>,
    by_sku: HashMap<String, i64>,
    /// Stock the page moved: (item id, movement id).
    moved: Vec<(i64, i64)>,
}

/// Writes one page; returns its counts and the stock it moved (item id, movement id): new
/// items' starting figures and figures taken from the store.
async fn import_page<C: ConnectionTrait>(
    txn: &C,
    integration: &integration::Model,
    drafts: Vec<Draft>,
) -> Result<(ImportReport, Vec<(i64, i64)>), SyncError> {
    let mut page = Page::load(txn, integration, &drafts).await?;
    let product_ids: HashSet<i64> = drafts.iter().map(|d| d.product_id).collect();
    let mut report = ImportReport::default();
    let mut inserts = Vec::new();
    let now = Utc::now();
    for d in drafts {
        let (item_id, item_changed) = page.link(txn, integration, &d).await?;
        let Some(prior) = page.listings.get(&d.key()) else {
            inserts.push((d.key(), new_listing(integration, item_id, d, now)));
            report.created += 1;
            continue;
        };
        let mut row: listing::ActiveModel = prior.clone().into();
        row.inventory_item_id.set_if_not_equals(item_id);
        row.tracking.set_if_not_equals(d.tracking);
        row.sku.set_if_not_equals(d.sku);
        row.title.set_if_not_equals(d.title);
        // A price changed here that has not reached the store yet stays: the push is on its
        // way (or retried), and the store's figure is the one it replaces.
        if !matches!(
            prior.price_push_state,
            PricePushState::Pending | PricePushState::Failed
        ) {
            row.price.set_if_not_equals(d.price);
            row.sale_price.set_if_not_equals(d.sale_price);
        }
        row.weight.set_if_not_equals(d.weight);
        row.images.set_if_not_equals(Some(d.images));
        row.categories.set_if_not_equals(Some(d.categories));
        row.channel_stock.set_if_not_equals(d.channel_stock);
        row.channel_modified_at
            .set_if_not_equals(Some(d.modified_at));
        row.missing_since.set_if_not_equals(None);
        row.option_variant.set_if_not_equals(d.option_variant);
        if row.is_changed() {
            row.updated_at = Set(now);
            row.update(txn).await.during("updating a listing")?;
            report.updated += 1;
        } else if item_changed {
            report.updated += 1;
        } else {
            report.unchanged += 1;
        }
    }
    // Listing ids follow the channel's order.
    inserts.sort_by_key(|(key, _)| *key);
    let inserts: Vec<listing::ActiveModel> = inserts.into_iter().map(|(_, row)| row).collect();
    for chunk in inserts.chunks(CHUNK) {
        listing::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await
            .during("creating listings")?;
    }
    if integration.inventory_management {
        drift::reconcile(txn, integration, &product_ids).await?;
    }
    Ok((report, page.moved))
}

fn new_listing(
    integration: &integration::Model,
    item_id: i64,
    d: Draft,
    now: DateTime<Utc>,
) -> listing::ActiveModel {
    listing::ActiveModel {
        account_id: Set(integration.account_id),
        integration_id: Set(integration.id),
        inventory_item_id: Set(item_id),
        external_product_id: Set(d.product_id),
        external_variant_id: Set(d.variant_id),
        tracking: Set(d.tracking),
        sku: Set(d.sku),
        title: Set(d.title),
        price: Set(d.price),
        sale_price: Set(d.sale_price),
        weight: Set(d.weight),
        images: Set(Some(d.images)),
        categories: Set(Some(d.categories)),
        channel_stock: Set(d.channel_stock),
        pushed_stock: Set(None),
        pushed_at: Set(None),
        push_error: Set(None),
        missing_since: Set(None),
        channel_modified_at: Set(Some(d.modified_at)),
        option_variant: Set(d.option_variant),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

impl Page {
    /// Two or three queries whatever the page size (more only past [`CHUNK`] SKUs).
    async fn load<C: ConnectionTrait>(
        txn: &C,
        integration: &integration::Model,
        drafts: &[Draft],
    ) -> Result<Page, SyncError> {
        let product_ids: HashSet<i64> = drafts.iter().map(|d| d.product_id).collect();
        let listings = listing::Entity::find()
            .filter(listing::Column::IntegrationId.eq(integration.id))
            .filter(listing::Column::ExternalProductId.is_in(product_ids))
            .all(txn)
            .await
            .during("loading the page's listings")?;
        let linked: Vec<i64> = listings.iter().map(|l| l.inventory_item_id).collect();
        let skus: Vec<String> = drafts
            .iter()
            .filter_map(|d| d.sku.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut items = Vec::new();
        let sku_batches: Vec<&[String]> = skus.chunks(CHUNK).collect();
        let id_batches: Vec<&[i64]> = linked.chunks(CHUNK).collect();
        for n in 0..sku_batches.len().max(id_batches.len()) {
            let sku_batch = sku_batches.get(n).copied().unwrap_or_default().to_vec();
            let id_batch = id_batches.get(n).copied().unwrap_or_default().to_vec();
            items.extend(
                item::Entity::find()
                    .filter(item::Column::AccountId.eq(integration.account_id))
                    .filter(
                        Condition::any()
                            .add(item::Column::Sku.is_in(sku_batch))
                            .add(item::Column::Id.is_in(id_batch)),
                    )
                    .all(txn)
                    .await
                    .during("loading the page's inventory items")?,
            );
        }
        let mut page = Page {
            listings: listings
                .into_iter()
                .map(|l| ((l.external_product_id, l.external_variant_id), l))
                .collect(),
            items: HashMap::new(),
            by_sku: HashMap::new(),
            moved: Vec::new(),
        };
        for i in items {
            page.remember(i);
        }
        Ok(page)
    }

    fn remember(&mut self, i: item::Model) {
        if let Some(sku) = &i.sku {
            self.by_sku.insert(sku.clone(), i.id);
        }
        self.items.insert(i.id, i);
    }

    /// The item the draft links to, created (with its starting stock) when there is none, and
    /// whether the item changed. By SKU; without SKU, the item of the same listing if it is a
    /// SKU-less one of its own.
    async fn link<C: ConnectionTrait>(
        &mut self,
        txn: &C,
        integration: &integration::Model,
        d: &Draft,
    ) -> Result<(i64, bool), SyncError> {
        let found = match &d.sku {
            Some(sku) => self.by_sku.get(sku).copied(),
            None => self
                .listings
                .get(&d.key())
                .map(|l| l.inventory_item_id)
                .filter(|id| self.items.get(id).is_some_and(|i| i.sku.is_none())),
        };
        let id = match found {
            Some(id) => id,
            None => match self.create_item(txn, integration, d).await? {
                Created::New(id) => return Ok((id, true)),
                Created::Existing(id) => id,
            },
        };
        let restored = self.restore(txn, id, d).await?;
        let imported = self.import_channel_stock(txn, integration, id, d).await?;
        Ok((id, restored || imported))
    }

    /// Creates the draft's item with the channel's stock as its starting figure. A concurrent
    /// import of another store may have created the SKU meanwhile: then that item is used.
    async fn create_item<C: ConnectionTrait>(
        &mut self,
        txn: &C,
        integration: &integration::Model,
        d: &Draft,
    ) -> Result<Created, SyncError> {
        let now = Utc::now();
        let row = item::ActiveModel {
            account_id: Set(integration.account_id),
            sku: Set(d.sku.clone()),
            name: Set(d.title.clone()),
            weight: Set(d.weight),
            image_url: Set(d.image_url.clone()),
            quantity: Set(0),
            low_stock_threshold: Set(None),
            low_stock_since: Set(None),
            version: Set(0),
            deleted_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        let inserted = item::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([item::Column::AccountId, item::Column::Sku])
                    .do_nothing()
                    .to_owned(),
            )
            .do_nothing()
            .exec(txn)
            .await
            .during("creating an inventory item")?;
        let TryInsertResult::Inserted(result) = inserted else {
            let Some(sku) = &d.sku else {
                return Err(
                    AppError::internal("an inventory item without SKU was not inserted").into(),
                );
            };
            let existing = item::Entity::find()
                .filter(item::Column::AccountId.eq(integration.account_id))
                .filter(item::Column::Sku.eq(sku.as_str()))
                .one(txn)
                .await
                .during("loading a concurrently created inventory item")?
                .ok_or_else(|| AppError::internal(format!("inventory item {sku} vanished")))?;
            let id = existing.id;
            self.remember(existing);
            return Ok(Created::Existing(id));
        };
        let id = result.last_insert_id;
        let movement = Movement {
            account_id: integration.account_id,
            item_id: id,
            reason: StockReason::InitialImport,
            actor_user_id: None,
            actor_api_key_id: None,
            integration_id: Some(integration.id),
            order_id: None,
            idempotency_key: Some(format!("item:{id}:initial")),
            note: None,
            bundle_item_id: None,
        };
        let quantity = d.channel_stock.unwrap_or(0);
        if let Some(recorded) = ledger::set(txn, movement, quantity).await? {
            self.moved.push((id, recorded.id));
        }
        self.remember(item::Model {
            id,
            account_id: integration.account_id,
            sku: d.sku.clone(),
            name: d.title.clone(),
            weight: d.weight,
            image_url: d.image_url.clone(),
            quantity,
            low_stock_threshold: None,
            low_stock_since: None,
            version: 1,
            deleted_at: None,
            created_at: now,
            updated_at: now,
            bundle: false,
            bin_location: None,
        });
        Ok(Created::New(id))
    }

    /// Brings back an item deleted here (its stock is kept) and names a nameless one.
    async fn restore<C: ConnectionTrait>(
        &mut self,
        txn: &C,
        id: i64,
        d: &Draft,
    ) -> Result<bool, SyncError> {
        let Some(item) = self.items.get_mut(&id) else {
            return Err(AppError::internal(format!("inventory item {id} was not loaded")).into());
        };
        let deleted = item.deleted_at.is_some();
        let nameless = item.name.trim().is_empty();
        if !deleted && !nameless {
            return Ok(false);
        }
        let mut update = item::Entity::update_many()
            .col_expr(item::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(item::Column::Id.eq(id));
        if deleted {
            update = update.col_expr(item::Column::DeletedAt, Expr::value(None::<DateTime<Utc>>));
            item.deleted_at = None;
        }
        if nameless {
            update = update.col_expr(item::Column::Name, Expr::value(d.title.clone()));
            item.name = d.title.clone();
        }
        update
            .exec(txn)
            .await
            .during("restoring an inventory item")?;
        Ok(true)
    }

    /// Without inventory management the channel's figure is imported when it differs (never
    /// into a bundle). The key
    /// names the channel's value and modification time, so each channel change applies once:
    /// two stores sharing a SKU with different figures do not overwrite each other on every run.
    async fn import_channel_stock<C: ConnectionTrait>(
        &mut self,
        txn: &C,
        integration: &integration::Model,
        id: i64,
        d: &Draft,
    ) -> Result<bool, SyncError> {
        if integration.inventory_management {
            return Ok(false);
        }
        let (Some(figure), Some(item)) = (d.channel_stock, self.items.get_mut(&id)) else {
            return Ok(false);
        };
        // A bundle stays a bundle: its figure is its components', never a store's.
        if item.bundle || item.quantity == figure {
            return Ok(false);
        }
        let movement = Movement {
            account_id: integration.account_id,
            item_id: id,
            reason: StockReason::ChannelImport,
            actor_user_id: None,
            actor_api_key_id: None,
            integration_id: Some(integration.id),
            order_id: None,
            idempotency_key: Some(format!(
                "listing:{}:{}:{}:stock:{figure}:{}",
                integration.id,
                d.product_id,
                d.variant_id,
                d.modified_at.timestamp_micros()
            )),
            note: None,
            bundle_item_id: None,
        };
        match ledger::set(txn, movement, figure).await? {
            Some(applied) => {
                item.quantity = applied.quantity_after;
                self.moved.push((id, applied.id));
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// Outcome of [`Page::create_item`].
enum Created {
    New(i64),
    Existing(i64),
}

/// Marks the integration's listings not seen in this (complete) import as missing.
async fn mark_missing(
    db: &DatabaseConnection,
    integration: &integration::Model,
    seen: &HashSet<Key>,
) -> Result<u64, SyncError> {
    let present: Vec<(i64, i64, i64)> = listing::Entity::find()
        .select_only()
        .column(listing::Column::Id)
        .column(listing::Column::ExternalProductId)
        .column(listing::Column::ExternalVariantId)
        .filter(listing::Column::IntegrationId.eq(integration.id))
        .filter(listing::Column::MissingSince.is_null())
        .into_tuple()
        .all(db)
        .await
        .during("loading the store's listings")?;
    let gone: Vec<i64> = present
        .into_iter()
        .filter(|(_, product, variant)| !seen.contains(&(*product, *variant)))
        .map(|(id, ..)| id)
        .collect();
    let now = Utc::now();
    let mut marked = 0;
    for chunk in gone.chunks(CHUNK) {
        marked += listing::Entity::update_many()
            .col_expr(listing::Column::MissingSince, Expr::value(now))
            .col_expr(listing::Column::UpdatedAt, Expr::value(now))
            .filter(listing::Column::Id.is_in(chunk.to_vec()))
            .filter(listing::Column::MissingSince.is_null())
            .exec(db)
            .await
            .during("marking listings missing")?
            .rows_affected;
    }
    Ok(marked)
}
