//! Orders V2 (docs/bigcommerce.md §2): orders with their filters, sort and includes, order
//! counts, updates and archiving, and the order statuses. Order products and shipping
//! addresses are in `order_products.rs`, shipments in `shipments.rs`, the JSON views in
//! `order_views.rs`.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::format::{v2_error, v2_list};
use crate::model::{status_name, status_sort_order, Order, Store};
use crate::order_views::{cart_id, to_value, Includes, OrderView};
use crate::request::query::{Paging, Params, MAX_LIMIT};
use crate::request::v2::{
    api_base, body_object, int_value, invalid, not_found, now, read_only_field, resource,
    string_field, Refusal,
};
use crate::request::{parse_id, raise};
use crate::server::{lock, Shared};

/// Longest `comments`.
pub(crate) const COMMENTS_MAX: usize = 65_535;

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
        .service(resource("/v2/order_statuses").route(web::get().to(list_statuses)))
        .service(resource("/v2/order_statuses/{id}").route(web::get().to(get_status)));
}

pub(crate) fn order_event(id: i64) -> Value {
    json!({ "type": "order", "id": id })
}

/// Sets an order's status; the events this raises (`updated`, and `statusUpdated` when the
/// status changes).
pub(crate) fn set_status(
    order: &mut Order,
    status: i64,
    at: DateTime<Utc>,
) -> Vec<(&'static str, Value)> {
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

pub(crate) fn valid_status(id: i64) -> bool {
    (0..=14).contains(&id)
}

/// `include` and `consignment_structure` of a request.
pub(crate) fn includes(params: &Params) -> Includes {
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
pub(crate) fn order_json(o: &Order, api: &str, inc: Includes) -> Value {
    to_value(&OrderView::of(o, api, inc))
}

/// The filters of `GET /v2/orders` and `/v2/orders/count`.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    pub(crate) min_id: Option<i64>,
    pub(crate) max_id: Option<i64>,
    pub(crate) min_total: Option<Decimal>,
    pub(crate) max_total: Option<Decimal>,
    pub(crate) customer_id: Option<i64>,
    pub(crate) email: Option<String>,
    pub(crate) status_id: Option<i64>,
    pub(crate) cart_id: Option<String>,
    pub(crate) payment_method: Option<String>,
    pub(crate) channel_id: Option<i64>,
    pub(crate) external_order_id: Option<String>,
    pub(crate) min_created: Option<DateTime<Utc>>,
    pub(crate) max_created: Option<DateTime<Utc>>,
    pub(crate) min_modified: Option<DateTime<Utc>>,
    pub(crate) max_modified: Option<DateTime<Utc>>,
}

impl Filter {
    pub(crate) fn parse(p: &Params) -> Result<Self, String> {
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

    pub(crate) fn matches(&self, o: &Order) -> bool {
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
pub(crate) enum SortField {
    Id,
    CustomerId,
    DateCreated,
    DateModified,
    StatusId,
    /// `channel_id`, `external_id`: the same for every sandbox order.
    Constant,
}

pub(crate) fn parse_sort(p: &Params) -> Result<(SortField, bool), String> {
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

pub(crate) fn sort_orders(orders: &mut [&Order], (field, desc): (SortField, bool)) {
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
pub(crate) fn filtered<'a>(store: &'a Store, params: &Params) -> Result<Vec<&'a Order>, Refusal> {
    let filter = Filter::parse(params).map_err(|m| Refusal::new(400, &m))?;
    Ok(store
        .orders
        .values()
        .filter(|o| !o.is_deleted && filter.matches(o))
        .collect())
}

pub(crate) async fn list_orders(
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
pub(crate) fn status_json(id: i64) -> Value {
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

pub(crate) fn status_description(id: i64) -> &'static str {
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

pub(crate) async fn count_orders(
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

pub(crate) async fn get_order(
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
pub(crate) const ORDER_READ_ONLY: &[&str] = &[
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

pub(crate) async fn update_order(
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
    raise(&mut state, &hash, raised);
    HttpResponse::Ok().json(answer)
}

/// `products` of an order PUT: `[{id, quantity}]` (PATCH-like; quantity 0 removes the line).
pub(crate) fn product_changes(v: &Value) -> Option<Vec<(i64, i64)>> {
    v.as_array()?
        .iter()
        .map(|item| {
            let id = int_value(item.get("id")?)?;
            let qty = int_value(item.get("quantity")?)?;
            (qty >= 0).then_some((id, qty))
        })
        .collect()
}

pub(crate) async fn delete_order(
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
    raise(&mut state, &hash, raised);
    HttpResponse::NoContent().finish()
}

pub(crate) async fn list_statuses() -> HttpResponse {
    v2_list((0..=14).map(status_json).collect())
}

pub(crate) async fn get_status(path: web::Path<(String, String)>) -> HttpResponse {
    let (_, id) = path.into_inner();
    match parse_id(&id).filter(|id| valid_status(*id)) {
        Some(id) => HttpResponse::Ok().json(status_json(id)),
        None => not_found(),
    }
}
