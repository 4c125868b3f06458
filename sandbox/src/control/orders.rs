//! The shop's order actions under `/_sandbox/stores/{hash}/…`: a shopper places an order
//! (taking stock as a storefront order does), the merchant changes an order's status. Both
//! raise the same webhook events as the API.

use actix_web::{web, HttpRequest, HttpResponse};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

use super::{body as control_body, error as control_error};
use crate::model::{Address, Order, Store, Tracking};
use crate::order_views::Includes;
use crate::orders::{order_event, order_json, set_status, valid_status};
use crate::request::v2::{api_base, int_value, now, Refusal};
use crate::request::{parse_id, raise};
use crate::seed;
use crate::server::{lock, Shared};

/// Registers the order actions.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/_sandbox/stores/{hash}/orders",
        web::post().to(place_order),
    )
    .route(
        "/_sandbox/stores/{hash}/orders/{id}/status",
        web::put().to(merchant_status),
    );
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

/// What a placed order may set besides its lines: the customer's message, and the shipping
/// costs as the store charged them (decimal strings), e.g. with tax on shipping.
struct Extras {
    customer_message: Option<String>,
    shipping_ex_tax: Option<rust_decimal::Decimal>,
    shipping_inc_tax: Option<rust_decimal::Decimal>,
}

impl Extras {
    /// The fields of `body`, or what is wrong with one.
    fn of(body: &Map<String, Value>) -> Result<Self, String> {
        let money = |key: &str| match body.get(key) {
            None => Ok(None),
            Some(Value::String(v)) => match v.parse::<rust_decimal::Decimal>() {
                Ok(d) if !d.is_sign_negative() => Ok(Some(d)),
                _ => Err(format!("{key} must be a decimal string")),
            },
            Some(_) => Err(format!("{key} must be a decimal string")),
        };
        let customer_message = match body.get("customer_message") {
            None => None,
            Some(Value::String(m)) => Some(m.clone()),
            Some(_) => return Err("customer_message must be a string".into()),
        };
        Ok(Self {
            customer_message,
            shipping_ex_tax: money("shipping_cost_ex_tax")?,
            shipping_inc_tax: money("shipping_cost_inc_tax")?,
        })
    }

    fn apply(self, order: &mut Order) {
        if let Some(m) = self.customer_message {
            order.customer_message = m;
        }
        if let Some(ex) = self.shipping_ex_tax {
            order.shipping_cost_ex_tax = ex;
            order.shipping_cost_inc_tax = ex;
        }
        if let Some(inc) = self.shipping_inc_tax {
            order.shipping_cost_inc_tax = inc;
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
        Err(res) => return res,
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
    let extras = match Extras::of(&body) {
        Ok(e) => e,
        Err(message) => return control_error(400, &message),
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
    extras.apply(&mut order);
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
    raise(&mut state, &hash, raised);
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
        Err(res) => return res,
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
    raise(&mut state, &hash, raised);
    HttpResponse::Ok().json(answer)
}
