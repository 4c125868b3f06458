//! Sync jobs: one row per integration and kind, with the incremental cursor and the lease.
//!
//! A job is claimed with one conditional `UPDATE … WHERE id = ? AND <free or expired>` whose
//! affected-row count tells whether this process won it. That works the same on SQLite and
//! PostgreSQL (row locks would do nothing on SQLite), so two processes on one database never
//! run the same job at once, and a crashed process's job is taken over once its lease runs out.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::config::Settings;
use crate::domain::{IntegrationStatus, SyncKind};
use crate::entities::{integration, sync_job as job};
use crate::error::{AppResult, UserError, UserErrorCode};
use crate::services::leases::{self, Lease};
pub use crate::services::leases::{later, new_owner_id};
pub use crate::services::schedule::{ensure_jobs, ensure_jobs_due_now};

/// How many due jobs one claim attempt looks at before trying again.
const CLAIM_BATCH: u64 = 8;
/// Most claim rounds before [`claim_due`] gives up until the next tick.
const MAX_CLAIM_ROUNDS: usize = 16;

/// The job's cursor (e.g. the orders' modification watermark, RFC 3339).
pub async fn load_cursor<C: ConnectionTrait>(
    db: &C,
    integration_id: i64,
    kind: SyncKind,
) -> AppResult<Option<String>> {
    Ok(job::Entity::find()
        .filter(job::Column::IntegrationId.eq(integration_id))
        .filter(job::Column::Kind.eq(kind))
        .one(db)
        .await?
        .and_then(|j| j.cursor))
}

/// Saves the job's cursor (the job row must exist: see [`ensure_jobs`]).
pub async fn save_cursor<C: ConnectionTrait>(
    db: &C,
    integration_id: i64,
    kind: SyncKind,
    cursor: &str,
) -> AppResult<()> {
    job::Entity::update_many()
        .col_expr(job::Column::Cursor, sea_orm::sea_query::Expr::value(cursor))
        .col_expr(
            job::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(job::Column::IntegrationId.eq(integration_id))
        .filter(job::Column::Kind.eq(kind))
        .exec(db)
        .await?;
    Ok(())
}

/// How often jobs of `kind` run.
pub fn interval(settings: &Settings, kind: SyncKind) -> Duration {
    match kind {
        SyncKind::Orders => settings.order_sync_interval,
        SyncKind::Products => settings.product_sync_interval,
    }
}

/// Only jobs of integrations that are `ACTIVE` (never disconnected ones or those waiting for
/// new credentials).
fn of_active_integration() -> sea_orm::sea_query::SimpleExpr {
    job::Column::IntegrationId.in_subquery(
        Query::select()
            .column(integration::Column::Id)
            .from(integration::Entity)
            .and_where(integration::Column::Status.eq(IntegrationStatus::Active))
            .to_owned(),
    )
}

/// Claims one due job of an `ACTIVE` integration for `owner` until `now + lease`, or `None`
/// when no job is due (or every due one was won by another process first).
pub async fn claim_due<C: ConnectionTrait>(
    db: &C,
    owner: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> AppResult<Option<job::Model>> {
    let lease = Lease::new(owner, lease);
    // Each round either claims a job or sees every candidate leased by another process, so
    // the rounds are bounded only as a guard against a clock jumping backwards.
    for _ in 0..MAX_CLAIM_ROUNDS {
        let candidates: Vec<i64> = job::Entity::find()
            .select_only()
            .column(job::Column::Id)
            .filter(job::Column::NextRunAt.lte(now))
            .filter(leases::free::<job::Entity>(now))
            .filter(of_active_integration())
            .order_by_asc(job::Column::NextRunAt)
            .order_by_asc(job::Column::Id)
            .limit(CLAIM_BATCH)
            .into_tuple()
            .all(db)
            .await?;
        if candidates.is_empty() {
            return Ok(None);
        }
        for id in candidates {
            let update =
                job::Entity::update_many().col_expr(job::Column::UpdatedAt, Expr::value(now));
            let won = lease
                .take(update, now)
                .filter(job::Column::Id.eq(id))
                .filter(job::Column::NextRunAt.lte(now))
                .filter(of_active_integration())
                .exec(db)
                .await?
                .rows_affected
                == 1;
            if won {
                if let Some(claimed) = job::Entity::find_by_id(id).one(db).await? {
                    return Ok(Some(claimed));
                }
            }
        }
        // Every candidate went to another process (each is leased now, so the next query
        // no longer returns it): look again.
    }
    Ok(None)
}

/// Claims the integration's job of `kind` right now, due or not (`syncNow`). Fails with
/// `SYNC_IN_PROGRESS` while any process holds a live lease on it.
pub async fn claim_now<C: ConnectionTrait>(
    db: &C,
    integration: &integration::Model,
    kind: SyncKind,
    owner: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> AppResult<job::Model> {
    ensure_jobs(db, integration).await?;
    let lease = Lease::new(owner, lease);
    let update = job::Entity::update_many().col_expr(job::Column::UpdatedAt, Expr::value(now));
    let won = lease
        .take(update, now)
        .filter(job::Column::IntegrationId.eq(integration.id))
        .filter(job::Column::Kind.eq(kind))
        .exec(db)
        .await?
        .rows_affected
        == 1;
    let claimed = if won {
        job::Entity::find()
            .filter(job::Column::IntegrationId.eq(integration.id))
            .filter(job::Column::Kind.eq(kind))
            .filter(lease.holds::<job::Entity>())
            .one(db)
            .await?
    } else {
        None
    };
    claimed.ok_or_else(|| {
        UserError::new(
            "",
            UserErrorCode::SyncInProgress,
            format!(
                "The {} import of this store is running right now; its result will appear in syncRuns.",
                kind_name(kind)
            ),
        )
        .into()
    })
}

fn kind_name(kind: SyncKind) -> &'static str {
    match kind {
        SyncKind::Orders => "order",
        SyncKind::Products => "product",
    }
}

/// Extends `owner`'s lease on the job to `now + lease`; `false` when the lease was lost
/// (it ran out and another process took the job over).
pub async fn renew<C: ConnectionTrait>(
    db: &C,
    job_id: i64,
    owner: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> AppResult<bool> {
    let result = Lease::new(owner, lease)
        .renew(job::Entity::update_many(), now)
        .filter(job::Column::Id.eq(job_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// How a run of a job ended, for [`release`].
#[derive(Clone, Copy, Debug)]
pub enum Finished<'a> {
    /// The run succeeded.
    Success,
    /// The run failed with this (client-safe) error text.
    Failure(&'a str),
    /// Nothing ran (e.g. the integration was no longer active); only the lease is given up.
    Skipped,
}

/// Gives up `owner`'s lease on the job, schedules its next run at `next_run_at` and records
/// how the run ended. `false` when `owner` no longer held the lease (nothing is changed then:
/// the process that took the job over records its own run).
pub async fn release<C: ConnectionTrait>(
    db: &C,
    job_id: i64,
    owner: &str,
    next_run_at: DateTime<Utc>,
    finished: Finished<'_>,
) -> AppResult<bool> {
    let now = Utc::now();
    let mut update = job::Entity::update_many()
        .col_expr(job::Column::NextRunAt, Expr::value(next_run_at))
        .col_expr(job::Column::UpdatedAt, Expr::value(now));
    update = match finished {
        Finished::Success => update.col_expr(job::Column::LastSuccessAt, Expr::value(now)),
        Finished::Failure(error) => update
            .col_expr(job::Column::LastFailureAt, Expr::value(now))
            .col_expr(job::Column::LastError, Expr::value(error)),
        Finished::Skipped => update,
    };
    let result = held_by(owner)
        .give_up(update)
        .filter(job::Column::Id.eq(job_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Gives up `owner`'s lease without touching the schedule or the record (a claim that was
/// not used after all).
pub async fn unclaim<C: ConnectionTrait>(db: &C, job_id: i64, owner: &str) -> AppResult<()> {
    held_by(owner)
        .give_up(job::Entity::update_many())
        .filter(job::Column::Id.eq(job_id))
        .exec(db)
        .await?;
    Ok(())
}

/// `owner`'s lease, to give it up (its length plays no part then).
fn held_by(owner: &str) -> Lease {
    Lease::new(owner, Duration::ZERO)
}

/// The ACTIVE integrations that miss one of their jobs (cheap: one query, usually empty).
pub async fn integrations_without_jobs<C: ConnectionTrait>(
    db: &C,
) -> AppResult<Vec<integration::Model>> {
    Ok(integration::Entity::find()
        .filter(integration::Column::Status.eq(IntegrationStatus::Active))
        .filter(Expr::cust(
            "(SELECT COUNT(*) FROM sync_jobs j WHERE j.integration_id = integrations.id) < 2",
        ))
        .all(db)
        .await?)
}

/// The jobs of some integrations of one account, for `Integration.syncJobs`.
pub async fn jobs_of<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    integration_ids: &[i64],
) -> AppResult<Vec<job::Model>> {
    Ok(job::Entity::find()
        .filter(job::Column::AccountId.eq(account_id))
        .filter(job::Column::IntegrationId.is_in(integration_ids.iter().copied()))
        .order_by_asc(job::Column::IntegrationId)
        .order_by_asc(job::Column::Kind)
        .all(db)
        .await?)
}
