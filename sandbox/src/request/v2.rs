//! v2 requests: the error bodies of the Orders API (`[{status, message, details?}]`), JSON
//! bodies and their fields, sub-resource links, and the paged sub-lists of one order.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{json, Map, Value};

use super::parse_id;
use super::query::{Paging, Params, MAX_LIMIT};
use crate::format::{v2_error, v2_error_details, v2_list};
use crate::model::{Order, SandboxState};
use crate::server::{lock, Shared};

/// A resource that answers 405 (v2 body) to methods it does not serve.
pub(crate) fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(|| async {
        v2_error(
            405,
            "The requested method is not supported for this resource.",
        )
    }))
}

/// Now, at the second precision v2 dates have.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

pub(crate) fn not_found() -> HttpResponse {
    v2_error(404, "The requested resource was not found.")
}

/// A refused request: status, message and optional details, answered as a v2 error (API) or a
/// control error (`/_sandbox/`).
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) message: String,
    pub(crate) details: Option<Value>,
}

impl Refusal {
    pub(crate) fn new(status: u16, message: &str) -> Self {
        Self {
            status,
            message: message.to_string(),
            details: None,
        }
    }

    pub(crate) fn details(status: u16, message: &str, details: Value) -> Self {
        Self {
            details: Some(details),
            ..Self::new(status, message)
        }
    }

    /// The `/_sandbox/` error body.
    pub(crate) fn control(self) -> HttpResponse {
        crate::control::error(self.status, &self.message)
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

pub(crate) fn invalid(field: &str) -> Refusal {
    Refusal::new(400, &format!("The field '{field}' is invalid."))
}

pub(crate) fn required(field: &str) -> Refusal {
    Refusal::new(
        400,
        &format!("The required field '{field}' was not supplied."),
    )
}

pub(crate) fn read_only_field(field: &str) -> Refusal {
    Refusal::new(
        400,
        &format!(
            "The field '{field}' cannot be written to. Please remove it from your request before trying again."
        ),
    )
}

/// `{scheme}://{host}/stores/{hash}/v2`: the base of sub-resource links.
pub(crate) fn api_base(req: &HttpRequest, hash: &str) -> String {
    let info = req.connection_info();
    format!("{}://{}/stores/{hash}/v2", info.scheme(), info.host())
}

/// A `{url, resource}` link object.
pub(crate) fn link(api: &str, resource: String) -> Value {
    json!({ "url": format!("{api}{resource}"), "resource": resource })
}

/// Copies the keys of `extra` into `base` (both objects).
pub(crate) fn merge(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

/// The request body as a JSON object (`Err`: the v2 400 to answer).
pub(crate) fn body_object(body: &[u8]) -> Result<Map<String, Value>, Refusal> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Refusal::new(
            400,
            "The request body is not a valid JSON object.",
        )),
    }
}

/// An integer field given as a number or a numeric string (`Err`: invalid).
pub(crate) fn int_value(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A string field of at most `max` characters.
pub(crate) fn string_field(
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

/// Runs `f` on an order of the request's store (`None`: unknown store or order).
pub(crate) fn with_order<R>(
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
pub(crate) fn sub_list(
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
