//! The sub-resources of a v2 order (docs/bigcommerce.md §2.4, §2.5): its products (lines),
//! shipping addresses (also under the legacy `shippingaddresses` path when configured) and
//! coupons, as paged v2 lists.

use actix_web::{web, HttpRequest, HttpResponse};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::format::money;
use crate::model::{Address, Order, OrderProduct, ShippingAddress};
use crate::order_views::{lines_of, to_value, ProductView};
use crate::request::parse_id;
use crate::request::v2::{api_base, link, merge, not_found, resource, sub_list, with_order};
use crate::server::{lock, Shared};

/// Registers this module's API routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/v2/orders/{id}/products").route(web::get().to(list_products)))
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
        .service(resource("/v2/orders/{id}/coupons").route(web::get().to(list_coupons)));
}

pub(crate) fn address_fields(a: &Address) -> Value {
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

/// The v2 order-product object (§2.4) as a JSON tree.
pub(crate) fn product_json(o: &Order, p: &OrderProduct) -> Value {
    to_value(&ProductView::of(o, p))
}

/// The v2 shipping-address object (§2.5).
pub(crate) fn shipping_address_json(o: &Order, a: &ShippingAddress, api: &str) -> Value {
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

pub(crate) async fn list_products(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    sub_list(&req, &shared, &hash, &id, |o| {
        o.products.iter().map(|p| product_json(o, p)).collect()
    })
}

pub(crate) async fn get_product(
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

pub(crate) fn addresses(req: &HttpRequest, shared: &Shared, hash: &str, id: &str) -> HttpResponse {
    let api = api_base(req, hash);
    sub_list(req, shared, hash, id, |o| {
        o.shipping_addresses
            .iter()
            .map(|a| shipping_address_json(o, a, &api))
            .collect()
    })
}

pub(crate) fn address(
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

pub(crate) fn legacy_path_enabled(shared: &Shared) -> bool {
    lock(shared).config.legacy_shippingaddresses_path
}

pub(crate) async fn list_addresses(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    addresses(&req, &shared, &hash, &id)
}

pub(crate) async fn get_address(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id, address_id) = path.into_inner();
    address(&req, &shared, &hash, &id, &address_id)
}

pub(crate) async fn list_addresses_legacy(
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

pub(crate) async fn get_address_legacy(
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
pub(crate) async fn list_coupons(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    sub_list(&req, &shared, &hash, &id, |_| Vec::new())
}
