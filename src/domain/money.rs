//! Decimal text as orderdeck stores it: money and weights live in `Text` columns (exact on
//! SQLite and PostgreSQL alike), read and written as [`DecimalText`]. Text that does not parse
//! fails the read, as an unknown status string does.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value};

/// An exact decimal stored as text (an amount of money, a weight). Its text is the decimal's
/// own (`12.50` stays `12.50`); writers normalise first where they want `12.5`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DecimalText(pub Decimal);

impl DecimalText {
    /// The value with trailing zeros dropped (`12.50` → `12.5`), as imports and price changes
    /// store it.
    pub fn normalized(value: Decimal) -> Self {
        Self(value.normalize())
    }

    /// The decimal.
    pub fn get(self) -> Decimal {
        self.0
    }
}

impl From<Decimal> for DecimalText {
    fn from(value: Decimal) -> Self {
        Self(value)
    }
}

impl From<DecimalText> for Decimal {
    fn from(value: DecimalText) -> Self {
        value.0
    }
}

impl fmt::Display for DecimalText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// As its text (`"12.50"`), like the column.
impl serde::Serialize for DecimalText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl FromStr for DecimalText {
    type Err = rust_decimal::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::from_str(s).map(Self)
    }
}

impl From<DecimalText> for Value {
    fn from(value: DecimalText) -> Self {
        Value::String(Some(Box::new(value.0.to_string())))
    }
}

impl Nullable for DecimalText {
    fn null() -> Value {
        Value::String(None)
    }
}

impl ValueType for DecimalText {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        match v {
            Value::String(Some(text)) => text.parse().map_err(|_| ValueTypeErr),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        "DecimalText".to_string()
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::Text
    }
}

impl TryGetable for DecimalText {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        let text = String::try_get_by(res, index)?;
        // Only orderdeck writes these columns, from a decimal: text that does not parse is
        // refused like an unknown status string, never read as some other amount (a price of
        // 0 pushed to a store).
        text.parse().map_err(|e| {
            TryGetError::DbErr(DbErr::Type(format!(
                "stored decimal {text:?} does not parse: {e}"
            )))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn stored_decimals_parse_exactly_and_a_bad_one_is_refused() {
        let read = |text: &str| <DecimalText as ValueType>::try_from(Value::from(text));
        assert_eq!(read("12.50").unwrap().to_string(), "12.50");
        assert_eq!(read("-0.001").unwrap().get(), Decimal::new(-1, 3));
        assert!(read("twelve").is_err());
    }

    #[test]
    fn decimal_text_is_written_as_its_own_text_and_read_back_exactly() {
        let price: DecimalText = "12.50".parse().unwrap();
        assert_eq!(
            Value::from(price),
            Value::String(Some(Box::new("12.50".into())))
        );
        assert_eq!(DecimalText::normalized(price.get()).to_string(), "12.5");
        let back = <DecimalText as ValueType>::try_from(Value::from(price)).unwrap();
        assert_eq!(back, price);
        assert_eq!(back.to_string(), "12.50");
    }
}
