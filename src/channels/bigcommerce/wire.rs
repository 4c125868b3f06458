//! Wire formats of the BigCommerce API, private to this module. Only the fields orderdeck
//! reads; every field is lenient (missing → default, number or string where the API is loose)
//! so that one odd value does not fail a whole page. Mapping to domain types is in `map.rs`.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `GET /v2/store` (only the fields orderdeck reads).
#[derive(Debug, Deserialize)]
pub(super) struct StoreResponse {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Orders v2 (bigcommerce-api.md §2)
// ---------------------------------------------------------------------------------------------

/// An order of `GET /v2/orders` or `GET /v2/orders/{id}` with
/// `include=consignments.line_items&consignment_structure=object`.
#[derive(Debug, Deserialize)]
pub(super) struct Order {
    pub id: i64,
    /// RFC 2822.
    #[serde(default, deserialize_with = "loose_string")]
    pub date_created: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub date_modified: String,
    /// `""` until the order is fully shipped.
    #[serde(default, deserialize_with = "loose_string")]
    pub date_shipped: String,
    #[serde(default)]
    pub status_id: i64,
    #[serde(default, deserialize_with = "loose_string")]
    pub status: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub currency_code: String,
    #[serde(default, deserialize_with = "money")]
    pub subtotal_ex_tax: Decimal,
    #[serde(default, deserialize_with = "money")]
    pub subtotal_inc_tax: Decimal,
    #[serde(default, deserialize_with = "money")]
    pub shipping_cost_inc_tax: Decimal,
    #[serde(default, deserialize_with = "money")]
    pub total_tax: Decimal,
    #[serde(default, deserialize_with = "money")]
    pub total_inc_tax: Decimal,
    #[serde(default)]
    pub items_total: i64,
    #[serde(default)]
    pub items_shipped: i64,
    #[serde(default)]
    pub billing_address: Address,
    /// The object structure; `None` when absent or in the older link form.
    #[serde(default, deserialize_with = "consignments")]
    pub consignments: Option<Consignments>,
}

/// A v2 address (billing address, or the address part of a shipping consignment).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Address {
    #[serde(default, deserialize_with = "loose_string")]
    pub first_name: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub last_name: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub company: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub street_1: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub street_2: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub city: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub state: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub zip: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub country: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub country_iso2: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub phone: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub email: String,
}

/// `consignments` with `consignment_structure=object`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Consignments {
    #[serde(default)]
    pub shipping: Vec<ShippingConsignment>,
    #[serde(default)]
    pub pickups: Vec<OtherConsignment>,
    #[serde(default)]
    pub downloads: Vec<OtherConsignment>,
}

/// A shipping consignment: an address, its method and its lines (at most 50 embedded).
#[derive(Debug, Deserialize)]
pub(super) struct ShippingConsignment {
    #[serde(default)]
    pub id: i64,
    #[serde(flatten)]
    pub address: Address,
    #[serde(default, deserialize_with = "loose_string")]
    pub shipping_method: String,
    #[serde(default, deserialize_with = "line_items")]
    pub line_items: Vec<OrderProduct>,
    /// Present when the embedded `line_items` were capped.
    #[serde(default, rename = "__warning__")]
    pub warning: Option<Value>,
}

/// A pickup or download consignment: only its lines matter here.
#[derive(Debug, Deserialize)]
pub(super) struct OtherConsignment {
    #[serde(default, deserialize_with = "line_items")]
    pub line_items: Vec<OrderProduct>,
    #[serde(default, rename = "__warning__")]
    pub warning: Option<Value>,
}

/// An order product (`GET /v2/orders/{id}/products`, or embedded in a consignment).
#[derive(Debug, Deserialize)]
pub(super) struct OrderProduct {
    pub id: i64,
    #[serde(default)]
    pub product_id: i64,
    #[serde(default)]
    pub variant_id: i64,
    #[serde(default, deserialize_with = "loose_i64")]
    pub order_address_id: i64,
    #[serde(default, deserialize_with = "loose_string")]
    pub name: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub sku: String,
    #[serde(default)]
    pub quantity: i64,
    #[serde(default)]
    pub quantity_shipped: i64,
    #[serde(default, deserialize_with = "money")]
    pub price_ex_tax: Decimal,
    #[serde(default, deserialize_with = "money")]
    pub total_inc_tax: Decimal,
    #[serde(default, deserialize_with = "optional_decimal")]
    pub weight: Option<Decimal>,
}

// ---------------------------------------------------------------------------------------------
// Catalog v3 (bigcommerce-api.md §4)
// ---------------------------------------------------------------------------------------------

/// The v3 list envelope.
#[derive(Debug, Deserialize)]
pub(super) struct Page<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    #[serde(default)]
    pub meta: Meta,
}

/// `meta` of a v3 list.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Meta {
    #[serde(default)]
    pub pagination: Option<Pagination>,
}

/// `meta.pagination` of a v3 list.
#[derive(Debug, Deserialize)]
pub(super) struct Pagination {
    #[serde(default)]
    pub current_page: u32,
    #[serde(default)]
    pub total_pages: u32,
}

/// A catalog product with `include=variants,images`.
#[derive(Debug, Deserialize)]
pub(super) struct Product {
    pub id: i64,
    #[serde(default, deserialize_with = "loose_string")]
    pub name: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub sku: String,
    #[serde(default, deserialize_with = "money")]
    pub price: Decimal,
    #[serde(default, deserialize_with = "optional_decimal")]
    pub sale_price: Option<Decimal>,
    #[serde(default, deserialize_with = "optional_decimal")]
    pub weight: Option<Decimal>,
    #[serde(default, deserialize_with = "loose_string")]
    pub inventory_tracking: String,
    #[serde(default, deserialize_with = "loose_i64")]
    pub inventory_level: i64,
    #[serde(default)]
    pub categories: Vec<i64>,
    /// ISO 8601.
    #[serde(default, deserialize_with = "loose_string")]
    pub date_modified: String,
    #[serde(default)]
    pub images: Vec<Image>,
    #[serde(default)]
    pub variants: Vec<Variant>,
}

/// A product image.
#[derive(Debug, Deserialize)]
pub(super) struct Image {
    #[serde(default)]
    pub is_thumbnail: bool,
    #[serde(default)]
    pub sort_order: i64,
    #[serde(default, deserialize_with = "loose_string")]
    pub url_standard: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub image_url: String,
}

/// A variant; `null` prices and weights inherit the product's.
#[derive(Debug, Deserialize)]
pub(super) struct Variant {
    pub id: i64,
    #[serde(default, deserialize_with = "loose_string")]
    pub sku: String,
    #[serde(default, deserialize_with = "optional_decimal")]
    pub price: Option<Decimal>,
    #[serde(default, deserialize_with = "optional_decimal")]
    pub sale_price: Option<Decimal>,
    #[serde(default, deserialize_with = "optional_decimal")]
    pub weight: Option<Decimal>,
    #[serde(default, deserialize_with = "loose_i64")]
    pub inventory_level: i64,
    #[serde(default)]
    pub option_values: Vec<OptionValue>,
}

/// `Size: M`.
#[derive(Debug, Deserialize)]
pub(super) struct OptionValue {
    #[serde(default, deserialize_with = "loose_string")]
    pub label: String,
    #[serde(default, deserialize_with = "loose_string")]
    pub option_display_name: String,
}

/// An item of `GET /v3/catalog/trees/categories`.
#[derive(Debug, Deserialize)]
pub(super) struct TreeCategory {
    pub category_id: i64,
    #[serde(default)]
    pub parent_id: i64,
    #[serde(default, deserialize_with = "loose_string")]
    pub name: String,
}

// ---------------------------------------------------------------------------------------------
// Lenient field readers
// ---------------------------------------------------------------------------------------------

/// A decimal from a JSON string (`"12.5000"`, v2) or number (`12.5`, v3). Numbers are read
/// through their shortest text form, never through `f64` arithmetic, so `19.99` stays exact.
pub(super) fn decimal_of(value: &Value) -> Option<Decimal> {
    let text = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if text.is_empty() {
        return None;
    }
    text.parse::<Decimal>()
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
        .map(|d| d.normalize())
}

/// A money field: a decimal; `null`/`""` read as zero; anything else is an error.
fn money<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let value = Value::deserialize(d)?;
    match value {
        Value::Null => Ok(Decimal::ZERO),
        Value::String(ref s) if s.trim().is_empty() => Ok(Decimal::ZERO),
        ref v => {
            decimal_of(v).ok_or_else(|| serde::de::Error::custom(format!("not a decimal: {v}")))
        }
    }
}

/// An optional decimal: `null`, `""` and unparsable values read as `None`.
fn optional_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    Ok(decimal_of(&Value::deserialize(d)?))
}

/// A string that may arrive as a number or `null`.
fn loose_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    })
}

/// An integer that may arrive as a string or `null` (→ 0).
fn loose_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .unwrap_or_default(),
        Value::String(s) => s.trim().parse().unwrap_or_default(),
        _ => 0,
    })
}

/// `consignments`: the object structure, or `None` for the link form / anything else.
fn consignments<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Consignments>, D::Error> {
    let value = Value::deserialize(d)?;
    let is_object_structure = value.as_object().is_some_and(|m| {
        m.contains_key("shipping") || m.contains_key("pickups") || m.contains_key("downloads")
    });
    if !is_object_structure {
        return Ok(None);
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// `line_items`: full order products; link objects (`include=consignments` alone) are skipped.
fn line_items<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<OrderProduct>, D::Error> {
    let value = Value::deserialize(d)?;
    let Value::Array(items) = value else {
        return Ok(Vec::new());
    };
    items
        .into_iter()
        .filter(|item| item.get("id").is_some())
        .map(|item| serde_json::from_value(item).map_err(serde::de::Error::custom))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn decimals_come_exactly_from_strings_and_numbers() {
        assert_eq!(
            decimal_of(&Value::from("12.5000")),
            Some(Decimal::new(125, 1))
        );
        let n: Value = serde_json::from_str("19.99").unwrap();
        assert_eq!(decimal_of(&n), Some(Decimal::new(1999, 2)));
        let tiny: Value = serde_json::from_str("1e-7").unwrap();
        assert_eq!(decimal_of(&tiny), Some(Decimal::new(1, 7)));
        assert_eq!(decimal_of(&Value::from("")), None);
        assert_eq!(decimal_of(&Value::Null), None);
    }

    #[test]
    fn link_consignments_and_link_line_items_are_ignored() {
        let order: Order = serde_json::from_value(serde_json::json!({
            "id": 1,
            "consignments": { "url": "https://x/v2/orders/1/consignments", "resource": "/orders/1/consignments" }
        }))
        .unwrap();
        assert!(order.consignments.is_none());
        let order: Order = serde_json::from_value(serde_json::json!({
            "id": 1,
            "consignments": { "shipping": [{ "id": 7, "line_items": [{ "url": "u", "resource": "r" }] }] }
        }))
        .unwrap();
        let consignments = order.consignments.unwrap();
        assert_eq!(consignments.shipping[0].id, 7);
        assert!(consignments.shipping[0].line_items.is_empty());
    }
}
