//! Stock drift at product import, for stores with inventory management on: a listing whose
//! channel figure differs from what orderdeck last pushed to it (edited on the store) is
//! recorded in the ledger (delta 0, the store's figure in the note) and queued to be
//! overwritten; a listing whose figure merely differs from the item's (a push still on its
//! way, a store newly listing a known SKU) is queued without a record.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::SyncError;
use crate::domain::stock::offered;
use crate::domain::{PushKind, StockReason, StockTracking};
use crate::entities::{integration, inventory_item as item, listing};
use crate::error::DbContext;
use crate::services::ledger::{self, Movement};
use crate::services::push;

/// Reconciles the listings of these products on this store (inside the page's transaction).
pub(super) async fn reconcile<C: ConnectionTrait>(
    txn: &C,
    integration: &integration::Model,
    product_ids: &HashSet<i64>,
) -> Result<(), SyncError> {
    if product_ids.is_empty() {
        return Ok(());
    }
    let listings = listing::Entity::find()
        .filter(listing::Column::IntegrationId.eq(integration.id))
        .filter(listing::Column::ExternalProductId.is_in(product_ids.iter().copied()))
        .filter(listing::Column::MissingSince.is_null())
        .filter(listing::Column::Tracking.ne(StockTracking::None))
        .all(txn)
        .await
        .during("loading listings to reconcile")?;
    let items = item::Entity::find()
        .filter(item::Column::Id.is_in(listings.iter().map(|l| l.inventory_item_id)))
        .filter(item::Column::DeletedAt.is_null())
        .all(txn)
        .await
        .during("loading items to reconcile")?;
    let bundles: HashSet<i64> = items.iter().filter(|i| i.bundle).map(|i| i.id).collect();
    let figures: HashMap<i64, i64> =
        crate::services::bundles::figures(txn, integration.account_id, &items)
            .await
            .map_err(|e| SyncError::App(e.context("computing bundle figures to reconcile")))?;
    let mut queue = Vec::new();
    for l in &listings {
        let (Some(seen), Some(&figure)) = (l.channel_stock, figures.get(&l.inventory_item_id))
        else {
            continue;
        };
        // What the store should show: the figure less its buffer.
        let quantity = offered(figure, l.stock_buffer.or(integration.stock_buffer));
        if seen == quantity {
            continue;
        }
        queue.push(l.id);
        // Never pushed (a store newly listing a known SKU): queued, nothing to record yet.
        let Some(expected) = l.pushed_stock else {
            continue;
        };
        // A bundle has no ledger of its own: its listing is overwritten, nothing recorded.
        if seen == expected || bundles.contains(&l.inventory_item_id) {
            continue;
        }
        let at = l.channel_modified_at.map_or(0, |t| t.timestamp_micros());
        let movement = Movement {
            account_id: integration.account_id,
            item_id: l.inventory_item_id,
            reason: StockReason::ChannelDrift,
            actor_user_id: None,
            actor_api_key_id: None,
            integration_id: Some(integration.id),
            order_id: None,
            idempotency_key: Some(format!("listing:{}:drift:{seen}:{at}", l.id)),
            note: Some(format!(
                "{} showed {seen} instead of {expected}; overwritten with {quantity}",
                integration.alias
            )),
            bundle_item_id: None,
        };
        ledger::record_only(txn, movement).await?;
    }
    push::enqueue_listings(txn, integration.account_id, PushKind::Stock, &queue).await?;
    Ok(())
}
