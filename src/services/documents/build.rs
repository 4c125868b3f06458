//! From database rows to what a document shows: addresses as printed, the contact rule, customs
//! and IOSS decided (for an order's label), or taken as a shipment recorded them (for a
//! shipment's label). Pure functions.

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::domain::address::{destination, parcel_address, recipient_contact};
use crate::domain::money::DecimalText;
use crate::domain::{CustomsDeclaration, CustomsLine};
use crate::domain::{OrderAddress, PostalAddress, ShippingAddresses};
use crate::entities::{integration, invoice, order, order_line, shipment, shipment_line};
use crate::pdf::rules::ioss_for;
use crate::pdf::{
    Customs, CustomsItem, Invoice, InvoiceLine, Label, Logo, PackingLine, PackingSlip,
    PrintedAddress, Sender,
};
use crate::services::pricing::currency_decimals;

/// Carrier details given with a request for an order's label (a shipment's label takes them from
/// the shipment).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shipping {
    /// Carrier name.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    /// Carrier service.
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Tracking number.
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
}

fn some(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn join(parts: &[&str], sep: &str) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(sep)
}

/// The city line(s) in the country's usual order.
fn city_lines(country: &str, city: &str, state: &str, postal: &str) -> Vec<String> {
    let lines = match country {
        "US" | "CA" | "AU" => vec![join(&[&join(&[city, state], ", "), postal], " ")],
        "GB" | "IE" => vec![join(&[city, state], ", "), postal.trim().to_string()],
        _ => vec![join(&[postal, city], " "), state.trim().to_string()],
    };
    lines.into_iter().filter(|l| !l.is_empty()).collect()
}

/// An order address as printed.
pub fn order_address(a: &OrderAddress) -> PrintedAddress {
    let person = join(&[&a.first_name, &a.last_name], " ");
    let country = a.country_code.trim().to_ascii_uppercase();
    let mut lines = Vec::new();
    let name = if person.is_empty() {
        a.company.trim().to_string()
    } else {
        if let Some(company) = some(&a.company) {
            lines.push(company);
        }
        person
    };
    lines.extend(some(&a.street1));
    lines.extend(some(&a.street2));
    lines.extend(city_lines(&country, &a.city, &a.state, &a.postal_code));
    lines.extend(some(&a.country).or_else(|| some(&country)));
    PrintedAddress {
        name,
        lines,
        country_code: country,
    }
}

/// The store's return address lines (company name excluded: the alias is printed above).
fn return_address(a: &PostalAddress) -> Vec<String> {
    let country = a.country_code.trim().to_ascii_uppercase();
    let mut lines: Vec<String> = Vec::new();
    lines.extend(a.name.as_deref().and_then(some));
    lines.extend(a.company.as_deref().and_then(some));
    lines.extend(some(&a.street1));
    lines.extend(a.street2.as_deref().and_then(some));
    lines.extend(city_lines(
        &country,
        &a.city,
        a.state.as_deref().unwrap_or(""),
        a.postal_code.as_deref().unwrap_or(""),
    ));
    lines.extend(some(&country));
    lines
}

/// The store as its documents show it.
pub fn sender(i: &integration::Model, logo: Option<Arc<Logo>>) -> Sender {
    Sender {
        name: i.alias.clone(),
        address: i
            .return_address
            .as_ref()
            .map(return_address)
            .unwrap_or_default(),
        country_code: i
            .return_address
            .as_ref()
            .and_then(|a| some(&a.country_code))
            .map(|c| c.to_ascii_uppercase()),
        phone: i.phone.as_deref().and_then(some),
        email: i.email.as_deref().and_then(some),
        logo,
    }
}

/// The invoice of `o` numbered by `number`.
pub fn invoice(
    o: &order::Model,
    lines: &[order_line::Model],
    store: &integration::Model,
    logo: Option<Arc<Logo>>,
    number: &invoice::Model,
) -> Invoice {
    let sender = sender(store, logo);
    let billing = o.billing_address.as_ref().map(order_address);
    let shipping = o
        .shipping_addresses
        .as_ref()
        .and_then(ShippingAddresses::first)
        .map(order_address);
    let destination = shipping
        .as_ref()
        .or(billing.as_ref())
        .map(|a| a.country_code.clone())
        .unwrap_or_default();
    let ioss = ioss_for(
        store.ioss_number.as_deref(),
        sender.country_code.as_deref(),
        &destination,
    );
    let (subtotal, tax, total) = (o.subtotal_ex_tax.get(), o.tax_total.get(), o.total.get());
    // Shipping without its tax (the tax total holds it); an order imported before that figure
    // was kept shows what remains of the total.
    let shipping_cost = o.shipping_cost_ex_tax.map_or_else(
        || (total - subtotal - tax).max(Decimal::ZERO),
        DecimalText::get,
    );
    Invoice {
        number: number.number.clone(),
        issued_at: number.issued_at,
        order_number: o.number.clone(),
        order_date: o.placed_at,
        billing,
        shipping,
        lines: lines
            .iter()
            .map(|l| {
                let unit = l.unit_price.get();
                InvoiceLine {
                    sku: l.sku.clone().unwrap_or_default(),
                    name: l.name.clone(),
                    quantity: l.quantity,
                    unit_price: unit,
                    total: unit * Decimal::from(l.quantity),
                }
            })
            .collect(),
        currency: o.currency.clone(),
        currency_decimals: currency_decimals(&o.currency),
        subtotal,
        shipping_cost,
        tax,
        adjustments: total - subtotal - shipping_cost - tax,
        total,
        ioss,
        sender,
    }
}

/// The shipping label of `o`.
pub fn label(
    o: &order::Model,
    lines: &[order_line::Model],
    store: &integration::Model,
    logo: Option<Arc<Logo>>,
    shipping: &Shipping,
) -> Label {
    let sender = sender(store, logo);
    let to = destination(o.shipping_addresses.as_ref(), o.billing_address.as_ref());
    let recipient = order_address(&to);
    let (phone, email) = recipient_contact(
        &to,
        o.customer_contact(),
        o.billing_address.as_ref(),
        store.contact(),
    );
    let weights: Vec<Decimal> = lines
        .iter()
        .filter_map(|l| l.weight.map(|w| w.get() * Decimal::from(l.quantity)))
        .collect();
    // The same declaration a shipment of these lines records.
    let customs = CustomsDeclaration::of_parcel(
        lines
            .iter()
            .map(|l| CustomsLine::of(&l.name, l.sku.as_deref(), l.quantity, l.unit_price.get()))
            .collect(),
        &o.currency,
        sender.country_code.as_deref(),
        &recipient.country_code,
        store.ioss_number.as_deref(),
    )
    .as_ref()
    .map(printed_customs);
    Label {
        recipient_phone: phone,
        recipient_email: email,
        recipient,
        order_number: o.number.clone(),
        carrier: shipping.carrier.clone(),
        service: shipping.service.clone(),
        tracking_number: shipping.tracking_number.clone(),
        weight: (!weights.is_empty()).then(|| weights.iter().sum()),
        customs,
        sender,
    }
}

/// The label of shipment `s` of order `o`: what the shipment recorded when it was made
/// (carrier, service, tracking number, weight, the recipient's contact after the store's rule,
/// the customs declaration of the lines it carries), sent to the address its lines go to.
/// `numbers`: the order numbers the parcel serves (more than one for merged orders).
pub fn shipment_label(
    o: &order::Model,
    numbers: &[String],
    store: &integration::Model,
    logo: Option<Arc<Logo>>,
    s: &shipment::Model,
) -> Label {
    let to = parcel_address(
        o.shipping_addresses.as_ref(),
        o.billing_address.as_ref(),
        s.order_address_id,
    );
    Label {
        sender: sender(store, logo),
        recipient: order_address(&to),
        recipient_phone: s.contact_phone.as_deref().and_then(some),
        recipient_email: s.contact_email.as_deref().and_then(some),
        order_number: if numbers.is_empty() {
            o.number.clone()
        } else {
            numbers.join(", ")
        },
        carrier: s.carrier.as_deref().and_then(some),
        service: s.service.as_deref().and_then(some),
        tracking_number: some(&s.tracking_number),
        weight: s.weight.map(DecimalText::get),
        customs: s.customs.as_ref().map(printed_customs),
    }
}

/// A customs declaration as a label prints it.
fn printed_customs(d: &CustomsDeclaration) -> Customs {
    Customs {
        items: d
            .items
            .iter()
            .map(|i| CustomsItem {
                description: i.description.clone(),
                quantity: i.quantity,
                value: i.value,
            })
            .collect(),
        total_value: d.total_value,
        currency_decimals: currency_decimals(&d.currency),
        currency: d.currency.clone(),
        ioss: d.ioss_number.as_deref().and_then(some),
    }
}

fn packing_line(l: &order_line::Model, quantity: i64) -> PackingLine {
    PackingLine {
        sku: l.sku.clone().unwrap_or_default(),
        name: l.name.clone(),
        quantity,
        ordered: l.quantity,
        unit_price: l.unit_price.get(),
    }
}

/// The customers' messages of `orders`, each once, one per line.
fn messages<'a>(orders: impl Iterator<Item = &'a order::Model>) -> Option<String> {
    let mut seen: Vec<String> = Vec::new();
    for m in orders.filter_map(|o| o.customer_message.as_deref().and_then(some)) {
        if !seen.contains(&m) {
            seen.push(m);
        }
    }
    (!seen.is_empty()).then(|| seen.join("\n"))
}

/// The packing slip of the next parcel of an order, or of merged orders (one parcel, each
/// order with its lines, oldest first): what is still to send of each line (ordered less
/// shipped); when everything has shipped, everything ordered (a reprint).
pub fn packing_slip(
    orders: &[(&order::Model, &[order_line::Model])],
    store: &integration::Model,
    logo: Option<Arc<Logo>>,
) -> PackingSlip {
    let left: Vec<(&order_line::Model, i64)> = orders
        .iter()
        .flat_map(|(_, lines)| lines.iter())
        .map(|l| (l, (l.quantity - l.quantity_shipped).max(0)))
        .collect();
    let reprint = left.iter().all(|(_, n)| *n == 0);
    let parcel: Vec<PackingLine> = left
        .iter()
        .filter(|(_, n)| reprint || *n > 0)
        .map(|(l, n)| packing_line(l, if reprint { l.quantity } else { *n }))
        .collect();
    let partial = !reprint && left.iter().any(|(l, n)| *n < l.quantity);
    let first = orders[0].0;
    let to = destination(
        first.shipping_addresses.as_ref(),
        first.billing_address.as_ref(),
    );
    PackingSlip {
        sender: sender(store, logo),
        order_numbers: orders.iter().map(|(o, _)| o.number.clone()).collect(),
        order_date: first.placed_at,
        ship_to: Some(order_address(&to)),
        lines: parcel,
        message: messages(orders.iter().map(|(o, _)| *o)),
        carrier: None,
        tracking_number: None,
        partial,
        currency: first.currency.clone(),
        currency_decimals: currency_decimals(&first.currency),
    }
}

/// The packing slip of shipment `s` of order `o`: only the lines and quantities the parcel
/// carries, with its carrier and tracking number; `partial` when the order asked for more.
/// `numbers`: the order numbers the parcel serves (more than one for merged orders).
#[allow(clippy::too_many_arguments)]
pub fn shipment_packing_slip(
    o: &order::Model,
    numbers: Vec<String>,
    lines: &[order_line::Model],
    store: &integration::Model,
    logo: Option<Arc<Logo>>,
    s: &shipment::Model,
    carried: &[shipment_line::Model],
) -> PackingSlip {
    let parcel: Vec<PackingLine> = carried
        .iter()
        .map(|c| match lines.iter().find(|l| l.id == c.order_line_id) {
            Some(l) => packing_line(l, c.quantity),
            None => PackingLine {
                sku: c.sku.clone().unwrap_or_default(),
                name: c.name.clone(),
                quantity: c.quantity,
                ordered: c.quantity,
                unit_price: Decimal::ZERO,
            },
        })
        .collect();
    let sent: i64 = carried.iter().map(|c| c.quantity).sum();
    let ordered: i64 = lines.iter().map(|l| l.quantity).sum();
    let to = parcel_address(
        o.shipping_addresses.as_ref(),
        o.billing_address.as_ref(),
        s.order_address_id,
    );
    PackingSlip {
        sender: sender(store, logo),
        order_numbers: numbers,
        order_date: o.placed_at,
        ship_to: Some(order_address(&to)),
        lines: parcel,
        message: o.customer_message.as_deref().and_then(some),
        carrier: s.carrier.as_deref().and_then(some),
        tracking_number: some(&s.tracking_number),
        partial: sent < ordered,
        currency: o.currency.clone(),
        currency_decimals: currency_decimals(&o.currency),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_print_the_city_line_as_the_country_writes_it() {
        let mut a = OrderAddress {
            first_name: "Łukasz".into(),
            last_name: "Żółć".into(),
            company: "Żółć sp. z o.o.".into(),
            street1: "ul. Piotrkowska 104".into(),
            city: "Łódź".into(),
            postal_code: "90-001".into(),
            country_code: "pl".into(),
            country: "Poland".into(),
            ..Default::default()
        };
        let p = order_address(&a);
        assert_eq!(p.name, "Łukasz Żółć");
        assert_eq!(
            p.lines,
            [
                "Żółć sp. z o.o.",
                "ul. Piotrkowska 104",
                "90-001 Łódź",
                "Poland"
            ]
        );
        assert_eq!(p.country_code, "PL");
        a.country_code = "US".into();
        a.state = "NY".into();
        a.city = "New York".into();
        a.postal_code = "10001".into();
        assert!(order_address(&a)
            .lines
            .contains(&"New York, NY 10001".to_string()));
    }
}
