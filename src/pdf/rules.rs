//! Rules that decide what a document shows (docs/rules.md §3, §6): when a parcel needs a
//! customs declaration, when IOSS applies (the phone/email rule is `ContactMode::apply`).
//! Pure functions, so shipments apply the same rules as documents.

/// ISO 3166-1 alpha-2 codes of the EU member states (the IOSS territory).
pub const EU_COUNTRIES: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// Whether `country` (alpha-2) is an EU member state. Greece's `EL` is accepted too.
pub fn is_eu(country: &str) -> bool {
    let c = country.trim().to_ascii_uppercase();
    c == "EL" || EU_COUNTRIES.contains(&c.as_str())
}

fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// Whether a parcel from `from` to `to` needs a customs declaration: it leaves the sender's
/// country, and not merely for another EU country (the EU is one customs territory). Unknown
/// countries: a declaration only when the destination is known and differs.
pub fn needs_customs(from: Option<&str>, to: &str) -> bool {
    let to = to.trim().to_ascii_uppercase();
    if to.is_empty() {
        return false;
    }
    match from.map(|f| f.trim().to_ascii_uppercase()) {
        Some(from) if !from.is_empty() => from != to && !(is_eu(&from) && is_eu(&to)),
        _ => false,
    }
}

/// The IOSS number to print for a parcel from `from` to `to`: the store's, when the goods
/// enter the EU (an EU destination, from a sender not known to be in the EU). On a label it
/// appears inside the customs block.
pub fn ioss_for(ioss: Option<&str>, from: Option<&str>, to: &str) -> Option<String> {
    let from_eu = from.is_some_and(is_eu);
    present(ioss)
        .filter(|_| is_eu(to) && !from_eu)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customs_is_needed_leaving_the_country_but_not_within_the_eu() {
        assert!(needs_customs(Some("GB"), "DE"));
        assert!(needs_customs(Some("US"), "CA"));
        assert!(needs_customs(Some("DE"), "CH"));
        assert!(!needs_customs(Some("DE"), "PL"));
        assert!(!needs_customs(Some("US"), "us"));
        assert!(!needs_customs(None, "DE"));
        assert!(!needs_customs(Some("GB"), ""));
    }

    #[test]
    fn ioss_applies_to_goods_entering_the_eu_only() {
        let ioss = Some("IM2760000001");
        assert_eq!(ioss_for(ioss, Some("GB"), "PL").as_deref(), ioss);
        assert_eq!(ioss_for(ioss, None, "EL").as_deref(), ioss);
        assert_eq!(ioss_for(ioss, Some("GB"), "NO"), None);
        assert_eq!(ioss_for(ioss, Some("DE"), "PL"), None, "not an import");
        assert_eq!(ioss_for(None, Some("GB"), "PL"), None);
    }
}
