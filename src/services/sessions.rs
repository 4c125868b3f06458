//! Login, logout and bearer-token authentication.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::crypto::{generate_token, hash_token};
use crate::entities::{session, user};
use crate::error::{AppError, AppResult, UserError, UserErrorCode};
use crate::state::AppState;

/// Who is calling: resolved from a valid bearer token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: i64,
    /// The user's account; every query is scoped to it.
    pub account_id: i64,
    /// The session the token belongs to.
    pub session_id: i64,
}

/// A successful login.
pub struct LoginOutcome {
    /// The bearer token; shown once, only its hash is stored.
    pub token: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// The user who logged in.
    pub user: user::Model,
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
    tracing::info!(user_id = user.id, session_id = session.id, "login");
    Ok(LoginOutcome {
        token,
        expires_at,
        user,
    })
}

/// Revokes the caller's token, or every token of the caller when `everywhere`. Returns how
/// many sessions were revoked.
pub async fn logout(state: &AppState, principal: &Principal, everywhere: bool) -> AppResult<u64> {
    let scope = if everywhere {
        Revoke::All
    } else {
        Revoke::Only(principal.session_id)
    };
    Ok(revoke(&state.db, principal.user_id, scope).await?)
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

/// Resolves a bearer token to its principal; `None` for unknown, revoked or expired tokens.
pub async fn authenticate(state: &AppState, token: &str) -> AppResult<Option<Principal>> {
    if !token.starts_with(crate::crypto::TOKEN_PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(hash_token(token)))
        .one(&state.db)
        .await
        .map_err(AppError::from)?;
    Ok(found.and_then(|s| {
        (s.revoked_at.is_none() && s.expires_at > Utc::now()).then_some(Principal {
            user_id: s.user_id,
            account_id: s.account_id,
            session_id: s.id,
        })
    }))
}
