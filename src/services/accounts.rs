//! Registering accounts, reading the caller's user and account, and changing or resetting
//! passwords.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set,
};

use super::sessions::{self, Actor, Revoke};
use super::{audit, blocking, team, Principal};
use crate::config::{Registration, Secret};
use crate::crypto::{generate_secret, hash_password};
use crate::db::{self, is_unique_violation, ScopedFutureExt};
use crate::domain::password::{self, Weakness};
use crate::domain::{rules, AuditAction, Role};
use crate::entities::{account, user};
use crate::error::{ensure_valid, AppError, AppResult, UserError, UserErrorCode as Code};
use crate::state::AppState;

/// What `register` needs.
pub struct RegisterInput {
    /// The company's name (unused with an invitation code: the user joins that account).
    pub account_name: String,
    /// The user's email.
    pub email: String,
    /// The user's password.
    pub password: String,
    /// An invitation code from `inviteUser`: the user joins the inviting account with the
    /// invited role instead of creating an account.
    pub invitation_code: Option<String>,
}

/// Creates an account and its first user (its owner), atomically; or, with an invitation
/// code, the invited user in the inviting account. `REGISTRATION_CLOSED` when
/// `ORDERDECK_REGISTRATION` does not let a new account be created.
pub async fn register(
    state: &AppState,
    input: RegisterInput,
) -> AppResult<(user::Model, account::Model)> {
    let code = input
        .invitation_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    let mut errors = Vec::new();
    let account_name = match &code {
        Some(_) => String::new(),
        None => account_name(&input.account_name, &mut errors),
    };
    let email = rules::email(&input.email).unwrap_or_else(|m| {
        errors.push(UserError::new("email", Code::InvalidEmail, m));
        String::new()
    });
    let personal = [input.email.as_str(), input.account_name.as_str()];
    errors.extend(password_error("password", &input.password, &personal).await?);
    ensure_valid(errors)?;
    if code.is_none() {
        registration_open(state).await?;
    }

    if user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&state.db)
        .await?
        .is_some()
    {
        return Err(email_taken());
    }
    let hash = state.passwords.hash(&input.password).await?;

    let (account, user) = db::write(&state.db, |txn| {
        let (account_name, email, hash, code) = (
            account_name.clone(),
            email.clone(),
            hash.clone(),
            code.clone(),
        );
        async move {
            match code {
                None => create_in(txn, account_name, email, hash).await,
                Some(code) => join_in(txn, &code, email, hash).await,
            }
        }
        .scope_boxed()
    })
    .await?;
    tracing::info!(
        account_id = account.id,
        user_id = user.id,
        role = ?user.role,
        "user registered"
    );
    Ok((user, account))
}

/// The account name, or a user error for it in `errors`.
fn account_name(given: &str, errors: &mut Vec<UserError>) -> String {
    match rules::non_blank(given) {
        None => {
            errors.push(UserError::new(
                "accountName",
                Code::Required,
                "Enter the name of your company.",
            ));
            String::new()
        }
        Some(n) if n.chars().count() > rules::MAX_TEXT => {
            errors.push(UserError::new(
                "accountName",
                Code::TooLong,
                format!(
                    "The account name must be at most {} characters.",
                    rules::MAX_TEXT
                ),
            ));
            n
        }
        Some(n) => n,
    }
}

/// `REGISTRATION_CLOSED` unless a new account may be created without an invitation: always
/// with `open`, only on an instance without accounts with `invite`, never with `closed`.
async fn registration_open(state: &AppState) -> AppResult<()> {
    let open = match state.settings.registration {
        Registration::Open => true,
        Registration::Invite => account::Entity::find().one(&state.db).await?.is_none(),
        Registration::Closed => false,
    };
    if open {
        return Ok(());
    }
    Err(UserError::new(
        "invitationCode",
        Code::RegistrationClosed,
        "New accounts cannot be created on this server; ask an owner or admin of an account \
         for an invitation code.",
    )
    .into())
}

fn email_taken() -> AppError {
    AppError::from(UserError::new(
        "email",
        Code::EmailTaken,
        "An account already uses this email address; log in instead.",
    ))
}

/// Inserts a new account with its first user, its owner; `EMAIL_TAKEN` when a concurrent
/// registration with the same email won the race.
async fn create_in(
    txn: &DatabaseTransaction,
    account_name: String,
    email: String,
    hash: String,
) -> AppResult<(account::Model, user::Model)> {
    let now = Utc::now();
    let account = account::ActiveModel {
        name: Set(account_name),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let user = insert_user(txn, account.id, email, hash, Role::Owner).await?;
    let event = audit::Event {
        action: AuditAction::Register,
        target_id: Some(format!("gid://orderdeck/Account/{}", account.id)),
        summary: format!("account {:?} registered by {}", account.name, user.email),
    };
    audit::record(txn, account.id, audit::By::User(user.id), event).await?;
    Ok((account, user))
}

/// Inserts the invited user into the inviting account with the invited role, and uses the
/// invitation up: `INVALID_INVITATION` when the code does not work for this email.
async fn join_in(
    txn: &DatabaseTransaction,
    code: &str,
    email: String,
    hash: String,
) -> AppResult<(account::Model, user::Model)> {
    let now = Utc::now();
    let invitation = team::invitation_to_accept(txn, code, &email, now).await?;
    let account = account::Entity::find_by_id(invitation.account_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::internal("an invitation's account is gone"))?;
    let user = insert_user(txn, account.id, email, hash, invitation.role).await?;
    team::accepted(txn, invitation.id, user.id, now).await?;
    let event = audit::Event {
        action: AuditAction::JoinAccount,
        target_id: Some(format!("gid://orderdeck/User/{}", user.id)),
        summary: format!("{} joined as {}", user.email, user.role.as_str()),
    };
    audit::record(txn, account.id, audit::By::User(user.id), event).await?;
    Ok((account, user))
}

async fn insert_user(
    txn: &DatabaseTransaction,
    account_id: i64,
    email: String,
    hash: String,
    role: Role,
) -> AppResult<user::Model> {
    let inserted = user::ActiveModel {
        account_id: Set(account_id),
        email: Set(email),
        password_hash: Set(hash),
        created_at: Set(Utc::now()),
        role: Set(role),
        last_login_at: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await;
    match inserted {
        Ok(user) => Ok(user),
        Err(e) if is_unique_violation(&e) => Err(email_taken()),
        Err(e) => Err(e.into()),
    }
}

/// The caller's user and account.
pub async fn me(
    state: &AppState,
    principal: &Principal,
) -> AppResult<(user::Model, account::Model)> {
    let user_id = principal.user_id().ok_or(AppError::Unauthenticated)?;
    let user = user::Entity::find_by_id(user_id)
        .filter(user::Column::AccountId.eq(principal.account_id))
        .one(&state.db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let account = account::Entity::find_by_id(principal.account_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    Ok((user, account))
}

/// The user error for `password` on `field` when it breaks the password rules; `personal`
/// are the user's email and company name. The estimator takes milliseconds on long input, so
/// it runs off the executor.
async fn password_error(
    field: &str,
    password: &str,
    personal: &[&str],
) -> AppResult<Option<UserError>> {
    let password = password.to_string();
    let personal: Vec<String> = personal.iter().map(|v| v.to_string()).collect();
    let checked = blocking(move || {
        let personal: Vec<&str> = personal.iter().map(String::as_str).collect();
        password::check(&password, &personal)
    })
    .await?;
    Ok(checked.err().map(|weakness| {
        let code = match weakness {
            Weakness::TooShort => Code::PasswordTooShort,
            Weakness::TooLong => Code::PasswordTooLong,
            Weakness::TooCommon(_) => Code::PasswordTooCommon,
        };
        UserError::new(field, code, weakness.message())
    }))
}

/// What `changePassword` needs.
pub struct ChangePasswordInput {
    /// The password the caller logs in with now.
    pub current_password: String,
    /// The password replacing it.
    pub new_password: String,
}

/// Replaces the caller's password once the current one is confirmed, and revokes every other
/// session of the caller: whoever else held a token must log in again. The session making
/// the change stays valid. Returns how many sessions were revoked.
pub async fn change_password(
    state: &AppState,
    principal: &Principal,
    input: ChangePasswordInput,
) -> AppResult<u64> {
    let (user, account) = me(state, principal).await?;
    let mut errors = Vec::new();
    if !state
        .passwords
        .verify(&input.current_password, Some(&user.password_hash))
        .await?
    {
        tracing::info!(user_id = user.id, "failed password change");
        errors.push(wrong_current_password());
    }
    errors.extend(
        password_error(
            "newPassword",
            &input.new_password,
            &[&user.email, &account.name],
        )
        .await?,
    );
    ensure_valid(errors)?;
    let hash = state.passwords.hash(&input.new_password).await?;
    // Another change of the same password won the race: ours was checked against a hash that
    // is gone, so it must not overwrite the winner.
    let keep = match principal.actor {
        Actor::User { session_id, .. } => Revoke::AllBut(session_id),
        Actor::ApiKey { .. } => Revoke::All,
    };
    let revoked = replace_password(&state.db, &user, &hash, keep)
        .await?
        .ok_or_else(wrong_current_password)?;
    tracing::info!(user_id = user.id, revoked, "password changed");
    Ok(revoked)
}

fn wrong_current_password() -> UserError {
    UserError::new(
        "currentPassword",
        Code::InvalidCredentials,
        "The current password is not correct.",
    )
}

/// A password set by an operator (`orderdeck reset-password`).
#[derive(Debug)]
pub struct PasswordReset {
    /// The new password, random; shown to the operator once, never stored or logged.
    pub password: Secret<String>,
    /// How many of the user's sessions were revoked (all of them).
    pub revoked_sessions: u64,
}

/// Gives the user with `email` a new random password (256 bits, 43 characters) and revokes
/// all of the user's sessions. `None` when no user has that email.
pub async fn reset_password(
    db: &DatabaseConnection,
    email: &str,
) -> AppResult<Option<PasswordReset>> {
    let email = email.trim().to_lowercase();
    let Some(user) = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let password = generate_secret();
    let to_hash = password.clone();
    let hash = blocking(move || hash_password(&to_hash)).await??;
    let revoked = replace_password(db, &user, &hash, Revoke::All)
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!("the password changed while it was being reset; run the command again")
        })?;
    tracing::info!(user_id = user.id, revoked, "password reset by an operator");
    Ok(Some(PasswordReset {
        password: Secret::new(password),
        revoked_sessions: revoked,
    }))
}

/// Replaces `user`'s password hash with `hash` and revokes the user's sessions in `scope`, in
/// one transaction. `None`, with nothing written, when the stored hash is no longer the one
/// `user` was read with.
async fn replace_password(
    db: &DatabaseConnection,
    user: &user::Model,
    hash: &str,
    scope: Revoke,
) -> AppResult<Option<u64>> {
    db::write(db, |txn| {
        async move {
            let updated = user::Entity::update_many()
                .col_expr(user::Column::PasswordHash, Expr::value(hash))
                .filter(user::Column::Id.eq(user.id))
                .filter(user::Column::PasswordHash.eq(&user.password_hash))
                .exec(txn)
                .await?;
            if updated.rows_affected == 0 {
                return Ok(None);
            }
            Ok(Some(sessions::revoke(txn, user.id, scope).await?))
        }
        .scope_boxed()
    })
    .await
}
