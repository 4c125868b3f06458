//! Wire formats of the BigCommerce API, private to this module. Only the fields orderdeck
//! reads; every field is lenient (missing → default, number or string where the API is loose)
//! so that one odd value does not fail a whole page. Mapping to domain types is in `map.rs`.

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
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
// Orders v2 (docs/bigcommerce.md §2)
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
    pub shipping_cost_ex_tax: Decimal,
    #[serde(default, deserialize_with = "money")]
    pub total_tax: Decimal,
    #[serde(default, deserialize_with = "money")]
    pub total_inc_tax: Decimal,
    #[serde(default)]
    pub items_total: i64,
    #[serde(default)]
    pub items_shipped: i64,
    #[serde(default, deserialize_with = "loose_string")]
    pub customer_message: String,
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

/// A shipping consignment: an address, its method and its lines (at most 50 embedded). The
/// address fields are read in place (a flattened `Address` would buffer every field first).
#[derive(Debug, Deserialize)]
pub(super) struct ShippingConsignment {
    #[serde(default)]
    pub id: i64,
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
    #[serde(default, deserialize_with = "loose_string")]
    pub shipping_method: String,
    #[serde(default, deserialize_with = "line_items")]
    pub line_items: Vec<OrderProduct>,
    /// Present when the embedded `line_items` were capped.
    #[serde(default, rename = "__warning__")]
    pub warning: Option<Value>,
}

impl ShippingConsignment {
    /// Moves the address fields out.
    pub fn take_address(&mut self) -> Address {
        use std::mem::take;
        Address {
            first_name: take(&mut self.first_name),
            last_name: take(&mut self.last_name),
            company: take(&mut self.company),
            street_1: take(&mut self.street_1),
            street_2: take(&mut self.street_2),
            city: take(&mut self.city),
            state: take(&mut self.state),
            zip: take(&mut self.zip),
            country: take(&mut self.country),
            country_iso2: take(&mut self.country_iso2),
            phone: take(&mut self.phone),
            email: take(&mut self.email),
        }
    }
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

/// An element of a consignment's `line_items`: an order product, or a link object (no `id`)
/// with `include=consignments` alone. The fields of [`OrderProduct`], with `id` optional.
#[derive(Debug, Deserialize)]
struct EmbeddedLine {
    /// `None` when absent (a link); `null` is an error, as for an order product.
    #[serde(default, deserialize_with = "present")]
    id: Option<i64>,
    #[serde(default)]
    product_id: i64,
    #[serde(default)]
    variant_id: i64,
    #[serde(default, deserialize_with = "loose_i64")]
    order_address_id: i64,
    #[serde(default, deserialize_with = "loose_string")]
    name: String,
    #[serde(default, deserialize_with = "loose_string")]
    sku: String,
    #[serde(default)]
    quantity: i64,
    #[serde(default)]
    quantity_shipped: i64,
    #[serde(default, deserialize_with = "money")]
    price_ex_tax: Decimal,
    #[serde(default, deserialize_with = "money")]
    total_inc_tax: Decimal,
    #[serde(default, deserialize_with = "optional_decimal")]
    weight: Option<Decimal>,
}

impl EmbeddedLine {
    fn into_product(self) -> Option<OrderProduct> {
        Some(OrderProduct {
            id: self.id?,
            product_id: self.product_id,
            variant_id: self.variant_id,
            order_address_id: self.order_address_id,
            name: self.name,
            sku: self.sku,
            quantity: self.quantity,
            quantity_shipped: self.quantity_shipped,
            price_ex_tax: self.price_ex_tax,
            total_inc_tax: self.total_inc_tax,
            weight: self.weight,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Shipments v2 (docs/bigcommerce.md §3)
// ---------------------------------------------------------------------------------------------

/// The body of `POST /v2/orders/{id}/shipments`. Empty optional texts are left out rather
/// than sent as `""`, so the store applies its own defaults.
#[derive(Debug, Serialize)]
pub(super) struct NewShipment<'a> {
    pub order_address_id: i64,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub tracking_number: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub shipping_method: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub shipping_provider: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub tracking_carrier: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub comments: &'a str,
    pub items: Vec<NewShipmentItem>,
}

/// An item of a new shipment.
#[derive(Debug, Serialize)]
pub(super) struct NewShipmentItem {
    pub order_product_id: i64,
    pub quantity: i64,
}

/// A shipment of `POST` or `GET /v2/orders/{id}/shipments` (only the fields orderdeck reads).
#[derive(Debug, Deserialize)]
pub(super) struct Shipment {
    pub id: i64,
    #[serde(default, deserialize_with = "loose_i64")]
    pub order_address_id: i64,
    #[serde(default, deserialize_with = "loose_string")]
    pub tracking_number: String,
    #[serde(default)]
    pub items: Vec<ShipmentItem>,
    /// Filled by the store from provider or carrier plus tracking number.
    #[serde(default, deserialize_with = "loose_string")]
    pub generated_tracking_link: String,
    /// A custom link only (the merchant's own).
    #[serde(default, deserialize_with = "loose_string")]
    pub tracking_link: String,
}

/// An item of a shipment.
#[derive(Debug, Deserialize)]
pub(super) struct ShipmentItem {
    #[serde(deserialize_with = "loose_i64")]
    pub order_product_id: i64,
    #[serde(default, deserialize_with = "loose_i64")]
    pub quantity: i64,
}

// ---------------------------------------------------------------------------------------------
// Catalog v3 (docs/bigcommerce.md §4)
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
#[cfg(test)]
pub(super) fn decimal_of(value: &Value) -> Option<Decimal> {
    optional_decimal(value.clone()).ok().flatten()
}

/// A JSON value as the lenient readers see it, read without building a `Value` (except for
/// arrays and objects where a scalar was expected, which are rare).
enum Loose<'a> {
    Null,
    Str(Cow<'a, str>),
    Number(serde_json::Number),
    Bool(bool),
    Other(Value),
}

impl Loose<'_> {
    /// The value as `serde_json::Value` (for error messages and odd shapes).
    fn into_value(self) -> Value {
        match self {
            Loose::Null => Value::Null,
            Loose::Str(s) => Value::String(s.into_owned()),
            Loose::Number(n) => Value::Number(n),
            Loose::Bool(b) => Value::Bool(b),
            Loose::Other(v) => v,
        }
    }

    /// The decimal of [`decimal_of`].
    fn decimal(&self) -> Option<Decimal> {
        match self {
            Loose::Str(s) => decimal_text(s.trim()),
            Loose::Number(n) => decimal_text(&n.to_string()),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Loose<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = Loose<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Loose::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Loose::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                Loose::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
                Ok(Loose::Bool(b))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Ok(Loose::Number(n.into()))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(Loose::Number(n.into()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
                Ok(serde_json::Number::from_f64(n).map_or(Loose::Null, Loose::Number))
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Loose::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Loose::Str(Cow::Owned(s.to_string())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Loose::Str(Cow::Owned(s)))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Loose::Other)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Loose::Other)
            }
        }
        d.deserialize_any(Visit)
    }
}

/// A decimal from its text (plain or scientific), normalized.
fn decimal_text(text: &str) -> Option<Decimal> {
    if text.is_empty() {
        return None;
    }
    text.parse::<Decimal>()
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
        .map(|d| d.normalize())
}

/// A money field: a decimal; `null`/`""` read as zero; anything else is an error.
fn money<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let value = Loose::deserialize(d)?;
    match value {
        Loose::Null => Ok(Decimal::ZERO),
        Loose::Str(ref s) if s.trim().is_empty() => Ok(Decimal::ZERO),
        v => v
            .decimal()
            .ok_or_else(|| de::Error::custom(format!("not a decimal: {}", v.into_value()))),
    }
}

/// An optional decimal: `null`, `""` and unparsable values read as `None`.
fn optional_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    Ok(Loose::deserialize(d)?.decimal())
}

/// A string that may arrive as a number or `null`.
fn loose_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Loose::deserialize(d)? {
        Loose::Str(s) => s.into_owned(),
        Loose::Null => String::new(),
        Loose::Number(n) => n.to_string(),
        Loose::Bool(b) => b.to_string(),
        Loose::Other(other) => other.to_string(),
    })
}

/// An integer that may arrive as a string or `null` (→ 0).
fn loose_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(match Loose::deserialize(d)? {
        Loose::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .unwrap_or_default(),
        Loose::Str(s) => s.trim().parse().unwrap_or_default(),
        _ => 0,
    })
}

/// A field that is `Some` whenever present (`null` is an error, as for a required field).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    i64::deserialize(d).map(Some)
}

/// An element of `line_items`: an object is a line (or a link, without `id`); anything else
/// is skipped.
struct MaybeLine(Option<EmbeddedLine>);

impl<'de> Deserialize<'de> for MaybeLine {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = MaybeLine;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a line item")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                EmbeddedLine::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|l| MaybeLine(Some(l)))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                de::IgnoredAny::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(MaybeLine(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(MaybeLine(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(MaybeLine(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(MaybeLine(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(MaybeLine(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(MaybeLine(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(MaybeLine(None))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// `consignments` with the object structure: each list `Some` when present.
#[derive(Deserialize)]
struct ConsignmentLists {
    #[serde(default, deserialize_with = "present_list")]
    shipping: Option<Vec<ShippingConsignment>>,
    #[serde(default, deserialize_with = "present_list")]
    pickups: Option<Vec<OtherConsignment>>,
    #[serde(default, deserialize_with = "present_list")]
    downloads: Option<Vec<OtherConsignment>>,
}

fn present_list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Vec<T>>, D::Error> {
    Vec::<T>::deserialize(d).map(Some)
}

/// `consignments`: the object structure, or `None` for the link form / anything else.
fn consignments<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Consignments>, D::Error> {
    struct Visit;
    impl<'de> Visitor<'de> for Visit {
        type Value = Option<Consignments>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("consignments")
        }
        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            let lists = ConsignmentLists::deserialize(de::value::MapAccessDeserializer::new(map))?;
            if lists.shipping.is_none() && lists.pickups.is_none() && lists.downloads.is_none() {
                return Ok(None);
            }
            Ok(Some(Consignments {
                shipping: lists.shipping.unwrap_or_default(),
                pickups: lists.pickups.unwrap_or_default(),
                downloads: lists.downloads.unwrap_or_default(),
            }))
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            de::IgnoredAny::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(Visit)
}

/// `line_items`: full order products; link objects (`include=consignments` alone) are skipped.
fn line_items<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<OrderProduct>, D::Error> {
    struct Visit;
    impl<'de> Visitor<'de> for Visit {
        type Value = Vec<OrderProduct>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("line items")
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut lines = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(MaybeLine(line)) = seq.next_element::<MaybeLine>()? {
                lines.extend(line.and_then(EmbeddedLine::into_product));
            }
            Ok(lines)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            de::IgnoredAny::deserialize(de::value::MapAccessDeserializer::new(map))?;
            Ok(Vec::new())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(Visit)
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
    fn odd_values_read_leniently() {
        let line: OrderProduct = serde_json::from_value(serde_json::json!({
            "id": 1, "order_address_id": "12", "name": 12, "sku": null,
            "price_ex_tax": 1.5, "total_inc_tax": "", "weight": "heavy"
        }))
        .unwrap();
        assert_eq!(line.order_address_id, 12);
        assert_eq!(line.name, "12");
        assert_eq!(line.sku, "");
        assert_eq!(line.price_ex_tax, Decimal::new(15, 1));
        assert_eq!(line.total_inc_tax, Decimal::ZERO);
        assert_eq!(line.weight, None);
        let line: OrderProduct = serde_json::from_value(serde_json::json!({
            "id": 1, "order_address_id": 7.9, "name": [1, "a"], "sku": true, "weight": 2e-3
        }))
        .unwrap();
        assert_eq!(line.order_address_id, 7);
        assert_eq!(line.name, r#"[1,"a"]"#);
        assert_eq!(line.sku, "true");
        assert_eq!(line.weight, Some(Decimal::new(2, 3)));
        for bad in [
            serde_json::json!("abc"),
            serde_json::json!(true),
            serde_json::json!({}),
        ] {
            let err = serde_json::from_value::<OrderProduct>(
                serde_json::json!({ "id": 1, "price_ex_tax": bad }),
            )
            .unwrap_err();
            assert!(err.to_string().contains("not a decimal"), "{err}");
        }
        // From text, as the client reads it (borrowed and escaped strings alike).
        let line: OrderProduct = serde_json::from_str(
            r#"{"id": 2, "name": "Caf\u00e9 \"Mug\"", "sku": "A-1", "price_ex_tax": "19.9900"}"#,
        )
        .unwrap();
        assert_eq!(line.name, "Café \"Mug\"");
        assert_eq!(line.sku, "A-1");
        assert_eq!(line.price_ex_tax, Decimal::new(1999, 2));
    }

    #[test]
    fn line_items_keep_full_lines_and_skip_links_and_odd_elements() {
        let order: Order = serde_json::from_str(
            r#"{ "id": 1, "consignments": { "shipping": [{ "id": 7, "city": "Austin",
                "line_items": [{ "url": "u", "resource": "r" }, 5, "x", null, [1],
                               { "id": 3, "quantity": 2 }] }],
                "pickups": [{ "line_items": { "url": "u" } }] } }"#,
        )
        .unwrap();
        let mut consignments = order.consignments.unwrap();
        let shipping = &mut consignments.shipping[0];
        assert_eq!(shipping.line_items.len(), 1);
        assert_eq!(shipping.line_items[0].id, 3);
        assert_eq!(shipping.take_address().city, "Austin");
        assert!(consignments.pickups[0].line_items.is_empty());
        // A line with a null id is malformed, as an order product would be.
        assert!(serde_json::from_str::<Order>(
            r#"{ "id": 1, "consignments": { "shipping": [{ "line_items": [{ "id": null }] }] } }"#
        )
        .is_err());
        // A present but null list is malformed too; other shapes mean "no consignments".
        assert!(serde_json::from_str::<Order>(
            r#"{ "id": 1, "consignments": { "shipping": null } }"#
        )
        .is_err());
        for other in ["[]", "null", "\"x\"", "3"] {
            let order: Order =
                serde_json::from_str(&format!(r#"{{ "id": 1, "consignments": {other} }}"#))
                    .unwrap();
            assert!(order.consignments.is_none(), "{other}");
        }
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
