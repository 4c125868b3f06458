//! A store's sync jobs as rows: one per integration and kind. Connecting a store (or giving
//! it new credentials) makes its jobs due now here; the sync layer's scheduler claims and runs
//! them.

use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::domain::SyncKind;
use crate::entities::{integration, sync_job as job};
use crate::error::AppResult;

/// Makes sure the integration has its ORDERS and PRODUCTS jobs (due now when new).
pub async fn ensure_jobs<C: ConnectionTrait>(
    db: &C,
    integration: &integration::Model,
) -> AppResult<()> {
    for kind in [SyncKind::Orders, SyncKind::Products] {
        let now = Utc::now();
        job::Entity::insert(job::ActiveModel {
            account_id: Set(integration.account_id),
            integration_id: Set(integration.id),
            kind: Set(kind),
            next_run_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .on_conflict(
            OnConflict::columns([job::Column::IntegrationId, job::Column::Kind])
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(db)
        .await?;
    }
    Ok(())
}

/// Ensures the integration's jobs and makes them due now (a store connected again or given
/// new credentials is imported right away rather than at its next interval).
pub async fn ensure_jobs_due_now<C: ConnectionTrait>(
    db: &C,
    integration: &integration::Model,
) -> AppResult<()> {
    ensure_jobs(db, integration).await?;
    let now = Utc::now();
    job::Entity::update_many()
        .col_expr(job::Column::NextRunAt, Expr::value(now))
        .col_expr(job::Column::UpdatedAt, Expr::value(now))
        .filter(job::Column::IntegrationId.eq(integration.id))
        .exec(db)
        .await?;
    Ok(())
}
