//! Order shipments (v2, docs/bigcommerce.md §3): list, count, create, update and delete;
//! creating one ships order products (the status becomes Shipped or Partially Shipped),
//! deleting one makes its quantities shippable again.

use actix_web::{web, HttpRequest, HttpResponse};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use crate::format::{money, rfc2822};
use crate::model::{Address, Order, Shipment};
use crate::order_products::address_fields;
use crate::orders::{set_status, COMMENTS_MAX};
use crate::request::v2::{
    body_object, int_value, invalid, not_found, now, read_only_field, required, resource,
    string_field, sub_list, with_order, Refusal,
};
use crate::request::{parse_id, raise};
use crate::server::{lock, Shared};

/// Longest `tracking_number` a shipment may carry.
pub(crate) const TRACKING_NUMBER_MAX: usize = 50;

/// Longest `tracking_link`.
pub(crate) const TRACKING_LINK_MAX: usize = 500;

/// Named shipping providers (`carrier_{id}` is accepted too).
pub(crate) const PROVIDERS: &[&str] = &[
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
    cfg.service(
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
    );
}

pub(crate) fn shipment_event(id: i64, order_id: i64) -> Value {
    json!({ "type": "shipment", "id": id, "orderId": order_id })
}

pub(crate) fn provider_display_name(provider: &str) -> String {
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
pub(crate) fn generated_tracking_link(provider: &str, carrier: &str, number: &str) -> String {
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
pub(crate) fn shipment_json(o: &Order, s: &Shipment) -> Value {
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

pub(crate) async fn list_shipments(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    sub_list(&req, &shared, &hash, &id, |o| {
        o.shipments.iter().map(|s| shipment_json(o, s)).collect()
    })
}

pub(crate) async fn count_shipments(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    with_order(&shared, &hash, &id, |o, _| {
        HttpResponse::Ok().json(json!({ "count": o.shipments.len() }))
    })
    .unwrap_or_else(not_found)
}

pub(crate) async fn get_shipment(
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
pub(crate) struct ShipmentText {
    pub(crate) tracking_number: Option<String>,
    pub(crate) shipping_method: Option<String>,
    pub(crate) shipping_provider: Option<String>,
    pub(crate) tracking_carrier: Option<String>,
    pub(crate) tracking_link: Option<String>,
    pub(crate) comments: Option<String>,
}

impl ShipmentText {
    pub(crate) fn parse(body: &Map<String, Value>) -> Result<Self, Refusal> {
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

    pub(crate) fn apply(self, s: &mut Shipment) {
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
pub(crate) fn check_shipment_items(
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

pub(crate) async fn create_shipment(
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
    raise(&mut state, &hash, raised);
    HttpResponse::Created().json(answer)
}

pub(crate) async fn update_shipment(
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
    raise(&mut state, &hash, raised);
    HttpResponse::Ok().json(answer)
}

/// Removes shipments of an order (all when `only` is `None`): their quantities become
/// shippable again, the status stays (BigCommerce does not revert it). `None`: not found.
pub(crate) fn remove_shipments(
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
    raise(&mut state, hash, raised);
    Some(HttpResponse::NoContent().finish())
}

pub(crate) async fn delete_shipment(
    path: web::Path<(String, String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id, sid) = path.into_inner();
    remove_shipments(&shared, &hash, &id, Some(&sid)).unwrap_or_else(not_found)
}

pub(crate) async fn delete_shipments(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    remove_shipments(&shared, &hash, &id, None).unwrap_or_else(not_found)
}
