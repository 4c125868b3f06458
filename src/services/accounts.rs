//! Registering accounts, reading the caller's user and account, and changing or resetting
//! passwords.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set,
};

use super::sessions::{self, Revoke};
use super::{blocking, Principal};
use crate::config::Secret;
use crate::crypto::{generate_secret, hash_password};
use crate::db::{self, is_unique_violation, ScopedFutureExt};
use crate::domain::password::{self, Weakness};
use crate::domain::rules;
use crate::entities::{account, user};
use crate::error::{ensure_valid, AppError, AppResult, UserError, UserErrorCode as Code};
use crate::state::AppState;

/// What `register` needs.
pub struct RegisterInput {
    /// The company's name.
    pub account_name: String,
    /// The first user's email.
    pub email: String,
    /// The first user's password.
    pub password: String,
}

/// Creates an account and its first user, atomically.
pub async fn register(
    state: &AppState,
    input: RegisterInput,
) -> AppResult<(user::Model, account::Model)> {
    let mut errors = Vec::new();
    let account_name = match rules::non_blank(&input.account_name) {
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
    };
    let email = rules::email(&input.email).unwrap_or_else(|m| {
        errors.push(UserError::new("email", Code::InvalidEmail, m));
        String::new()
    });
    let personal = [input.email.as_str(), input.account_name.as_str()];
    errors.extend(password_error("password", &input.password, &personal).await?);
    ensure_valid(errors)?;

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
        create_in(txn, account_name.clone(), email.clone(), hash.clone()).scope_boxed()
    })
    .await?;
    tracing::info!(
        account_id = account.id,
        user_id = user.id,
        "account registered"
    );
    Ok((user, account))
}

fn email_taken() -> AppError {
    AppError::from(UserError::new(
        "email",
        Code::EmailTaken,
        "An account already uses this email address; log in instead.",
    ))
}

/// Inserts a new account with its first user; `EMAIL_TAKEN` when a concurrent registration
/// with the same email won the race.
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
    let inserted = user::ActiveModel {
        account_id: Set(account.id),
        email: Set(email),
        password_hash: Set(hash),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await;
    match inserted {
        Ok(user) => Ok((account, user)),
        Err(e) if is_unique_violation(&e) => Err(email_taken()),
        Err(e) => Err(e.into()),
    }
}

/// The caller's user and account.
pub async fn me(
    state: &AppState,
    principal: &Principal,
) -> AppResult<(user::Model, account::Model)> {
    let user = user::Entity::find_by_id(principal.user_id)
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
    let revoked = replace_password(
        &state.db,
        &user,
        &hash,
        Revoke::AllBut(principal.session_id),
    )
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
