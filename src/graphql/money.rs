//! Money and decimal text from the database.

use async_graphql::SimpleObject;
use rust_decimal::Decimal;

use crate::domain::money::stored_decimal;

/// An amount of money in a currency.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct Money {
    /// The amount, exact (a decimal string in JSON).
    pub amount: Decimal,
    /// ISO 4217 currency code.
    pub currency_code: String,
}

/// Money from stored decimal text (a bad value is logged and shown as 0).
pub fn money(text: &str, currency: &str) -> Money {
    Money {
        amount: stored_decimal(text),
        currency_code: currency.to_string(),
    }
}
