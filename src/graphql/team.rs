//! The people and systems of an account: `users`, `invitations`, `apiKeys`, and the mutations
//! that invite, change, remove and revoke them.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::accounts::User;
use super::audit;
use super::context::{acting, principal, state};
use super::ids;
use super::text;
use crate::domain::{AuditAction, Permission, Role};
use crate::entities::{account, api_key, invitation};
use crate::error::{into_payload, AppError, AppResult, UserError, UserErrorCode};
use crate::services::{api_keys, team};

/// An invitation to join the account.
pub struct Invitation(invitation::Model);

/// An invitation to join the account: the invited person registers with its code.
#[Object]
impl Invitation {
    /// Global id.
    async fn id(&self) -> ID {
        ids::encode("Invitation", self.0.id)
    }
    /// The email that may accept it (lower case).
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// The role the new user gets.
    async fn role(&self) -> Role {
        self.0.role
    }
    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When its code stops working (7 days after it was made).
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// When it was revoked; null while it is open.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    /// The user who invited, when a user (not an API key) did.
    async fn invited_by_user_id(&self) -> Option<ID> {
        self.0.invited_by_user_id.map(|id| ids::encode("User", id))
    }
}

/// An API key of the account.
pub struct ApiKey(api_key::Model);

/// A key the merchant's own systems send as `Authorization: Bearer <secret>`, acting with its
/// role until it is revoked. Its secret is shown once, by `createApiKey`.
#[Object]
impl ApiKey {
    /// Global id.
    async fn id(&self) -> ID {
        ids::encode("ApiKey", self.0.id)
    }
    /// What the key is for.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What it may do.
    async fn role(&self) -> Role {
        self.0.role
    }
    /// The secret's prefix and last four characters, to recognise it (`odk_live_…a1b2`).
    async fn hint(&self) -> &str {
        &self.0.hint
    }
    /// The user who created it.
    async fn created_by_user_id(&self) -> Option<ID> {
        self.0.created_by_user_id.map(|id| ids::encode("User", id))
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was last used, to the minute; null when never.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    /// When it was revoked; null while it works.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

/// Team queries (owners and admins).
#[derive(Default)]
pub struct TeamQuery;

#[Object]
impl TeamQuery {
    /// The account's users with their roles and last logins, oldest first.
    async fn users(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        let p = principal(ctx, Permission::ManageUsers)?;
        let st = state(ctx)?;
        let account = account_of(st, p.account_id).await?;
        Ok(team::users(st, &p)
            .await?
            .into_iter()
            .map(|model| User {
                model,
                account: account.clone(),
            })
            .collect())
    }

    /// The account's invitations that can still be accepted, newest first.
    async fn invitations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Invitation>> {
        let p = principal(ctx, Permission::ManageUsers)?;
        Ok(team::open_invitations(state(ctx)?, &p)
            .await?
            .into_iter()
            .map(Invitation)
            .collect())
    }

    /// The account's API keys, newest first, revoked ones included.
    async fn api_keys(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ApiKey>> {
        let p = principal(ctx, Permission::ManageApiKeys)?;
        Ok(api_keys::list(state(ctx)?, &p)
            .await?
            .into_iter()
            .map(ApiKey)
            .collect())
    }
}

async fn account_of(st: &crate::state::AppState, id: i64) -> AppResult<account::Model> {
    use sea_orm::EntityTrait;
    account::Entity::find_by_id(id)
        .one(&st.db)
        .await?
        .ok_or(AppError::Unauthenticated)
}

/// Input of `inviteUser`.
#[derive(InputObject)]
pub struct InviteUserInput {
    /// The email of the person invited; only this email can accept.
    pub email: String,
    /// The role the person gets. Only an owner invites an owner.
    pub role: Role,
}

/// Result of `inviteUser`.
#[derive(SimpleObject)]
pub struct InviteUserPayload {
    /// The invitation.
    pub invitation: Option<Invitation>,
    /// The code to give the invited person, for `register(input: { invitationCode })`. Shown
    /// once: only its hash is stored. Works for 7 days, once.
    pub code: Option<String>,
    /// `INVALID_EMAIL`; `EMAIL_TAKEN` when someone already uses the email; `FORBIDDEN` when
    /// the caller may not invite (or may not give that role).
    pub user_errors: Vec<UserError>,
}

/// Input of `revokeInvitation`.
#[derive(InputObject)]
pub struct RevokeInvitationInput {
    /// The invitation.
    pub id: ID,
}

/// Result of `revokeInvitation`.
#[derive(SimpleObject)]
pub struct RevokeInvitationPayload {
    /// The revoked invitation.
    pub invitation: Option<Invitation>,
    /// `NOT_FOUND` (another account's, accepted or already revoked); `FORBIDDEN`.
    pub user_errors: Vec<UserError>,
}

/// Input of `updateUserRole`.
#[derive(InputObject)]
pub struct UpdateUserRoleInput {
    /// The user.
    pub user_id: ID,
    /// The new role.
    pub role: Role,
}

/// Result of `updateUserRole` and `removeUser`.
#[derive(SimpleObject)]
pub struct UserPayload {
    /// The user as changed (or as it was, when removed).
    pub user: Option<User>,
    /// `NOT_FOUND`; `FORBIDDEN` (only an owner makes, changes or removes an owner);
    /// `LAST_OWNER` when the account would be left without an owner.
    pub user_errors: Vec<UserError>,
}

/// Input of `removeUser`.
#[derive(InputObject)]
pub struct RemoveUserInput {
    /// The user.
    pub user_id: ID,
}

/// Input of `createApiKey`.
#[derive(InputObject)]
pub struct CreateApiKeyInput {
    /// What the key is for (1–100 characters), e.g. "ERP export".
    pub name: String,
    /// What it may do. Only an owner creates an owner's key.
    pub role: Role,
}

/// Result of `createApiKey`.
#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    /// The key.
    pub api_key: Option<ApiKey>,
    /// The secret, for `Authorization: Bearer <secret>`. Shown once: only its hash is stored.
    pub secret: Option<String>,
    /// `REQUIRED`/`TOO_LONG` (name); `FORBIDDEN`.
    pub user_errors: Vec<UserError>,
}

/// Input of `revokeApiKey`.
#[derive(InputObject)]
pub struct RevokeApiKeyInput {
    /// The key.
    pub id: ID,
}

/// Result of `revokeApiKey`.
#[derive(SimpleObject)]
pub struct RevokeApiKeyPayload {
    /// The revoked key.
    pub api_key: Option<ApiKey>,
    /// `NOT_FOUND`; `FORBIDDEN`.
    pub user_errors: Vec<UserError>,
}

/// The id of `kind` in `id`, or `NOT_FOUND` on `field`.
fn decoded(kind: &str, id: &ID, field: &str, what: &str) -> AppResult<i64> {
    ids::decode(kind, id).ok_or_else(|| {
        UserError::new(field, UserErrorCode::NotFound, format!("No such {what}.")).into()
    })
}

/// Team mutations (owners and admins).
#[derive(Default)]
pub struct TeamMutation;

#[Object]
impl TeamMutation {
    /// Invites someone to join the account with a role; returns a one-time code (valid for 7
    /// days) for them to `register` with.
    async fn invite_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Who, and with which role.")] input: InviteUserInput,
    ) -> async_graphql::Result<InviteUserPayload> {
        let (p, allowed) = acting(ctx, Permission::ManageUsers)?;
        let checked = allowed.and(text::plain(&input));
        let new = team::NewInvitation {
            email: input.email,
            role: input.role,
        };
        let (created, user_errors) =
            into_payload(text::then(checked, team::invite(state(ctx)?, &p, new)).await)?;
        let (invitation, code) = match created {
            Some(c) => {
                let i = &c.invitation;
                let summary = format!("{} invited as {}", i.email, i.role.as_str());
                let target = ids::encode("Invitation", i.id).0;
                audit::record(ctx, &p, AuditAction::InviteUser, Some(target), summary).await;
                (Some(Invitation(c.invitation)), Some(c.code))
            }
            None => (None, None),
        };
        Ok(InviteUserPayload {
            invitation,
            code,
            user_errors,
        })
    }

    /// Revokes an open invitation: its code stops working at once.
    async fn revoke_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invitation.")] input: RevokeInvitationInput,
    ) -> async_graphql::Result<RevokeInvitationPayload> {
        let (p, allowed) = acting(ctx, Permission::ManageUsers)?;
        let st = state(ctx)?;
        let result = text::then(allowed, async {
            let id = decoded("Invitation", &input.id, "id", "open invitation")?;
            team::revoke_invitation(st, &p, id).await
        })
        .await;
        let (invitation, user_errors) = into_payload(result)?;
        if let Some(i) = &invitation {
            let summary = format!("invitation of {} revoked", i.email);
            let target = ids::encode("Invitation", i.id).0;
            audit::record(
                ctx,
                &p,
                AuditAction::RevokeInvitation,
                Some(target),
                summary,
            )
            .await;
        }
        Ok(RevokeInvitationPayload {
            invitation: invitation.map(Invitation),
            user_errors,
        })
    }

    /// Gives a user of the account another role. The change applies to the user's next
    /// request, on every replica.
    async fn update_user_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user and the role.")] input: UpdateUserRoleInput,
    ) -> async_graphql::Result<UserPayload> {
        let (p, allowed) = acting(ctx, Permission::ManageUsers)?;
        let st = state(ctx)?;
        let result = text::then(allowed, async {
            let id = decoded("User", &input.user_id, "userId", "user in your account")?;
            team::update_role(st, &p, id, input.role).await
        })
        .await;
        if let Ok(u) = &result {
            let summary = format!("{} is now {}", u.email, u.role.as_str());
            let target = ids::encode("User", u.id).0;
            audit::record(ctx, &p, AuditAction::UpdateUserRole, Some(target), summary).await;
        }
        user_payload(st, p.account_id, result).await
    }

    /// Removes a user from the account; every token of the user stops working at once.
    async fn remove_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user.")] input: RemoveUserInput,
    ) -> async_graphql::Result<UserPayload> {
        let (p, allowed) = acting(ctx, Permission::ManageUsers)?;
        let st = state(ctx)?;
        let result = text::then(allowed, async {
            let id = decoded("User", &input.user_id, "userId", "user in your account")?;
            team::remove_user(st, &p, id).await
        })
        .await;
        if let Ok(u) = &result {
            let summary = format!("{} ({}) removed", u.email, u.role.as_str());
            let target = ids::encode("User", u.id).0;
            audit::record(ctx, &p, AuditAction::RemoveUser, Some(target), summary).await;
        }
        user_payload(st, p.account_id, result).await
    }

    /// Creates an API key; its secret is in the answer, once.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key's name and role.")] input: CreateApiKeyInput,
    ) -> async_graphql::Result<CreateApiKeyPayload> {
        let (p, allowed) = acting(ctx, Permission::ManageApiKeys)?;
        let checked = allowed.and(text::plain(&input));
        let new = api_keys::NewApiKey {
            name: input.name,
            role: input.role,
        };
        let (created, user_errors) =
            into_payload(text::then(checked, api_keys::create(state(ctx)?, &p, new)).await)?;
        let (api_key, secret) = match created {
            Some(c) => {
                let summary = format!(
                    "key {:?} ({}) created as {}",
                    c.key.name,
                    c.key.hint,
                    c.key.role.as_str()
                );
                let target = ids::encode("ApiKey", c.key.id).0;
                audit::record(ctx, &p, AuditAction::CreateApiKey, Some(target), summary).await;
                (Some(ApiKey(c.key)), Some(c.secret))
            }
            None => (None, None),
        };
        Ok(CreateApiKeyPayload {
            api_key,
            secret,
            user_errors,
        })
    }

    /// Revokes an API key: from the next request on, on every replica, it is
    /// `UNAUTHENTICATED`.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key.")] input: RevokeApiKeyInput,
    ) -> async_graphql::Result<RevokeApiKeyPayload> {
        let (p, allowed) = acting(ctx, Permission::ManageApiKeys)?;
        let st = state(ctx)?;
        let result = text::then(allowed, async {
            let id = decoded("ApiKey", &input.id, "id", "API key")?;
            api_keys::revoke(st, &p, id).await
        })
        .await;
        let (revoked, user_errors) = into_payload(result)?;
        if let Some((k, true)) = &revoked {
            let summary = format!("key {:?} ({}) revoked", k.name, k.hint);
            let target = ids::encode("ApiKey", k.id).0;
            audit::record(ctx, &p, AuditAction::RevokeApiKey, Some(target), summary).await;
        }
        Ok(RevokeApiKeyPayload {
            api_key: revoked.map(|(k, _)| ApiKey(k)),
            user_errors,
        })
    }
}

async fn user_payload(
    st: &crate::state::AppState,
    account_id: i64,
    result: AppResult<crate::entities::user::Model>,
) -> async_graphql::Result<UserPayload> {
    let (model, user_errors) = into_payload(result)?;
    let user = match model {
        Some(model) => Some(User {
            model,
            account: account_of(st, account_id).await?,
        }),
        None => None,
    };
    Ok(UserPayload { user, user_errors })
}
