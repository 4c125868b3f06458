//! What shipped here counts in an import: a shipment made here may not have reached the store
//! yet (or reached it after the store's copy was read), so a line's shipped quantity is never
//! taken lower than what shipped here, and an order with something shipped here is at least
//! `PARTIALLY_SHIPPED`.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::shipping::shipped_status;
use crate::domain::{OrderStatus, ShipmentPushState};
use crate::entities::{order_line as line, shipment, shipment_line};
use crate::error::DbContext;
use crate::sync::SyncError;

/// What shipped here of one order line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct ShippedHere {
    /// In every shipment made here.
    pub total: i64,
    /// In shipments the store does not have yet.
    pub unpushed: i64,
}

/// What shipped here, by order line id, for these orders (no query when `order_ids` is empty).
pub(super) async fn load<C: ConnectionTrait>(
    db: &C,
    order_ids: &[i64],
) -> Result<HashMap<i64, ShippedHere>, SyncError> {
    let mut map: HashMap<i64, ShippedHere> = HashMap::new();
    if order_ids.is_empty() {
        return Ok(map);
    }
    let shipments: HashMap<i64, bool> = shipment::Entity::find()
        .filter(shipment::Column::OrderId.is_in(order_ids.iter().copied()))
        .all(db)
        .await
        .during("loading shipments made here")?
        .into_iter()
        .map(|s| (s.id, s.push_state == ShipmentPushState::Pushed))
        .collect();
    if shipments.is_empty() {
        return Ok(map);
    }
    for l in shipment_line::Entity::find()
        .filter(shipment_line::Column::ShipmentId.is_in(shipments.keys().copied()))
        .all(db)
        .await
        .during("loading shipment lines")?
    {
        let entry = map.entry(l.order_line_id).or_default();
        entry.total += l.quantity;
        if !shipments.get(&l.shipment_id).copied().unwrap_or(false) {
            entry.unpushed += l.quantity;
        }
    }
    Ok(map)
}

/// A line's shipped quantity: the store's, plus what it does not have yet, and never less than
/// what shipped here; at most the line's quantity.
pub(super) fn quantity_shipped(channel: i64, quantity: i64, here: Option<&ShippedHere>) -> i64 {
    let Some(here) = here else {
        return channel;
    };
    channel
        .saturating_add(here.unpushed)
        .max(here.total)
        .min(quantity.max(channel))
}

/// The order's status after the import: a live order the store still shows as new (or
/// partially shipped) takes the status its lines give it when something shipped here.
pub(super) fn status(
    channel: OrderStatus,
    lines: &[line::Model],
    here: &HashMap<i64, ShippedHere>,
) -> OrderStatus {
    let touched = lines.iter().any(|l| here.contains_key(&l.id));
    if !touched || !matches!(channel, OrderStatus::New | OrderStatus::PartiallyShipped) {
        return channel;
    }
    let quantities: Vec<(i64, i64)> = lines
        .iter()
        .map(|l| (l.quantity, l.quantity_shipped))
        .collect();
    shipped_status(channel, &quantities)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_never_ships_less_than_what_shipped_here() {
        let pushed = ShippedHere {
            total: 2,
            unpushed: 0,
        };
        let waiting = ShippedHere {
            total: 2,
            unpushed: 2,
        };
        // The store has our pushed shipment: its figure stands.
        assert_eq!(quantity_shipped(2, 3, Some(&pushed)), 2);
        // The store read before the push reached it.
        assert_eq!(quantity_shipped(0, 3, Some(&pushed)), 2);
        // Not pushed yet: added to what the store shipped itself.
        assert_eq!(quantity_shipped(1, 3, Some(&waiting)), 3);
        assert_eq!(quantity_shipped(1, 3, None), 1);
    }
}
