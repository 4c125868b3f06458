//! Wire formats of the BigCommerce API, private to this module.

use serde::Deserialize;

/// `GET /v2/store` (only the fields orderdeck reads).
#[derive(Debug, Deserialize)]
pub(super) struct StoreResponse {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
}
