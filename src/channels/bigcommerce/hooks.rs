//! The Webhooks API (`/v3/hooks`, docs/bigcommerce.md §10): the hooks orderdeck registers on a
//! store. A store shows an API account only the hooks that account created.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::client::Write;
use super::BigCommerceStore;
use crate::channels::{ChannelError, PAGE_SIZE};

/// A hook as the store reports it (custom header values are never logged).
#[derive(Clone, Deserialize)]
pub struct Hook {
    /// The store's hook id.
    pub id: i64,
    /// The event scope, e.g. `store/order/created`.
    pub scope: String,
    /// Where deliveries go.
    pub destination: String,
    /// Whether deliveries are sent (the store turns a failing hook off).
    #[serde(default)]
    pub is_active: bool,
    /// The custom headers sent with each delivery.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook")
            .field("id", &self.id)
            .field("scope", &self.scope)
            .field("destination", &self.destination)
            .field("is_active", &self.is_active)
            .finish_non_exhaustive()
    }
}

/// A hook to create or the new state of one.
#[derive(Serialize)]
pub struct NewHook<'a> {
    /// The event scope.
    pub scope: &'a str,
    /// Where deliveries go.
    pub destination: &'a str,
    /// Deliver (true) or pause.
    pub is_active: bool,
    /// Custom headers sent with each delivery (the shared secret).
    pub headers: BTreeMap<&'a str, &'a str>,
}

#[derive(Deserialize)]
struct One {
    data: Hook,
}

#[derive(Deserialize)]
struct Many {
    #[serde(default)]
    data: Vec<Hook>,
    #[serde(default)]
    meta: serde_json::Value,
}

impl BigCommerceStore {
    /// Every hook this API account registered on the store.
    pub async fn hooks(&self) -> Result<Vec<Hook>, ChannelError> {
        let mut all = Vec::new();
        for page in 1u32.. {
            let query = [("limit", PAGE_SIZE.to_string()), ("page", page.to_string())];
            let body: Option<Many> = self.get("v3/hooks", &query).await?;
            let Some(body) = body else { break };
            let count = body.data.len();
            all.extend(body.data);
            let total_pages = body
                .meta
                .pointer("/pagination/total_pages")
                .and_then(|v| v.as_u64())
                .unwrap_or(1);
            if count == 0 || u64::from(page) >= total_pages {
                break;
            }
        }
        Ok(all)
    }

    /// `POST /v3/hooks`: sent once (the store refuses a second hook with the same scope and
    /// destination, so a lost answer is found by [`Self::hooks`] on the next attempt).
    pub async fn create_hook(&self, hook: &NewHook<'_>) -> Result<Hook, ChannelError> {
        let created: Option<One> = self.write("v3/hooks", Write::post_once(hook)?).await?;
        created
            .map(|o| o.data)
            .ok_or_else(|| ChannelError::UnexpectedResponse("v3/hooks: empty answer".into()))
    }

    /// `PUT /v3/hooks/{id}`: new headers, destination or activity.
    pub async fn update_hook(&self, id: i64, hook: &NewHook<'_>) -> Result<Hook, ChannelError> {
        let updated: Option<One> = self
            .write(&format!("v3/hooks/{id}"), Write::put(hook)?)
            .await?;
        updated
            .map(|o| o.data)
            .ok_or_else(|| ChannelError::UnexpectedResponse(format!("v3/hooks/{id}: empty answer")))
    }

    /// `DELETE /v3/hooks/{id}`; a hook already gone counts as deleted.
    pub async fn delete_hook(&self, id: i64) -> Result<(), ChannelError> {
        match self
            .write::<serde_json::Value>(&format!("v3/hooks/{id}"), Write::delete())
            .await
        {
            Ok(_) | Err(ChannelError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
