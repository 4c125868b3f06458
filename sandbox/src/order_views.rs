//! The v2 order, consignment and order-product objects (docs/bigcommerce.md §2.1, §2.3, §2.4),
//! serialized straight from the model: a page of 250 orders is written without building a
//! `serde_json::Value` tree first.

use rust_decimal::Decimal;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::format::{money, number, rfc2822};
use crate::model::{status_name, Address, Order, OrderProduct, ShippingAddress};

/// Line items embedded per consignment with `include=consignments.line_items`.
pub const CONSIGNMENT_LINE_CAP: usize = 50;

/// v2 money zero (`"0.0000"`).
const ZERO: &str = "0.0000";

/// `include` and `consignment_structure` of a request.
#[derive(Clone, Copy, Debug, Default)]
pub struct Includes {
    pub consignments: bool,
    pub line_items: bool,
    pub object: bool,
    pub fees: bool,
}

/// `[]`.
pub struct EmptyArray;

impl Serialize for EmptyArray {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_seq(Some(0))?.end()
    }
}

/// `{"gift_certificates": []}`.
pub struct EmailConsignments;

impl Serialize for EmailConsignments {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("gift_certificates", &EmptyArray)?;
        m.end()
    }
}

/// A `{url, resource}` link object.
#[derive(Serialize)]
pub struct Link {
    url: String,
    resource: String,
}

impl Link {
    pub fn new(api: &str, resource: String) -> Self {
        Self {
            url: format!("{api}{resource}"),
            resource,
        }
    }
}

/// The twelve address fields v2 objects share.
#[derive(Serialize)]
pub struct AddressView<'a> {
    first_name: &'a str,
    last_name: &'a str,
    company: &'a str,
    street_1: &'a str,
    street_2: &'a str,
    city: &'a str,
    state: &'a str,
    zip: &'a str,
    country: &'a str,
    country_iso2: &'a str,
    phone: &'a str,
    email: &'a str,
}

impl<'a> AddressView<'a> {
    pub fn of(a: &'a Address) -> Self {
        Self {
            first_name: &a.first_name,
            last_name: &a.last_name,
            company: &a.company,
            street_1: &a.street_1,
            street_2: &a.street_2,
            city: &a.city,
            state: &a.state,
            zip: &a.zip,
            country: &a.country,
            country_iso2: &a.country_iso2,
            phone: &a.phone,
            email: &a.email,
        }
    }
}

/// The billing address of an order: the address and its (empty) form fields.
#[derive(Serialize)]
struct BillingView<'a> {
    #[serde(flatten)]
    address: AddressView<'a>,
    form_fields: EmptyArray,
}

/// A stable, made-up cart id for an order.
pub fn cart_id(order_id: i64) -> String {
    format!("{:08x}-5a1d-4b0c-8000-{:012x}", order_id, order_id * 7919)
}

/// The lines of an order shipped to one address.
pub fn lines_of(order: &Order, address_id: i64) -> impl Iterator<Item = &OrderProduct> {
    order
        .products
        .iter()
        .filter(move |p| p.order_address_id == address_id)
}

/// The v2 order object (§2.3).
#[derive(Serialize)]
pub struct OrderView<'a> {
    id: i64,
    customer_id: i64,
    date_created: String,
    date_modified: String,
    date_shipped: String,
    status_id: i64,
    status: &'static str,
    custom_status: &'static str,
    subtotal_ex_tax: String,
    subtotal_inc_tax: String,
    subtotal_tax: String,
    base_shipping_cost: String,
    shipping_cost_ex_tax: String,
    shipping_cost_inc_tax: String,
    shipping_cost_tax: String,
    shipping_cost_tax_class_id: i64,
    base_handling_cost: &'static str,
    handling_cost_ex_tax: &'static str,
    handling_cost_inc_tax: &'static str,
    handling_cost_tax: &'static str,
    handling_cost_tax_class_id: i64,
    base_wrapping_cost: &'static str,
    wrapping_cost_ex_tax: &'static str,
    wrapping_cost_inc_tax: &'static str,
    wrapping_cost_tax: &'static str,
    wrapping_cost_tax_class_id: i64,
    total_ex_tax: String,
    total_inc_tax: String,
    total_tax: String,
    is_tax_inclusive_pricing: bool,
    items_total: i64,
    items_shipped: i64,
    payment_method: &'a str,
    payment_provider_id: &'static str,
    payment_status: &'a str,
    refunded_amount: &'static str,
    order_is_digital: bool,
    store_credit_amount: &'static str,
    gift_certificate_amount: &'static str,
    ip_address: String,
    ip_address_v6: &'static str,
    geoip_country: &'a str,
    geoip_country_iso2: &'a str,
    currency_id: i64,
    currency_code: &'a str,
    currency_exchange_rate: &'static str,
    default_currency_id: i64,
    default_currency_code: &'a str,
    store_default_currency_code: &'a str,
    store_default_to_transactional_exchange_rate: &'static str,
    staff_notes: &'a str,
    customer_message: &'a str,
    discount_amount: &'static str,
    coupon_discount: &'static str,
    shipping_address_count: usize,
    is_deleted: bool,
    ebay_order_id: &'static str,
    cart_id: String,
    billing_address: BillingView<'a>,
    is_email_opt_in: bool,
    credit_card_type: (),
    order_source: &'static str,
    channel_id: i64,
    external_source: (),
    external_id: (),
    external_merchant_id: (),
    external_order_id: &'static str,
    tax_provider_id: &'static str,
    customer_locale: &'static str,
    products: Link,
    shipping_addresses: Link,
    coupons: Link,
    #[serde(skip_serializing_if = "Option::is_none")]
    consignments: Option<ConsignmentsView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fees: Option<EmptyArray>,
}

impl<'a> OrderView<'a> {
    /// The order as `GET /v2/orders` shows it with the request's includes.
    pub fn of(o: &'a Order, api: &str, inc: Includes) -> Self {
        let subtotal_ex = o.subtotal_ex_tax();
        let subtotal_inc = o.subtotal_inc_tax();
        let total_ex = subtotal_ex + o.shipping_cost_ex_tax;
        let total_inc = subtotal_inc + o.shipping_cost_inc_tax;
        OrderView {
            id: o.id,
            customer_id: o.customer_id,
            date_created: rfc2822(o.date_created),
            date_modified: rfc2822(o.date_modified),
            date_shipped: o.date_shipped.map(rfc2822).unwrap_or_default(),
            status_id: o.status_id,
            status: status_name(o.status_id),
            custom_status: status_name(o.status_id),
            subtotal_ex_tax: money(subtotal_ex),
            subtotal_inc_tax: money(subtotal_inc),
            subtotal_tax: money(subtotal_inc - subtotal_ex),
            base_shipping_cost: money(o.shipping_cost_ex_tax),
            shipping_cost_ex_tax: money(o.shipping_cost_ex_tax),
            shipping_cost_inc_tax: money(o.shipping_cost_inc_tax),
            shipping_cost_tax: money(o.shipping_cost_inc_tax - o.shipping_cost_ex_tax),
            shipping_cost_tax_class_id: 2,
            base_handling_cost: ZERO,
            handling_cost_ex_tax: ZERO,
            handling_cost_inc_tax: ZERO,
            handling_cost_tax: ZERO,
            handling_cost_tax_class_id: 2,
            base_wrapping_cost: ZERO,
            wrapping_cost_ex_tax: ZERO,
            wrapping_cost_inc_tax: ZERO,
            wrapping_cost_tax: ZERO,
            wrapping_cost_tax_class_id: 3,
            total_ex_tax: money(total_ex),
            total_inc_tax: money(total_inc),
            total_tax: money(total_inc - total_ex),
            is_tax_inclusive_pricing: false,
            items_total: o.items_total(),
            items_shipped: o.items_shipped(),
            payment_method: &o.payment_method,
            payment_provider_id: "",
            payment_status: &o.payment_status,
            refunded_amount: ZERO,
            order_is_digital: false,
            store_credit_amount: ZERO,
            gift_certificate_amount: ZERO,
            ip_address: format!("192.0.2.{}", o.id % 250 + 1),
            ip_address_v6: "",
            geoip_country: &o.billing_address.country,
            geoip_country_iso2: &o.billing_address.country_iso2,
            currency_id: 1,
            currency_code: &o.currency_code,
            currency_exchange_rate: "1.0000000000",
            default_currency_id: 1,
            default_currency_code: &o.currency_code,
            store_default_currency_code: &o.currency_code,
            store_default_to_transactional_exchange_rate: "1.0000000000",
            staff_notes: &o.staff_notes,
            customer_message: &o.customer_message,
            discount_amount: ZERO,
            coupon_discount: ZERO,
            shipping_address_count: o.shipping_addresses.len(),
            is_deleted: o.is_deleted,
            ebay_order_id: "0",
            cart_id: cart_id(o.id),
            billing_address: BillingView {
                address: AddressView::of(&o.billing_address),
                form_fields: EmptyArray,
            },
            is_email_opt_in: false,
            credit_card_type: (),
            order_source: "www",
            channel_id: 1,
            external_source: (),
            external_id: (),
            external_merchant_id: (),
            external_order_id: "",
            tax_provider_id: "BasicTaxProvider",
            customer_locale: "en",
            products: Link::new(api, format!("/orders/{}/products", o.id)),
            shipping_addresses: Link::new(api, format!("/orders/{}/shippingaddresses", o.id)),
            coupons: Link::new(api, format!("/orders/{}/coupons", o.id)),
            consignments: inc.consignments.then(|| ConsignmentsView::of(o, api, inc)),
            fees: inc.fees.then_some(EmptyArray),
        }
    }
}

/// `consignments` of an order (§2.1): the object structure, or the older link.
#[derive(Serialize)]
#[serde(untagged)]
pub enum ConsignmentsView<'a> {
    Object {
        pickups: EmptyArray,
        shipping: Vec<ShippingConsignmentView<'a>>,
        downloads: EmptyArray,
        email: EmailConsignments,
    },
    Link(Link),
}

impl<'a> ConsignmentsView<'a> {
    fn of(o: &'a Order, api: &str, inc: Includes) -> Self {
        if !inc.object {
            return Self::Link(Link::new(api, format!("/orders/{}/consignments", o.id)));
        }
        Self::Object {
            pickups: EmptyArray,
            shipping: o
                .shipping_addresses
                .iter()
                .map(|a| ShippingConsignmentView::of(o, a, api, inc))
                .collect(),
            downloads: EmptyArray,
            email: EmailConsignments,
        }
    }
}

/// The lines of a consignment: order products, or links to them.
#[derive(Serialize)]
#[serde(untagged)]
pub enum LineItems<'a> {
    Full(Vec<ProductView<'a>>),
    Links(Vec<Link>),
}

/// The warning of a consignment whose embedded lines were capped.
#[derive(Serialize)]
pub struct CapWarning {
    message: String,
}

/// A shipping consignment of the object structure.
#[derive(Serialize)]
pub struct ShippingConsignmentView<'a> {
    id: i64,
    #[serde(flatten)]
    address: AddressView<'a>,
    form_fields: EmptyArray,
    shipping_method: &'a str,
    items_total: i64,
    items_shipped: i64,
    base_cost: Value,
    cost_ex_tax: Value,
    cost_inc_tax: Value,
    cost_tax: Value,
    cost_tax_class_id: i64,
    base_handling_cost: Value,
    handling_cost_ex_tax: Value,
    handling_cost_inc_tax: Value,
    handling_cost_tax: Value,
    handling_cost_tax_class_id: i64,
    shipping_zone_id: i64,
    shipping_zone_name: &'static str,
    shipping_quotes: Link,
    line_items: LineItems<'a>,
    #[serde(rename = "__warning__", skip_serializing_if = "Option::is_none")]
    warning: Option<CapWarning>,
}

impl<'a> ShippingConsignmentView<'a> {
    fn of(o: &'a Order, a: &'a ShippingAddress, api: &str, inc: Includes) -> Self {
        let (mut count, mut items_total, mut items_shipped) = (0usize, 0i64, 0i64);
        for p in lines_of(o, a.id) {
            count += 1;
            items_total += p.quantity;
            items_shipped += p.quantity_shipped;
        }
        let line_items = if inc.line_items {
            LineItems::Full(
                lines_of(o, a.id)
                    .take(CONSIGNMENT_LINE_CAP)
                    .map(|p| ProductView::of(o, p))
                    .collect(),
            )
        } else {
            LineItems::Links(
                lines_of(o, a.id)
                    .map(|p| Link::new(api, format!("/orders/{}/products/{}", o.id, p.id)))
                    .collect(),
            )
        };
        let zero = number(Decimal::ZERO);
        ShippingConsignmentView {
            id: a.id,
            address: AddressView::of(&a.address),
            form_fields: EmptyArray,
            shipping_method: &a.shipping_method,
            items_total,
            items_shipped,
            base_cost: number(a.cost_ex_tax),
            cost_ex_tax: number(a.cost_ex_tax),
            cost_inc_tax: number(a.cost_inc_tax),
            cost_tax: number(a.cost_inc_tax - a.cost_ex_tax),
            cost_tax_class_id: 2,
            base_handling_cost: zero.clone(),
            handling_cost_ex_tax: zero.clone(),
            handling_cost_inc_tax: zero.clone(),
            handling_cost_tax: zero,
            handling_cost_tax_class_id: 2,
            shipping_zone_id: 1,
            shipping_zone_name: "Worldwide",
            shipping_quotes: Link::new(
                api,
                format!(
                    "/orders/{}/consignments/shipping/{}/shipping_quotes",
                    o.id, a.id
                ),
            ),
            line_items,
            warning: (inc.line_items && count > CONSIGNMENT_LINE_CAP).then(|| CapWarning {
                message: format!(
                    "Not all line items of this consignment are returned with this response, only {CONSIGNMENT_LINE_CAP} are included. Please use the `/v2/orders/{{order_id}}/products` endpoint to fetch all line items."
                ),
            }),
        }
    }
}

/// The v2 order-product object (§2.4).
#[derive(Serialize)]
pub struct ProductView<'a> {
    id: i64,
    order_id: i64,
    product_id: i64,
    variant_id: i64,
    order_address_id: i64,
    order_pickup_method_id: i64,
    name: &'a str,
    name_customer: &'a str,
    name_merchant: &'a str,
    sku: &'a str,
    upc: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    base_price: String,
    price_ex_tax: String,
    price_inc_tax: String,
    price_tax: String,
    base_total: String,
    total_ex_tax: String,
    total_inc_tax: String,
    total_tax: String,
    base_cost_price: &'static str,
    cost_price_inc_tax: &'static str,
    cost_price_ex_tax: &'static str,
    cost_price_tax: &'static str,
    fixed_shipping_cost: &'static str,
    discounted_total_inc_tax: String,
    weight: String,
    width: &'static str,
    height: &'static str,
    depth: &'static str,
    quantity: i64,
    quantity_shipped: i64,
    quantity_refunded: i64,
    is_refunded: bool,
    refund_amount: &'static str,
    return_id: i64,
    wrapping_id: i64,
    wrapping_name: &'static str,
    base_wrapping_cost: &'static str,
    wrapping_cost_ex_tax: &'static str,
    wrapping_cost_inc_tax: &'static str,
    wrapping_cost_tax: &'static str,
    wrapping_message: &'static str,
    event_name: (),
    event_date: &'static str,
    ebay_item_id: &'static str,
    ebay_transaction_id: &'static str,
    option_set_id: (),
    parent_order_product_id: (),
    is_bundled_product: bool,
    bin_picking_number: &'static str,
    external_id: (),
    brand: &'static str,
    gift_certificate_id: (),
    configurable_fields: EmptyArray,
    applied_discounts: EmptyArray,
    product_options: EmptyArray,
}

impl<'a> ProductView<'a> {
    /// A line of order `o`.
    pub fn of(o: &Order, p: &'a OrderProduct) -> Self {
        let qty = Decimal::from(p.quantity);
        let total_inc = money(p.price_inc_tax * qty);
        ProductView {
            id: p.id,
            order_id: o.id,
            product_id: p.product_id,
            variant_id: p.variant_id,
            order_address_id: p.order_address_id,
            order_pickup_method_id: 0,
            name: &p.name,
            name_customer: &p.name,
            name_merchant: &p.name,
            sku: &p.sku,
            upc: "",
            kind: "physical",
            base_price: money(p.base_price),
            price_ex_tax: money(p.price_ex_tax),
            price_inc_tax: money(p.price_inc_tax),
            price_tax: money(p.price_tax),
            base_total: money(p.base_price * qty),
            total_ex_tax: money(p.price_ex_tax * qty),
            total_inc_tax: total_inc.clone(),
            total_tax: money(p.price_tax * qty),
            base_cost_price: ZERO,
            cost_price_inc_tax: ZERO,
            cost_price_ex_tax: ZERO,
            cost_price_tax: ZERO,
            fixed_shipping_cost: ZERO,
            discounted_total_inc_tax: total_inc,
            weight: money(p.weight),
            width: ZERO,
            height: ZERO,
            depth: ZERO,
            quantity: p.quantity,
            quantity_shipped: p.quantity_shipped,
            quantity_refunded: 0,
            is_refunded: false,
            refund_amount: ZERO,
            return_id: 0,
            wrapping_id: 0,
            wrapping_name: "",
            base_wrapping_cost: ZERO,
            wrapping_cost_ex_tax: ZERO,
            wrapping_cost_inc_tax: ZERO,
            wrapping_cost_tax: ZERO,
            wrapping_message: "",
            event_name: (),
            event_date: "",
            ebay_item_id: "",
            ebay_transaction_id: "",
            option_set_id: (),
            parent_order_product_id: (),
            is_bundled_product: false,
            bin_picking_number: "",
            external_id: (),
            brand: "",
            gift_certificate_id: (),
            configurable_fields: EmptyArray,
            applied_discounts: EmptyArray,
            product_options: EmptyArray,
        }
    }
}

/// A value as a JSON tree (for answers that are built further or kept).
pub fn to_value<T: Serialize>(view: &T) -> Value {
    serde_json::to_value(view).unwrap_or(Value::Null)
}
