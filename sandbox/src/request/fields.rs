//! Request bodies: reads the fields of a JSON object, collecting per-field errors keyed the
//! way BigCommerce keys them (`name`, and `{index}.name` for the items of a batch).

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::model::Tracking;

/// Reads fields of a JSON object, collecting per-field errors.
pub(crate) struct Fields<'a> {
    pub(crate) obj: &'a Map<String, Value>,
    pub(crate) errors: Map<String, Value>,
}

pub(crate) fn decimal_of(v: &Value) -> Option<Decimal> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(Decimal::from(i));
    }
    let s = n.to_string();
    Decimal::from_str(&s)
        .or_else(|_| Decimal::from_scientific(&s))
        .ok()
}

/// An integer, saturating when out of range (`None` if not an integer).
pub(crate) fn int_of(v: &Value) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    if v.as_u64().is_some() {
        return Some(i64::MAX);
    }
    let f = v.as_f64()?;
    // `as` saturates at the bounds of i64.
    (f.fract() == 0.0).then_some(f as i64)
}

impl<'a> Fields<'a> {
    pub(crate) fn new(obj: &'a Map<String, Value>) -> Self {
        Self {
            obj,
            errors: Map::new(),
        }
    }

    /// Takes the errors of a nested object (an item of a list) as `{prefix}.{field}`.
    pub(crate) fn absorb(&mut self, prefix: &str, errors: Map<String, Value>) {
        for (k, v) in errors {
            self.errors.insert(format!("{prefix}.{k}"), v);
        }
    }

    /// Reads the objects of the array `key` with `read` (given each item's index); their errors
    /// are kept as `{key}.{index}.{field}`. `not_array` and `not_object` are the messages for a
    /// `key` that is not an array and an item that is not an object. Absent: none.
    pub(crate) fn objects<T>(
        &mut self,
        key: &str,
        not_array: &str,
        not_object: &str,
        mut read: impl FnMut(&mut Fields<'a>, usize) -> T,
    ) -> Vec<T> {
        let Some(list) = self.present(key) else {
            return Vec::new();
        };
        let Some(list) = list.as_array() else {
            self.error(key, not_array);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (index, item) in list.iter().enumerate() {
            let Some(obj) = item.as_object() else {
                self.error(&format!("{key}.{index}"), not_object);
                continue;
            };
            let mut fields = Fields::new(obj);
            out.push(read(&mut fields, index));
            self.absorb(&format!("{key}.{index}"), fields.errors);
        }
        out
    }

    pub(crate) fn error(&mut self, key: &str, message: impl Into<String>) {
        self.errors
            .entry(key.to_string())
            .or_insert_with(|| Value::String(message.into()));
    }

    pub(crate) fn present(&self, key: &str) -> Option<&'a Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    pub(crate) fn string(&mut self, key: &str, max: usize, allow_empty: bool) -> Option<String> {
        let v = self.present(key)?;
        match v.as_str() {
            Some(s) if s.chars().count() > max => {
                self.error(key, format!("The {key} must be at most {max} characters."));
                None
            }
            Some(s) if s.trim().is_empty() && !allow_empty => {
                self.error(key, format!("Please provide a {key}."));
                None
            }
            Some(s) => Some(s.to_string()),
            None => {
                self.error(key, format!("The {key} must be a string."));
                None
            }
        }
    }

    pub(crate) fn money(&mut self, key: &str) -> Option<Decimal> {
        let v = self.present(key)?;
        match decimal_of(v) {
            Some(d) if d >= Decimal::ZERO => Some(d),
            Some(_) => {
                self.error(key, format!("The {key} must not be negative."));
                None
            }
            None => {
                self.error(key, format!("The {key} must be a number."));
                None
            }
        }
    }

    /// Absent: `None`; `null`: `Some(None)` (inherit); a number: `Some(Some(d))`.
    pub(crate) fn nullable_money(&mut self, key: &str) -> Option<Option<Decimal>> {
        match self.obj.get(key) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(_) => self.money(key).map(Some),
        }
    }

    pub(crate) fn int(&mut self, key: &str) -> Option<i64> {
        let v = self.present(key)?;
        let i = int_of(v);
        if i.is_none() {
            self.error(key, format!("The {key} must be an integer."));
        }
        i
    }

    pub(crate) fn bool(&mut self, key: &str) -> Option<bool> {
        let v = self.present(key)?;
        let b = v.as_bool();
        if b.is_none() {
            self.error(key, format!("The {key} must be a boolean."));
        }
        b
    }

    pub(crate) fn ints(&mut self, key: &str) -> Option<Vec<i64>> {
        let v = self.present(key)?;
        let list = v
            .as_array()
            .and_then(|a| a.iter().map(Value::as_i64).collect::<Option<Vec<_>>>());
        if list.is_none() {
            self.error(key, format!("The {key} must be an array of integers."));
        }
        list
    }

    pub(crate) fn tracking(&mut self, key: &str) -> Option<Tracking> {
        let v = self.present(key)?;
        match v.as_str() {
            Some("none") => Some(Tracking::None),
            Some("product") => Some(Tracking::Product),
            Some("variant") => Some(Tracking::Variant),
            _ => {
                self.error(
                    key,
                    "The inventory_tracking must be none, product or variant.",
                );
                None
            }
        }
    }

    pub(crate) fn product_type(&mut self) -> Option<String> {
        let v = self.present("type")?;
        match v.as_str() {
            Some(t @ ("physical" | "digital")) => Some(t.to_string()),
            _ => {
                self.error("type", "The type must be physical or digital.");
                None
            }
        }
    }
}
