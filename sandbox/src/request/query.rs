//! Query parameters of list requests: the `name:operator` keys BigCommerce uses, `page` and
//! `limit`, v3 `include` / `include_fields` / `exclude_fields`, the v3 list filters
//! (`key:min`, `key:in`, `name:like`, …) and `direction`.
//!
//! v3 decimal filters accept scientific notation; the v2 orders filters read their own
//! decimals without it (`orders.rs`), as BigCommerce does (docs/bigcommerce.md).

// Validation helpers short-circuit with the finished error answer; that path is cold, so the
// size of `HttpResponse` in `Err` does not matter.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::str::FromStr;

use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::config::OverLimit;
use crate::format::{parse_date, v3_error, v3_error_with, v3_page};

/// Page size when `include` has `options` or `modifiers`.
pub const OPTIONS_LIMIT: usize = 10;

/// Query parameters, with the `name:operator` keys BigCommerce uses.
#[derive(Clone, Debug, Default)]
pub struct Params(pub BTreeMap<String, String>);

impl Params {
    /// Parses a raw query string.
    pub fn parse(query: &str) -> Self {
        Self(
            serde_urlencoded::from_str::<Vec<(String, String)>>(query)
                .unwrap_or_default()
                .into_iter()
                .collect(),
        )
    }
    /// A parameter's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
    /// An integer parameter (`Err` when present but not an integer).
    pub fn int(&self, key: &str) -> Result<Option<i64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("The field '{key}' is invalid.")),
        }
    }
    /// A comma-separated list of integers.
    pub fn ints(&self, key: &str) -> Result<Option<Vec<i64>>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .split(',')
                .map(|x| x.trim().parse::<i64>())
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
                .map_err(|_| format!("The field '{key}' is invalid.")),
        }
    }
    /// A comma-separated list of strings.
    pub fn strings(&self, key: &str) -> Option<Vec<String>> {
        self.get(key)
            .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
    }
    /// A date parameter.
    pub fn date(&self, key: &str) -> Result<Option<DateTime<Utc>>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => parse_date(v)
                .map(Some)
                .ok_or_else(|| format!("The field '{key}' is invalid.")),
        }
    }
    /// A boolean (`true`/`false`/`1`/`0`).
    pub fn bool(&self, key: &str) -> Option<bool> {
        self.get(key).map(|v| matches!(v, "true" | "1"))
    }
}

/// Page and limit of a list request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paging {
    pub page: usize,
    pub limit: usize,
}

/// Most items a page may hold.
pub const MAX_LIMIT: usize = 250;
/// Items per page by default.
pub const DEFAULT_LIMIT: usize = 50;

impl Paging {
    /// Reads `page` and `limit` (default 50, max 250: clamped or refused by configuration).
    /// `Err` holds the status and message to answer.
    pub fn from(params: &Params, over: OverLimit, max: usize) -> Result<Self, (u16, String)> {
        let page = params.int("page").map_err(|m| (400, m))?.unwrap_or(1);
        let limit = params
            .int("limit")
            .map_err(|m| (400, m))?
            .unwrap_or(DEFAULT_LIMIT as i64);
        if page < 1 || limit < 1 {
            return Err((400, "The field 'page' or 'limit' is invalid.".into()));
        }
        let limit = limit as usize;
        let limit = if limit > max {
            match over {
                OverLimit::Clamp => max,
                OverLimit::Refuse => return Err((413, format!("The maximum limit is {max}."))),
            }
        } else {
            limit
        };
        Ok(Self {
            page: page as usize,
            limit,
        })
    }

    /// The slice of `items` on this page.
    pub fn slice<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .skip((self.page - 1).saturating_mul(self.limit))
            .take(self.limit)
            .collect()
    }
}

/// What a read asks for: `include` expansions and `include_fields` / `exclude_fields`.
#[derive(Clone, Debug, Default)]
pub(crate) struct View {
    pub(crate) variants: bool,
    pub(crate) images: bool,
    pub(crate) primary_image: bool,
    pub(crate) options: bool,
    pub(crate) modifiers: bool,
    pub(crate) custom_fields: bool,
    pub(crate) bulk_pricing_rules: bool,
    pub(crate) videos: bool,
    pub(crate) include_fields: Option<Vec<String>>,
    pub(crate) exclude_fields: Option<Vec<String>>,
}

impl View {
    pub(crate) fn read(params: &Params) -> Self {
        let include = params.strings("include").unwrap_or_default();
        let has = |name: &str| include.iter().any(|i| i == name);
        Self {
            variants: has("variants"),
            images: has("images"),
            primary_image: has("primary_image"),
            options: has("options"),
            modifiers: has("modifiers"),
            custom_fields: has("custom_fields"),
            bulk_pricing_rules: has("bulk_pricing_rules"),
            videos: has("videos"),
            include_fields: fields(params, "include_fields"),
            exclude_fields: fields(params, "exclude_fields"),
        }
    }

    /// `include=options|modifiers` limits pages to 10.
    pub(crate) fn page_cap(&self) -> Option<usize> {
        (self.options || self.modifiers).then_some(OPTIONS_LIMIT)
    }

    /// Applies `include_fields` / `exclude_fields`; `keep` names fields never dropped by
    /// `include_fields` (the identity and the `include` expansions).
    pub(crate) fn select(&self, mut value: Value, keep: &[&str]) -> Value {
        if let Value::Object(map) = &mut value {
            if let Some(only) = &self.include_fields {
                map.retain(|k, _| keep.contains(&k.as_str()) || only.iter().any(|f| f == k));
            }
            if let Some(without) = &self.exclude_fields {
                let identity = keep.first().copied().unwrap_or("id");
                map.retain(|k, _| k == identity || !without.iter().any(|f| f == k));
            }
        }
        value
    }
}

pub(crate) fn fields(params: &Params, key: &str) -> Option<Vec<String>> {
    params
        .strings(key)
        .map(|v| v.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>())
}

pub(crate) fn paging(
    params: &Params,
    over: OverLimit,
    cap: Option<usize>,
) -> Result<Paging, HttpResponse> {
    let mut p = Paging::from(params, over, MAX_LIMIT).map_err(|(s, m)| v3_error(s, &m))?;
    if let Some(cap) = cap {
        p.limit = p.limit.min(cap);
    }
    Ok(p)
}

/// A page of `items`, rendering only the items on the page.
pub(crate) fn page<T>(items: &[T], paging: Paging, render: impl Fn(&T) -> Value) -> HttpResponse {
    let start = (paging.page - 1).saturating_mul(paging.limit);
    let end = start.saturating_add(paging.limit);
    let all = items
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if (start..end).contains(&i) {
                render(t)
            } else {
                Value::Null
            }
        })
        .collect();
    v3_page(all, paging)
}

pub(crate) type Pred<'a, T> = Box<dyn Fn(&T) -> bool + 'a>;

pub(crate) type Parse<V> = fn(&Params, &str) -> Result<Option<V>, String>;

pub(crate) type Compare<V> = fn(&V, &V) -> bool;

/// `key`, `key:min`, `key:max`, `key:greater`, `key:less`.
pub(crate) fn range_ops<'a, T: 'a, V: PartialOrd + Copy + 'a>(
    params: &Params,
    key: &str,
    parse: Parse<V>,
    get: fn(&T) -> V,
    preds: &mut Vec<Pred<'a, T>>,
) -> Result<(), String> {
    if let Some(v) = parse(params, key)? {
        preds.push(Box::new(move |t| get(t) == v));
    }
    let ops: [(&str, Compare<V>); 4] = [
        ("min", V::ge),
        ("max", V::le),
        ("greater", V::gt),
        ("less", V::lt),
    ];
    for (op, cmp) in ops {
        if let Some(v) = parse(params, &format!("{key}:{op}"))? {
            preds.push(Box::new(move |t| cmp(&get(t), &v)));
        }
    }
    Ok(())
}

/// `key:in`, `key:not_in` (CSV of integers).
pub(crate) fn in_ops<'a, T: 'a>(
    params: &Params,
    key: &str,
    get: fn(&T) -> i64,
    preds: &mut Vec<Pred<'a, T>>,
) -> Result<(), String> {
    if let Some(ids) = params.ints(&format!("{key}:in"))? {
        preds.push(Box::new(move |t| ids.contains(&get(t))));
    }
    if let Some(ids) = params.ints(&format!("{key}:not_in"))? {
        preds.push(Box::new(move |t| !ids.contains(&get(t))));
    }
    Ok(())
}

/// Both of the above for an integer field.
pub(crate) fn int_filters<'a, T: 'a>(
    params: &Params,
    key: &str,
    get: fn(&T) -> i64,
    preds: &mut Vec<Pred<'a, T>>,
) -> Result<(), String> {
    range_ops(params, key, Params::int, get, preds)?;
    in_ops(params, key, get, preds)
}

pub(crate) fn param_decimal(params: &Params, key: &str) -> Result<Option<Decimal>, String> {
    match params.get(key) {
        None => Ok(None),
        Some(v) => Decimal::from_str(v.trim())
            .or_else(|_| Decimal::from_scientific(v.trim()))
            .map(Some)
            .map_err(|_| format!("The field '{key}' is invalid.")),
    }
}

pub(crate) fn param_bool(params: &Params, key: &str) -> Result<Option<bool>, String> {
    match params.get(key).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(_) => Err(format!("The field '{key}' is invalid.")),
    }
}

/// `name` (exact) and `name:like` (contains, case-insensitive; `%` wildcards are ignored).
pub(crate) fn name_filters<'a, T: 'a>(
    params: &Params,
    get: fn(&T) -> &str,
    preds: &mut Vec<Pred<'a, T>>,
) {
    if let Some(name) = params.get("name").map(str::to_string) {
        preds.push(Box::new(move |t| get(t) == name));
    }
    if let Some(like) = params.get("name:like") {
        let like = like.replace('%', "").to_lowercase();
        preds.push(Box::new(move |t| get(t).to_lowercase().contains(&like)));
    }
}

/// `direction=asc|desc` (`true` for descending).
pub(crate) fn direction(params: &Params) -> Result<bool, HttpResponse> {
    match params
        .get("direction")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("asc") => Ok(false),
        Some("desc") => Ok(true),
        Some(_) => Err(v3_error_with(
            422,
            "The field 'direction' is invalid.",
            json!({ "direction": "The direction must be asc or desc." }),
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn limits_above_250_are_clamped_or_refused() {
        let p = Params::parse("limit=1000&page=2");
        assert_eq!(
            Paging::from(&p, OverLimit::Clamp, 250).unwrap(),
            Paging {
                page: 2,
                limit: 250
            }
        );
        assert_eq!(Paging::from(&p, OverLimit::Refuse, 250).unwrap_err().0, 413);
    }
}
