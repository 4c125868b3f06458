//! API keys: long-lived secrets the merchant's own systems send like a login token, each
//! acting with its own role until it is revoked. Only a SHA-256 of the secret is stored.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

use super::sessions::{Actor, Principal};
use crate::crypto::{generate_api_key, hash_token, API_KEY_PREFIX};
use crate::domain::Role;
use crate::entities::api_key;
use crate::error::{ensure_valid, AppResult, UserError, UserErrorCode as Code};
use crate::state::AppState;

/// Longest key name, in characters.
pub const NAME_MAX: usize = 100;

/// How stale `last_used_at` may get: a key used all the time writes it once a minute, not on
/// every request.
const LAST_USED_EVERY: Duration = Duration::minutes(1);

/// The principal of an API key secret; `None` for an unknown or revoked key.
pub async fn authenticate(
    db: &DatabaseConnection,
    secret: &str,
) -> Result<Option<Principal>, DbErr> {
    let Some(key) = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash_token(secret)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if key.revoked_at.is_some() {
        return Ok(None);
    }
    let now = Utc::now();
    if key.last_used_at.is_none_or(|at| at < now - LAST_USED_EVERY) {
        api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
            .filter(api_key::Column::Id.eq(key.id))
            .exec(db)
            .await?;
    }
    Ok(Some(Principal {
        account_id: key.account_id,
        role: key.role,
        actor: Actor::ApiKey { key_id: key.id },
    }))
}

/// What `createApiKey` needs.
pub struct NewApiKey {
    /// What the key is for ("ERP export").
    pub name: String,
    /// What it may do.
    pub role: Role,
}

/// A new key: its row, and the secret, shown this once.
pub struct CreatedKey {
    /// The stored key.
    pub key: api_key::Model,
    /// The secret to send as `Authorization: Bearer …`.
    pub secret: String,
}

/// Creates a key for the caller's account. A caller cannot give a key more than it may do
/// itself: only an owner creates an owner's key.
pub async fn create(state: &AppState, p: &Principal, input: NewApiKey) -> AppResult<CreatedKey> {
    let name = input.name.trim().to_string();
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push(UserError::new(
            "name",
            Code::Required,
            "Give the key a name.",
        ));
    } else if name.chars().count() > NAME_MAX {
        errors.push(UserError::new(
            "name",
            Code::TooLong,
            format!("A key's name has at most {NAME_MAX} characters."),
        ));
    }
    if input.role == Role::Owner && p.role != Role::Owner {
        errors.push(UserError::new(
            "role",
            Code::Forbidden,
            "Only an owner can create a key with the OWNER role.",
        ));
    }
    ensure_valid(errors)?;
    let secret = generate_api_key();
    let hint = format!(
        "{API_KEY_PREFIX}…{}",
        &secret[secret.len().saturating_sub(4)..]
    );
    let key = api_key::ActiveModel {
        account_id: Set(p.account_id),
        name: Set(name),
        role: Set(input.role),
        key_hash: Set(hash_token(&secret)),
        hint: Set(hint),
        created_by_user_id: Set(p.user_id()),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    tracing::info!(
        key_id = key.id,
        account_id = p.account_id,
        "API key created"
    );
    Ok(CreatedKey { key, secret })
}

/// The account's keys, newest first, revoked ones included.
pub async fn list(state: &AppState, p: &Principal) -> AppResult<Vec<api_key::Model>> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::AccountId.eq(p.account_id))
        .order_by_desc(api_key::Column::Id)
        .all(&state.db)
        .await?)
}

/// Revokes one of the account's keys: from the next request on, on every replica, the key is
/// `UNAUTHENTICATED`. Revoking a revoked key changes nothing (`false`: it was revoked already).
pub async fn revoke(
    state: &AppState,
    p: &Principal,
    key_id: i64,
) -> AppResult<(api_key::Model, bool)> {
    let key = api_key::Entity::find_by_id(key_id)
        .filter(api_key::Column::AccountId.eq(p.account_id))
        .one(&state.db)
        .await?
        .ok_or_else(|| UserError::new("id", Code::NotFound, "No such API key."))?;
    if key.role == Role::Owner && p.role != Role::Owner {
        return Err(UserError::new(
            "id",
            Code::Forbidden,
            "Only an owner can revoke a key with the OWNER role.",
        )
        .into());
    }
    if key.revoked_at.is_some() {
        return Ok((key, false));
    }
    let now = Utc::now();
    let changed = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(now))
        .filter(api_key::Column::Id.eq(key.id))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await?
        .rows_affected
        > 0;
    tracing::info!(
        key_id = key.id,
        account_id = p.account_id,
        "API key revoked"
    );
    let key = api_key::Model {
        revoked_at: Some(now),
        ..key
    };
    Ok((key, changed))
}
