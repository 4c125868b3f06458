//! What one shipment request becomes, decided without I/O: the checked input, the lines and
//! quantities per shipping address, or every reason it cannot be shipped.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::domain::shipping::MAX_STORE_TRACKING_LEN;
use crate::domain::{OrderStatus, ShipmentMethod};
use crate::entities::order_line;
use crate::error::{UserError, UserErrorCode as Code};
use crate::pdf::check_tracking_number;

/// Longest carrier or service name.
pub const MAX_NAME_LEN: usize = 100;
/// Longest idempotency key.
pub const MAX_KEY_LEN: usize = 100;
/// Heaviest parcel accepted (in the store's weight unit).
pub const MAX_WEIGHT: i64 = 100_000;

/// One line of a shipment request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineRequest {
    /// The order line (`None`: the id given was not an order line's).
    pub line_id: Option<i64>,
    /// How many of it ship.
    pub quantity: i64,
}

/// One shipment request of `shipOrders`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShipmentRequest {
    /// The order (`None`: the id given was not an order's).
    pub order_id: Option<i64>,
    /// How it travels.
    pub method: ShipmentMethod,
    /// The carrier's name.
    pub carrier: Option<String>,
    /// The carrier's service.
    pub service: Option<String>,
    /// The tracking number (generated for labels when absent).
    pub tracking_number: Option<String>,
    /// What ships; `None`: everything still unshipped.
    pub lines: Option<Vec<LineRequest>>,
    /// Parcel weight; `None`: the lines' weights.
    pub weight: Option<Decimal>,
    /// Makes a repeated request return the first one's shipments.
    pub idempotency_key: Option<String>,
}

/// The text without surrounding spaces; `None` when blank.
pub(crate) fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl ShipmentRequest {
    /// The request with blank texts dropped, or what is wrong with it on its own (before the
    /// order is looked at).
    pub fn checked(&self) -> Result<Self, Vec<UserError>> {
        let mut errors = Vec::new();
        let mut r = self.clone();
        r.carrier = trimmed(&self.carrier);
        r.service = trimmed(&self.service);
        r.tracking_number = trimmed(&self.tracking_number);
        r.idempotency_key = trimmed(&self.idempotency_key);
        if r.order_id.is_none() {
            errors.push(UserError::new(
                "orderId",
                Code::NotFound,
                "No such order in your account.",
            ));
        }
        for (field, value) in [("carrier", &r.carrier), ("service", &r.service)] {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > MAX_NAME_LEN)
            {
                errors.push(UserError::new(
                    field,
                    Code::TooLong,
                    format!("At most {MAX_NAME_LEN} characters."),
                ));
            }
        }
        if r.idempotency_key
            .as_ref()
            .is_some_and(|k| k.chars().count() > MAX_KEY_LEN)
        {
            errors.push(UserError::new(
                "idempotencyKey",
                Code::TooLong,
                format!("At most {MAX_KEY_LEN} characters."),
            ));
        }
        match r.method {
            ShipmentMethod::Manual => {
                if r.carrier.is_none() {
                    errors.push(UserError::new(
                        "carrier",
                        Code::Required,
                        "Name the carrier of a manual shipment.",
                    ));
                }
                match &r.tracking_number {
                    None => errors.push(UserError::new(
                        "trackingNumber",
                        Code::Required,
                        "Give the tracking number of a manual shipment.",
                    )),
                    Some(t) if t.chars().count() > MAX_STORE_TRACKING_LEN => {
                        errors.push(UserError::new(
                            "trackingNumber",
                            Code::TrackingNumberTooLong,
                            format!(
                                "The store accepts tracking numbers of at most {MAX_STORE_TRACKING_LEN} characters."
                            ),
                        ))
                    }
                    Some(_) => {}
                }
            }
            ShipmentMethod::Label => {
                if let Some(t) = &r.tracking_number {
                    match check_tracking_number(t) {
                        Ok(()) => {}
                        Err(crate::pdf::BarcodeError::Length) => errors.push(UserError::new(
                            "trackingNumber",
                            Code::TrackingNumberTooLong,
                            format!(
                                "A label's barcode holds at most {} characters.",
                                crate::pdf::MAX_TRACKING_LEN
                            ),
                        )),
                        Err(e) => errors.push(UserError::new(
                            "trackingNumber",
                            Code::Invalid,
                            format!("{e}."),
                        )),
                    }
                }
            }
        }
        if let Some(w) = r.weight {
            if w <= Decimal::ZERO || w > Decimal::from(MAX_WEIGHT) {
                errors.push(UserError::new(
                    "weight",
                    Code::Invalid,
                    format!("A weight is above 0 and at most {MAX_WEIGHT}."),
                ));
            }
        }
        if let Some(lines) = &r.lines {
            if lines.is_empty() {
                errors.push(UserError::new(
                    "lines",
                    Code::Required,
                    "Give at least one line, or leave lines out to ship everything unshipped.",
                ));
            }
            for (i, l) in lines.iter().enumerate() {
                if l.quantity < 1 {
                    errors.push(UserError::new(
                        &format!("lines.{i}.quantity"),
                        Code::Invalid,
                        "A quantity is at least 1.",
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(r)
        } else {
            Err(errors)
        }
    }
}

/// What ships to one shipping address: `(line, quantity)`.
pub type Parcel = Vec<(order_line::Model, i64)>;

/// Why an order in this state cannot ship, if it cannot.
pub fn refuse_status(status: OrderStatus) -> Option<UserError> {
    let (code, message) = match status {
        OrderStatus::Canceled => (Code::OrderCanceled, "A canceled order cannot be shipped."),
        OrderStatus::Refunded => (
            Code::OrderNotShippable,
            "A refunded order cannot be shipped.",
        ),
        OrderStatus::Unpaid => (
            Code::OrderNotShippable,
            "The order is not paid yet; it can ship once the store marks it paid.",
        ),
        OrderStatus::Shipped => (Code::NothingToShip, "Everything in this order has shipped."),
        OrderStatus::New | OrderStatus::PartiallyShipped => return None,
    };
    Some(UserError::new("orderId", code, message))
}

/// The parcels (one per shipping address, in address order) a request makes of an order's
/// lines, or why it cannot ship. `lines` are the order's lines with what has shipped so far.
pub fn parcels(
    requested: Option<&[LineRequest]>,
    lines: &[order_line::Model],
) -> Result<Vec<(i64, Parcel)>, Vec<UserError>> {
    let remaining = |l: &order_line::Model| (l.quantity - l.quantity_shipped).max(0);
    let mut wanted: BTreeMap<i64, i64> = BTreeMap::new();
    let mut errors = Vec::new();
    match requested {
        None => {
            for l in lines {
                if remaining(l) > 0 && l.order_address_id > 0 {
                    wanted.insert(l.id, remaining(l));
                }
            }
            if wanted.is_empty() {
                errors.push(UserError::new(
                    "lines",
                    Code::NothingToShip,
                    "Everything in this order has shipped.",
                ));
            }
        }
        Some(requested) => {
            for (i, r) in requested.iter().enumerate() {
                let line = r.line_id.and_then(|id| lines.iter().find(|l| l.id == id));
                let Some(line) = line else {
                    errors.push(UserError::new(
                        &format!("lines.{i}.lineId"),
                        Code::UnknownLine,
                        "This line is not part of the order.",
                    ));
                    continue;
                };
                if line.order_address_id <= 0 {
                    errors.push(UserError::new(
                        &format!("lines.{i}.lineId"),
                        Code::LineNotShippable,
                        "This line has no shipping address (a digital item): nothing to ship.",
                    ));
                    continue;
                }
                let total = wanted.entry(line.id).or_insert(0);
                *total += r.quantity;
                if *total > remaining(line) {
                    errors.push(UserError::new(
                        &format!("lines.{i}.quantity"),
                        Code::QuantityExceedsUnshipped,
                        format!(
                            "Only {} of \"{}\" remain unshipped.",
                            remaining(line),
                            line.name
                        ),
                    ));
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut by_address: BTreeMap<i64, Parcel> = BTreeMap::new();
    for l in lines {
        if let Some(q) = wanted.get(&l.id) {
            by_address
                .entry(l.order_address_id)
                .or_default()
                .push((l.clone(), *q));
        }
    }
    Ok(by_address.into_iter().collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::money::DecimalText;

    fn line(id: i64, address: i64, quantity: i64, shipped: i64) -> order_line::Model {
        order_line::Model {
            id,
            account_id: 1,
            order_id: 1,
            external_id: id + 100,
            external_product_id: 0,
            external_variant_id: 0,
            order_address_id: address,
            sku: None,
            name: format!("line {id}"),
            quantity,
            quantity_shipped: shipped,
            unit_price: DecimalText(Decimal::new(100, 2)),
            total: DecimalText(Decimal::new(100, 2)),
            weight: None,
            listing_id: None,
            inventory_item_id: None,
        }
    }

    fn codes(e: Vec<UserError>) -> Vec<Code> {
        e.into_iter().map(|e| e.code).collect()
    }

    #[test]
    fn leaving_lines_out_ships_what_remains_split_by_address() {
        let lines = [line(1, 7, 2, 1), line(2, 8, 1, 0), line(3, 7, 1, 1)];
        let p = parcels(None, &lines).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].0, 7);
        assert_eq!(
            p[0].1.iter().map(|(l, q)| (l.id, *q)).collect::<Vec<_>>(),
            [(1, 1)]
        );
        assert_eq!(p[1].1[0].1, 1);
    }

    #[test]
    fn requested_quantities_add_up_per_line_against_what_remains() {
        let lines = [line(1, 7, 3, 1)];
        let twice = [
            LineRequest {
                line_id: Some(1),
                quantity: 1,
            },
            LineRequest {
                line_id: Some(1),
                quantity: 2,
            },
        ];
        assert_eq!(
            codes(parcels(Some(&twice), &lines).unwrap_err()),
            [Code::QuantityExceedsUnshipped]
        );
        let unknown = [LineRequest {
            line_id: Some(9),
            quantity: 1,
        }];
        assert_eq!(
            codes(parcels(Some(&unknown), &lines).unwrap_err()),
            [Code::UnknownLine]
        );
    }

    #[test]
    fn a_fully_shipped_order_has_nothing_to_ship() {
        let lines = [line(1, 7, 1, 1)];
        assert_eq!(
            codes(parcels(None, &lines).unwrap_err()),
            [Code::NothingToShip]
        );
    }

    #[test]
    fn a_manual_shipment_needs_a_carrier_and_a_short_enough_tracking_number() {
        let r = ShipmentRequest {
            order_id: Some(1),
            method: ShipmentMethod::Manual,
            carrier: Some("  ".into()),
            service: None,
            tracking_number: Some("X".repeat(51)),
            lines: None,
            weight: Some(Decimal::ZERO),
            idempotency_key: None,
        };
        assert_eq!(
            codes(r.checked().unwrap_err()),
            [Code::Required, Code::TrackingNumberTooLong, Code::Invalid]
        );
    }
}
