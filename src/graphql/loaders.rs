//! DataLoaders: nested fields of a page load in one query per relation, whatever its size.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;

use crate::services::logos::{self, LogoMeta};
use crate::state::AppState;

/// Loads logo metadata by integration id, within one account.
pub struct LogoLoader {
    /// Shared state.
    pub state: AppState,
    /// The caller's account: the loader never sees another account's rows.
    pub account_id: i64,
}

impl Loader<i64> for LogoLoader {
    type Value = LogoMeta;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, LogoMeta>, Self::Error> {
        logos::meta_for(&self.state, self.account_id, keys)
            .await
            .map_err(|e| Arc::new(anyhow::anyhow!("loading logos: {e}")))
    }
}
