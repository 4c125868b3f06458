//! Decimal text as orderdeck stores it (money, weights: `Text` columns).

use std::str::FromStr;

use rust_decimal::Decimal;

/// Parses decimal text orderdeck stored itself. A value that does not parse is a bug: it is
/// logged and read as 0.
pub fn stored_decimal(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|e| {
        tracing::error!(value = text, error = %e, "stored decimal does not parse");
        Decimal::ZERO
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_decimals_parse_exactly_and_a_bad_one_reads_as_zero() {
        assert_eq!(stored_decimal("12.50").to_string(), "12.50");
        assert_eq!(stored_decimal("-0.001"), Decimal::new(-1, 3));
        assert_eq!(stored_decimal("twelve"), Decimal::ZERO);
    }
}
