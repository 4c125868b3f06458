//! The channel handle of a connected store: its API client with the decrypted token. Use
//! cases that call the store (webhook registration, install checks) and the sync layer's
//! workers both build it here.

use crate::channels::bigcommerce::BigCommerceStore;
use crate::entities::integration;
use crate::state::AppState;

/// Why an integration has no channel handle.
#[derive(Debug, thiserror::Error)]
pub enum NoChannel {
    /// The integration holds no token (disconnected).
    #[error("the store holds no access token")]
    NoToken,
    /// The stored token could not be decrypted.
    #[error(transparent)]
    Undecryptable(anyhow::Error),
}

/// The channel handle of an integration (decrypts its token).
pub fn channel_for(
    state: &AppState,
    integration: &integration::Model,
) -> Result<BigCommerceStore, NoChannel> {
    let Some(ciphertext) = &integration.access_token_ciphertext else {
        return Err(NoChannel::NoToken);
    };
    let token = state
        .cipher
        .decrypt(ciphertext, &integration.token_binding())
        .map_err(NoChannel::Undecryptable)?;
    Ok(state
        .bigcommerce
        .store(&integration.store_hash, token.expose()))
}
