//! Login, logout and bearer-token authentication.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::crypto::{generate_token, hash_token};
use crate::domain::{Permission, Role};
use crate::entities::{session, user};
use crate::error::{AppError, AppResult, UserError, UserErrorCode};
use crate::state::AppState;

/// Who is calling: resolved from a valid bearer token or API key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The caller's account; every query is scoped to it.
    pub account_id: i64,
    /// What the caller may do, as it is now (read with the token on every request, so a
    /// changed role applies at once on every replica).
    pub role: Role,
    /// The user or the key.
    pub actor: Actor,
}

/// The user or API key behind a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A user, signed in with a login token.
    User {
        /// The user.
        user_id: i64,
        /// The session the token belongs to.
        session_id: i64,
    },
    /// One of the account's API keys.
    ApiKey {
        /// The key.
        key_id: i64,
    },
}

impl Principal {
    /// The user calling, when a user (not an API key) is.
    pub fn user_id(&self) -> Option<i64> {
        match self.actor {
            Actor::User { user_id, .. } => Some(user_id),
            Actor::ApiKey { .. } => None,
        }
    }

    /// The API key calling, when a key is.
    pub fn api_key_id(&self) -> Option<i64> {
        match self.actor {
            Actor::ApiKey { key_id } => Some(key_id),
            Actor::User { .. } => None,
        }
    }

    /// Whether the caller has `permission`. What concerns a user itself ([`Permission::Own`])
    /// is for users only: a key has no password, sessions or profile.
    pub fn may(&self, permission: Permission) -> bool {
        match (permission, self.actor) {
            (Permission::Own, Actor::ApiKey { .. }) => false,
            _ => self.role.may(permission),
        }
    }
}

/// A successful login.
pub struct LoginOutcome {
    /// The bearer token; shown once, only its hash is stored.
    pub token: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// The user who logged in.
    pub user: user::Model,
    /// The user as a caller, with the new session.
    pub principal: Principal,
}

/// Checks email and password and opens a session. A wrong password and an unknown email give
/// the same error, in about the same time.
pub async fn login(state: &AppState, email: &str, password: &str) -> AppResult<LoginOutcome> {
    let email = email.trim().to_lowercase();
    let found = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&state.db)
        .await?;
    let stored = found.as_ref().map(|u| u.password_hash.clone());
    let ok = state.passwords.verify(password, stored.as_deref()).await?;
    let user = match (ok, found) {
        (true, Some(u)) => u,
        _ => {
            tracing::info!("failed login");
            return Err(UserError::new(
                "",
                UserErrorCode::InvalidCredentials,
                "The email or password is not correct.",
            )
            .into());
        }
    };
    let token = generate_token();
    let now = Utc::now();
    let ttl = chrono::Duration::from_std(state.settings.session_ttl)
        .map_err(|e| anyhow::anyhow!("session TTL out of range: {e}"))?;
    let expires_at = now + ttl;
    let session = session::ActiveModel {
        user_id: Set(user.id),
        account_id: Set(user.account_id),
        token_hash: Set(hash_token(&token)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    user::Entity::update_many()
        .col_expr(user::Column::LastLoginAt, Expr::value(now))
        .filter(user::Column::Id.eq(user.id))
        .exec(&state.db)
        .await?;
    tracing::info!(user_id = user.id, session_id = session.id, "login");
    let principal = Principal {
        account_id: user.account_id,
        role: user.role,
        actor: Actor::User {
            user_id: user.id,
            session_id: session.id,
        },
    };
    Ok(LoginOutcome {
        token,
        expires_at,
        user: user::Model {
            last_login_at: Some(now),
            ..user
        },
        principal,
    })
}

/// Revokes the caller's token, or every token of the caller when `everywhere`. Returns how
/// many sessions were revoked.
pub async fn logout(state: &AppState, principal: &Principal, everywhere: bool) -> AppResult<u64> {
    let scope = match principal.actor {
        Actor::User { .. } if everywhere => Revoke::All,
        Actor::User { session_id, .. } => Revoke::Only(session_id),
        Actor::ApiKey { .. } => return Ok(0),
    };
    let Actor::User { user_id, .. } = principal.actor else {
        return Ok(0);
    };
    Ok(revoke(&state.db, user_id, scope).await?)
}

/// Which of a user's sessions [`revoke`] ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revoke {
    /// Every one.
    All,
    /// This one only.
    Only(i64),
    /// Every one but this (the caller's, after a password change).
    AllBut(i64),
}

/// Revokes the user's live sessions in `scope`, inside the caller's transaction when `conn`
/// is one. Returns how many were revoked.
pub async fn revoke(
    conn: &impl ConnectionTrait,
    user_id: i64,
    scope: Revoke,
) -> Result<u64, DbErr> {
    let update = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    let update = match scope {
        Revoke::All => update,
        Revoke::Only(id) => update.filter(session::Column::Id.eq(id)),
        Revoke::AllBut(id) => update.filter(session::Column::Id.ne(id)),
    };
    Ok(update.exec(conn).await?.rows_affected)
}

/// Resolves a bearer token (a login token or an API key) to its principal; `None` for
/// unknown, revoked or expired tokens and for revoked keys.
pub async fn authenticate(state: &AppState, token: &str) -> AppResult<Option<Principal>> {
    if !token.starts_with(crate::crypto::TOKEN_PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    if token.starts_with(crate::crypto::API_KEY_PREFIX) {
        return Ok(super::api_keys::authenticate(&state.db, token).await?);
    }
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(hash_token(token)))
        .find_also_related(user::Entity)
        .one(&state.db)
        .await
        .map_err(AppError::from)?;
    Ok(match found {
        Some((s, Some(u))) if s.revoked_at.is_none() && s.expires_at > Utc::now() => {
            Some(Principal {
                account_id: s.account_id,
                role: u.role,
                actor: Actor::User {
                    user_id: s.user_id,
                    session_id: s.id,
                },
            })
        }
        _ => None,
    })
}
