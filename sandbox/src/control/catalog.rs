//! The merchant's catalog actions under `/_sandbox/stores/{hash}/…`: adding, editing and
//! deleting products and editing variants on the channel, as the control panel would (they
//! raise the same webhook events as the API).

use actix_web::{web, HttpResponse};
use rust_decimal::Decimal;

use super::{body as control_body, invalid_fields as control_error, unknown_store};
use crate::model::Tracking;
use crate::product_writes::{create, delete_ids, product_patch, update_many, NewVariant};
use crate::products::products_data;
use crate::request::fields::Fields;
use crate::request::query::View;
use crate::request::v3::not_found;
use crate::request::{parse_id, raise, Raised};
use crate::server::{lock, Shared};
use crate::variants::{variant_patch, write_variants};

/// Registers the catalog's merchant actions.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/_sandbox/stores/{hash}/products").route(web::post().to(merchant_create)),
    )
    .service(
        web::resource("/_sandbox/stores/{hash}/products/{id}")
            .route(web::put().to(merchant_update))
            .route(web::delete().to(merchant_delete)),
    )
    .service(
        web::resource("/_sandbox/stores/{hash}/variants/{id}")
            .route(web::put().to(merchant_update_variant)),
    );
}

/// `POST /_sandbox/stores/{hash}/products`: the merchant adds a product on the channel.
/// Body `{name?, sku?, price?, inventory_level?, inventory_tracking?, variants?: [{sku,
/// inventory_level?, price?, label?}], images?: [url]}` (the first image is the thumbnail);
/// answers 201 with the v3 product and its variants.
async fn merchant_create(
    path: web::Path<String>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let hash = path.into_inner();
    let obj = match control_body(&body) {
        Ok(o) => o,
        Err(res) => return res,
    };
    let mut fields = Fields::new(&obj);
    let mut patch = product_patch(&mut fields);
    let mut variants = fields.objects("variants", "an array", "a variant object", |vf, index| {
        let sku = vf.string("sku", 255, false);
        let label = vf.string("label", 255, false);
        NewVariant {
            sku: sku.clone().unwrap_or_default(),
            price: vf.money("price"),
            sale_price: vf.money("sale_price"),
            weight: vf.money("weight"),
            inventory_level: vf.int("inventory_level").unwrap_or(0),
            options: vec![(
                "Option".to_string(),
                label.or(sku).unwrap_or_else(|| format!("V{}", index + 1)),
            )],
        }
    });
    if !fields.errors.is_empty() {
        return control_error(fields.errors);
    }
    let images: Vec<String> = match obj.get("images") {
        None => Vec::new(),
        Some(serde_json::Value::Array(a)) if a.iter().all(serde_json::Value::is_string) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(_) => {
            let mut errors = serde_json::Map::new();
            errors.insert("images".into(), "must be an array of URLs".into());
            return control_error(errors);
        }
    };
    if patch.price.is_none() {
        patch.price = Some(Decimal::new(1000, 2));
    }
    if patch.weight.is_none() {
        patch.weight = Some(Decimal::ONE);
    }
    if patch.inventory_tracking.is_none() {
        patch.inventory_tracking = Some(if variants.is_empty() {
            Tracking::Product
        } else {
            Tracking::Variant
        });
    }
    let mut state = lock(&shared);
    let mut raised = Raised::new();
    let id = {
        let Some(store) = state.stores.get_mut(&hash) else {
            return unknown_store(&hash);
        };
        let next = store.next_id + 1;
        if patch.name.is_none() {
            patch.name = Some(format!("Sandbox Product {next}"));
        }
        if patch.sku.is_none() {
            patch.sku = Some(format!("SBX-{next}"));
        }
        for (n, v) in variants.iter_mut().enumerate() {
            if v.sku.is_empty() {
                v.sku = format!("SBX-{next}-{}", n + 1);
            }
        }
        let id = create(store, &patch, &variants, &mut raised);
        let ids: Vec<i64> = images.iter().map(|_| store.new_id()).collect();
        if let Some(p) = store.products.get_mut(&id) {
            p.images = images
                .into_iter()
                .zip(ids)
                .enumerate()
                .map(|(n, (url, image_id))| crate::model::Image {
                    id: image_id,
                    is_thumbnail: n == 0,
                    sort_order: i64::try_from(n).unwrap_or(0),
                    url,
                })
                .collect();
        }
        id
    };
    raise(&mut state, &hash, raised);
    let view = View {
        variants: true,
        images: true,
        ..View::default()
    };
    match products_data(&state, &hash, &[id], &view).pop() {
        Some(p) => HttpResponse::Created().json(p),
        None => unknown_store(&hash),
    }
}

/// `PUT /_sandbox/stores/{hash}/products/{id}`: the merchant edits the product
/// (`{price?, sale_price?, inventory_level?, name?, …}`); answers 200 with the v3 product.
async fn merchant_update(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let obj = match control_body(&body) {
        Ok(o) => o,
        Err(res) => return res,
    };
    let mut fields = Fields::new(&obj);
    let mut patch = product_patch(&mut fields);
    if !fields.errors.is_empty() {
        return control_error(fields.errors);
    }
    let mut state = lock(&shared);
    if !state.stores.contains_key(&hash) {
        return unknown_store(&hash);
    }
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    patch.id = id;
    let view = View {
        variants: true,
        ..View::default()
    };
    match update_many(&mut state, &hash, &[patch]) {
        Ok(ids) => match products_data(&state, &hash, &ids, &view).pop() {
            Some(p) => HttpResponse::Ok().json(p),
            None => not_found(),
        },
        Err(res) => res,
    }
}

/// `PUT /_sandbox/stores/{hash}/variants/{id}`: the merchant edits a variant
/// (`{price?, sale_price?, inventory_level?, sku?}`); answers 200 with the v3 variant.
async fn merchant_update_variant(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let obj = match control_body(&body) {
        Ok(o) => o,
        Err(res) => return res,
    };
    let mut fields = Fields::new(&obj);
    let mut patch = variant_patch(&mut fields);
    if !fields.errors.is_empty() {
        return control_error(fields.errors);
    }
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    patch.id = Some(id);
    patch.option_values = None;
    let mut state = lock(&shared);
    if !state.stores.contains_key(&hash) {
        return unknown_store(&hash);
    }
    match write_variants(&mut state, &hash, vec![patch], &View::default()) {
        Ok(mut data) => match data.pop() {
            Some(v) => HttpResponse::Ok().json(v),
            None => not_found(),
        },
        Err(res) => res,
    }
}

/// `DELETE /_sandbox/stores/{hash}/products/{id}`: the merchant deletes the product.
async fn merchant_delete(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (hash, id) = path.into_inner();
    let mut state = lock(&shared);
    if !state.stores.contains_key(&hash) {
        return unknown_store(&hash);
    }
    match parse_id(&id) {
        Some(id) if delete_ids(&mut state, &hash, &[id]) > 0 => HttpResponse::NoContent().finish(),
        _ => not_found(),
    }
}
