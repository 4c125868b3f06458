//! `GET /v2/store` and `GET /v2/time`.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::server::{lock, Shared};

/// Registers the information endpoints.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v2/store", web::get().to(store))
        .route("/v2/time", web::get().to(time));
}

async fn store(path: web::Path<String>, shared: web::Data<Shared>) -> HttpResponse {
    let hash = path.into_inner();
    let state = lock(&shared);
    let Some(s) = state.stores.get(&hash) else {
        return crate::guard::not_found("v2/store");
    };
    HttpResponse::Ok().json(json!({
        "id": s.hash,
        "account_uuid": format!("00000000-0000-4000-8000-{:012}", s.store_id),
        "domain": format!("{}.sandbox.test", s.hash),
        "secure_url": format!("https://{}.sandbox.test", s.hash),
        "control_panel_base_url": format!("https://store-{}.mybigcommerce.com", s.hash),
        "status": "live",
        "name": s.name,
        "first_name": "Sandbox",
        "last_name": "Merchant",
        "address": "1 Sandbox Way\nAustin, Texas 78751\nUnited States",
        "country": "United States",
        "country_code": "US",
        "phone": "+1 555 0100",
        "admin_email": format!("admin@{}.sandbox.test", s.hash),
        "order_email": format!("orders@{}.sandbox.test", s.hash),
        "timezone": { "name": "Etc/UTC", "raw_offset": 0, "dst_offset": 0, "dst_correction": false },
        "language": "en",
        "currency": s.currency,
        "currency_symbol": match s.currency.as_str() { "EUR" => "€", "GBP" => "£", "PLN" => "zł", _ => "$" },
        "decimal_separator": ".",
        "thousands_separator": ",",
        "decimal_places": 2,
        "weight_units": "kg",
        "dimension_units": "Centimeters",
        "plan_name": if s.quota >= 450 { "Pro" } else { "Plus" },
        "plan_level": if s.quota >= 450 { "Pro" } else { "Plus" },
        "plan_is_trial": false,
        "industry": "Sandbox",
        "is_price_entered_with_tax": false,
        "store_id": s.store_id,
        "default_channel_id": 1,
        "default_site_id": 1000,
        "features": { "stencil_enabled": true, "multi_storefront_enabled": false }
    }))
}

async fn time() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "time": chrono::Utc::now().timestamp() }))
}
