//! The per-batch work of the order import, inside the caller's transaction: upsert the orders
//! and their lines, then move stock for the orders that became live or were canceled.
//! A batch costs a fixed number of queries (existing orders, their lines, listings, items,
//! inserts); only changed orders, and stock movements, cost one or more each.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::rows::{item_predates, items_created_at, line_row, micros, order_row, padded, Links};
use super::shipped::{self, ShippedHere};
use crate::channels::{ChannelOrder, ChannelOrderLine};
use crate::domain::{OrderStatus, StockReason};
use crate::entities::{integration, order, order_line as line, stock_movement as movement};
use crate::error::{AppError, DbContext};
use crate::services::bundles;
use crate::services::ledger::{self, Movement};
use crate::services::order_actions::{placed_key, restocked_key};
use crate::sync::{ImportReport, SyncError};

/// Orders per batch (bounds the `IN (…)` lists and the statement parameters).
const BATCH: usize = 500;
/// Most rows per multi-row `INSERT` of orders (27 columns) and of lines (16 columns), well
/// under SQLite's 32,766 and PostgreSQL's 65,535 parameters; powers of two (see
/// [`statement_sizes`]).
const ORDER_ROWS_PER_INSERT: usize = 256;
const LINE_ROWS_PER_INSERT: usize = 1024;

/// How many rows each multi-row statement for `n` rows takes: powers of two of at most `max`
/// (a power of two), largest first. The statement texts then repeat from page to page, so
/// the driver prepares each one once and takes it from its statement cache afterwards;
/// parsing a statement of thousands of parameters costs more than running it.
fn statement_sizes(n: usize, max: usize) -> impl Iterator<Item = usize> {
    let mut rest = n;
    std::iter::from_fn(move || {
        if rest == 0 {
            return None;
        }
        let size = if rest >= max { max } else { 1 << rest.ilog2() };
        rest -= size;
        Some(size)
    })
}

/// Stores `orders` (a page from the channel) for `integration`, inside `db` (a transaction:
/// every order of the page is applied or none is). Orders the channel calls Incomplete, with
/// a status it does not know, or placed before the integration's `import_orders_since` are
/// skipped; an order listed twice counts once, as its last copy.
///
/// Per order: upsert by store and external id, lines by order and external id, each line
/// linked to this store's listing (by product and variant id, else SKU) and the account's
/// inventory item (the listing's, else by SKU). An order placed after the store was
/// connected takes its linked lines' quantities off stock once, when first seen live (only
/// from items that existed when it was placed: a later item started from the channel's
/// figure, which already counted it); one canceled or refunded on the channel before
/// anything of it shipped gets back what it took, once. Historical orders never move stock.
/// Applying the same orders again changes nothing.
pub async fn apply_orders<C: ConnectionTrait>(
    db: &C,
    integration: &integration::Model,
    orders: &[ChannelOrder],
    changed: &mut Changed,
) -> Result<ImportReport, SyncError> {
    let mut last_copy: HashMap<i64, usize> = HashMap::new();
    for (i, o) in orders.iter().enumerate() {
        last_copy.insert(o.external_id, i);
    }
    let wanted: Vec<(&ChannelOrder, OrderStatus)> = orders
        .iter()
        .enumerate()
        .filter(|(i, o)| last_copy.get(&o.external_id) == Some(i))
        .filter(|(_, o)| o.placed_at >= integration.import_orders_since)
        .filter_map(|(_, o)| {
            OrderStatus::from_bigcommerce(o.status_id, o.items_total, o.items_shipped)
                .map(|s| (o, s))
        })
        .collect();
    let mut report = ImportReport::default();
    for batch in wanted.chunks(BATCH) {
        report.add(apply_batch(db, integration, batch, changed).await?);
    }
    Ok(report)
}

/// What applying orders changed, for the events published once it is committed.
#[derive(Debug, Default)]
pub struct Changed {
    /// Orders created or updated.
    pub orders: Vec<i64>,
    /// Stock taken or given back: (inventory item id, movement id).
    pub stock: Vec<(i64, i64)>,
}

/// What happens to stock for one order of the batch.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StockStep {
    None,
    Take,
    Restock,
}

/// Decides the stock step and records it in the row's flags. A cancellation gives stock back
/// only when nothing of the order shipped, on the store or here (`shipped_here`: a shipment
/// made here, even one the store does not have yet: the goods have left).
fn stock_step(
    row: &mut order::Model,
    status: OrderStatus,
    ch: &ChannelOrder,
    shipped_here: bool,
) -> StockStep {
    let nothing_shipped =
        !shipped_here && ch.items_shipped <= 0 && ch.lines.iter().all(|l| l.quantity_shipped <= 0);
    if !row.historical && status.is_live() && !row.stock_taken {
        row.stock_taken = true;
        StockStep::Take
    } else if matches!(status, OrderStatus::Canceled | OrderStatus::Refunded)
        && row.stock_taken
        && !row.restocked
        && nothing_shipped
    {
        row.restocked = true;
        StockStep::Restock
    } else {
        StockStep::None
    }
}

/// The channel's lines, one per external id (the last copy wins).
fn unique_lines(ch: &ChannelOrder) -> Vec<&ChannelOrderLine> {
    let mut last: HashMap<i64, usize> = HashMap::new();
    for (i, l) in ch.lines.iter().enumerate() {
        last.insert(l.external_id, i);
    }
    ch.lines
        .iter()
        .enumerate()
        .filter(|(i, l)| last.get(&l.external_id) == Some(i))
        .map(|(_, l)| l)
        .collect()
}

/// How the stored lines of an order change.
#[derive(Default)]
struct LinePlan {
    insert: Vec<line::Model>,
    update: Vec<line::Model>,
    delete: Vec<i64>,
}

impl LinePlan {
    fn is_empty(&self) -> bool {
        self.insert.is_empty() && self.update.is_empty() && self.delete.is_empty()
    }
}

fn plan_lines(
    row: &order::Model,
    ch: &ChannelOrder,
    links: &Links,
    old: &[line::Model],
    here: &HashMap<i64, ShippedHere>,
) -> LinePlan {
    let mut plan = LinePlan::default();
    let by_external: HashMap<i64, &line::Model> = old.iter().map(|l| (l.external_id, l)).collect();
    let lines = unique_lines(ch);
    for l in &lines {
        let stored = by_external.get(&l.external_id);
        let mut wanted = line_row(
            row.account_id,
            row.id,
            stored.map_or(0, |s| s.id),
            l,
            links.resolve(l),
        );
        wanted.quantity_shipped =
            shipped::quantity_shipped(l.quantity_shipped, l.quantity, here.get(&wanted.id));
        match stored {
            None => plan.insert.push(wanted),
            Some(s) if **s != wanted => plan.update.push(wanted),
            Some(_) => {}
        }
    }
    // Lines removed on the channel (an edited order) go here too.
    plan.delete = old
        .iter()
        .filter(|o| !lines.iter().any(|l| l.external_id == o.external_id))
        .map(|o| o.id)
        .collect();
    plan
}

/// The stored lines as the plan leaves them (new lines have shipped nothing here).
fn lines_after(stored: &[line::Model], plan: &LinePlan) -> Vec<line::Model> {
    stored
        .iter()
        .filter(|l| !plan.delete.contains(&l.id))
        .map(|l| plan.update.iter().find(|u| u.id == l.id).unwrap_or(l))
        .chain(plan.insert.iter())
        .cloned()
        .collect()
}

fn insertable_line(l: line::Model) -> line::ActiveModel {
    let mut am = l.into_active_model().reset_all();
    am.id = ActiveValue::NotSet;
    am
}

async fn apply_batch<C: ConnectionTrait>(
    db: &C,
    integration: &integration::Model,
    batch: &[(&ChannelOrder, OrderStatus)],
    changed: &mut Changed,
) -> Result<ImportReport, SyncError> {
    let now = micros(Utc::now());
    let mut report = ImportReport::default();
    let existing: HashMap<i64, order::Model> = order::Entity::find()
        .filter(order::Column::IntegrationId.eq(integration.id))
        .filter(order::Column::ExternalId.is_in(padded(batch.iter().map(|(o, _)| o.external_id))))
        // Rows are rewritten from what is read here: a `cancelOrder` committing in between
        // must wait (PostgreSQL; SQLite's write lock is held from the start already).
        .lock_exclusive()
        .all(db)
        .await
        .during("loading stored orders")?
        .into_iter()
        .map(|o| (o.external_id, o))
        .collect();
    let mut old_lines: HashMap<i64, Vec<line::Model>> = HashMap::new();
    if !existing.is_empty() {
        for l in line::Entity::find()
            .filter(line::Column::OrderId.is_in(existing.values().map(|o| o.id)))
            .all(db)
            .await
            .during("loading stored order lines")?
        {
            old_lines.entry(l.order_id).or_default().push(l);
        }
    }
    let existing_ids: Vec<i64> = existing.values().map(|o| o.id).collect();
    let here = shipped::load(db, &existing_ids).await?;
    let channel_orders: Vec<&ChannelOrder> = batch.iter().map(|(o, _)| *o).collect();
    let links = Links::load(db, integration, &channel_orders).await?;

    let mut created: Vec<(order::Model, &ChannelOrder)> = Vec::new();
    // (external id, placed at) of orders taking stock; order ids of orders restocking.
    let mut takes: Vec<(i64, DateTime<Utc>)> = Vec::new();
    let mut restocks: Vec<i64> = Vec::new();
    for (ch, status) in batch {
        let old = existing.get(&ch.external_id);
        let mut row = order_row(integration, ch, *status, old, now);
        let status = row.status;
        let shipped_here = old.is_some_and(|o| {
            old_lines.get(&o.id).is_some_and(|lines| {
                lines
                    .iter()
                    .any(|l| here.get(&l.id).is_some_and(|h| h.total > 0))
            })
        });
        match stock_step(&mut row, status, ch, shipped_here) {
            StockStep::Take => takes.push((ch.external_id, row.placed_at)),
            StockStep::Restock => restocks.push(row.id),
            StockStep::None => {}
        }
        let Some(old) = old else {
            report.created += 1;
            created.push((row, ch));
            continue;
        };
        let stored_lines = old_lines.get(&old.id).map_or(&[][..], Vec::as_slice);
        let plan = plan_lines(&row, ch, &links, stored_lines, &here);
        if !here.is_empty() {
            let after = lines_after(stored_lines, &plan);
            row.status = shipped::status(row.status, &after, &here);
            if row.status == OrderStatus::Shipped && row.shipped_at.is_none() {
                row.shipped_at = Some(now);
            }
        }
        if row == *old && plan.is_empty() {
            report.unchanged += 1;
            continue;
        }
        report.updated += 1;
        changed.orders.push(old.id);
        row.updated_at = now;
        let mut am = row.into_active_model().reset_all();
        am.id = ActiveValue::Unchanged(old.id);
        am.imported_at = ActiveValue::NotSet;
        am.update(db).await.during("updating an order")?;
        write_line_plan(db, plan).await?;
    }

    let mut ids: HashMap<i64, i64> = existing.values().map(|o| (o.external_id, o.id)).collect();
    if !created.is_empty() {
        let new: Vec<i64> = created.iter().map(|(_, ch)| ch.external_id).collect();
        insert_created(db, integration, &links, created, &mut ids).await?;
        changed
            .orders
            .extend(new.iter().filter_map(|external| ids.get(external)));
    }
    if !takes.is_empty() {
        take_stock(db, integration, &takes, &ids, &mut changed.stock).await?;
    }
    if !restocks.is_empty() {
        restock(db, integration, &restocks, &mut changed.stock).await?;
    }
    Ok(report)
}

async fn write_line_plan<C: ConnectionTrait>(db: &C, plan: LinePlan) -> Result<(), SyncError> {
    for l in plan.update {
        let id = l.id;
        let mut am = l.into_active_model().reset_all();
        am.id = ActiveValue::Unchanged(id);
        am.update(db).await.during("updating an order line")?;
    }
    if !plan.insert.is_empty() {
        line::Entity::insert_many(plan.insert.into_iter().map(insertable_line))
            .exec_without_returning(db)
            .await
            .during("inserting order lines")?;
    }
    if !plan.delete.is_empty() {
        line::Entity::delete_many()
            .filter(line::Column::Id.is_in(plan.delete))
            .exec(db)
            .await
            .during("deleting order lines removed on the channel")?;
    }
    Ok(())
}

/// Inserts the batch's new orders and their lines in a few multi-row statements; fills `ids`
/// (external id → order id).
async fn insert_created<C: ConnectionTrait>(
    db: &C,
    integration: &integration::Model,
    links: &Links,
    created: Vec<(order::Model, &ChannelOrder)>,
    ids: &mut HashMap<i64, i64>,
) -> Result<(), SyncError> {
    let (rows, created): (Vec<order::Model>, Vec<&ChannelOrder>) = created.into_iter().unzip();
    let sizes = statement_sizes(rows.len(), ORDER_ROWS_PER_INSERT);
    let mut rows = rows.into_iter();
    for size in sizes {
        let chunk = rows.by_ref().take(size).map(|row| {
            let mut am = row.into_active_model().reset_all();
            am.id = ActiveValue::NotSet;
            am
        });
        order::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await
            .during("inserting orders")?;
    }
    let new_ids: Vec<(i64, i64)> = order::Entity::find()
        .select_only()
        .columns([order::Column::ExternalId, order::Column::Id])
        .filter(order::Column::IntegrationId.eq(integration.id))
        .filter(order::Column::ExternalId.is_in(padded(created.iter().map(|ch| ch.external_id))))
        .into_tuple()
        .all(db)
        .await
        .during("reading the ids of inserted orders")?;
    ids.extend(new_ids);
    let mut lines = Vec::new();
    for ch in created {
        let Some(&order_id) = ids.get(&ch.external_id) else {
            return Err(AppError::internal(format!(
                "order {} vanished after its insert",
                ch.external_id
            ))
            .into());
        };
        for l in unique_lines(ch) {
            lines.push(insertable_line(line_row(
                integration.account_id,
                order_id,
                0,
                l,
                links.resolve(l),
            )));
        }
    }
    let sizes = statement_sizes(lines.len(), LINE_ROWS_PER_INSERT);
    let mut lines = lines.into_iter();
    for size in sizes {
        line::Entity::insert_many(lines.by_ref().take(size))
            .exec_without_returning(db)
            .await
            .during("inserting order lines")?;
    }
    Ok(())
}

fn ledger_error(e: AppError, what: String) -> SyncError {
    SyncError::App(e.context(what))
}

/// Takes the linked lines' quantities off stock, once per line (idempotency key); a line of
/// a bundle takes its share from each component instead (docs/rules.md §4). Adds each (item,
/// movement) it records to `moved`.
async fn take_stock<C: ConnectionTrait>(
    db: &C,
    integration: &integration::Model,
    takes: &[(i64, DateTime<Utc>)],
    ids: &HashMap<i64, i64>,
    moved: &mut Vec<(i64, i64)>,
) -> Result<(), SyncError> {
    let placed: HashMap<i64, DateTime<Utc>> = takes
        .iter()
        .filter_map(|(ext, at)| ids.get(ext).map(|id| (*id, *at)))
        .collect();
    let lines = line::Entity::find()
        .filter(line::Column::OrderId.is_in(placed.keys().copied()))
        .filter(line::Column::InventoryItemId.is_not_null())
        .order_by_asc(line::Column::Id)
        .all(db)
        .await
        .during("loading the lines of orders taking stock")?;
    let item_ids: Vec<i64> = lines.iter().filter_map(|l| l.inventory_item_id).collect();
    let created = items_created_at(db, integration.account_id, item_ids.iter().copied()).await?;
    let bundles = bundles::components(db, integration.account_id, &item_ids)
        .await
        .map_err(|e| ledger_error(e, "loading the components of bundles sold".to_string()))?;
    // (SKU, line, item, units, bundle): a bundle's line becomes one take per component.
    type Take<'l> = (Option<String>, &'l line::Model, i64, i64, Option<i64>);
    let mut plan: Vec<Take> = Vec::new();
    for l in &lines {
        let (Some(item_id), Some(at)) = (l.inventory_item_id, placed.get(&l.order_id)) else {
            continue;
        };
        if l.quantity <= 0 || !item_predates(created.get(&item_id), *at) {
            continue;
        }
        match bundles.get(&item_id) {
            Some(parts) => plan.extend(parts.iter().map(|c| {
                let units = l.quantity.saturating_mul(c.quantity);
                (c.item.sku.clone(), l, c.item.id, units, Some(item_id))
            })),
            None => plan.push((l.sku.clone(), l, item_id, l.quantity, None)),
        }
    }
    // Items are locked in SKU order, like the product import does: two imports (of two
    // stores, on two replicas) wait for each other instead of deadlocking.
    plan.sort_by(|a, b| (&a.0, a.1.id, a.2).cmp(&(&b.0, b.1.id, b.2)));
    for (_, l, item_id, units, bundle) in plan {
        let component = bundle.map(|_| item_id);
        let m = Movement {
            account_id: integration.account_id,
            item_id,
            reason: StockReason::OrderPlaced,
            actor_user_id: None,
            actor_api_key_id: None,
            integration_id: Some(integration.id),
            order_id: Some(l.order_id),
            idempotency_key: Some(placed_key(l.order_id, l.id, component)),
            note: None,
            bundle_item_id: bundle,
        };
        let recorded = ledger::adjust(db, m, -units).await.map_err(|e| {
            ledger_error(
                e,
                format!("taking stock for order {} line {}", l.order_id, l.id),
            )
        })?;
        moved.extend(recorded.map(|r| (item_id, r.id)));
    }
    Ok(())
}

/// Gives back, once, what the orders took: driven by the ledger, so the same items get back
/// the same quantities even if lines were relinked or removed since. Adds each (item,
/// movement) it records to `moved`.
async fn restock<C: ConnectionTrait>(
    db: &C,
    integration: &integration::Model,
    order_ids: &[i64],
    moved: &mut Vec<(i64, i64)>,
) -> Result<(), SyncError> {
    let taken = movement::Entity::find()
        .filter(movement::Column::AccountId.eq(integration.account_id))
        .filter(movement::Column::OrderId.is_in(order_ids.iter().copied()))
        .filter(movement::Column::Reason.eq(StockReason::OrderPlaced))
        .order_by_asc(movement::Column::Id)
        .all(db)
        .await
        .during("loading the stock taken by canceled orders")?;
    for m in taken {
        let Some(order_id) = m.order_id else { continue };
        if m.delta >= 0 {
            continue;
        }
        let back = Movement {
            account_id: integration.account_id,
            item_id: m.inventory_item_id,
            reason: StockReason::OrderRestocked,
            actor_user_id: None,
            actor_api_key_id: None,
            integration_id: Some(integration.id),
            order_id: Some(order_id),
            idempotency_key: Some(restocked_key(&m, order_id)),
            note: None,
            bundle_item_id: m.bundle_item_id,
        };
        let item_id = m.inventory_item_id;
        let recorded = ledger::adjust(db, back, -m.delta)
            .await
            .map_err(|e| ledger_error(e, format!("restocking canceled order {order_id}")))?;
        moved.extend(recorded.map(|r| (item_id, r.id)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::statement_sizes;

    #[test]
    fn statements_take_powers_of_two_of_rows() {
        let sizes = |n, max| statement_sizes(n, max).collect::<Vec<_>>();
        assert_eq!(sizes(0, 256), Vec::<usize>::new());
        assert_eq!(sizes(1, 256), vec![1]);
        assert_eq!(sizes(245, 256), vec![128, 64, 32, 16, 4, 1]);
        assert_eq!(sizes(256, 256), vec![256]);
        assert_eq!(sizes(600, 256), vec![256, 256, 64, 16, 8]);
        assert_eq!(sizes(600, 256).iter().sum::<usize>(), 600);
    }
}
