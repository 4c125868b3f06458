//! The people of an account: its users and their roles, and invitations to join it.
//!
//! Only owners touch owners (`Role::may_manage`), and an account always keeps at least one
//! owner: the changes that could remove the last one lock the account row first, so two
//! owners demoting each other at once cannot both succeed.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::sessions::Principal;
use crate::crypto::{generate_invitation_code, hash_token, INVITATION_PREFIX};
use crate::db::{self, ScopedFutureExt};
use crate::domain::{rules, Role};
use crate::entities::{account, invitation, session, user};
use crate::error::{AppError, AppResult, UserError, UserErrorCode as Code};
use crate::state::AppState;

/// How long an invitation code works.
pub const INVITATION_TTL: Duration = Duration::days(7);

/// The account's users, oldest first.
pub async fn users(state: &AppState, p: &Principal) -> AppResult<Vec<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::AccountId.eq(p.account_id))
        .order_by_asc(user::Column::Id)
        .all(&state.db)
        .await?)
}

/// Gives one of the account's users another role. Nothing changes on `NOT_FOUND`,
/// `FORBIDDEN` (an admin touching an owner or making one) or `LAST_OWNER`.
pub async fn update_role(
    state: &AppState,
    p: &Principal,
    user_id: i64,
    role: Role,
) -> AppResult<user::Model> {
    let p = *p;
    db::write(&state.db, |txn| {
        async move {
            let target = managed_user(txn, &p, user_id, "userId").await?;
            if !p.role.may_manage(role) {
                return Err(only_owners("role").into());
            }
            if target.role == role {
                return Ok(target);
            }
            user::Entity::update_many()
                .col_expr(user::Column::Role, Expr::value(role))
                .filter(user::Column::Id.eq(target.id))
                .exec(txn)
                .await?;
            keeps_an_owner(txn, p.account_id).await?;
            tracing::info!(user_id, ?role, account_id = p.account_id, "role changed");
            Ok(user::Model { role, ..target })
        }
        .scope_boxed()
    })
    .await
}

/// Removes one of the account's users and every session of it at once. What the user did
/// (stock movements, shipments) keeps its id. Nothing changes on `NOT_FOUND`, `FORBIDDEN` or
/// `LAST_OWNER`.
pub async fn remove_user(state: &AppState, p: &Principal, user_id: i64) -> AppResult<user::Model> {
    let p = *p;
    db::write(&state.db, |txn| {
        async move {
            let target = managed_user(txn, &p, user_id, "userId").await?;
            session::Entity::delete_many()
                .filter(session::Column::UserId.eq(target.id))
                .exec(txn)
                .await?;
            user::Entity::delete_by_id(target.id).exec(txn).await?;
            keeps_an_owner(txn, p.account_id).await?;
            tracing::info!(user_id, account_id = p.account_id, "user removed");
            Ok(target)
        }
        .scope_boxed()
    })
    .await
}

/// The account's user `user_id` once the account row is locked, when the caller may manage
/// it: `NOT_FOUND` for another account's or a missing user, `FORBIDDEN` for an admin
/// touching an owner.
async fn managed_user(
    txn: &DatabaseTransaction,
    p: &Principal,
    user_id: i64,
    field: &str,
) -> AppResult<user::Model> {
    account::Entity::find_by_id(p.account_id)
        .lock_exclusive()
        .one(txn)
        .await?;
    let target = user::Entity::find_by_id(user_id)
        .filter(user::Column::AccountId.eq(p.account_id))
        .one(txn)
        .await?
        .ok_or_else(|| UserError::new(field, Code::NotFound, "No such user in your account."))?;
    if !p.role.may_manage(target.role) {
        return Err(only_owners(field).into());
    }
    Ok(target)
}

fn only_owners(field: &str) -> UserError {
    UserError::new(
        field,
        Code::Forbidden,
        "Only an owner can make, change or remove an owner.",
    )
}

/// `LAST_OWNER` (and the transaction rolls back) when the account has no owner left.
async fn keeps_an_owner(txn: &DatabaseTransaction, account_id: i64) -> AppResult<()> {
    let owners = user::Entity::find()
        .filter(user::Column::AccountId.eq(account_id))
        .filter(user::Column::Role.eq(Role::Owner))
        .count(txn)
        .await?;
    if owners == 0 {
        return Err(UserError::new(
            "userId",
            Code::LastOwner,
            "An account keeps at least one owner: make someone else an owner first.",
        )
        .into());
    }
    Ok(())
}

/// What `inviteUser` needs.
pub struct NewInvitation {
    /// Who may accept it.
    pub email: String,
    /// The role the new user gets.
    pub role: Role,
}

/// A new invitation: its row and its code, shown this once.
pub struct CreatedInvitation {
    /// The stored invitation.
    pub invitation: invitation::Model,
    /// The code the invited person gives to `register`.
    pub code: String,
}

/// Invites `email` to join the caller's account with `role`. Nothing is stored on
/// `INVALID_EMAIL`, `EMAIL_TAKEN` (someone already uses that email) or `FORBIDDEN` (an admin
/// inviting an owner).
pub async fn invite(
    state: &AppState,
    p: &Principal,
    input: NewInvitation,
) -> AppResult<CreatedInvitation> {
    let email = rules::email(&input.email)
        .map_err(|m| AppError::from(UserError::new("email", Code::InvalidEmail, m)))?;
    if !p.role.may_manage(input.role) {
        return Err(only_owners("role").into());
    }
    if user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&state.db)
        .await?
        .is_some()
    {
        return Err(UserError::new(
            "email",
            Code::EmailTaken,
            "Someone already uses this email address in orderdeck.",
        )
        .into());
    }
    let code = generate_invitation_code();
    let now = Utc::now();
    let invitation = invitation::ActiveModel {
        account_id: Set(p.account_id),
        email: Set(email),
        role: Set(input.role),
        code_hash: Set(hash_token(&code)),
        invited_by_user_id: Set(p.user_id()),
        created_at: Set(now),
        expires_at: Set(now + INVITATION_TTL),
        accepted_at: Set(None),
        accepted_user_id: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    tracing::info!(
        invitation_id = invitation.id,
        account_id = p.account_id,
        "user invited"
    );
    Ok(CreatedInvitation { invitation, code })
}

/// The account's invitations that can still be accepted, newest first.
pub async fn open_invitations(
    state: &AppState,
    p: &Principal,
) -> AppResult<Vec<invitation::Model>> {
    Ok(invitation::Entity::find()
        .filter(invitation::Column::AccountId.eq(p.account_id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .order_by_desc(invitation::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|i| i.expires_at > Utc::now())
        .collect())
}

/// Revokes one of the account's open invitations: its code stops working at once.
/// `NOT_FOUND` for another account's, an accepted or an already revoked one.
pub async fn revoke_invitation(
    state: &AppState,
    p: &Principal,
    invitation_id: i64,
) -> AppResult<invitation::Model> {
    let found = invitation::Entity::find_by_id(invitation_id)
        .filter(invitation::Column::AccountId.eq(p.account_id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .one(&state.db)
        .await?
        .ok_or_else(|| UserError::new("id", Code::NotFound, "No such open invitation."))?;
    if !p.role.may_manage(found.role) {
        return Err(only_owners("id").into());
    }
    let now = Utc::now();
    let revoked = invitation::Entity::update_many()
        .col_expr(invitation::Column::RevokedAt, Expr::value(now))
        .filter(invitation::Column::Id.eq(found.id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .exec(&state.db)
        .await?
        .rows_affected;
    if revoked == 0 {
        return Err(UserError::new("id", Code::NotFound, "No such open invitation.").into());
    }
    Ok(invitation::Model {
        revoked_at: Some(now),
        ..found
    })
}

/// The open invitation of `code` for `email`, locked for the registering transaction:
/// `INVALID_INVITATION` when the code is unknown, used, revoked, expired or for another email.
pub async fn invitation_to_accept(
    txn: &DatabaseTransaction,
    code: &str,
    email: &str,
    now: DateTime<Utc>,
) -> AppResult<invitation::Model> {
    let invalid = || {
        AppError::from(UserError::new(
            "invitationCode",
            Code::InvalidInvitation,
            "This invitation code is not valid: it may have expired, been used or revoked, or \
             be for another email address. Ask for a new one.",
        ))
    };
    if !code.starts_with(INVITATION_PREFIX) || code.len() > 200 {
        return Err(invalid());
    }
    let found = invitation::Entity::find()
        .filter(invitation::Column::CodeHash.eq(hash_token(code)))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(invalid)?;
    let open = found.accepted_at.is_none() && found.revoked_at.is_none() && found.expires_at > now;
    if !open || found.email != email {
        return Err(invalid());
    }
    Ok(found)
}

/// Marks the invitation accepted by `user_id`.
pub async fn accepted(
    txn: &DatabaseTransaction,
    invitation_id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    invitation::Entity::update_many()
        .col_expr(invitation::Column::AcceptedAt, Expr::value(now))
        .col_expr(invitation::Column::AcceptedUserId, Expr::value(user_id))
        .filter(invitation::Column::Id.eq(invitation_id))
        .exec(txn)
        .await?;
    Ok(())
}
