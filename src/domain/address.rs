//! Postal addresses: the return address of a store, the addresses of orders (billing and
//! shipping, as the channel delivered them), and which of them a parcel goes to.

use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

use super::stores::ContactMode;

/// A postal address as stored (JSON in the database).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct PostalAddress {
    /// Person or department.
    pub name: Option<String>,
    /// Company name.
    pub company: Option<String>,
    /// First street line.
    pub street1: String,
    /// Second street line.
    pub street2: Option<String>,
    /// City.
    pub city: String,
    /// State, province or region.
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code, upper case.
    pub country_code: String,
}

/// An address on an order (stored as JSON on the order). A field missing from the stored JSON
/// reads as empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
#[serde(default)]
pub struct OrderAddress {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub street1: String,
    pub street2: String,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    pub country: String,
    pub phone: String,
    pub email: String,
}

/// A shipping address (consignment) of an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct ChannelShippingAddress {
    /// The channel's id (BigCommerce `order_address_id`, needed to push shipments).
    pub external_id: i64,
    pub address: OrderAddress,
    pub shipping_method: String,
}

/// The shipping addresses of an order as stored: a JSON array, exactly as the `Vec`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct ShippingAddresses(pub Vec<ChannelShippingAddress>);

impl ShippingAddresses {
    /// The first shipping address.
    pub fn first(&self) -> Option<&OrderAddress> {
        self.0.first().map(|s| &s.address)
    }

    /// The shipping address with the channel's id `external_id`.
    pub fn find(&self, external_id: i64) -> Option<&OrderAddress> {
        self.0
            .iter()
            .find(|s| s.external_id == external_id)
            .map(|s| &s.address)
    }
}

/// Where an order's parcel goes: its first shipping address, else its billing address.
pub fn destination(
    shipping: Option<&ShippingAddresses>,
    billing: Option<&OrderAddress>,
) -> OrderAddress {
    shipping
        .and_then(ShippingAddresses::first)
        .or(billing)
        .cloned()
        .unwrap_or_default()
}

/// Two addresses with the same key are one place for one person: recipient, company, street,
/// city, postal code and country compared without case, accents kept, punctuation and runs of
/// spaces as one space, postal codes without spaces (`"10 Downing St."` and `"10  downing st"`
/// match; `"SW1A 2AA"` and `"sw1a2aa"` match). Phone and email do not count.
pub fn address_key(a: &OrderAddress) -> String {
    fn norm(s: &str) -> String {
        s.chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect::<String>()
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
    let postal: String = a
        .postal_code
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    [
        norm(&format!("{} {}", a.first_name, a.last_name)),
        norm(&a.company),
        norm(&format!("{} {}", a.street1, a.street2)),
        norm(&a.city),
        postal,
        a.country_code.trim().to_lowercase(),
    ]
    .join("|")
}

/// Where the lines of an order sent to the shipping address `order_address_id` go: that
/// address, else the order's [`destination`].
pub fn parcel_address(
    shipping: Option<&ShippingAddresses>,
    billing: Option<&OrderAddress>,
    order_address_id: i64,
) -> OrderAddress {
    shipping
        .and_then(|s| s.find(order_address_id))
        .cloned()
        .unwrap_or_else(|| destination(shipping, billing))
}

/// A phone number and an email address, each possibly missing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Contact<'a> {
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
}

/// A store's phone and email with the PREFILL/OVERWRITE rule of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreContact<'a> {
    pub phone: Option<&'a str>,
    pub phone_mode: ContactMode,
    pub email: Option<&'a str>,
    pub email_mode: ContactMode,
}

fn some(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}

/// The recipient's phone and email on a parcel to `to`: the order's own (the address's, else
/// the customer's, else the billing address's), with the store's PREFILL/OVERWRITE rule
/// applied (docs/rules.md §3, §6).
pub fn recipient_contact(
    to: &OrderAddress,
    customer: Contact<'_>,
    billing: Option<&OrderAddress>,
    store: StoreContact<'_>,
) -> (Option<String>, Option<String>) {
    let order_phone = some(&to.phone)
        .or_else(|| customer.phone.and_then(some))
        .or_else(|| billing.and_then(|b| some(&b.phone)));
    let order_email = some(&to.email)
        .or_else(|| customer.email.and_then(some))
        .or_else(|| billing.and_then(|b| some(&b.email)));
    let pick = |mode: ContactMode, store: Option<&str>, order: Option<&str>| {
        mode.apply(store, order).map(|v| v.trim().to_string())
    };
    (
        pick(store.phone_mode, store.phone, order_phone),
        pick(store.email_mode, store.email, order_email),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn address(city: &str) -> OrderAddress {
        OrderAddress {
            first_name: "Ada".into(),
            city: city.into(),
            country_code: "GB".into(),
            ..Default::default()
        }
    }

    #[test]
    fn one_place_written_two_ways_has_one_key_and_another_street_or_person_does_not() {
        let a = OrderAddress {
            first_name: "Łucja".into(),
            last_name: "Żółć".into(),
            street1: "10 Downing St.".into(),
            city: "London".into(),
            postal_code: "SW1A 2AA".into(),
            country_code: "GB".into(),
            phone: "+44 1".into(),
            ..Default::default()
        };
        let b = OrderAddress {
            first_name: " łucja".into(),
            last_name: "ŻÓŁĆ ".into(),
            street1: "10  downing st".into(),
            city: "LONDON".into(),
            postal_code: "sw1a2aa".into(),
            country_code: "gb".into(),
            phone: "+44 2".into(),
            ..Default::default()
        };
        assert_eq!(address_key(&a), address_key(&b));
        let mut c = b.clone();
        c.street1 = "11 Downing St".into();
        assert_ne!(address_key(&a), address_key(&c));
        let mut d = b;
        d.first_name = "Ada".into();
        assert_ne!(address_key(&a), address_key(&d));
    }

    #[test]
    fn the_stored_json_text_is_the_one_the_plain_types_wrote() {
        let vec = vec![ChannelShippingAddress {
            external_id: 128,
            address: address("London"),
            shipping_method: "Flat Rate".into(),
        }];
        let typed = ShippingAddresses(vec.clone());
        assert_eq!(
            serde_json::to_string(&typed).unwrap(),
            serde_json::to_string(&vec).unwrap()
        );
        let text = serde_json::to_string(&vec).unwrap();
        assert!(text.starts_with("[{\"external_id\":128,"), "{text}");
        assert_eq!(
            serde_json::from_str::<ShippingAddresses>(&text).unwrap(),
            typed
        );
    }

    #[test]
    fn an_order_address_missing_fields_reads_them_as_empty() {
        let a: OrderAddress =
            serde_json::from_str(r#"{"first_name":"Ada","country_code":"GB"}"#).unwrap();
        assert_eq!(a.first_name, "Ada");
        assert_eq!(a.street2, "");
    }

    #[test]
    fn a_parcel_goes_to_its_address_else_the_first_else_the_billing_address() {
        let shipping = ShippingAddresses(vec![
            ChannelShippingAddress {
                external_id: 1,
                address: address("Leeds"),
                shipping_method: String::new(),
            },
            ChannelShippingAddress {
                external_id: 2,
                address: address("York"),
                shipping_method: String::new(),
            },
        ]);
        let billing = address("Bath");
        assert_eq!(parcel_address(Some(&shipping), None, 2).city, "York");
        assert_eq!(parcel_address(Some(&shipping), None, 9).city, "Leeds");
        assert_eq!(destination(None, Some(&billing)).city, "Bath");
        assert_eq!(destination(None, None), OrderAddress::default());
    }

    #[test]
    fn the_recipient_contact_falls_back_to_the_customer_then_the_billing_address() {
        let to = address("Leeds");
        let billing = OrderAddress {
            phone: "+44 3".into(),
            email: "b@example.com".into(),
            ..Default::default()
        };
        let store = StoreContact {
            phone: Some("+44 1"),
            phone_mode: ContactMode::Prefill,
            email: Some("shop@example.com"),
            email_mode: ContactMode::Overwrite,
        };
        let customer = Contact {
            phone: Some("+44 2"),
            email: None,
        };
        assert_eq!(
            recipient_contact(&to, customer, Some(&billing), store),
            (Some("+44 2".into()), Some("shop@example.com".into()))
        );
        assert_eq!(
            recipient_contact(&to, Contact::default(), Some(&billing), store).0,
            Some("+44 3".into())
        );
    }
}
