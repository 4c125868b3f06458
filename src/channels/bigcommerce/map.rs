//! The edge: BigCommerce wire DTOs to domain DTOs (money strings and numbers → `Decimal`,
//! RFC 2822 and ISO 8601 → UTC, empty strings → `None`).
//!
//! Choices worth knowing:
//! - An order's `shipping_cost` is `shipping_cost_inc_tax`, `tax_total` is `total_tax` and
//!   `total` is `total_inc_tax` (what the customer paid).
//! - A line's `unit_price` is `price_ex_tax` (the catalog price, comparable with listings)
//!   and its `total` is `total_inc_tax` (what the customer paid for the line).
//! - A shipping address's `external_id` is its lines' `order_address_id` (what shipments
//!   need; the docs leave open whether the consignment id equals it), else the consignment id.
//! - Lines are ordered by their order-product id, whichever call delivered them.
//! - A shipment's `tracking_link` is `generated_tracking_link`, else the custom `tracking_link`
//!   (shipments made in the store's control panel may carry only the latter).
//! - Image URLs are `url_standard` (falling back to `image_url`), thumbnail first, then by
//!   `sort_order`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::wire;
use crate::channels::{
    ChannelCategory, ChannelError, ChannelOrder, ChannelOrderLine, ChannelProduct, ChannelShipment,
    ChannelShippingAddress, ChannelVariant, OrderAddress,
};
use crate::domain::StockTracking;

/// What an order's consignments hold: its shipping addresses, the embedded lines, and
/// whether any consignment was capped (then the caller fetches `/v2/orders/{id}/products`
/// for every line instead).
pub(super) struct Embedded {
    pub shipping_addresses: Vec<ChannelShippingAddress>,
    pub lines: Vec<wire::OrderProduct>,
    pub capped: bool,
}

/// Takes the shipping addresses and embedded lines out of an order's consignments.
pub(super) fn take_embedded(order: &mut wire::Order) -> Embedded {
    let Some(consignments) = order.consignments.as_mut() else {
        // No consignment structure at all: the lines must come from the products call,
        // unless the order has no items.
        return Embedded {
            shipping_addresses: Vec::new(),
            lines: Vec::new(),
            capped: order.items_total > 0,
        };
    };
    let mut shipping_addresses = Vec::new();
    let mut lines = Vec::new();
    let mut capped = false;
    for c in &mut consignments.shipping {
        capped |= c.warning.is_some();
        shipping_addresses.push(ChannelShippingAddress {
            external_id: consignment_address_id(c),
            address: address(c.take_address()),
            shipping_method: std::mem::take(&mut c.shipping_method),
        });
        lines.append(&mut c.line_items);
    }
    for c in consignments
        .pickups
        .iter_mut()
        .chain(consignments.downloads.iter_mut())
    {
        capped |= c.warning.is_some();
        lines.append(&mut c.line_items);
    }
    Embedded {
        shipping_addresses,
        lines,
        capped,
    }
}

fn address(a: wire::Address) -> OrderAddress {
    OrderAddress {
        first_name: a.first_name,
        last_name: a.last_name,
        company: a.company,
        street1: a.street_1,
        street2: a.street_2,
        city: a.city,
        state: a.state,
        postal_code: a.zip,
        country_code: a.country_iso2,
        country: a.country,
        phone: a.phone,
        email: a.email,
    }
}

/// Parses a v2 date (RFC 2822; ISO 8601 tolerated).
fn v2_date(field: &str, order_id: i64, value: &str) -> Result<DateTime<Utc>, ChannelError> {
    let v = value.trim();
    DateTime::parse_from_rfc2822(v)
        .or_else(|_| DateTime::parse_from_rfc3339(v))
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| {
            ChannelError::UnexpectedResponse(format!(
                "order {order_id}: {field} {value:?} is not an RFC 2822 date"
            ))
        })
}

fn line(p: wire::OrderProduct) -> ChannelOrderLine {
    ChannelOrderLine {
        external_id: p.id,
        product_id: p.product_id,
        variant_id: p.variant_id,
        order_address_id: p.order_address_id,
        sku: non_empty(p.sku),
        name: p.name,
        quantity: p.quantity,
        quantity_shipped: p.quantity_shipped,
        unit_price: p.price_ex_tax,
        total: p.total_inc_tax,
        weight: p.weight,
    }
}

/// Maps an order whose consignments were taken apart by [`take_embedded`], with its
/// shipping addresses and complete `lines`.
pub(super) fn order(
    o: wire::Order,
    shipping_addresses: Vec<ChannelShippingAddress>,
    lines: Vec<wire::OrderProduct>,
) -> Result<ChannelOrder, ChannelError> {
    let placed_at = v2_date("date_created", o.id, &o.date_created)?;
    let modified_at = v2_date("date_modified", o.id, &o.date_modified)?;
    let shipped_at = if o.date_shipped.trim().is_empty() {
        None
    } else {
        Some(v2_date("date_shipped", o.id, &o.date_shipped)?)
    };
    let mut lines: Vec<ChannelOrderLine> = lines.into_iter().map(line).collect();
    lines.sort_by_key(|l| l.external_id);
    Ok(ChannelOrder {
        external_id: o.id,
        number: o.id.to_string(),
        status_id: o.status_id,
        status_name: o.status,
        currency: o.currency_code,
        subtotal_ex_tax: o.subtotal_ex_tax,
        subtotal_inc_tax: o.subtotal_inc_tax,
        shipping_cost: o.shipping_cost_inc_tax,
        shipping_cost_ex_tax: o.shipping_cost_ex_tax,
        tax_total: o.total_tax,
        total: o.total_inc_tax,
        billing_address: address(o.billing_address),
        shipping_addresses,
        lines,
        items_total: o.items_total,
        items_shipped: o.items_shipped,
        customer_message: o.customer_message,
        placed_at,
        modified_at,
        shipped_at,
    })
}

/// The `order_address_id` of a consignment's embedded lines, else the consignment id.
fn consignment_address_id(c: &wire::ShippingConsignment) -> i64 {
    c.line_items
        .iter()
        .map(|l| l.order_address_id)
        .find(|id| *id != 0)
        .unwrap_or(c.id)
}

fn non_empty(s: String) -> Option<String> {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        None
    } else if trimmed.len() == s.len() {
        Some(s)
    } else {
        Some(trimmed.to_string())
    }
}

/// BigCommerce sends 0 for "no sale price".
fn positive(d: Option<Decimal>) -> Option<Decimal> {
    d.filter(|v| *v > Decimal::ZERO)
}

fn tracking(value: &str, product_id: i64) -> StockTracking {
    match value.trim().to_ascii_lowercase().as_str() {
        "product" => StockTracking::Product,
        "variant" => StockTracking::Variant,
        "none" | "" => StockTracking::None,
        other => {
            tracing::warn!(
                product_id,
                inventory_tracking = other,
                "unknown inventory_tracking; treated as none"
            );
            StockTracking::None
        }
    }
}

fn variant(v: wire::Variant) -> ChannelVariant {
    let option_label = v
        .option_values
        .iter()
        .map(|o| format!("{}: {}", o.option_display_name, o.label))
        .collect::<Vec<_>>()
        .join(", ");
    ChannelVariant {
        external_id: v.id,
        is_base: v.option_values.is_empty(),
        sku: non_empty(v.sku),
        price: v.price,
        sale_price: positive(v.sale_price),
        weight: v.weight,
        inventory_level: v.inventory_level,
        option_label,
    }
}

/// Maps a catalog product with its variants and images.
pub(super) fn product(p: wire::Product) -> Result<ChannelProduct, ChannelError> {
    let modified_at = DateTime::parse_from_rfc3339(p.date_modified.trim())
        .or_else(|_| DateTime::parse_from_rfc2822(p.date_modified.trim()))
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| {
            ChannelError::UnexpectedResponse(format!(
                "product {}: date_modified {:?} is not an ISO 8601 date",
                p.id, p.date_modified
            ))
        })?;
    let mut images = p.images;
    images.sort_by_key(|i| (!i.is_thumbnail, i.sort_order));
    let image_urls = images
        .into_iter()
        .filter_map(|i| non_empty(i.url_standard).or_else(|| non_empty(i.image_url)))
        .collect();
    Ok(ChannelProduct {
        external_id: p.id,
        tracking: tracking(&p.inventory_tracking, p.id),
        name: p.name,
        sku: non_empty(p.sku),
        price: p.price,
        sale_price: positive(p.sale_price),
        weight: p.weight,
        inventory_level: p.inventory_level,
        image_urls,
        category_ids: p.categories,
        modified_at,
        variants: p.variants.into_iter().map(variant).collect(),
    })
}

/// Maps a shipment; its link is the one the store generated, else the merchant's own.
pub(super) fn shipment(s: wire::Shipment) -> ChannelShipment {
    ChannelShipment {
        external_id: s.id,
        order_address_id: s.order_address_id,
        tracking_number: s.tracking_number,
        items: s
            .items
            .into_iter()
            .map(|i| (i.order_product_id, i.quantity))
            .collect(),
        tracking_link: non_empty(s.generated_tracking_link).or_else(|| non_empty(s.tracking_link)),
    }
}

/// Maps a category of the trees endpoint.
pub(super) fn category(c: wire::TreeCategory) -> ChannelCategory {
    ChannelCategory {
        id: c.category_id,
        parent_id: c.parent_id,
        name: c.name,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn a_v2_order_maps_money_dates_and_addresses() {
        let mut o: wire::Order = serde_json::from_str(
            r#"{
            "id": 100, "date_created": "Wed, 10 Jan 2018 21:05:30 +0000",
            "date_modified": "Wed, 05 Dec 2018 20:16:55 +0000", "date_shipped": "",
            "status_id": 11, "status": "Awaiting Fulfillment", "currency_code": "USD",
            "subtotal_ex_tax": "336.3200", "subtotal_inc_tax": "361.9500",
            "shipping_cost_inc_tax": "5.0000", "total_tax": "25.6300", "total_inc_tax": "366.9500",
            "items_total": 3, "items_shipped": 0,
            "billing_address": { "first_name": "Jane", "zip": 78751, "country_iso2": "US", "email": "j@example.com" },
            "consignments": { "pickups": [], "downloads": [], "email": { "gift_certificates": [] }, "shipping": [{
                "id": 9, "first_name": "Jane", "city": "Austin", "zip": "78751", "country_iso2": "US",
                "shipping_method": "Flat Rate",
                "line_items": [
                    { "id": 6, "product_id": 1, "variant_id": 2, "order_address_id": 128, "name": "B", "sku": "",
                      "quantity": 1, "quantity_shipped": 0, "price_ex_tax": "1.0000", "total_inc_tax": "1.2000", "weight": "0.5000" },
                    { "id": 5, "product_id": 1, "variant_id": 3, "order_address_id": 128, "name": "A", "sku": "SKU-A",
                      "quantity": 2, "quantity_shipped": 0, "price_ex_tax": "10.5000", "total_inc_tax": "25.2000", "weight": "1" }
                ]
            }]}
        }"#,
        )
        .unwrap();
        let embedded = take_embedded(&mut o);
        assert!(!embedded.capped);
        let o = order(o, embedded.shipping_addresses, embedded.lines).unwrap();
        assert_eq!(o.total, "366.95".parse::<Decimal>().unwrap());
        assert_eq!(o.subtotal_ex_tax, "336.32".parse::<Decimal>().unwrap());
        assert_eq!(o.placed_at.to_rfc3339(), "2018-01-10T21:05:30+00:00");
        assert_eq!(o.shipped_at, None);
        assert_eq!(o.billing_address.postal_code, "78751");
        assert_eq!(o.shipping_addresses[0].external_id, 128);
        assert_eq!(o.shipping_addresses[0].shipping_method, "Flat Rate");
        assert_eq!(o.shipping_addresses[0].address.city, "Austin");
        assert_eq!(
            o.lines.iter().map(|l| l.external_id).collect::<Vec<_>>(),
            vec![5, 6]
        );
        assert_eq!(o.lines[0].unit_price, Decimal::new(105, 1));
        assert_eq!(o.lines[1].sku, None);
    }

    #[test]
    fn a_consignment_takes_its_lines_order_address_id() {
        let c: wire::ShippingConsignment = serde_json::from_value(
            json!({ "id": 3, "line_items": [{ "id": 1, "order_address_id": 128 }] }),
        )
        .unwrap();
        assert_eq!(consignment_address_id(&c), 128);
        let c: wire::ShippingConsignment =
            serde_json::from_value(json!({ "id": 3, "line_items": [] })).unwrap();
        assert_eq!(consignment_address_id(&c), 3);
    }

    #[test]
    fn an_order_without_consignments_needs_its_products_fetched() {
        let mut o: wire::Order =
            serde_json::from_value(json!({ "id": 1, "items_total": 2 })).unwrap();
        assert!(take_embedded(&mut o).capped);
    }

    #[test]
    fn a_shipment_maps_items_and_prefers_the_generated_link() {
        let s: wire::Shipment = serde_json::from_value(json!({
            "id": 7, "order_id": 100, "order_address_id": "128", "tracking_number": "EJ1",
            "items": [{ "order_product_id": 194, "product_id": 0, "quantity": 1 },
                      { "order_product_id": "195", "quantity": 2 }],
            "generated_tracking_link": "https://track/EJ1", "tracking_link": "https://own/EJ1"
        }))
        .unwrap();
        let s = shipment(s);
        assert_eq!(s.external_id, 7);
        assert_eq!(s.order_address_id, 128);
        assert_eq!(s.items, vec![(194, 1), (195, 2)]);
        assert_eq!(s.tracking_link.as_deref(), Some("https://track/EJ1"));
        let s: wire::Shipment = serde_json::from_value(
            json!({ "id": 8, "generated_tracking_link": "", "tracking_link": "" }),
        )
        .unwrap();
        assert_eq!(shipment(s).tracking_link, None);
        let s: wire::Shipment = serde_json::from_value(
            json!({ "id": 9, "generated_tracking_link": "", "tracking_link": "https://own/9" }),
        )
        .unwrap();
        assert_eq!(shipment(s).tracking_link.as_deref(), Some("https://own/9"));
    }

    #[test]
    fn a_product_maps_variants_tracking_and_sale_price() {
        let p: wire::Product = serde_json::from_value(json!({
            "id": 1, "name": "Shirt", "sku": "SH", "price": 19.99, "sale_price": 0, "weight": 0.25,
            "inventory_tracking": "variant", "inventory_level": 7, "categories": [3, 4],
            "date_modified": "2018-08-24T14:41:00+00:00",
            "images": [
                { "is_thumbnail": false, "sort_order": 1, "url_standard": "b", "image_url": "B" },
                { "is_thumbnail": true, "sort_order": 2, "url_standard": "", "image_url": "A" }
            ],
            "variants": [{ "id": 11, "sku": "SH-M", "price": null, "sale_price": 0, "weight": null,
                "inventory_level": 7, "option_values": [
                    { "label": "M", "option_display_name": "Size" },
                    { "label": "Red", "option_display_name": "Color" }] }]
        }))
        .unwrap();
        let p = product(p).unwrap();
        assert_eq!(p.price, Decimal::new(1999, 2));
        assert_eq!(p.sale_price, None);
        assert_eq!(p.tracking, StockTracking::Variant);
        assert_eq!(p.image_urls, vec!["A".to_string(), "b".to_string()]);
        assert_eq!(p.variants[0].option_label, "Size: M, Color: Red");
        assert!(!p.variants[0].is_base);
        assert_eq!(p.variants[0].price, None);
    }
}
