//! Input rules: each returns the normalised value or a plain-language reason.

/// Longest accepted free-text value (aliases, names, address lines).
pub const MAX_TEXT: usize = 200;

/// Trims and returns `None` for blank input.
pub fn non_blank(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// Normalises an email address (trimmed, lower-cased) if it looks deliverable.
pub fn email(value: &str) -> Result<String, &'static str> {
    let v = value.trim().to_lowercase();
    if v.len() > 254 {
        return Err("The email address is too long.");
    }
    let Some((local, domain)) = v.rsplit_once('@') else {
        return Err("The email address must look like name@example.com.");
    };
    let ok_local =
        !local.is_empty() && !local.contains(char::is_whitespace) && !local.contains('@');
    let ok_domain = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if ok_local && ok_domain {
        Ok(v)
    } else {
        Err("The email address must look like name@example.com.")
    }
}

/// A BigCommerce store hash: lower-case letters and digits. Accepts the forms merchants
/// copy (`stores/abc123`, `store-abc123.mybigcommerce.com`) and returns the bare hash.
pub fn store_hash(value: &str) -> Result<String, &'static str> {
    let mut v = value.trim().to_lowercase();
    if let Some(rest) = v.strip_prefix("stores/") {
        v = rest.trim_end_matches('/').to_string();
    }
    if let Some(rest) = v.strip_prefix("store-") {
        v = rest.trim_end_matches(".mybigcommerce.com").to_string();
    }
    let ok = (3..=32).contains(&v.len())
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        Ok(v)
    } else {
        Err("The store hash must be the letters and digits from your store's API path, e.g. `abc123` in stores/abc123.")
    }
}

/// An EU IOSS number: `IM` and 10 digits (spaces ignored).
pub fn ioss_number(value: &str) -> Result<String, &'static str> {
    let v: String = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let ok = v.len() == 12 && v.starts_with("IM") && v[2..].chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(v)
    } else {
        Err("The IOSS number must be IM followed by 10 digits, e.g. IM1234567890.")
    }
}

/// A phone number: digits with optional `+`, spaces, dashes, dots and parentheses; 5–20 digits.
pub fn phone(value: &str) -> Result<String, &'static str> {
    let v = value.trim();
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let allowed = v
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || " -.()".contains(c) || (c == '+' && i == 0));
    if allowed && (5..=20).contains(&digits) {
        Ok(v.to_string())
    } else {
        Err("The phone number must contain 5 to 20 digits, optionally starting with +.")
    }
}

/// An ISO 3166-1 alpha-2 country code, upper-cased.
pub fn country_code(value: &str) -> Result<String, &'static str> {
    let v = value.trim().to_uppercase();
    if v.len() == 2 && v.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(v)
    } else {
        Err("The country must be a two-letter ISO code, e.g. DE or US.")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn store_hashes_are_accepted_in_the_forms_merchants_copy() {
        assert_eq!(store_hash(" ABC123 ").unwrap(), "abc123");
        assert_eq!(store_hash("stores/abc123").unwrap(), "abc123");
        assert_eq!(
            store_hash("store-abc123.mybigcommerce.com").unwrap(),
            "abc123"
        );
        assert!(store_hash("abc 123").is_err());
        assert!(store_hash("ab").is_err());
        assert!(store_hash("../x").is_err());
    }

    #[test]
    fn ioss_numbers_are_im_and_ten_digits() {
        assert_eq!(ioss_number("im 123 456 7890").unwrap(), "IM1234567890");
        assert!(ioss_number("IM123").is_err());
        assert!(ioss_number("XX1234567890").is_err());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(email(" Ann@Example.COM ").unwrap(), "ann@example.com");
        assert!(email("ann").is_err());
        assert!(email("ann@example").is_err());
        assert!(email("a b@example.com").is_err());
    }

    #[test]
    fn phones_and_countries_are_checked() {
        assert!(phone("+48 22 123 45 67").is_ok());
        assert!(phone("call me").is_err());
        assert!(phone("12+34567").is_err());
        assert_eq!(country_code("pl").unwrap(), "PL");
        assert!(country_code("POL").is_err());
    }
}
