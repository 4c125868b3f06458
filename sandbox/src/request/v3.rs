//! v3 requests: the error bodies of the Catalog API, JSON bodies (one object, or a batch of
//! items with per-item field errors keyed `{index}.{field}`) and 405 with `Allow`.

// Validation helpers short-circuit with the finished error answer; that path is cold, so the
// size of `HttpResponse` in `Err` does not matter.
#![allow(clippy::result_large_err)]

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use super::fields::Fields;
use crate::format::{v3_error, v3_error_with, v3_one};

/// `type` of the batch 413 bodies (a relative path, as documented).
pub(crate) const BATCH_ERROR_TYPE: &str = "/api-docs/getting-started/api-status-codes";

pub(crate) const NOT_FOUND: &str = "The requested resource was not found.";

pub(crate) const INVALID_JSON: &str = "JSON data is missing or invalid";

/// A resource that answers 405 with `Allow: {allow}` to the methods it does not serve.
pub(crate) fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move { method_not_allowed(allow) }))
}

fn method_not_allowed(allow: &str) -> HttpResponse {
    let mut res = v3_error(405, "Method Not Allowed");
    if let Ok(value) = header::HeaderValue::from_str(allow) {
        res.headers_mut().insert(header::ALLOW, value);
    }
    res
}

pub(crate) fn not_found() -> HttpResponse {
    v3_error(404, NOT_FOUND)
}

/// The exact 413 body of the batch endpoints.
pub(crate) fn batch_too_large(max: usize, period: bool) -> HttpResponse {
    let title = format!(
        "The request payload is too large. The maximum items allowed in the array is {max}{}",
        if period { "." } else { "" }
    );
    HttpResponse::PayloadTooLarge().json(json!({
        "errors": {}, "status": 413, "title": title, "type": BATCH_ERROR_TYPE
    }))
}

pub(crate) fn conflict(title: &str, field: &str, message: String) -> HttpResponse {
    v3_error_with(409, title, json!({ field: message }))
}

pub(crate) fn filter_error(message: String) -> HttpResponse {
    v3_error(422, &message)
}

pub(crate) fn parse_body(body: &[u8]) -> Result<Value, HttpResponse> {
    serde_json::from_slice(body).map_err(|_| v3_error(422, INVALID_JSON))
}

pub(crate) fn invalid(errors: Map<String, Value>) -> HttpResponse {
    v3_error_with(422, INVALID_JSON, Value::Object(errors))
}

/// The body as one JSON object (422 `JSON data is missing or invalid` otherwise).
pub(crate) fn object(body: &[u8]) -> Result<Map<String, Value>, HttpResponse> {
    match parse_body(body)? {
        Value::Object(obj) => Ok(obj),
        _ => Err(v3_error(422, INVALID_JSON)),
    }
}

/// Reads one JSON object with `read`; field errors answer 422 together.
pub(crate) fn read_object<T>(
    body: &[u8],
    read: impl FnOnce(&mut Fields) -> T,
) -> Result<T, HttpResponse> {
    let obj = object(body)?;
    let mut fields = Fields::new(&obj);
    let value = read(&mut fields);
    if fields.errors.is_empty() {
        Ok(value)
    } else {
        Err(invalid(fields.errors))
    }
}

/// A batch write's body: an array of at most `max` `noun` objects, each read with `read`.
/// The 413 title ends with a period when `period` is set (BigCommerce's products do, its
/// variants do not). Errors of every item answer 422 together, keyed `{index}.{field}`.
pub(crate) fn read_batch<T>(
    body: &[u8],
    noun: &str,
    max: usize,
    period: bool,
    mut read: impl FnMut(&mut Fields) -> T,
) -> Result<Vec<T>, HttpResponse> {
    let body = parse_body(body)?;
    let Some(items) = body.as_array() else {
        return Err(v3_error_with(
            422,
            INVALID_JSON,
            json!({ "body": format!("The request body must be an array of {noun}s.") }),
        ));
    };
    if items.len() > max {
        return Err(batch_too_large(max, period));
    }
    let mut out = Vec::with_capacity(items.len());
    let mut errors = Map::new();
    for (index, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            errors.insert(
                format!("{index}"),
                json!(format!("Please provide a {noun} object.")),
            );
            continue;
        };
        let mut fields = Fields::new(obj);
        let value = read(&mut fields);
        for (k, v) in fields.errors {
            errors.insert(format!("{index}.{k}"), v);
        }
        out.push(value);
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    Ok(out)
}

/// The answer to a write of one item: the item in the v3 envelope (404 if it is gone).
pub(crate) fn one_written(written: Result<Vec<Value>, HttpResponse>) -> HttpResponse {
    match written {
        Ok(mut data) => match data.pop() {
            Some(item) => v3_one(item),
            None => not_found(),
        },
        Err(res) => res,
    }
}
