//! Sign-in throttling, counted in the database so that every replica sees the same figures:
//! per email, 5 failed logins within 15 minutes stop further logins for that email (without
//! checking the password) until the oldest of those failures is 15 minutes old; per client
//! address, `ORDERDECK_SIGN_IN_ATTEMPTS_PER_MINUTE` logins and registrations a minute, beyond
//! which the HTTP layer answers 429.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::domain::SignInOutcome;
use crate::entities::sign_in_attempt as attempt;

/// Failed logins for one email that stop further ones.
pub const EMAIL_FAILURES: u64 = 5;
/// The window those failures are counted in.
pub const EMAIL_WINDOW: Duration = Duration::minutes(15);
/// The window of the per-address limit.
pub const ADDRESS_WINDOW: Duration = Duration::minutes(1);
/// How long attempts are kept (longer than either window).
pub const KEPT: Duration = Duration::days(1);

/// Records one attempt.
pub async fn note(
    conn: &impl ConnectionTrait,
    email: &str,
    address: &str,
    outcome: SignInOutcome,
) -> Result<(), DbErr> {
    attempt::ActiveModel {
        email: Set(email.chars().take(320).collect()),
        address: Set(address.chars().take(64).collect()),
        outcome: Set(outcome),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Whole seconds until `until`, at least 1.
fn seconds_until(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((until - now).num_seconds())
        .unwrap_or(0)
        .max(1)
}

/// The seconds to wait before `email` may try a password again; `None` when it may now.
pub async fn email_wait(
    conn: &impl ConnectionTrait,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Option<u64>, DbErr> {
    let failures = attempt::Entity::find()
        .filter(attempt::Column::Email.eq(email))
        .filter(attempt::Column::Outcome.eq(SignInOutcome::Failed))
        .filter(attempt::Column::CreatedAt.gt(now - EMAIL_WINDOW))
        .order_by_desc(attempt::Column::CreatedAt)
        .limit(EMAIL_FAILURES)
        .all(conn)
        .await?;
    if (failures.len() as u64) < EMAIL_FAILURES {
        return Ok(None);
    }
    let oldest = failures.iter().map(|f| f.created_at).min().unwrap_or(now);
    Ok(Some(seconds_until(oldest + EMAIL_WINDOW, now)))
}

/// The seconds to wait before `address` may attempt `count` more sign-ins, under a limit of
/// `per_minute` (0: none); `None` when it may now.
pub async fn address_wait(
    conn: &impl ConnectionTrait,
    address: &str,
    count: u64,
    per_minute: u32,
    now: DateTime<Utc>,
) -> Result<Option<u64>, DbErr> {
    if per_minute == 0 || count == 0 {
        return Ok(None);
    }
    let recent = attempt::Entity::find()
        .filter(attempt::Column::Address.eq(address))
        .filter(attempt::Column::CreatedAt.gt(now - ADDRESS_WINDOW))
        .count(conn)
        .await?;
    if recent + count <= u64::from(per_minute) {
        return Ok(None);
    }
    let oldest = attempt::Entity::find()
        .filter(attempt::Column::Address.eq(address))
        .filter(attempt::Column::CreatedAt.gt(now - ADDRESS_WINDOW))
        .order_by_asc(attempt::Column::CreatedAt)
        .one(conn)
        .await?
        .map_or(now, |a| a.created_at);
    Ok(Some(seconds_until(oldest + ADDRESS_WINDOW, now)))
}

/// Deletes attempts older than [`KEPT`]; how many.
pub async fn purge(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(attempt::Entity::delete_many()
        .filter(attempt::Column::CreatedAt.lt(now - KEPT))
        .exec(conn)
        .await?
        .rows_affected)
}
