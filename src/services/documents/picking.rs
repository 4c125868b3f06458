//! Pick lists (docs/rules.md §7): what the named orders still need, summed per product, in the
//! order a picker walks — bin location, then SKU, products without a bin last. A bundle is
//! picked as its components. Pure once the rows are read: [`build`] does the summing.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::domain::OrderStatus;
use crate::entities::{inventory_item as item, order, order_line};
use crate::error::AppResult;
use crate::pdf::{Logo, PickLine, PickList};
use crate::services::bundles::{self, Component};
use crate::state::AppState;

/// What a line of an order still needs: ordered less shipped, nothing for a canceled order.
pub fn to_pick(o: &order::Model, l: &order_line::Model) -> i64 {
    if o.status == OrderStatus::Canceled {
        0
    } else {
        (l.quantity - l.quantity_shipped).max(0)
    }
}

/// Where a pick line's units come from: a product here, or an order line's own SKU or name
/// when it is linked to none.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Item(i64),
    Unlinked(String),
}

/// The walking order: bin (blank last, compared without case), then SKU, then name.
fn walk_key(line: &PickLine) -> (bool, String, String, String) {
    (
        line.bin.is_none(),
        line.bin.as_deref().unwrap_or("").to_lowercase(),
        line.sku.clone(),
        line.name.clone(),
    )
}

/// Sums what `orders` (in their given order) still need per product, bundles taken apart into
/// their components, and sorts the lines in walking order. `pictures`: products' pictures by
/// item id.
pub fn build(
    orders: &[order::Model],
    lines: &HashMap<i64, Vec<order_line::Model>>,
    items: &HashMap<i64, item::Model>,
    components: &HashMap<i64, Vec<Component>>,
    pictures: &HashMap<i64, Arc<Logo>>,
    printed_at: DateTime<Utc>,
) -> PickList {
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut picks: Vec<PickLine> = Vec::new();
    let mut nothing_to_pick = Vec::new();
    let empty = Vec::new();
    for o in orders {
        let mut picked = false;
        for l in lines.get(&o.id).unwrap_or(&empty) {
            let units = to_pick(o, l);
            if units == 0 {
                continue;
            }
            picked = true;
            let item = l.inventory_item_id.and_then(|id| items.get(&id));
            // A bundle's components, or the line's own product.
            let parts: Vec<(Key, Option<&item::Model>, i64, Option<&str>)> =
                match item.and_then(|i| components.get(&i.id).filter(|_| i.bundle)) {
                    Some(parts) => parts
                        .iter()
                        .map(|c| {
                            (
                                Key::Item(c.item.id),
                                Some(&c.item),
                                units * c.quantity,
                                item.and_then(|b| b.sku.as_deref()),
                            )
                        })
                        .collect(),
                    None => vec![(
                        item.map_or_else(
                            || {
                                Key::Unlinked(
                                    l.sku.clone().unwrap_or_else(|| format!("name:{}", l.name)),
                                )
                            },
                            |i| Key::Item(i.id),
                        ),
                        item,
                        units,
                        None,
                    )],
                };
            for (key, product, units, bundle) in parts {
                let at = *index.entry(key).or_insert_with(|| {
                    picks.push(PickLine {
                        bin: product.and_then(|p| p.bin_location.clone()),
                        sku: product
                            .and_then(|p| p.sku.clone())
                            .or_else(|| l.sku.clone())
                            .unwrap_or_default(),
                        name: product.map_or_else(|| l.name.clone(), |p| p.name.clone()),
                        quantity: 0,
                        orders: Vec::new(),
                        bundles: Vec::new(),
                        picture: product.and_then(|p| pictures.get(&p.id).cloned()),
                    });
                    picks.len() - 1
                });
                let pick = &mut picks[at];
                pick.quantity += units;
                match pick.orders.last_mut() {
                    Some((number, n)) if *number == o.number => *n += units,
                    _ => pick.orders.push((o.number.clone(), units)),
                }
                if let Some(b) = bundle {
                    if !pick.bundles.iter().any(|x| x == b) {
                        pick.bundles.push(b.to_string());
                    }
                }
            }
        }
        if !picked {
            nothing_to_pick.push(o.number.clone());
        }
    }
    picks.sort_by_key(walk_key);
    PickList {
        printed_at,
        order_count: orders.len(),
        lines: picks,
        nothing_to_pick,
    }
}

/// The order ids in the order their parcels come off a pick walk: by the walking position of
/// the first product each needs (orders with nothing to pick last), then by when they were
/// placed.
pub fn walk_order(
    orders: &[order::Model],
    lines: &HashMap<i64, Vec<order_line::Model>>,
    items: &HashMap<i64, item::Model>,
    components: &HashMap<i64, Vec<Component>>,
) -> Vec<i64> {
    let list = build(
        orders,
        lines,
        items,
        components,
        &HashMap::new(),
        Utc::now(),
    );
    let position: HashMap<&str, usize> = list
        .lines
        .iter()
        .enumerate()
        .flat_map(|(i, p)| p.orders.iter().map(move |(n, _)| (n.as_str(), i)))
        .fold(HashMap::new(), |mut m, (n, i)| {
            let e = m.entry(n).or_insert(i);
            *e = (*e).min(i);
            m
        });
    let mut sorted: Vec<&order::Model> = orders.iter().collect();
    sorted.sort_by_key(|o| {
        (
            position
                .get(o.number.as_str())
                .copied()
                .unwrap_or(usize::MAX),
            o.placed_at,
            o.id,
        )
    });
    sorted.into_iter().map(|o| o.id).collect()
}

/// The products' pictures (first picture on the store), small, by item id: the stored
/// thumbnails, fetching those missing (see `services::thumbnails`); decoding is CPU-bound
/// work done here, so call it from blocking code with the PNGs `thumbnails::for_urls` gave.
pub fn pictures(
    renderer: &crate::pdf::Renderer,
    items: &HashMap<i64, item::Model>,
    pngs: &HashMap<String, Vec<u8>>,
) -> HashMap<i64, Arc<Logo>> {
    items
        .values()
        .filter_map(|i| {
            let url = i.image_url.as_ref()?;
            let png = pngs.get(url)?;
            let key = format!("picture:{url}");
            match renderer.logo(&key, png) {
                Ok(logo) => Some((i.id, logo)),
                Err(e) => {
                    tracing::warn!(item_id = i.id, error = %e, "stored product picture does not decode");
                    None
                }
            }
        })
        .collect()
}

/// The rows a pick list of `orders` reads: their lines, their products and the bundles'
/// components (four queries whatever the number of orders).
pub async fn rows(
    state: &AppState,
    account_id: i64,
    orders: &[order::Model],
) -> AppResult<(
    HashMap<i64, Vec<order_line::Model>>,
    HashMap<i64, item::Model>,
    HashMap<i64, Vec<Component>>,
)> {
    let mut lines: HashMap<i64, Vec<order_line::Model>> = HashMap::new();
    for line in order_line::Entity::find()
        .filter(order_line::Column::AccountId.eq(account_id))
        .filter(order_line::Column::OrderId.is_in(orders.iter().map(|o| o.id)))
        .order_by_asc(order_line::Column::Id)
        .all(&state.db)
        .await?
    {
        lines.entry(line.order_id).or_default().push(line);
    }
    let items: HashMap<i64, item::Model> = item::Entity::find()
        .filter(item::Column::AccountId.eq(account_id))
        .filter(
            item::Column::Id.is_in(lines.values().flatten().filter_map(|l| l.inventory_item_id)),
        )
        .all(&state.db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    let bundle_ids: Vec<i64> = items.values().filter(|i| i.bundle).map(|i| i.id).collect();
    let components = bundles::components(&state.db, account_id, &bundle_ids).await?;
    Ok((lines, items, components))
}
