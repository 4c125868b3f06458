//! Accounts, users and sessions: `me`, `register`, `login`, `logout`, `changePassword`.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::audit;
use super::context::{acting, client, principal, state};
use super::ids;
use super::text;
use crate::domain::{AuditAction, Permission, Role, SignInOutcome};
use crate::entities::{account, user};
use crate::error::{into_payload, AppError, UserError, UserErrorCode};
use crate::services::{accounts, sessions, throttle};

/// A merchant's company; owns users and connected stores.
pub struct Account(pub account::Model);

/// A merchant's company; owns users and connected stores.
#[Object]
impl Account {
    /// Global id.
    async fn id(&self) -> ID {
        ids::encode("Account", self.0.id)
    }
    /// The company's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// When the account was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A person who logs in.
pub struct User {
    pub(super) model: user::Model,
    pub(super) account: account::Model,
}

/// A person who logs in.
#[Object]
impl User {
    /// Global id.
    async fn id(&self) -> ID {
        ids::encode("User", self.model.id)
    }
    /// Login email (lower case).
    async fn email(&self) -> &str {
        &self.model.email
    }
    /// When the user was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
    /// What the user may do in the account.
    async fn role(&self) -> Role {
        self.model.role
    }
    /// When the user last logged in; null when never.
    async fn last_login_at(&self) -> Option<DateTime<Utc>> {
        self.model.last_login_at
    }
    /// The account the user belongs to.
    async fn account(&self) -> Account {
        Account(self.account.clone())
    }
}

/// Input of `register`.
#[derive(InputObject)]
pub struct RegisterInput {
    /// Name of the company (the account). Ignored with an invitation code; send an empty
    /// string then.
    #[graphql(default)]
    pub account_name: String,
    /// The user's email; used to log in. With an invitation code, the invited email.
    pub email: String,
    /// Password: 12 to 128 characters, and not easy to guess (`PASSWORD_TOO_COMMON`: a
    /// common password, a keyboard row or sequence, one repeated character, or the email or
    /// company name). A few unrelated words make a good one.
    pub password: String,
    /// A code from `inviteUser`: the user joins the inviting account with the invited role
    /// instead of creating an account. Works whatever `ORDERDECK_REGISTRATION` says.
    pub invitation_code: Option<String>,
}

/// Result of `register`.
#[derive(SimpleObject)]
pub struct RegisterPayload {
    /// The new user, with its account; null when `userErrors` is not empty.
    pub user: Option<User>,
    /// What was wrong with the input; empty on success. `REGISTRATION_CLOSED` when this
    /// server creates no new accounts without an invitation; `INVALID_INVITATION` when the
    /// code is unknown, used, revoked, expired or for another email.
    pub user_errors: Vec<UserError>,
}

/// Input of `login`.
#[derive(InputObject)]
pub struct LoginInput {
    /// The user's email.
    pub email: String,
    /// The user's password.
    pub password: String,
}

/// Result of `login`.
#[derive(SimpleObject)]
pub struct LoginPayload {
    /// Bearer token for the `Authorization: Bearer <token>` header. Shown once: only its
    /// hash is stored.
    pub token: Option<String>,
    /// When the token stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// The user who logged in.
    pub user: Option<User>,
    /// `INVALID_CREDENTIALS` when the email or password is wrong (never says which);
    /// `TOO_MANY_ATTEMPTS` when the server has too many sign-ins to check at once (try again
    /// in a few seconds).
    pub user_errors: Vec<UserError>,
}

/// Input of `logout`.
#[derive(InputObject, Default)]
pub struct LogoutInput {
    /// Also revoke every other token of this user.
    #[graphql(default = false)]
    pub everywhere: bool,
}

/// Result of `logout`.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// How many tokens were revoked.
    pub revoked_sessions: u64,
    /// Always empty; present for uniformity.
    pub user_errors: Vec<UserError>,
}

/// Input of `changePassword`.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The password the user logs in with now.
    pub current_password: String,
    /// The new password; the same rules as `register`'s (12 to 128 characters, not easy to
    /// guess).
    pub new_password: String,
}

/// Result of `changePassword`.
#[derive(SimpleObject)]
pub struct ChangePasswordPayload {
    /// How many of the user's other sessions (tokens) were revoked; 0 when `userErrors` is
    /// not empty.
    pub revoked_sessions: u64,
    /// `INVALID_CREDENTIALS` on `currentPassword` when it is wrong; `PASSWORD_TOO_SHORT`,
    /// `PASSWORD_TOO_LONG` or `PASSWORD_TOO_COMMON` on `newPassword`; `TOO_MANY_ATTEMPTS` when
    /// the server has too many passwords to check at once. Nothing changes then.
    pub user_errors: Vec<UserError>,
}

/// One of the caller's logins.
pub struct Session {
    model: crate::entities::session::Model,
    current: bool,
}

/// A login of the caller: a token that works until it expires or is revoked.
#[Object]
impl Session {
    /// Global id.
    async fn id(&self) -> ID {
        ids::encode("Session", self.model.id)
    }
    /// The client's `User-Agent` when it logged in (its first 200 characters), to recognise
    /// the device; null when it sent none.
    async fn user_agent(&self) -> Option<&str> {
        self.model.user_agent.as_deref()
    }
    /// When it logged in.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
    /// When the token was last used, to the minute.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.model.last_used_at
    }
    /// When the token stops working.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.model.expires_at
    }
    /// Whether this is the session of the token that asked.
    async fn current(&self) -> bool {
        self.current
    }
}

/// Input of `revokeSession`.
#[derive(InputObject)]
pub struct RevokeSessionInput {
    /// One of the caller's sessions.
    pub id: ID,
}

/// Result of `revokeSession`.
#[derive(SimpleObject)]
pub struct RevokeSessionPayload {
    /// The revoked session.
    pub session: Option<Session>,
    /// `NOT_FOUND` for a session that is not the caller's, or no longer works; `FORBIDDEN` for
    /// an API key.
    pub user_errors: Vec<UserError>,
}

/// Account queries.
#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The logged-in user.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let p = principal(ctx, Permission::Own)?;
        let (model, account) = accounts::me(state(ctx)?, &p).await?;
        Ok(User { model, account })
    }

    /// The logged-in user's sessions that still work, newest first; revoke one with
    /// `revokeSession`.
    async fn sessions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Session>> {
        let p = principal(ctx, Permission::Own)?;
        let current = match p.actor {
            sessions::Actor::User { session_id, .. } => Some(session_id),
            sessions::Actor::ApiKey { .. } => None,
        };
        Ok(sessions::own_sessions(state(ctx)?, &p)
            .await?
            .into_iter()
            .map(|model| Session {
                current: Some(model.id) == current,
                model,
            })
            .collect())
    }
}

/// Account mutations.
#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates an account (company) and its first user, its owner; or, with an invitation
    /// code, the invited user in the inviting account with the invited role. Does not log in:
    /// call `login` next.
    async fn register(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account and user.")] input: RegisterInput,
    ) -> async_graphql::Result<RegisterPayload> {
        let checked = text::plain(&input);
        let st = state(ctx)?;
        let email = input.email.trim().to_lowercase();
        throttle::note(
            &st.db,
            &email,
            &client(ctx).address,
            SignInOutcome::Register,
        )
        .await
        .map_err(AppError::from)?;
        let result = text::then(
            checked,
            accounts::register(
                state(ctx)?,
                accounts::RegisterInput {
                    account_name: input.account_name,
                    email: input.email,
                    password: input.password,
                    invitation_code: input.invitation_code,
                },
            ),
        )
        .await;
        let (created, user_errors) = into_payload(result)?;
        Ok(RegisterPayload {
            user: created.map(|(model, account)| User { model, account }),
            user_errors,
        })
    }

    /// Exchanges email and password for a bearer token.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The credentials.")] input: LoginInput,
    ) -> async_graphql::Result<LoginPayload> {
        let st = state(ctx)?;
        let result = text::then(
            text::plain(&input),
            sessions::login(st, &input.email, &input.password, client(ctx)),
        )
        .await;
        let (outcome, user_errors) = into_payload(result)?;
        let Some(outcome) = outcome else {
            return Ok(LoginPayload {
                token: None,
                expires_at: None,
                user: None,
                user_errors,
            });
        };
        let (model, account) = accounts::me(st, &outcome.principal).await?;
        Ok(LoginPayload {
            token: Some(outcome.token),
            expires_at: Some(outcome.expires_at),
            user: Some(User { model, account }),
            user_errors,
        })
    }

    /// Revokes one of the logged-in user's sessions (a lost phone, an old browser): its token
    /// stops working at once, on every replica.
    async fn revoke_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] input: RevokeSessionInput,
    ) -> async_graphql::Result<RevokeSessionPayload> {
        let (p, allowed) = acting(ctx, Permission::Own)?;
        let st = state(ctx)?;
        let result = text::then(allowed, async {
            let id = ids::decode("Session", &input.id).ok_or_else(|| {
                AppError::from(UserError::new(
                    "id",
                    UserErrorCode::NotFound,
                    "No such session of yours.",
                ))
            })?;
            sessions::revoke_own(st, &p, id).await
        })
        .await;
        let (session, user_errors) = into_payload(result)?;
        if let Some(s) = &session {
            let target = ids::encode("Session", s.id).0;
            let summary = format!(
                "session revoked ({})",
                s.user_agent.as_deref().unwrap_or("no user agent")
            );
            audit::record(ctx, &p, AuditAction::RevokeSession, Some(target), summary).await;
        }
        Ok(RevokeSessionPayload {
            session: session.map(|model| Session {
                model,
                current: false,
            }),
            user_errors,
        })
    }

    /// Revokes the token used for this request (or all of the user's tokens).
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(default, desc = "Which tokens to revoke.")] input: LogoutInput,
    ) -> async_graphql::Result<LogoutPayload> {
        let (p, allowed) = acting(ctx, Permission::Own)?;
        let (revoked, user_errors) = into_payload(
            text::then(allowed, sessions::logout(state(ctx)?, &p, input.everywhere)).await,
        )?;
        Ok(LogoutPayload {
            revoked_sessions: revoked.unwrap_or(0),
            user_errors,
        })
    }

    /// Replaces the logged-in user's password, once the current one is confirmed, and revokes
    /// every other token of the user; the token used for this request stays valid.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The current and the new password.")] input: ChangePasswordInput,
    ) -> async_graphql::Result<ChangePasswordPayload> {
        let (p, allowed) = acting(ctx, Permission::Own)?;
        let checked = allowed.and(text::plain(&input));
        let result = text::then(
            checked,
            accounts::change_password(
                state(ctx)?,
                &p,
                accounts::ChangePasswordInput {
                    current_password: input.current_password,
                    new_password: input.new_password,
                },
            ),
        )
        .await;
        let (revoked, user_errors) = into_payload(result)?;
        if let (Some(revoked), Some(user_id)) = (revoked, p.user_id()) {
            let target = ids::encode("User", user_id).0;
            let summary = format!("password changed; {revoked} other session(s) ended");
            audit::record(ctx, &p, AuditAction::ChangePassword, Some(target), summary).await;
        }
        Ok(ChangePasswordPayload {
            revoked_sessions: revoked.unwrap_or(0),
            user_errors,
        })
    }
}
