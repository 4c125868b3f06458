//! Money and decimal text from the database.

use async_graphql::SimpleObject;
use rust_decimal::Decimal;

use crate::domain::money::DecimalText;

/// An amount of money in a currency.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct Money {
    /// The amount, exact (a decimal string in JSON).
    pub amount: Decimal,
    /// ISO 4217 currency code.
    pub currency_code: String,
}

/// Money from a stored amount.
pub fn money(amount: DecimalText, currency: &str) -> Money {
    Money {
        amount: amount.get(),
        currency_code: currency.to_string(),
    }
}
