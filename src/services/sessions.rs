//! Login, logout and bearer-token authentication.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, Set,
};

use super::{audit, throttle};
use crate::crypto::{generate_token, hash_token};
use crate::domain::{AuditAction, Permission, Role, SignInOutcome};
use crate::entities::{invitation, session, user};
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

/// Where a request comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Client {
    /// The client's address (the peer, or the trusted proxy header's last entry).
    pub address: String,
    /// Its `User-Agent`, cut to [`USER_AGENT_MAX`] characters.
    pub user_agent: Option<String>,
}

/// How stale a session's `last_used_at` may get: a token used all the time writes it once a
/// minute, not on every request.
const LAST_USED_EVERY: chrono::Duration = chrono::Duration::minutes(1);

/// Longest user agent kept.
pub const USER_AGENT_MAX: usize = 200;

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
/// the same error, in about the same time. After [`throttle::EMAIL_FAILURES`] failures for an
/// email within [`throttle::EMAIL_WINDOW`], the password is not checked at all:
/// `TOO_MANY_ATTEMPTS` with the seconds to wait.
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    client: &Client,
) -> AppResult<LoginOutcome> {
    let email = email.trim().to_lowercase();
    let now = Utc::now();
    let found = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&state.db)
        .await?;
    if let Some(wait) = throttle::email_wait(&state.db, &email, now).await? {
        throttle::note(&state.db, &email, &client.address, SignInOutcome::Throttled).await?;
        failed_login(
            state,
            found.as_ref(),
            "refused unchecked: too many wrong passwords",
        );
        return Err(UserError::new(
            "",
            UserErrorCode::TooManyAttempts,
            format!("Too many wrong passwords for this email: try again in {wait} seconds."),
        )
        .into());
    }
    let stored = found.as_ref().map(|u| u.password_hash.clone());
    let ok = state.passwords.verify(password, stored.as_deref()).await?;
    let user = match (ok, found) {
        (true, Some(u)) => u,
        (_, found) => {
            tracing::info!("failed login");
            throttle::note(&state.db, &email, &client.address, SignInOutcome::Failed).await?;
            failed_login(state, found.as_ref(), "wrong password");
            return Err(UserError::new(
                "",
                UserErrorCode::InvalidCredentials,
                "The email or password is not correct.",
            )
            .into());
        }
    };
    throttle::note(&state.db, &email, &client.address, SignInOutcome::Succeeded).await?;
    let token = generate_token();
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
        user_agent: Set(client.user_agent.clone()),
        last_used_at: Set(Some(now)),
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

/// Records a failed login to `user`'s account in its audit trail, off the answer's path so
/// that a known and an unknown email take the same time.
fn failed_login(state: &AppState, user: Option<&user::Model>, why: &'static str) {
    let Some(user) = user else {
        return;
    };
    let (db, account_id) = (state.db.clone(), user.account_id);
    let event = audit::Event {
        action: AuditAction::LoginFailed,
        target_id: Some(format!("gid://orderdeck/User/{}", user.id)),
        summary: format!("login as {} {why}", user.email),
    };
    tokio::spawn(async move {
        if let Err(e) = audit::record(&db, account_id, audit::By::Nobody, event).await {
            tracing::error!(error = %e, "recording a failed login failed");
        }
    });
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
    let now = Utc::now();
    let Some((s, Some(u))) = found else {
        return Ok(None);
    };
    if s.revoked_at.is_some() || s.expires_at <= now {
        return Ok(None);
    }
    if s.last_used_at.is_none_or(|at| at < now - LAST_USED_EVERY) {
        session::Entity::update_many()
            .col_expr(session::Column::LastUsedAt, Expr::value(now))
            .filter(session::Column::Id.eq(s.id))
            .exec(&state.db)
            .await?;
    }
    Ok(Some(Principal {
        account_id: s.account_id,
        role: u.role,
        actor: Actor::User {
            user_id: s.user_id,
            session_id: s.id,
        },
    }))
}

/// The caller's live sessions, newest first: what `sessions` lists.
pub async fn own_sessions(state: &AppState, p: &Principal) -> AppResult<Vec<session::Model>> {
    let Actor::User { user_id, .. } = p.actor else {
        return Ok(Vec::new());
    };
    let now = Utc::now();
    Ok(session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .order_by_desc(session::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|s| s.expires_at > now)
        .collect())
}

/// Revokes one of the caller's own live sessions: `NOT_FOUND` for another user's, a revoked or
/// an expired one.
pub async fn revoke_own(
    state: &AppState,
    p: &Principal,
    session_id: i64,
) -> AppResult<session::Model> {
    let Actor::User { user_id, .. } = p.actor else {
        return Err(no_such_session());
    };
    let found = session::Entity::find_by_id(session_id)
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .one(&state.db)
        .await?
        .filter(|s| s.expires_at > Utc::now())
        .ok_or_else(no_such_session)?;
    let now = Utc::now();
    revoke(&state.db, user_id, Revoke::Only(found.id)).await?;
    Ok(session::Model {
        revoked_at: Some(now),
        ..found
    })
}

fn no_such_session() -> AppError {
    UserError::new("id", UserErrorCode::NotFound, "No such session of yours.").into()
}

/// What [`purge`] deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Expired or revoked sessions.
    pub sessions: u64,
    /// Accepted, revoked or expired invitations.
    pub invitations: u64,
    /// Sign-in attempts older than throttling looks.
    pub sign_in_attempts: u64,
}

/// Deletes what no longer works: expired and revoked sessions, used, revoked and expired
/// invitations, and old sign-in attempts. Every replica may run it; it is idempotent.
pub async fn purge(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Purged, DbErr> {
    use sea_orm::sea_query::Condition;
    let sessions = session::Entity::delete_many()
        .filter(
            Condition::any()
                .add(session::Column::ExpiresAt.lte(now))
                .add(session::Column::RevokedAt.is_not_null()),
        )
        .exec(db)
        .await?
        .rows_affected;
    let invitations = invitation::Entity::delete_many()
        .filter(
            Condition::any()
                .add(invitation::Column::ExpiresAt.lte(now))
                .add(invitation::Column::AcceptedAt.is_not_null())
                .add(invitation::Column::RevokedAt.is_not_null()),
        )
        .exec(db)
        .await?
        .rows_affected;
    let sign_in_attempts = throttle::purge(db, now).await?;
    Ok(Purged {
        sessions,
        invitations,
        sign_in_attempts,
    })
}

/// How often [`purge`] runs in a serving process.
pub const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Runs [`purge`] every [`PURGE_EVERY`], the first time a minute after start.
pub fn start_purging(db: DatabaseConnection) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        loop {
            match purge(&db, Utc::now()).await {
                Ok(p) => tracing::info!(?p, "purged expired sessions, invitations and attempts"),
                Err(e) => tracing::warn!(error = %e, "purging expired sessions failed"),
            }
            tokio::time::sleep(PURGE_EVERY).await;
        }
    })
}
