//! Money and decimal text from the database.

use std::str::FromStr;

use async_graphql::SimpleObject;
use rust_decimal::Decimal;

/// An amount of money in a currency.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct Money {
    /// The amount, exact (a decimal string in JSON).
    pub amount: Decimal,
    /// ISO 4217 currency code.
    pub currency_code: String,
}

/// Parses decimal text written by orderdeck itself; a bad value is a bug, logged and shown as 0.
pub fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|e| {
        tracing::error!(value = text, error = %e, "stored decimal does not parse");
        Decimal::ZERO
    })
}

/// Money from stored decimal text.
pub fn money(text: &str, currency: &str) -> Money {
    Money {
        amount: dec(text),
        currency_code: currency.to_string(),
    }
}
