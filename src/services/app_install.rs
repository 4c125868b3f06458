//! The BigCommerce app-store install flow (docs/rules.md §10): the auth callback holds an
//! installation until a user claims it, the signed callbacks (load, uninstall, remove_user)
//! are verified before anything is done.
//!
//! A pending installation is claimed with a one-time code shown on the auth callback page
//! (only its SHA-256 is stored; it lasts [`CLAIM_TTL`]). Claiming turns it into a connected
//! store of the claimer's account, or reconnects the account's store with that hash (a
//! reinstall), keeping its history.

use chrono::{Duration, Utc};
use rand::rngs::OsRng;
use rand::Rng;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};

use super::integrations::{self, CheckedOptions, Connection, StoreOptions};
use super::Principal;
use crate::channels::bigcommerce::app::{verify_signed_payload, CodeExchange, SignedPayload};
use crate::channels::bigcommerce::Credentials;
use crate::crypto::hash_token;
use crate::db::{self, ScopedFutureExt};
use crate::domain::{rules, ChannelKind, ConnectedVia, IntegrationStatus};
use crate::entities::{app_installation as install, integration};
use crate::error::{ensure_valid, AppError, AppResult, UserError, UserErrorCode as Code};
use crate::state::AppState;

/// How long an installation waits to be claimed.
pub const CLAIM_TTL: Duration = Duration::hours(24);
/// Letters of claim codes: no 0/O, 1/I to misread.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Characters of a claim code (5 bits each: 100 bits).
const CODE_LEN: usize = 20;

/// Why a callback was refused; the page says so plainly, the log says why.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// The install flow is not configured on this server.
    #[error("the BigCommerce app is not configured on this server")]
    NotConfigured,
    /// The request lacks a parameter or has a malformed one.
    #[error("{0}")]
    BadRequest(String),
    /// The signed payload did not verify.
    #[error("the signed payload was refused: {0}")]
    Refused(String),
    /// The login service or the store refused or failed.
    #[error("BigCommerce refused the installation: {0}")]
    Upstream(String),
    /// The database failed.
    #[error("internal error")]
    Internal(AppError),
}

impl From<AppError> for CallbackError {
    fn from(e: AppError) -> Self {
        CallbackError::Internal(e)
    }
}

impl From<sea_orm::DbErr> for CallbackError {
    fn from(e: sea_orm::DbErr) -> Self {
        CallbackError::Internal(e.into())
    }
}

/// A new claim code, grouped by five for reading aloud.
fn new_claim_code() -> String {
    let mut rng = OsRng;
    let raw: String = (0..CODE_LEN)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    raw.as_bytes()
        .chunks(5)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// The stored form of a claim code: case, spaces and dashes do not matter.
fn claim_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hash_token(&normal)
}

/// A pending installation, as the auth callback page shows it.
#[derive(Debug)]
pub struct Pending {
    /// The one-time claim code (shown once, never stored).
    pub claim_code: String,
    /// The store's hash.
    pub store_hash: String,
    /// The store's name.
    pub store_name: String,
    /// Until when it can be claimed.
    pub expires_at: chrono::DateTime<Utc>,
}

/// `GET /bigcommerce/auth`: exchanges the code for the store's token, checks it against the
/// store, and holds the installation for [`CLAIM_TTL`]. An earlier unclaimed installation of
/// the same store is replaced (its token is no longer valid).
pub async fn auth_callback(
    state: &AppState,
    code: Option<&str>,
    scope: Option<&str>,
    context: Option<&str>,
) -> Result<Pending, CallbackError> {
    let settings = &state.settings;
    let app = settings
        .bigcommerce_app()
        .ok_or(CallbackError::NotConfigured)?;
    let redirect_uri = settings
        .bigcommerce_auth_callback()
        .ok_or(CallbackError::NotConfigured)?;
    let code = code
        .map(str::trim)
        .filter(|c| !c.is_empty() && c.len() <= 512)
        .ok_or_else(|| CallbackError::BadRequest("the request has no install code".into()))?;
    let context = context.map(str::trim).unwrap_or("");
    let hash = context
        .strip_prefix("stores/")
        .and_then(|h| rules::store_hash(h).ok())
        .ok_or_else(|| CallbackError::BadRequest("the request names no store".into()))?;
    let scope = scope.map(str::trim).unwrap_or("");
    let grant = state
        .bigcommerce
        .exchange_install_code(&CodeExchange {
            login_base: settings.bigcommerce_login_base(),
            client_id: app.client_id,
            client_secret: app.client_secret.expose(),
            code,
            scope,
            context,
            redirect_uri: &redirect_uri,
        })
        .await
        .map_err(|e| {
            tracing::warn!(store = %hash, error = %e, "install code exchange failed");
            CallbackError::Upstream(e.to_string())
        })?;
    if grant.store_hash() != Some(hash.as_str()) {
        tracing::warn!(store = %hash, "the token exchange answered for another store");
        return Err(CallbackError::Upstream(
            "the token is for another store".into(),
        ));
    }
    let info = state
        .bigcommerce
        .store_info(Credentials {
            store_hash: &hash,
            access_token: &grant.access_token,
        })
        .await
        .map_err(|e| {
            tracing::warn!(store = %hash, error = %e, "the new app token does not work on the store");
            CallbackError::Upstream(format!("the store refused the new token: {e}"))
        })?;

    let claim_code = new_claim_code();
    let code_hash = claim_hash(&claim_code);
    let ciphertext = state
        .cipher
        .encrypt(
            &grant.access_token,
            &install::token_binding(&hash, &code_hash),
        )
        .map_err(AppError::Internal)?;
    let now = Utc::now();
    let expires_at = now + CLAIM_TTL;
    let row = install::ActiveModel {
        store_hash: Set(hash.clone()),
        client_id: Set(app.client_id.to_string()),
        access_token_ciphertext: Set(ciphertext),
        scope: Set(grant.scope.clone()),
        user_email: Set(Some(grant.user.email.clone()).filter(|e| !e.is_empty())),
        owner_email: Set(Some(grant.owner.email.clone()).filter(|e| !e.is_empty())),
        claim_code_hash: Set(code_hash),
        created_at: Set(now),
        expires_at: Set(expires_at),
        ..Default::default()
    };
    db::write(&state.db, |txn| {
        replace_pending(txn, &hash, app.client_id, row.clone(), now).scope_boxed()
    })
    .await?;
    tracing::info!(store = %hash, "app installed; waiting to be claimed");
    Ok(Pending {
        claim_code,
        store_hash: hash,
        store_name: info.name,
        expires_at,
    })
}

/// Stores a new installation, replacing the store's unclaimed one (a reinstall) and dropping
/// expired ones.
async fn replace_pending(
    txn: &DatabaseTransaction,
    hash: &str,
    client_id: &str,
    row: install::ActiveModel,
    now: chrono::DateTime<Utc>,
) -> AppResult<()> {
    install::Entity::delete_many()
        .filter(install::Column::ClaimedAt.is_null())
        .filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(install::Column::StoreHash.eq(hash))
                        .add(install::Column::ClientId.eq(client_id)),
                )
                .add(install::Column::ExpiresAt.lt(now)),
        )
        .exec(txn)
        .await?;
    row.insert(txn).await?;
    Ok(())
}

fn not_found() -> AppError {
    UserError::new(
        "code",
        Code::InstallationNotFound,
        "No pending installation has this code, or it was claimed already or expired (codes last 24 hours). Open orderdeck from the store's control panel (Apps → orderdeck) after installing it again.",
    )
    .into()
}

/// `claimBigCommerceInstallation`: connects the installed store to the caller's account
/// with `options`. The code is used up only when the store is saved, in one transaction.
pub async fn claim(
    state: &AppState,
    p: &Principal,
    code: &str,
    options: &StoreOptions,
) -> AppResult<integration::Model> {
    let mut errors = Vec::new();
    if code.trim().is_empty() {
        errors.push(UserError::new(
            "code",
            Code::Required,
            "Enter the claim code shown after installing the app.",
        ));
    }
    let checked: CheckedOptions = integrations::check_options(&mut errors, options);
    ensure_valid(errors)?;
    let code_hash = claim_hash(code);
    let now = Utc::now();
    let pending = install::Entity::find()
        .filter(install::Column::ClaimCodeHash.eq(&code_hash))
        .filter(install::Column::ClaimedAt.is_null())
        .filter(install::Column::ExpiresAt.gt(now))
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    let token = state
        .cipher
        .decrypt(
            &pending.access_token_ciphertext,
            &install::token_binding(&pending.store_hash, &pending.claim_code_hash),
        )
        .map_err(AppError::Internal)?;
    let prepared = integrations::prepare(
        state,
        p.account_id,
        Connection {
            store_hash: pending.store_hash.clone(),
            client_id: pending.client_id.clone(),
            token: token.expose().clone(),
            via: ConnectedVia::App,
        },
        checked,
    )
    .await?;

    let saved = db::write(&state.db, |txn| {
        claim_in(txn, prepared.clone(), pending.id, p.account_id, now).scope_boxed()
    })
    .await?;
    tracing::info!(
        integration_id = saved.id,
        account_id = p.account_id,
        store = %saved.store_hash,
        "app installation claimed"
    );
    integrations::after_connect(state, saved).await
}

/// Saves the claimed store and uses the installation up, once: a second claim racing this one
/// finds no row to update.
async fn claim_in(
    txn: &DatabaseTransaction,
    prepared: integrations::Prepared,
    installation_id: i64,
    account_id: i64,
    now: chrono::DateTime<Utc>,
) -> AppResult<integration::Model> {
    let saved = prepared.save(txn).await?;
    let used = install::Entity::update_many()
        .col_expr(install::Column::ClaimedAt, Expr::value(Some(now)))
        .col_expr(
            install::Column::ClaimedByAccountId,
            Expr::value(Some(account_id)),
        )
        .col_expr(install::Column::IntegrationId, Expr::value(Some(saved.id)))
        // The token now lives (re-encrypted) on the integration only.
        .col_expr(install::Column::AccessTokenCiphertext, Expr::value(""))
        .filter(install::Column::Id.eq(installation_id))
        .filter(install::Column::ClaimedAt.is_null())
        .exec(txn)
        .await?
        .rows_affected;
    if used != 1 {
        return Err(not_found());
    }
    Ok(saved)
}

/// Verifies a callback's `signed_payload_jwt` with the app's secret; refusals are logged.
fn verify(state: &AppState, kind: &str, jwt: Option<&str>) -> Result<SignedPayload, CallbackError> {
    let app = state
        .settings
        .bigcommerce_app()
        .ok_or(CallbackError::NotConfigured)?;
    let Some(jwt) = jwt.filter(|j| !j.trim().is_empty()) else {
        tracing::warn!(
            callback = kind,
            "BigCommerce callback without signed_payload_jwt refused"
        );
        return Err(CallbackError::Refused("no signed payload".into()));
    };
    verify_signed_payload(
        jwt,
        app.client_id,
        app.client_secret.expose(),
        Utc::now().timestamp(),
    )
    .map_err(|why| {
        tracing::warn!(callback = kind, reason = %why, "BigCommerce callback refused");
        CallbackError::Refused(why.to_string())
    })
}

/// What the load page tells the user.
#[derive(Debug)]
pub struct LoadView {
    /// The store the user opened the app from.
    pub store_hash: String,
    /// Whether an account of this server has connected the store through the app.
    pub connected: bool,
    /// Whether an installation is waiting to be claimed.
    pub pending: bool,
}

/// The app's integrations of a store (any account: the store installed the app once).
async fn app_integrations(
    state: &AppState,
    store_hash: &str,
    client_id: &str,
) -> Result<Vec<integration::Model>, CallbackError> {
    Ok(integration::Entity::find()
        .filter(integration::Column::Channel.eq(ChannelKind::BigCommerce))
        .filter(integration::Column::StoreHash.eq(store_hash))
        .filter(integration::Column::ClientId.eq(client_id))
        .filter(integration::Column::ConnectedVia.eq(ConnectedVia::App))
        .all(&state.db)
        .await?)
}

/// `GET /bigcommerce/load`: verifies the user and says where orderdeck is.
pub async fn load(state: &AppState, jwt: Option<&str>) -> Result<LoadView, CallbackError> {
    let payload = verify(state, "load", jwt)?;
    let client_id = state
        .settings
        .bigcommerce_app()
        .map(|a| a.client_id.to_string())
        .unwrap_or_default();
    let connected = app_integrations(state, &payload.store_hash, &client_id)
        .await?
        .iter()
        .any(|i| i.status != IntegrationStatus::Disconnected);
    let pending = install::Entity::find()
        .filter(install::Column::StoreHash.eq(&payload.store_hash))
        .filter(install::Column::ClaimedAt.is_null())
        .filter(install::Column::ExpiresAt.gt(Utc::now()))
        .one(&state.db)
        .await?
        .is_some();
    tracing::info!(store = %payload.store_hash, user = payload.user.id, "app loaded from the control panel");
    Ok(LoadView {
        store_hash: payload.store_hash,
        connected,
        pending,
    })
}

/// `GET /bigcommerce/uninstall`: the store removed the app, so its token is void and its
/// hooks are gone: every store connected through the app is disconnected (history kept) and
/// unclaimed installations are dropped. The number of stores disconnected.
pub async fn uninstall(state: &AppState, jwt: Option<&str>) -> Result<usize, CallbackError> {
    let payload = verify(state, "uninstall", jwt)?;
    let client_id = state
        .settings
        .bigcommerce_app()
        .map(|a| a.client_id.to_string())
        .unwrap_or_default();
    let mut gone = Vec::new();
    for i in app_integrations(state, &payload.store_hash, &client_id).await? {
        if i.status == IntegrationStatus::Disconnected {
            continue;
        }
        // The payload does not say which callback it was made for: a load payload replayed
        // here must not disconnect a store that still has the app. Uninstalling deletes the
        // app's API account, so its token no longer works.
        if token_still_works(state, &i).await {
            tracing::warn!(integration_id = i.id, store = %i.store_hash, "uninstall callback ignored: the store still accepts the app's token (a replayed payload?)");
            continue;
        }
        gone.push(i);
    }
    let disconnected = gone.len();
    db::write(&state.db, |txn| {
        disconnect_in(txn, gone.clone(), &payload.store_hash, &client_id).scope_boxed()
    })
    .await?;
    tracing::info!(store = %payload.store_hash, disconnected, "app uninstalled by the store");
    Ok(disconnected)
}

/// Disconnects the uninstalled stores and drops the store's unclaimed installations.
async fn disconnect_in(
    txn: &DatabaseTransaction,
    gone: Vec<integration::Model>,
    store_hash: &str,
    client_id: &str,
) -> AppResult<()> {
    for i in gone {
        integrations::mark_disconnected(txn, i).await?;
    }
    install::Entity::delete_many()
        .filter(install::Column::StoreHash.eq(store_hash))
        .filter(install::Column::ClientId.eq(client_id))
        .filter(install::Column::ClaimedAt.is_null())
        .exec(txn)
        .await?;
    Ok(())
}

/// Whether the store still answers the integration's token (`GET /v2/store`). A store that
/// cannot be asked (timeout, outage) counts as not: the signed payload is genuine.
async fn token_still_works(state: &AppState, i: &integration::Model) -> bool {
    let Ok(store) = super::store_channel::channel_for(state, i) else {
        return false;
    };
    store.store_info().await.is_ok()
}

/// `GET /bigcommerce/remove_user`: a control-panel user lost access to the app. orderdeck
/// users are its own (email and password), so nothing changes here; the event is verified
/// and logged.
pub async fn remove_user(state: &AppState, jwt: Option<&str>) -> Result<(), CallbackError> {
    let payload = verify(state, "remove_user", jwt)?;
    tracing::info!(store = %payload.store_hash, user = payload.user.id, "control-panel user removed from the app");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_codes_are_read_without_regard_to_case_spaces_or_dashes() {
        let code = new_claim_code();
        assert_eq!(code.len(), CODE_LEN + 3);
        let sloppy = code.replace('-', " ").to_lowercase();
        assert_eq!(claim_hash(&code), claim_hash(&sloppy));
        assert_ne!(claim_hash(&code), claim_hash(&new_claim_code()));
    }
}
