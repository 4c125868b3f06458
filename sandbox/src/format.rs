//! BigCommerce wire formats: v2 money strings and RFC 2822 dates, bare arrays and 204 on
//! empty; v3 envelopes with pagination, numbers and ISO 8601 dates; both error bodies.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::request::query::Paging;

/// `type` of v3 error bodies.
pub const ERROR_TYPE: &str =
    "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes";

/// v2 money: a string with 4 decimals (`"12.5000"`).
pub fn money(d: Decimal) -> String {
    format!("{:.4}", d.round_dp(4))
}

/// v3 money and measures: a JSON number.
pub fn number(d: Decimal) -> Value {
    serde_json::Number::from_f64(d.to_string().parse::<f64>().unwrap_or(0.0))
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// v2 date: RFC 2822 in UTC (`Wed, 10 Jan 2018 21:05:30 +0000`).
pub fn rfc2822(d: DateTime<Utc>) -> String {
    d.to_rfc2822()
}

/// v3 date: ISO 8601 with offset (`2018-08-24T14:41:00+00:00`).
pub fn iso8601(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// Parses a date filter: RFC 2822, ISO 8601 / RFC 3339, or a bare date (which takes the
/// current time of day, as BigCommerce documents for v3).
pub fn parse_date(value: &str) -> Option<DateTime<Utc>> {
    let v = value.trim();
    if let Ok(d) = DateTime::parse_from_rfc2822(v) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(v) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Some(d.and_time(Utc::now().time()).and_utc());
    }
    v.parse::<i64>()
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
}

/// A v2 error: `[{"status": N, "message": "…"}]`.
pub fn v2_error(status: u16, message: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .json(json!([{ "status": status, "message": message }]))
}

/// A v2 error with `details`.
pub fn v2_error_details(status: u16, message: &str, details: Value) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .json(json!([{ "status": status, "message": message, "details": details }]))
}

/// A v3 error: `{"status", "title", "type", "errors": {}}`.
pub fn v3_error(status: u16, title: &str) -> HttpResponse {
    v3_error_with(status, title, json!({}))
}

/// A v3 error with field errors.
pub fn v3_error_with(status: u16, title: &str, errors: Value) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST)).json(
        json!({
            "status": status, "title": title, "type": ERROR_TYPE, "errors": errors
        }),
    )
}

/// An RFC 7807 problem (the Inventory API's 422).
pub fn problem(status: u16, title: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .content_type("application/problem+json")
        .body(
            json!({ "status": status, "title": title, "type": ERROR_TYPE, "errors": {} })
                .to_string(),
        )
}

/// A v2 list: a bare array, or 204 with no body when empty.
pub fn v2_list(items: Vec<Value>) -> HttpResponse {
    if items.is_empty() {
        HttpResponse::NoContent().finish()
    } else {
        HttpResponse::Ok().json(Value::Array(items))
    }
}

/// A v3 single object: `{"data": …, "meta": {}}`.
pub fn v3_one(data: Value) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "data": data, "meta": {} }))
}

/// A v3 page with the pagination envelope (`links` are relative query strings; `previous`
/// and `next` are omitted when not applicable).
pub fn v3_page(all: Vec<Value>, paging: Paging) -> HttpResponse {
    let total = all.len();
    let total_pages = total.div_ceil(paging.limit).max(1);
    let data = paging.slice(all);
    let mut links = serde_json::Map::new();
    if paging.page > 1 {
        links.insert(
            "previous".into(),
            json!(format!("?page={}&limit={}", paging.page - 1, paging.limit)),
        );
    }
    links.insert(
        "current".into(),
        json!(format!("?page={}&limit={}", paging.page, paging.limit)),
    );
    if paging.page < total_pages {
        links.insert(
            "next".into(),
            json!(format!("?page={}&limit={}", paging.page + 1, paging.limit)),
        );
    }
    HttpResponse::Ok().json(json!({
        "data": data,
        "meta": { "pagination": {
            "total": total,
            "count": data.len(),
            "per_page": paging.limit,
            "current_page": paging.page,
            "total_pages": total_pages,
            "links": links,
        }}
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn v2_money_has_four_decimals_and_dates_are_rfc2822() {
        assert_eq!(money(Decimal::new(125, 1)), "12.5000");
        let d = "2018-01-10T21:05:30Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(rfc2822(d), "Wed, 10 Jan 2018 21:05:30 +0000");
        assert_eq!(iso8601(d), "2018-01-10T21:05:30+00:00");
    }

    #[test]
    fn date_filters_accept_rfc2822_and_iso8601() {
        let a = parse_date("Thu, 20 Apr 2017 11:32:00 -0400").unwrap();
        let b = parse_date("2017-04-20T11:32:00.000-04:00").unwrap();
        assert_eq!(a, b);
        assert!(parse_date("yesterday").is_none());
    }
}
