//! Postal addresses (the return address of a store; later the addresses of orders).

use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

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
