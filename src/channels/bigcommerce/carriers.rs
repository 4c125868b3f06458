//! What BigCommerce calls the carrier a merchant typed: one of its native shipping providers
//! (`shipping_provider`), or an AfterShip courier slug (`tracking_carrier`), from which the
//! store builds the customer's tracking link (docs/bigcommerce.md §3).
//!
//! Slugs come from BigCommerce's own list of `tracking_carrier` values
//! (`assets/csv/tracking_carrier_values.csv` in its docs repository). The table is
//! deliberately small: a name is only mapped when it points at one carrier; ambiguous names
//! ("Hermes", UK or Germany; "Correos", Spain or Mexico) stay unknown, so the shipment keeps
//! the typed text in `shipping_method` and no wrong tracking link is shown.

/// What BigCommerce calls a carrier the merchant typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CarrierCodes {
    /// BigCommerce `shipping_provider` (a native provider), or `""`.
    pub shipping_provider: &'static str,
    /// BigCommerce `tracking_carrier` (an AfterShip slug), or `""`.
    pub tracking_carrier: &'static str,
}

/// Neither a provider nor a carrier.
const UNKNOWN: CarrierCodes = CarrierCodes {
    shipping_provider: "",
    tracking_carrier: "",
};

const fn provider(code: &'static str) -> CarrierCodes {
    CarrierCodes {
        shipping_provider: code,
        tracking_carrier: "",
    }
}

const fn carrier(slug: &'static str) -> CarrierCodes {
    CarrierCodes {
        shipping_provider: "",
        tracking_carrier: slug,
    }
}

/// Normalized names (see [`normalize`]) and their codes. Native providers come first: the
/// store links their tracking itself.
const TABLE: &[(&[&str], CarrierCodes)] = &[
    // Native shipping providers.
    (&["auspost", "australiapost"], provider("auspost")),
    (&["canadapost", "postescanada"], provider("canadapost")),
    (&["endicia"], provider("endicia")),
    (&["usps", "unitedstatespostalservice"], provider("usps")),
    (&["fedex", "federalexpress"], provider("fedex")),
    (&["royalmail"], provider("royalmail")),
    (&["ups", "unitedparcelservice"], provider("ups")),
    // AfterShip slugs.
    (&["dhl", "dhlexpress"], carrier("dhl")),
    (
        &["dhlpaket", "deutschepostdhl", "dhlgermany"],
        carrier("dhl-germany"),
    ),
    (&["dhlecommerce"], carrier("dhl-global-mail")),
    (&["dhlparceluk"], carrier("dhlparcel-uk")),
    (&["dpd"], carrier("dpd")),
    (&["dpduk"], carrier("dpd-uk")),
    (&["dpdgermany", "dpdde"], carrier("dpd-de")),
    (
        &["dpdlocal", "interlinkexpress"],
        carrier("interlink-express"),
    ),
    (&["gls"], carrier("gls")),
    (&["evri", "hermesuk", "myhermes"], carrier("myhermes-uk")),
    (&["hermesgermany"], carrier("hermes-de")),
    (
        &["inpost", "inpostpaczkomaty"],
        carrier("inpost-paczkomaty"),
    ),
    (&["pocztapolska"], carrier("poczta-polska")),
    (&["postnl"], carrier("postnl")),
    (&["colissimo"], carrier("colissimo")),
    (&["laposte"], carrier("la-poste-colissimo")),
    (
        &["chronopost", "chronopostfrance"],
        carrier("chronopost-france"),
    ),
    (&["mondialrelay"], carrier("mondialrelay")),
    (&["tnt"], carrier("tnt")),
    (&["purolator"], carrier("purolator")),
    (&["canpar"], carrier("canpar")),
    (&["anpost"], carrier("an-post")),
    (&["bpost"], carrier("bpost")),
    (&["posti"], carrier("posti")),
    (&["postnord"], carrier("postnord")),
    (&["bring"], carrier("bring")),
    (&["swisspost"], carrier("swiss-post")),
    (&["posteitaliane"], carrier("poste-italiane")),
    (&["brt", "brtbartolini", "bartolini"], carrier("brt-it")),
    (
        &["correosdeespaña", "correosdeespana"],
        carrier("spain-correos-es"),
    ),
    (
        &["parcelforce", "parcelforceworldwide"],
        carrier("parcel-force"),
    ),
    (&["yodel"], carrier("yodel")),
    (&["ukmail"], carrier("uk-mail")),
    (&["whistl"], carrier("whistl")),
    (&["aramex"], carrier("aramex")),
    (&["ontrac"], carrier("ontrac")),
    (&["lasership"], carrier("lasership")),
    (&["startrack"], carrier("star-track")),
    (&["couriersplease"], carrier("couriers-please")),
    (&["sendle"], carrier("sendle")),
    (&["newzealandpost", "nzpost"], carrier("new-zealand-post")),
];

/// The name as the table holds it: lowercase letters and digits only, so that "Royal Mail",
/// "royal-mail" and "ROYALMAIL" meet.
fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Maps a typed carrier name ("Royal Mail", "royalmail", "DHL Express", "UPS", "InPost"...)
/// case-, space- and punctuation-insensitively; unknown → both "".
pub fn codes(carrier: &str) -> CarrierCodes {
    let name = normalize(carrier);
    if name.is_empty() {
        return UNKNOWN;
    }
    TABLE
        .iter()
        .find(|(names, _)| names.contains(&name.as_str()))
        .map_or(UNKNOWN, |(_, codes)| *codes)
}

/// Whether [`codes`] knows the carrier (a provider or a tracking carrier).
pub fn is_known(carrier: &str) -> bool {
    codes(carrier) != UNKNOWN
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn names_map_whatever_their_case_spacing_and_punctuation() {
        for name in ["Royal Mail", "royalmail", "ROYAL-MAIL", " royal_mail. "] {
            assert_eq!(codes(name), provider("royalmail"), "{name}");
        }
        assert_eq!(codes("UPS"), provider("ups"));
        assert_eq!(codes("U.P.S."), provider("ups"));
        assert_eq!(codes("FedEx"), provider("fedex"));
        assert_eq!(codes("Australia Post"), provider("auspost"));
        assert_eq!(codes("Canada Post"), provider("canadapost"));
        assert_eq!(codes("DHL Express"), carrier("dhl"));
        assert_eq!(codes("dhl"), carrier("dhl"));
        assert_eq!(codes("DHL Paket"), carrier("dhl-germany"));
        assert_eq!(codes("Deutsche Post DHL"), carrier("dhl-germany"));
        assert_eq!(codes("InPost"), carrier("inpost-paczkomaty"));
        assert_eq!(codes("DPD UK"), carrier("dpd-uk"));
        assert_eq!(codes("Evri"), carrier("myhermes-uk"));
        assert_eq!(codes("PostNL"), carrier("postnl"));
        assert_eq!(codes("Poczta Polska"), carrier("poczta-polska"));
        assert_eq!(codes("An Post"), carrier("an-post"));
        assert_eq!(codes("Correos de España"), carrier("spain-correos-es"));
        assert_eq!(codes("Parcelforce Worldwide"), carrier("parcel-force"));
    }

    #[test]
    fn unknown_empty_and_ambiguous_names_map_to_nothing() {
        for name in [
            "",
            "  ",
            "--",
            "Bob's Van",
            "Hermes",
            "Correos",
            "DHL Freight",
        ] {
            assert_eq!(codes(name), UNKNOWN, "{name:?}");
            assert!(!is_known(name), "{name:?}");
        }
        assert!(is_known("gls"));
        assert!(is_known("Royal Mail"));
    }

    #[test]
    fn the_table_is_normalized_unambiguous_and_speaks_bigcommerce() {
        // shipping_provider values BigCommerce accepts (besides "" and `carrier_{id}`).
        let providers = [
            "auspost",
            "canadapost",
            "endicia",
            "usps",
            "fedex",
            "royalmail",
            "ups",
        ];
        let mut seen = BTreeSet::new();
        for (names, codes) in TABLE {
            assert!(!names.is_empty());
            for name in *names {
                assert_eq!(normalize(name), *name, "{name} is not normalized");
                assert!(seen.insert(*name), "{name} appears twice");
            }
            // Exactly one of the two is set.
            assert_ne!(
                codes.shipping_provider.is_empty(),
                codes.tracking_carrier.is_empty(),
                "{names:?}"
            );
            if !codes.shipping_provider.is_empty() {
                assert!(providers.contains(&codes.shipping_provider), "{names:?}");
            }
            let slug = codes.tracking_carrier;
            assert!(
                slug.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{slug}"
            );
        }
    }
}
