//! Shipping rules that need no I/O: shipment methods and push states, tracking-number limits,
//! the tracking reference of self-printed labels, what an order's lines say its status is, and
//! the customs declaration a shipment records.

use rust_decimal::Decimal;
use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

use super::OrderStatus;

/// Longest tracking number BigCommerce accepts on a shipment.
pub const MAX_STORE_TRACKING_LEN: usize = 50;

/// Prefix of the tracking references orderdeck generates for self-printed labels.
pub const REFERENCE_PREFIX: &str = "OD";

domain_enum! {
    /// How a shipment travels.
    pub enum ShipmentMethod {
        /// Shipped with a carrier outside orderdeck; carrier and tracking number typed in.
        Manual = "MANUAL",
        /// Shipped with a label printed from orderdeck; a tracking reference is generated when
        /// none is given.
        Label = "LABEL",
    }
}

domain_enum! {
    /// Where a shipment stands with its store.
    pub enum ShipmentPushState {
        /// Not on the store yet: waiting for its first attempt or, after a failure that may pass
        /// (store down, rate limited), for the next one (`pushRetryAt`).
        Pending = "PENDING",
        /// The store has it (`storeShipmentId`).
        Pushed = "PUSHED",
        /// The store refused it (see `pushError`); not retried until `retryShipmentPush`.
        Failed = "FAILED",
    }
}

/// The customs declaration of a parcel leaving the sender's country (stored as JSON on the
/// shipment).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct CustomsDeclaration {
    /// What the parcel holds.
    pub items: Vec<CustomsLine>,
    /// Sum of the items' values.
    pub total_value: Decimal,
    /// ISO 4217 code of the values.
    pub currency: String,
    /// Sender's country (ISO 3166-1 alpha-2).
    pub origin_country: String,
    /// Destination country (ISO 3166-1 alpha-2).
    pub destination_country: String,
    /// The store's IOSS number, for goods entering the EU.
    pub ioss_number: Option<String>,
}

/// One item of a customs declaration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomsLine {
    /// The line's name.
    pub description: String,
    /// The line's SKU.
    pub sku: Option<String>,
    /// Quantity in the parcel.
    pub quantity: i64,
    /// Unit price times quantity.
    pub value: Decimal,
}

impl CustomsDeclaration {
    /// The declaration of a parcel of `items` (each valued at its unit price without tax times
    /// the quantity in the parcel) sent from `from` to `to`, with the store's IOSS number when
    /// the goods enter the EU; `None` when the parcel stays inside one customs territory. The
    /// one rule for shipments and for labels of orders alike.
    pub fn of_parcel(
        items: Vec<CustomsLine>,
        currency: &str,
        from: Option<&str>,
        to: &str,
        store_ioss: Option<&str>,
    ) -> Option<Self> {
        use crate::pdf::rules::{ioss_for, needs_customs};
        let dest = to.trim().to_ascii_uppercase();
        if !needs_customs(from, &dest) {
            return None;
        }
        Some(Self {
            total_value: items.iter().map(|i| i.value).sum(),
            items,
            currency: currency.to_string(),
            origin_country: from.unwrap_or_default().to_string(),
            ioss_number: ioss_for(store_ioss, from, &dest),
            destination_country: dest,
        })
    }
}

impl CustomsLine {
    /// `quantity` of a line sold at `unit_price` (without tax).
    pub fn of(description: &str, sku: Option<&str>, quantity: i64, unit_price: Decimal) -> Self {
        Self {
            description: description.to_string(),
            sku: sku.map(str::to_string),
            quantity,
            value: unit_price * Decimal::from(quantity),
        }
    }
}

/// The tracking reference of a self-printed label: `OD`, the shipment id in 10 digits, and a
/// check digit (Luhn over those digits), e.g. `OD00000001230` for shipment 123.
pub fn label_reference(shipment_id: i64) -> String {
    let digits = format!("{:010}", shipment_id.max(0));
    format!("{REFERENCE_PREFIX}{digits}{}", luhn_digit(&digits))
}

/// The Luhn check digit of a string of ASCII digits.
fn luhn_digit(digits: &str) -> u32 {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 0 {
                let d2 = d * 2;
                if d2 > 9 {
                    d2 - 9
                } else {
                    d2
                }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// The status an order's lines give it once something shipped here: `SHIPPED` when every
/// line has shipped in full, `PARTIALLY_SHIPPED` when something has. `current` stands when
/// nothing shipped or the order is no longer live (canceled, refunded).
pub fn shipped_status(current: OrderStatus, lines: &[(i64, i64)]) -> OrderStatus {
    if !current.is_live() {
        return current;
    }
    let shipped: i64 = lines.iter().map(|(_, s)| (*s).max(0)).sum();
    if shipped == 0 {
        return current;
    }
    if lines.iter().all(|(q, s)| s >= q) {
        OrderStatus::Shipped
    } else {
        OrderStatus::PartiallyShipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parcel_leaving_the_uk_for_germany_declares_its_lines_at_price_without_tax_with_ioss() {
        let items = vec![
            CustomsLine::of("Mug", Some("MUG"), 2, Decimal::new(1250, 2)),
            CustomsLine::of("Teapot", None, 1, Decimal::new(4000, 2)),
        ];
        let d = CustomsDeclaration::of_parcel(
            items.clone(),
            "GBP",
            Some("GB"),
            "de",
            Some("IM2760000001"),
        )
        .unwrap_or_else(|| panic!("a declaration"));
        assert_eq!(d.total_value, Decimal::new(6500, 2));
        assert_eq!(d.items[0].value, Decimal::new(2500, 2));
        assert_eq!(d.destination_country, "DE");
        assert_eq!(d.ioss_number.as_deref(), Some("IM2760000001"));
        assert!(
            CustomsDeclaration::of_parcel(items.clone(), "EUR", Some("FR"), "DE", None).is_none()
        );
        let to_us =
            CustomsDeclaration::of_parcel(items, "GBP", Some("GB"), "US", Some("IM2760000001"));
        assert_eq!(to_us.map(|d| d.ioss_number), Some(None));
    }

    #[test]
    fn label_references_carry_a_luhn_check_digit() {
        assert_eq!(label_reference(123), "OD00000001230");
        // 7992739871 is the textbook Luhn example: its check digit is 3.
        assert_eq!(label_reference(7_992_739_871), "OD79927398713");
        assert_eq!(label_reference(1).len(), 13);
    }

    #[test]
    fn an_order_is_shipped_only_when_every_line_is() {
        let new = OrderStatus::New;
        assert_eq!(shipped_status(new, &[(2, 0), (1, 0)]), new);
        assert_eq!(
            shipped_status(new, &[(2, 1), (1, 0)]),
            OrderStatus::PartiallyShipped
        );
        assert_eq!(shipped_status(new, &[(2, 2), (1, 1)]), OrderStatus::Shipped);
        assert_eq!(
            shipped_status(OrderStatus::Canceled, &[(1, 1)]),
            OrderStatus::Canceled
        );
    }
}
