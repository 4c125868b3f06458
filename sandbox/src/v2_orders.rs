//! Orders V2 (bigcommerce-api.md §2, §3): orders with their filters, sort and includes, order
//! products, shipping addresses, shipments, order statuses and counts; plus the merchant
//! actions (placing an order, changing its status) under `/_sandbox/`.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, SubsecRound, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::events;
use super::format::{
    money, rfc2822, v2_error, v2_error_details, v2_list, Paging, Params, MAX_LIMIT,
};
use super::model::{
    status_name, status_sort_order, Address, Order, OrderProduct, SandboxState, Shipment,
    ShippingAddress, Store, Tracking,
};
use super::seed;
use super::server::{lock, Shared};
pub use super::v2_views::CONSIGNMENT_LINE_CAP;
use super::v2_views::{cart_id, lines_of, to_value, Includes, OrderView, ProductView};

/// Longest `tracking_number` a shipment may carry.
const TRACKING_NUMBER_MAX: usize = 50;
/// Longest `tracking_link`.
const TRACKING_LINK_MAX: usize = 500;
/// Longest `comments`.
const COMMENTS_MAX: usize = 65_535;
/// Named shipping providers (`carrier_{id}` is accepted too).
const PROVIDERS: &[&str] = &[
    "",
    "auspost",
    "canadapost",
    "endicia",
    "usps",
    "fedex",
    "royalmail",
    "ups",
    "upsready",
    "upsonline",
    "shipperhq",
];

/// Registers this module's API routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/v2/orders").route(web::get().to(list_orders)))
        .service(resource("/v2/orders/count").route(web::get().to(count_orders)))
        .service(
            resource("/v2/orders/{id}")
                .route(web::get().to(get_order))
                .route(web::put().to(update_order))
                .route(web::delete().to(delete_order)),
        )
        .service(resource("/v2/orders/{id}/products").route(web::get().to(list_products)))
        .service(resource("/v2/orders/{id}/products/{line}").route(web::get().to(get_product)))
        .service(
            resource("/v2/orders/{id}/shipping_addresses").route(web::get().to(list_addresses)),
        )
        .service(
            resource("/v2/orders/{id}/shipping_addresses/{address}")
                .route(web::get().to(get_address)),
        )
        .service(
            resource("/v2/orders/{id}/shippingaddresses")
                .route(web::get().to(list_addresses_legacy)),
        )
        .service(
            resource("/v2/orders/{id}/shippingaddresses/{address}")
                .route(web::get().to(get_address_legacy)),
        )
        .service(resource("/v2/orders/{id}/coupons").route(web::get().to(list_coupons)))
        .service(
            resource("/v2/orders/{id}/shipments")
                .route(web::get().to(list_shipments))
                .route(web::post().to(create_shipment))
                .route(web::delete().to(delete_shipments)),
        )
        .service(resource("/v2/orders/{id}/shipments/count").route(web::get().to(count_shipments)))
        .service(
            resource("/v2/orders/{id}/shipments/{shipment}")
                .route(web::get().to(get_shipment))
                .route(web::put().to(update_shipment))
                .route(web::delete().to(delete_shipment)),
        )
        .service(resource("/v2/order_statuses").route(web::get().to(list_statuses)))
        .service(resource("/v2/order_statuses/{id}").route(web::get().to(get_status)));
}

/// Registers this module's merchant actions under `/_sandbox/`.
pub fn control_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/_sandbox/stores/{hash}/orders",
        web::post().to(place_order),
    )
    .route(
        "/_sandbox/stores/{hash}/orders/{id}/status",
        web::put().to(merchant_status),
    );
}

/// A resource that answers 405 (v2 body) to methods it does not serve.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(|| async {
        v2_error(
            405,
            "The requested method is not supported for this resource.",
        )
    }))
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/// Now, at the second precision v2 dates have.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

fn not_found() -> HttpResponse {
    v2_error(404, "The requested resource was not found.")
}

/// A refused request: status, message and optional details, answered as a v2 error (API) or a
/// control error (`/_sandbox/`).
#[derive(Debug)]
struct Refusal {
    status: u16,
    message: String,
    details: Option<Value>,
}

impl Refusal {
    fn new(status: u16, message: &str) -> Self {
        Self {
            status,
            message: message.to_string(),
            details: None,
        }
    }

    fn details(status: u16, message: &str, details: Value) -> Self {
        Self {
            details: Some(details),
            ..Self::new(status, message)
        }
    }

    /// The `/_sandbox/` error body.
    fn control(self) -> HttpResponse {
        control_error(self.status, &self.message)
    }
}

impl From<Refusal> for HttpResponse {
    fn from(r: Refusal) -> Self {
        match r.details {
            Some(details) => v2_error_details(r.status, &r.message, details),
            None => v2_error(r.status, &r.message),
        }
    }
}

fn invalid(field: &str) -> Refusal {
    Refusal::new(400, &format!("The field '{field}' is invalid."))
}

fn required(field: &str) -> Refusal {
    Refusal::new(
        400,
        &format!("The required field '{field}' was not supplied."),
    )
}

fn read_only_field(field: &str) -> Refusal {
    Refusal::new(
        400,
        &format!(
            "The field '{field}' cannot be written to. Please remove it from your request before trying again."
        ),
    )
}

fn parse_id(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

/// `{scheme}://{host}/stores/{hash}/v2`: the base of sub-resource links.
fn api_base(req: &HttpRequest, hash: &str) -> String {
    let info = req.connection_info();
    format!("{}://{}/stores/{hash}/v2", info.scheme(), info.host())
}

/// A `{url, resource}` link object.
fn link(api: &str, resource: String) -> Value {
    json!({ "url": format!("{api}{resource}"), "resource": resource })
}

/// Copies the keys of `extra` into `base` (both objects).
fn merge(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

/// The request body as a JSON object (`Err`: the v2 400 to answer).
fn body_object(body: &[u8]) -> Result<Map<String, Value>, Refusal> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Refusal::new(
            400,
            "The request body is not a valid JSON object.",
        )),
    }
}

/// An integer field given as a number or a numeric string (`Err`: invalid).
fn int_value(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A string field of at most `max` characters.
fn string_field(
    body: &Map<String, Value>,
    key: &str,
    max: usize,
) -> Result<Option<String>, Refusal> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        Some(_) => Err(invalid(key)),
    }
}

/// Queues `events` for a store.
fn emit_all(state: &mut SandboxState, hash: &str, events: Vec<(&'static str, Value)>) {
    for (scope, data) in events {
        events::emit(state, hash, scope, data);
    }
}

fn order_event(id: i64) -> Value {
    json!({ "type": "order", "id": id })
}

fn shipment_event(id: i64, order_id: i64) -> Value {
    json!({ "type": "shipment", "id": id, "orderId": order_id })
}

/// Sets an order's status; the events this raises (`updated`, and `statusUpdated` when the
/// status changes).
fn set_status(order: &mut Order, status: i64, at: DateTime<Utc>) -> Vec<(&'static str, Value)> {
    let previous = order.status_id;
    order.status_id = status;
    order.date_modified = at;
    let mut raised = vec![("store/order/updated", order_event(order.id))];
    if previous != status {
        raised.push((
            "store/order/statusUpdated",
            json!({
                "type": "order",
                "id": order.id,
                "status": { "previous_status_id": previous, "new_status_id": status }
            }),
        ));
    }
    raised
}

fn valid_status(id: i64) -> bool {
    (0..=14).contains(&id)
}

// ---------------------------------------------------------------------------------------------
// Representations
// ---------------------------------------------------------------------------------------------

fn address_fields(a: &Address) -> Value {
    json!({
        "first_name": a.first_name,
        "last_name": a.last_name,
        "company": a.company,
        "street_1": a.street_1,
        "street_2": a.street_2,
        "city": a.city,
        "state": a.state,
        "zip": a.zip,
        "country": a.country,
        "country_iso2": a.country_iso2,
        "phone": a.phone,
        "email": a.email,
    })
}

/// `include` and `consignment_structure` of a request.
fn includes(params: &Params) -> Includes {
    let list = params.strings("include").unwrap_or_default();
    let has = |name: &str| list.iter().any(|s| s == name);
    let line_items = has("consignments.line_items");
    Includes {
        consignments: line_items || has("consignments"),
        line_items,
        object: params
            .get("consignment_structure")
            .is_some_and(|v| v.eq_ignore_ascii_case("object")),
        fees: has("fees"),
    }
}

/// The v2 order object (§2.3).
/// The v2 order object (§2.3) as a JSON tree.
fn order_json(o: &Order, api: &str, inc: Includes) -> Value {
    to_value(&OrderView::of(o, api, inc))
}

/// The v2 order-product object (§2.4) as a JSON tree.
fn product_json(o: &Order, p: &OrderProduct) -> Value {
    to_value(&ProductView::of(o, p))
}

/// The v2 shipping-address object (§2.5).
fn shipping_address_json(o: &Order, a: &ShippingAddress, api: &str) -> Value {
    let lines: Vec<&OrderProduct> = lines_of(o, a.id).collect();
    let zero = money(Decimal::ZERO);
    merge(
        json!({ "id": a.id, "order_id": o.id }),
        merge(
            address_fields(&a.address),
            json!({
                "items_total": lines.iter().map(|p| p.quantity).sum::<i64>(),
                "items_shipped": lines.iter().map(|p| p.quantity_shipped).sum::<i64>(),
                "shipping_method": a.shipping_method,
                "base_cost": money(a.cost_ex_tax),
                "cost_ex_tax": money(a.cost_ex_tax),
                "cost_inc_tax": money(a.cost_inc_tax),
                "cost_tax": money(a.cost_inc_tax - a.cost_ex_tax),
                "cost_tax_class_id": 2,
                "base_handling_cost": zero,
                "handling_cost_ex_tax": zero,
                "handling_cost_inc_tax": zero,
                "handling_cost_tax": zero,
                "handling_cost_tax_class_id": 2,
                "shipping_zone_id": 1,
                "shipping_zone_name": "Worldwide",
                "form_fields": [],
                "shipping_quotes": link(api, format!(
                    "/orders/{}/shipping_addresses/{}/shipping_quotes", o.id, a.id
                )),
            }),
        ),
    )
}

fn provider_display_name(provider: &str) -> String {
    match provider {
        "auspost" => "Australia Post",
        "canadapost" => "Canada Post",
        "endicia" => "Endicia",
        "usps" => "USPS",
        "fedex" => "FedEx",
        "royalmail" => "Royal Mail",
        "ups" | "upsonline" => "UPS",
        "upsready" => "UPS Ready",
        "shipperhq" => "ShipperHQ",
        "" => "",
        _ => "Custom",
    }
    .to_string()
}

/// The tracking link BigCommerce generates from provider (or carrier) and tracking number.
fn generated_tracking_link(provider: &str, carrier: &str, number: &str) -> String {
    if number.is_empty() {
        return String::new();
    }
    let n: String = serde_urlencoded::to_string([("n", number)])
        .map(|s| s.trim_start_matches("n=").to_string())
        .unwrap_or_default();
    match provider {
        "ups" | "upsready" | "upsonline" => format!("https://www.ups.com/track?tracknum={n}"),
        "usps" | "endicia" => {
            format!("https://tools.usps.com/go/TrackConfirmAction?tLabels={n}")
        }
        "fedex" => format!("https://www.fedex.com/fedextrack/?trknbr={n}"),
        "royalmail" => format!("https://www.royalmail.com/track-your-item#/tracking-results/{n}"),
        "auspost" => format!("https://auspost.com.au/mypost/track/#/details/{n}"),
        "canadapost" => {
            format!("https://www.canadapost-postescanada.ca/track-reperage/en#/details/{n}")
        }
        _ if !carrier.is_empty() => format!("https://track.aftership.com/{carrier}/{n}"),
        _ => String::new(),
    }
}

/// The v2 shipment object (§3).
fn shipment_json(o: &Order, s: &Shipment) -> Value {
    let shipping_address = o
        .shipping_addresses
        .iter()
        .find(|a| a.id == s.order_address_id)
        .map(|a| address_fields(&a.address))
        .unwrap_or_else(|| address_fields(&Address::default()));
    json!({
        "id": s.id,
        "order_id": o.id,
        "customer_id": o.customer_id,
        "order_address_id": s.order_address_id,
        "date_created": rfc2822(s.date_created),
        "tracking_number": s.tracking_number,
        "merchant_shipping_cost": money(Decimal::ZERO),
        "shipping_method": s.shipping_method,
        "comments": s.comments,
        "shipping_provider": s.shipping_provider,
        "tracking_carrier": s.tracking_carrier,
        "tracking_link": s.tracking_link,
        "billing_address": address_fields(&o.billing_address),
        "shipping_address": shipping_address,
        "items": s.items.iter().map(|(line, qty)| json!({
            "order_product_id": line, "product_id": 0, "quantity": qty
        })).collect::<Vec<_>>(),
        "shipping_provider_display_name": provider_display_name(&s.shipping_provider),
        "generated_tracking_link":
            generated_tracking_link(&s.shipping_provider, &s.tracking_carrier, &s.tracking_number),
    })
}

// ---------------------------------------------------------------------------------------------
// Order filters and sort
// ---------------------------------------------------------------------------------------------

/// The filters of `GET /v2/orders` and `/v2/orders/count`.
#[derive(Debug, Default)]
struct Filter {
    min_id: Option<i64>,
    max_id: Option<i64>,
    min_total: Option<Decimal>,
    max_total: Option<Decimal>,
    customer_id: Option<i64>,
    email: Option<String>,
    status_id: Option<i64>,
    cart_id: Option<String>,
    payment_method: Option<String>,
    channel_id: Option<i64>,
    external_order_id: Option<String>,
    min_created: Option<DateTime<Utc>>,
    max_created: Option<DateTime<Utc>>,
    min_modified: Option<DateTime<Utc>>,
    max_modified: Option<DateTime<Utc>>,
}

impl Filter {
    fn parse(p: &Params) -> Result<Self, String> {
        let decimal = |key: &str| -> Result<Option<Decimal>, String> {
            match p.get(key) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<Decimal>()
                    .map(Some)
                    .map_err(|_| format!("The field '{key}' is invalid.")),
            }
        };
        let text = |key: &str| p.get(key).map(|s| s.trim().to_string());
        Ok(Self {
            min_id: p.int("min_id")?,
            max_id: p.int("max_id")?,
            min_total: decimal("min_total")?,
            max_total: decimal("max_total")?,
            customer_id: p.int("customer_id")?,
            email: text("email"),
            status_id: p.int("status_id")?,
            cart_id: text("cart_id"),
            payment_method: text("payment_method"),
            channel_id: p.int("channel_id")?,
            external_order_id: text("external_order_id"),
            min_created: p.date("min_date_created")?,
            max_created: p.date("max_date_created")?,
            min_modified: p.date("min_date_modified")?,
            max_modified: p.date("max_date_modified")?,
        })
    }

    fn matches(&self, o: &Order) -> bool {
        // The total is summed from the lines: only when a filter needs it.
        let total = || o.total_inc_tax();
        self.min_id.is_none_or(|v| o.id >= v)
            && self.max_id.is_none_or(|v| o.id <= v)
            && self.min_total.is_none_or(|v| total() >= v)
            && self.max_total.is_none_or(|v| total() <= v)
            && self.customer_id.is_none_or(|v| o.customer_id == v)
            && self
                .email
                .as_deref()
                .is_none_or(|v| o.billing_address.email.eq_ignore_ascii_case(v))
            && self.status_id.is_none_or(|v| o.status_id == v)
            && self.cart_id.as_deref().is_none_or(|v| cart_id(o.id) == v)
            && self
                .payment_method
                .as_deref()
                .is_none_or(|v| o.payment_method.eq_ignore_ascii_case(v))
            && self.channel_id.is_none_or(|v| v == 1)
            && self.external_order_id.as_deref().is_none_or(str::is_empty)
            && self.min_created.is_none_or(|v| o.date_created >= v)
            && self.max_created.is_none_or(|v| o.date_created <= v)
            && self.min_modified.is_none_or(|v| o.date_modified >= v)
            && self.max_modified.is_none_or(|v| o.date_modified <= v)
    }
}

/// `sort=field[:asc|:desc]`.
#[derive(Clone, Copy, Debug)]
enum SortField {
    Id,
    CustomerId,
    DateCreated,
    DateModified,
    StatusId,
    /// `channel_id`, `external_id`: the same for every sandbox order.
    Constant,
}

fn parse_sort(p: &Params) -> Result<(SortField, bool), String> {
    let Some(raw) = p.get("sort") else {
        return Ok((SortField::Id, false));
    };
    let bad = || "The field 'sort' is invalid.".to_string();
    let (field, direction) = match raw.trim().split_once(':') {
        Some((f, d)) => (f.trim(), d.trim().to_ascii_lowercase()),
        None => (raw.trim(), "asc".to_string()),
    };
    let desc = match direction.as_str() {
        "asc" => false,
        "desc" => true,
        _ => return Err(bad()),
    };
    let field = match field {
        "id" => SortField::Id,
        "customer_id" => SortField::CustomerId,
        "date_created" => SortField::DateCreated,
        "date_modified" => SortField::DateModified,
        "status_id" => SortField::StatusId,
        "channel_id" | "external_id" => SortField::Constant,
        _ => return Err(bad()),
    };
    Ok((field, desc))
}

fn sort_orders(orders: &mut [&Order], (field, desc): (SortField, bool)) {
    orders.sort_by(|a, b| {
        let primary = match field {
            SortField::Id | SortField::Constant => std::cmp::Ordering::Equal,
            SortField::CustomerId => a.customer_id.cmp(&b.customer_id),
            SortField::DateCreated => a.date_created.cmp(&b.date_created),
            SortField::DateModified => a.date_modified.cmp(&b.date_modified),
            SortField::StatusId => a.status_id.cmp(&b.status_id),
        };
        let ord = primary.then(a.id.cmp(&b.id));
        if desc {
            ord.reverse()
        } else {
            ord
        }
    });
}

/// The live (not archived) orders of a store that pass the request's filters.
fn filtered<'a>(store: &'a Store, params: &Params) -> Result<Vec<&'a Order>, Refusal> {
    let filter = Filter::parse(params).map_err(|m| Refusal::new(400, &m))?;
    Ok(store
        .orders
        .values()
        .filter(|o| !o.is_deleted && filter.matches(o))
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------------

async fn list_orders(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let hash = path.into_inner();
    let params = Params::parse(req.query_string());
    let api = api_base(&req, &hash);
    let state = lock(&shared);
    let paging = match Paging::from(&params, state.config.over_limit, MAX_LIMIT) {
        Ok(p) => p,
        Err((status, message)) => return v2_error(status, &message),
    };
    let sort = match parse_sort(&params) {
        Ok(s) => s,
        Err(m) => return v2_error(400, &m),
    };
    let inc = includes(&params);
    let Some(store) = state.stores.get(&hash) else {
        return not_found();
    };
    let mut orders = match filtered(store, &params) {
        Ok(o) => o,
        Err(res) => return res.into(),
    };
    sort_orders(&mut orders, sort);
    let page: Vec<OrderView> = paging
        .slice(orders)
        .into_iter()
        .map(|o| OrderView::of(o, &api, inc))
        .collect();
    if page.is_empty() {
        return HttpResponse::NoContent().finish();
    }
    // Written straight from the views: no JSON tree for a page of 250 orders.
    HttpResponse::Ok().json(page)
}

/// The 15 statuses as `/v2/order_statuses` lists them.
fn status_json(id: i64) -> Value {
    let name = status_name(id);
    json!({
        "id": id,
        "name": name,
        "system_label": name,
        "custom_label": name,
        "system_description": status_description(id),
        "order": status_sort_order(id),
    })
}

fn status_description(id: i64) -> &'static str {
    match id {
        0 => "An incomplete order happens when a shopper reached the payment page, but did not complete the transaction.",
        1 => "Customer started the checkout process, but did not complete it.",
        2 => "Order has been shipped, but receipt has not been confirmed; seller has used the Ship Items action.",
        3 => "Only some items in the order have been shipped, due to some products being pre-order only or other reasons.",
        4 => "Seller has used the Refund action.",
        5 => "Seller has cancelled an order, due to a stock inconsistency or other reasons.",
        6 => "Seller has marked the order as declined for lack of manual payment, or other reasons.",
        7 => "Customer has completed checkout process, but payment has yet to be confirmed.",
        8 => "Order has been pulled, and is awaiting customer pickup from a seller-specified location.",
        9 => "Order has been pulled and packaged, and is awaiting collection from a shipping provider.",
        10 => "Client has paid for their digital product and their file(s) are available for download.",
        11 => "Customer has completed the checkout process and payment has been confirmed.",
        12 => "Order on hold while some aspect needs to be manually confirmed.",
        13 => "Customer has initiated a dispute resolution process for the PayPal transaction that paid for the order.",
        14 => "Seller has partially refunded the order.",
        _ => "",
    }
}

async fn count_orders(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let hash = path.into_inner();
    let params = Params::parse(req.query_string());
    let state = lock(&shared);
    let Some(store) = state.stores.get(&hash) else {
        return not_found();
    };
    let orders = match filtered(store, &params) {
        Ok(o) => o,
        Err(res) => return res.into(),
    };
    let mut per_status: BTreeMap<i64, usize> = BTreeMap::new();
    for o in &orders {
        *per_status.entry(o.status_id).or_insert(0) += 1;
    }
    let mut ids: Vec<i64> = (0..=14).collect();
    ids.sort_by_key(|id| status_sort_order(*id));
    let statuses: Vec<Value> = ids
        .into_iter()
        .map(|id| {
            let name = status_name(id);
            json!({
                "id": id,
                "name": name,
                "system_label": name,
                "custom_label": name,
                "system_description": status_description(id),
                "count": per_status.get(&id).copied().unwrap_or(0),
                "sort_order": status_sort_order(id),
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({ "count": orders.len(), "statuses": statuses }))
}

async fn get_order(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let params = Params::parse(req.query_string());
    let api = api_base(&req, &hash);
    let inc = includes(&params);
    let state = lock(&shared);
    match parse_id(&id).and_then(|id| state.stores.get(&hash)?.orders.get(&id)) {
        Some(o) => HttpResponse::Ok().json(order_json(o, &api, inc)),
        None => not_found(),
    }
}

/// Fields of the order object a PUT may not write.
const ORDER_READ_ONLY: &[&str] = &[
    "id",
    "date_created",
    "date_modified",
    "date_shipped",
    "status",
    "custom_status",
    "items_total",
    "item_total",
    "items_shipped",
    "subtotal_ex_tax",
    "subtotal_inc_tax",
    "subtotal_tax",
    "total_tax",
    "shipping_address_count",
    "currency_code",
];

async fn update_order(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let api = api_base(&req, &hash);
    let body = match body_object(&body) {
        Ok(b) => b,
        Err(res) => return res.into(),
    };
    if let Some(field) = ORDER_READ_ONLY.iter().find(|f| body.contains_key(**f)) {
        return read_only_field(field).into();
    }
    let status = match body.get("status_id") {
        None => None,
        Some(v) => match int_value(v).filter(|s| valid_status(*s)) {
            Some(s) => Some(s),
            None => return HttpResponse::from(invalid("status_id")),
        },
    };
    let archive = match body.get("is_deleted") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return HttpResponse::from(invalid("is_deleted")),
    };
    let staff_notes = match string_field(&body, "staff_notes", COMMENTS_MAX) {
        Ok(v) => v,
        Err(res) => return res.into(),
    };
    let customer_message = match string_field(&body, "customer_message", COMMENTS_MAX) {
        Ok(v) => v,
        Err(res) => return res.into(),
    };
    let product_changes = match body.get("products") {
        None => Vec::new(),
        Some(v) => match product_changes(v) {
            Some(c) => c,
            None => return HttpResponse::from(invalid("products")),
        },
    };
    let at = now();
    let mut state = lock(&shared);
    let Some(order) = parse_id(&id).and_then(|id| state.stores.get_mut(&hash)?.orders.get_mut(&id))
    else {
        return not_found();
    };
    // Check the line changes before writing anything.
    for (line_id, qty) in &product_changes {
        match order.products.iter().find(|p| p.id == *line_id) {
            Some(p) if *qty >= p.quantity_shipped && (*qty > 0 || p.quantity_shipped == 0) => {}
            _ => return HttpResponse::from(invalid("products")),
        }
    }
    for (line_id, qty) in product_changes {
        if qty == 0 {
            order.products.retain(|p| p.id != line_id);
        } else if let Some(p) = order.products.iter_mut().find(|p| p.id == line_id) {
            p.quantity = qty;
        }
    }
    if let Some(notes) = staff_notes {
        order.staff_notes = notes;
    }
    if let Some(message) = customer_message {
        order.customer_message = message;
    }
    let mut raised = set_status(order, status.unwrap_or(order.status_id), at);
    if let Some(archived) = archive {
        if archived && !order.is_deleted {
            raised.push(("store/order/archived", order_event(order.id)));
        }
        order.is_deleted = archived;
    }
    let answer = order_json(order, &api, Includes::default());
    emit_all(&mut state, &hash, raised);
    HttpResponse::Ok().json(answer)
}

/// `products` of an order PUT: `[{id, quantity}]` (PATCH-like; quantity 0 removes the line).
fn product_changes(v: &Value) -> Option<Vec<(i64, i64)>> {
    v.as_array()?
        .iter()
        .map(|item| {
            let id = int_value(item.get("id")?)?;
            let qty = int_value(item.get("quantity")?)?;
            (qty >= 0).then_some((id, qty))
        })
        .collect()
}

async fn delete_order(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let at = now();
    let mut state = lock(&shared);
    let Some(order) = parse_id(&id).and_then(|id| state.stores.get_mut(&hash)?.orders.get_mut(&id))
    else {
        return not_found();
    };
    let mut raised = Vec::new();
    if !order.is_deleted {
        order.is_deleted = true;
        order.date_modified = at;
        raised.push(("store/order/archived", order_event(order.id)));
    }
    emit_all(&mut state, &hash, raised);
    HttpResponse::NoContent().finish()
}

// ---------------------------------------------------------------------------------------------
// Order products, shipping addresses, coupons
// ---------------------------------------------------------------------------------------------

/// Runs `f` on an order of the request's store (`None`: unknown store or order).
fn with_order<R>(
    shared: &Shared,
    hash: &str,
    id: &str,
    f: impl FnOnce(&Order, &SandboxState) -> R,
) -> Option<R> {
    let state = lock(shared);
    let order = state.stores.get(hash)?.orders.get(&parse_id(id)?)?;
    Some(f(order, &state))
}

/// A paged v2 sub-list of an order.
fn sub_list(
    req: &HttpRequest,
    shared: &Shared,
    hash: &str,
    id: &str,
    items: impl FnOnce(&Order) -> Vec<Value>,
) -> HttpResponse {
    let params = Params::parse(req.query_string());
    with_order(shared, hash, id, |o, state| {
        match Paging::from(&params, state.config.over_limit, MAX_LIMIT) {
            Ok(paging) => v2_list(paging.slice(items(o))),
            Err((status, message)) => v2_error(status, &message),
        }
    })
    .unwrap_or_else(not_found)
}

async fn list_products(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    sub_list(&req, &shared, &hash, &id, |o| {
        o.products.iter().map(|p| product_json(o, p)).collect()
    })
}

async fn get_product(
    path: web::Path<(String, String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id, line) = path.into_inner();
    with_order(&shared, &hash, &id, |o, _| {
        let line = parse_id(&line)?;
        o.products
            .iter()
            .find(|p| p.id == line)
            .map(|p| HttpResponse::Ok().json(product_json(o, p)))
    })
    .flatten()
    .unwrap_or_else(not_found)
}

fn addresses(req: &HttpRequest, shared: &Shared, hash: &str, id: &str) -> HttpResponse {
    let api = api_base(req, hash);
    sub_list(req, shared, hash, id, |o| {
        o.shipping_addresses
            .iter()
            .map(|a| shipping_address_json(o, a, &api))
            .collect()
    })
}

fn address(
    req: &HttpRequest,
    shared: &Shared,
    hash: &str,
    id: &str,
    address: &str,
) -> HttpResponse {
    let api = api_base(req, hash);
    with_order(shared, hash, id, |o, _| {
        let address = parse_id(address)?;
        o.shipping_addresses
            .iter()
            .find(|a| a.id == address)
            .map(|a| HttpResponse::Ok().json(shipping_address_json(o, a, &api)))
    })
    .flatten()
    .unwrap_or_else(not_found)
}

fn legacy_path_enabled(shared: &Shared) -> bool {
    lock(shared).config.legacy_shippingaddresses_path
}

async fn list_addresses(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    addresses(&req, &shared, &hash, &id)
}

async fn get_address(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id, address_id) = path.into_inner();
    address(&req, &shared, &hash, &id, &address_id)
}

async fn list_addresses_legacy(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    if !legacy_path_enabled(&shared) {
        return not_found();
    }
    let (hash, id) = path.into_inner();
    addresses(&req, &shared, &hash, &id)
}

async fn get_address_legacy(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    if !legacy_path_enabled(&shared) {
        return not_found();
    }
    let (hash, id, address_id) = path.into_inner();
    address(&req, &shared, &hash, &id, &address_id)
}

/// Sandbox orders carry no coupons: an empty v2 list.
async fn list_coupons(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    sub_list(&req, &shared, &hash, &id, |_| Vec::new())
}

// ---------------------------------------------------------------------------------------------
// Shipments
// ---------------------------------------------------------------------------------------------

async fn list_shipments(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    sub_list(&req, &shared, &hash, &id, |o| {
        o.shipments.iter().map(|s| shipment_json(o, s)).collect()
    })
}

async fn count_shipments(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    with_order(&shared, &hash, &id, |o, _| {
        HttpResponse::Ok().json(json!({ "count": o.shipments.len() }))
    })
    .unwrap_or_else(not_found)
}

async fn get_shipment(
    path: web::Path<(String, String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id, sid) = path.into_inner();
    with_order(&shared, &hash, &id, |o, _| {
        let sid = parse_id(&sid)?;
        o.shipments
            .iter()
            .find(|s| s.id == sid)
            .map(|s| HttpResponse::Ok().json(shipment_json(o, s)))
    })
    .flatten()
    .unwrap_or_else(not_found)
}

/// The descriptive fields of a shipment (everything but address and items).
#[derive(Debug, Default)]
struct ShipmentText {
    tracking_number: Option<String>,
    shipping_method: Option<String>,
    shipping_provider: Option<String>,
    tracking_carrier: Option<String>,
    tracking_link: Option<String>,
    comments: Option<String>,
}

impl ShipmentText {
    fn parse(body: &Map<String, Value>) -> Result<Self, Refusal> {
        let provider = string_field(body, "shipping_provider", 100)?;
        if let Some(p) = &provider {
            let carrier = p
                .strip_prefix("carrier_")
                .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()));
            if !(PROVIDERS.contains(&p.as_str()) || carrier) {
                return Err(invalid("shipping_provider"));
            }
        }
        let carrier = string_field(body, "tracking_carrier", 100)?;
        if let Some(c) = &carrier {
            let slug = c
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
            if !slug {
                return Err(invalid("tracking_carrier"));
            }
        }
        Ok(Self {
            tracking_number: string_field(body, "tracking_number", TRACKING_NUMBER_MAX)?,
            shipping_method: string_field(body, "shipping_method", 250)?,
            shipping_provider: provider,
            tracking_carrier: carrier,
            tracking_link: string_field(body, "tracking_link", TRACKING_LINK_MAX)?,
            comments: string_field(body, "comments", COMMENTS_MAX)?,
        })
    }

    fn apply(self, s: &mut Shipment) {
        let set = |field: &mut String, value: Option<String>| {
            if let Some(v) = value {
                *field = v;
            }
        };
        set(&mut s.tracking_number, self.tracking_number);
        set(&mut s.shipping_method, self.shipping_method);
        set(&mut s.shipping_provider, self.shipping_provider);
        set(&mut s.tracking_carrier, self.tracking_carrier);
        set(&mut s.tracking_link, self.tracking_link);
        set(&mut s.comments, self.comments);
    }
}

/// Checks the address and items of a new shipment against the order: the items, merged per
/// order product, or the v2 400 to answer.
fn check_shipment_items(
    order: &Order,
    body: &Map<String, Value>,
) -> Result<(i64, Vec<(i64, i64)>), Refusal> {
    let address_id = match body.get("order_address_id") {
        None | Some(Value::Null) => return Err(required("order_address_id")),
        Some(v) => int_value(v).ok_or_else(|| invalid("order_address_id"))?,
    };
    if !order.shipping_addresses.iter().any(|a| a.id == address_id) {
        return Err(Refusal::details(
            400,
            "The field 'order_address_id' is invalid.",
            json!({
                "invalid_reason": "The shipping address does not belong to this order.",
                "order_address_id": address_id,
            }),
        ));
    }
    let items = match body.get("items") {
        None | Some(Value::Null) => return Err(required("items")),
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(_) => return Err(invalid("items")),
    };
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for item in items {
        let line_id = match item.get("order_product_id") {
            None | Some(Value::Null) => return Err(required("order_product_id")),
            Some(v) => int_value(v).ok_or_else(|| invalid("order_product_id"))?,
        };
        let qty = match item.get("quantity") {
            None | Some(Value::Null) => return Err(required("quantity")),
            Some(v) => int_value(v)
                .filter(|q| *q >= 1)
                .ok_or_else(|| invalid("quantity"))?,
        };
        let reason = match order.products.iter().find(|p| p.id == line_id) {
            None => Some("The order product does not belong to this order."),
            Some(p) if p.order_address_id != address_id => {
                Some("The order product does not belong to this shipping address.")
            }
            Some(_) => None,
        };
        if let Some(reason) = reason {
            return Err(Refusal::details(
                400,
                "The field 'order_product_id' is invalid.",
                json!({ "invalid_reason": reason, "order_product_id": line_id }),
            ));
        }
        match merged.iter_mut().find(|(id, _)| *id == line_id) {
            Some((_, q)) => *q += qty,
            None => merged.push((line_id, qty)),
        }
    }
    for (line_id, qty) in &merged {
        let available = order
            .products
            .iter()
            .find(|p| p.id == *line_id)
            .map(|p| p.quantity - p.quantity_shipped)
            .unwrap_or(0);
        if *qty > available {
            return Err(Refusal::details(
                400,
                "The field 'quantity' is invalid.",
                json!({
                    "invalid_reason": "The quantity specified is greater than the quantity of the product that is available to ship.",
                    "available_quantity": available,
                    "order_product_id": line_id,
                }),
            ));
        }
    }
    Ok((address_id, merged))
}

async fn create_shipment(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let body = match body_object(&body) {
        Ok(b) => b,
        Err(res) => return res.into(),
    };
    let text = match ShipmentText::parse(&body) {
        Ok(t) => t,
        Err(res) => return res.into(),
    };
    let at = now();
    let mut state = lock(&shared);
    let Some(order_id) = parse_id(&id) else {
        return not_found();
    };
    let Some(store) = state.stores.get_mut(&hash) else {
        return not_found();
    };
    let (address_id, items) = match store.orders.get(&order_id) {
        None => return not_found(),
        Some(order) => match check_shipment_items(order, &body) {
            Ok(checked) => checked,
            Err(res) => return res.into(),
        },
    };
    let shipment_id = store.new_id();
    let Some(order) = store.orders.get_mut(&order_id) else {
        return not_found();
    };
    for (line_id, qty) in &items {
        if let Some(line) = order.products.iter_mut().find(|p| p.id == *line_id) {
            line.quantity_shipped += qty;
        }
    }
    let mut shipment = Shipment {
        id: shipment_id,
        order_address_id: address_id,
        date_created: at,
        tracking_number: String::new(),
        shipping_method: String::new(),
        shipping_provider: String::new(),
        tracking_carrier: String::new(),
        tracking_link: String::new(),
        comments: String::new(),
        items,
    };
    text.apply(&mut shipment);
    order.shipments.push(shipment);
    let fully = order.items_shipped() >= order.items_total();
    if fully {
        order.date_shipped = Some(at);
    }
    let previous = order.status_id;
    let status = if fully { 2 } else { 3 };
    let mut raised = vec![(
        "store/shipment/created",
        shipment_event(shipment_id, order_id),
    )];
    if previous != status {
        raised.extend(set_status(order, status, at));
    } else {
        order.date_modified = at;
    }
    let answer = order
        .shipments
        .last()
        .map(|s| shipment_json(order, s))
        .unwrap_or(Value::Null);
    emit_all(&mut state, &hash, raised);
    HttpResponse::Created().json(answer)
}

async fn update_shipment(
    path: web::Path<(String, String, String)>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let (hash, id, sid) = path.into_inner();
    let body = match body_object(&body) {
        Ok(b) => b,
        Err(res) => return res.into(),
    };
    for field in ["id", "order_id", "date_created", "items", "customer_id"] {
        if body.contains_key(field) {
            return read_only_field(field).into();
        }
    }
    let text = match ShipmentText::parse(&body) {
        Ok(t) => t,
        Err(res) => return res.into(),
    };
    let mut state = lock(&shared);
    let Some(order) = parse_id(&id).and_then(|id| state.stores.get_mut(&hash)?.orders.get_mut(&id))
    else {
        return not_found();
    };
    let Some(index) =
        parse_id(&sid).and_then(|sid| order.shipments.iter().position(|s| s.id == sid))
    else {
        return not_found();
    };
    if let Some(v) = body.get("order_address_id") {
        if int_value(v) != Some(order.shipments[index].order_address_id) {
            return invalid("order_address_id").into();
        }
    }
    text.apply(&mut order.shipments[index]);
    let answer = shipment_json(order, &order.shipments[index]);
    let raised = vec![(
        "store/shipment/updated",
        shipment_event(order.shipments[index].id, order.id),
    )];
    emit_all(&mut state, &hash, raised);
    HttpResponse::Ok().json(answer)
}

/// Removes shipments of an order (all when `only` is `None`): their quantities become
/// shippable again, the status stays (BigCommerce does not revert it). `None`: not found.
fn remove_shipments(
    shared: &Shared,
    hash: &str,
    id: &str,
    only: Option<&str>,
) -> Option<HttpResponse> {
    let mut state = lock(shared);
    let order = state.stores.get_mut(hash)?.orders.get_mut(&parse_id(id)?)?;
    let removed: Vec<Shipment> = match only {
        Some(sid) => {
            let sid = parse_id(sid)?;
            let index = order.shipments.iter().position(|s| s.id == sid)?;
            vec![order.shipments.remove(index)]
        }
        None => std::mem::take(&mut order.shipments),
    };
    for s in &removed {
        for (line_id, qty) in &s.items {
            if let Some(line) = order.products.iter_mut().find(|p| p.id == *line_id) {
                line.quantity_shipped = (line.quantity_shipped - qty).max(0);
            }
        }
    }
    let order_id = order.id;
    let raised = removed
        .iter()
        .map(|s| ("store/shipment/deleted", shipment_event(s.id, order_id)))
        .collect();
    emit_all(&mut state, hash, raised);
    Some(HttpResponse::NoContent().finish())
}

async fn delete_shipment(
    path: web::Path<(String, String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id, sid) = path.into_inner();
    remove_shipments(&shared, &hash, &id, Some(&sid)).unwrap_or_else(not_found)
}

async fn delete_shipments(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    remove_shipments(&shared, &hash, &id, None).unwrap_or_else(not_found)
}

// ---------------------------------------------------------------------------------------------
// Order statuses
// ---------------------------------------------------------------------------------------------

async fn list_statuses() -> HttpResponse {
    v2_list((0..=14).map(status_json).collect())
}

async fn get_status(path: web::Path<(String, String)>) -> HttpResponse {
    let (_, id) = path.into_inner();
    match parse_id(&id).filter(|id| valid_status(*id)) {
        Some(id) => HttpResponse::Ok().json(status_json(id)),
        None => not_found(),
    }
}

// ---------------------------------------------------------------------------------------------
// Merchant actions (`/_sandbox/`)
// ---------------------------------------------------------------------------------------------

fn control_error(status: u16, message: &str) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    )
    .json(json!({ "error": message }))
}

/// A control body: empty means `{}`.
fn control_body(body: &[u8]) -> Result<Map<String, Value>, Refusal> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Refusal::new(400, "the body must be a JSON object")),
    }
}

/// Overwrites the string fields of `address` given in `patch`.
fn patch_address(address: &mut Address, patch: &Map<String, Value>) {
    let fields: [(&str, &mut String); 12] = [
        ("first_name", &mut address.first_name),
        ("last_name", &mut address.last_name),
        ("company", &mut address.company),
        ("street_1", &mut address.street_1),
        ("street_2", &mut address.street_2),
        ("city", &mut address.city),
        ("state", &mut address.state),
        ("zip", &mut address.zip),
        ("country", &mut address.country),
        ("country_iso2", &mut address.country_iso2),
        ("phone", &mut address.phone),
        ("email", &mut address.email),
    ];
    for (key, field) in fields {
        if let Some(Value::String(v)) = patch.get(key) {
            *field = v.clone();
        }
    }
}

/// Requested lines of a placed order: `(sku or variant, quantity)`.
fn requested_lines(body: &Map<String, Value>) -> Result<Option<Vec<(Value, i64)>>, Refusal> {
    let Some(lines) = body.get("lines") else {
        return Ok(None);
    };
    let Some(lines) = lines.as_array().filter(|l| !l.is_empty()) else {
        return Err(Refusal::new(400, "lines must be a non-empty array"));
    };
    lines
        .iter()
        .map(|line| {
            let key = line
                .get("sku")
                .filter(|v| v.is_string())
                .or_else(|| line.get("variant_id"))
                .cloned()
                .ok_or_else(|| Refusal::new(400, "each line needs a sku or a variant_id"))?;
            let qty = match line.get("quantity") {
                None => 1,
                Some(v) => int_value(v)
                    .filter(|q| *q >= 1)
                    .ok_or_else(|| Refusal::new(400, "quantity must be a positive integer"))?,
            };
            Ok((key, qty))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Takes placed quantities off the catalog's stock (as a storefront order does); the
/// inventory events this raises.
fn reserve_stock(store: &mut Store, order: &Order) -> Vec<(&'static str, Value)> {
    let mut raised = Vec::new();
    for line in &order.products {
        let Some(product) = store.products.get_mut(&line.product_id) else {
            continue;
        };
        product.total_sold += line.quantity;
        match product.inventory_tracking {
            Tracking::None => {}
            Tracking::Product => {
                product.inventory_level = (product.inventory_level - line.quantity).max(0);
                raised.push((
                    "store/product/inventory/order/updated",
                    json!({
                        "type": "product",
                        "id": product.id,
                        "inventory": {
                            "product_id": product.id,
                            "method": "relative",
                            "value": -line.quantity,
                        }
                    }),
                ));
            }
            Tracking::Variant => {
                if let Some(v) = product
                    .variants
                    .iter_mut()
                    .find(|v| v.id == line.variant_id)
                {
                    v.inventory_level = (v.inventory_level - line.quantity).max(0);
                    raised.push((
                        "store/sku/inventory/order/updated",
                        json!({
                            "type": "sku",
                            "id": v.id,
                            "inventory": {
                                "product_id": product.id,
                                "method": "relative",
                                "value": -line.quantity,
                                "variant_id": v.id,
                            }
                        }),
                    ));
                }
            }
        }
    }
    raised
}

/// `POST /_sandbox/stores/{hash}/orders`: a shopper places an order now.
async fn place_order(
    req: HttpRequest,
    path: web::Path<String>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let hash = path.into_inner();
    let api = api_base(&req, &hash);
    let body = match control_body(&body) {
        Ok(b) => b,
        Err(res) => return res.control(),
    };
    let lines = match requested_lines(&body) {
        Ok(l) => l,
        Err(res) => return res.control(),
    };
    let status = match body.get("status_id") {
        None => 11,
        Some(v) => match int_value(v).filter(|s| valid_status(*s)) {
            Some(s) => s,
            None => return control_error(400, "status_id must be 0-14"),
        },
    };
    let customer_id = match body.get("customer_id") {
        None => None,
        Some(v) => match int_value(v).filter(|c| *c >= 0) {
            Some(c) => Some(c),
            None => return control_error(400, "customer_id must be a non-negative integer"),
        },
    };
    let billing = match body.get("billing_address") {
        None => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => return control_error(400, "billing_address must be an object"),
    };
    let at = now();
    let mut state = lock(&shared);
    let seed_value = state.config.seed;
    let Some(store) = state.stores.get_mut(&hash) else {
        return control_error(404, &format!("no sandbox store {hash}"));
    };
    let sellable = seed::sellables(store);
    let chosen = match lines {
        None => None,
        Some(lines) => {
            let mut chosen = Vec::new();
            for (key, qty) in lines {
                let found = sellable.iter().find(|s| match &key {
                    Value::String(sku) => s.sku == *sku,
                    other => int_value(other) == Some(s.variant_id),
                });
                match found {
                    Some(s) => chosen.push((s.clone(), qty)),
                    None => return control_error(400, &format!("nothing sellable matches {key}")),
                }
            }
            Some(chosen)
        }
    };
    let mut rng = StdRng::seed_from_u64(
        seed_value
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(store.orders.len() as u64),
    );
    let line_count = chosen
        .as_ref()
        .map_or_else(|| rng.gen_range(1..=4), Vec::len);
    let Some(mut order) = seed::random_order(&mut rng, store, &sellable, at, status, line_count)
    else {
        return control_error(409, "the store has nothing to sell");
    };
    if let Some(chosen) = chosen {
        let tax_rate = order.tax_rate;
        for (line, (s, qty)) in order.products.iter_mut().zip(chosen) {
            let tax = (s.price * tax_rate).round_dp(4);
            line.product_id = s.product_id;
            line.variant_id = s.variant_id;
            line.name = s.name;
            line.sku = s.sku;
            line.base_price = s.price;
            line.price_ex_tax = s.price;
            line.price_inc_tax = s.price + tax;
            line.price_tax = tax;
            line.weight = s.weight;
            line.quantity = qty;
        }
    }
    if let Some(c) = customer_id {
        order.customer_id = c;
    }
    if let Some(patch) = billing {
        let ships_to_billing = order
            .shipping_addresses
            .first()
            .is_some_and(|a| a.address.email == order.billing_address.email);
        patch_address(&mut order.billing_address, &patch);
        if ships_to_billing {
            if let Some(first) = order.shipping_addresses.first_mut() {
                first.address = order.billing_address.clone();
            }
        }
    }
    let mut raised = vec![("store/order/created", order_event(order.id))];
    raised.extend(reserve_stock(store, &order));
    let answer = order_json(&order, &api, Includes::default());
    store.orders.insert(order.id, order);
    emit_all(&mut state, &hash, raised);
    HttpResponse::Created().json(answer)
}

/// `PUT /_sandbox/stores/{hash}/orders/{id}/status`: the merchant changes an order's status.
async fn merchant_status(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let api = api_base(&req, &hash);
    let body = match control_body(&body) {
        Ok(b) => b,
        Err(res) => return res.control(),
    };
    let Some(status) = body
        .get("status_id")
        .and_then(int_value)
        .filter(|s| valid_status(*s))
    else {
        return control_error(400, "status_id must be 0-14");
    };
    let at = now();
    let mut state = lock(&shared);
    let Some(order) = parse_id(&id).and_then(|id| state.stores.get_mut(&hash)?.orders.get_mut(&id))
    else {
        return control_error(404, &format!("no order {id} in sandbox store {hash}"));
    };
    let raised = set_status(order, status, at);
    let answer = order_json(order, &api, Includes::default());
    emit_all(&mut state, &hash, raised);
    HttpResponse::Ok().json(answer)
}
