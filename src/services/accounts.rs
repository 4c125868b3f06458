//! Registering accounts and reading the caller's user and account.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

use super::{blocking, is_unique_violation, Principal};
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
    let length = input.password.chars().count();
    if length < rules::MIN_PASSWORD {
        errors.push(UserError::new(
            "password",
            Code::PasswordTooShort,
            format!(
                "The password must be at least {} characters.",
                rules::MIN_PASSWORD
            ),
        ));
    } else if length > rules::MAX_PASSWORD {
        errors.push(UserError::new(
            "password",
            Code::PasswordTooLong,
            format!(
                "The password must be at most {} characters.",
                rules::MAX_PASSWORD
            ),
        ));
    }
    ensure_valid(errors)?;

    let email_taken = || {
        AppError::from(UserError::new(
            "email",
            Code::EmailTaken,
            "An account already uses this email address; log in instead.",
        ))
    };
    if user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&state.db)
        .await?
        .is_some()
    {
        return Err(email_taken());
    }
    let password = input.password;
    let hash = blocking(move || crate::crypto::hash_password(&password)).await??;

    let now = Utc::now();
    let txn = state.db.begin().await?;
    let account = account::ActiveModel {
        name: Set(account_name),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let inserted = user::ActiveModel {
        account_id: Set(account.id),
        email: Set(email),
        password_hash: Set(hash),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let user = match inserted {
        Ok(u) => u,
        // A concurrent registration with the same email won the race.
        Err(e) if is_unique_violation(&e) => return Err(email_taken()),
        Err(e) => return Err(e.into()),
    };
    txn.commit().await?;
    tracing::info!(
        account_id = account.id,
        user_id = user.id,
        "account registered"
    );
    Ok((user, account))
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
