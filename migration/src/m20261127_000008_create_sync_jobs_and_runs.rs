//! Sync jobs (one per integration and kind, claimed with leases) and the record of every run.

use sea_orm_migration::prelude::*;

use crate::columns::{big, cascade, fk, id, index, text, text_null, timestamp, timestamp_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum SyncJobs {
    Table,
    Id,
    AccountId,
    IntegrationId,
    Kind,
    NextRunAt,
    LeaseOwner,
    LeaseExpiresAt,
    Cursor,
    LastSuccessAt,
    LastFailureAt,
    LastError,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum SyncRuns {
    Table,
    Id,
    AccountId,
    IntegrationId,
    Kind,
    Trigger,
    Outcome,
    StartedAt,
    FinishedAt,
    Created,
    Updated,
    Unchanged,
    ApiCalls,
    Error,
}

#[derive(DeriveIden)]
enum Integrations {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SyncJobs::Table)
                    .col(id(SyncJobs::Id))
                    .col(fk(SyncJobs::AccountId))
                    .col(fk(SyncJobs::IntegrationId))
                    .col(text(SyncJobs::Kind))
                    .col(timestamp(SyncJobs::NextRunAt))
                    .col(text_null(SyncJobs::LeaseOwner))
                    .col(timestamp_null(SyncJobs::LeaseExpiresAt))
                    .col(text_null(SyncJobs::Cursor))
                    .col(timestamp_null(SyncJobs::LastSuccessAt))
                    .col(timestamp_null(SyncJobs::LastFailureAt))
                    .col(text_null(SyncJobs::LastError))
                    .col(timestamp(SyncJobs::UpdatedAt))
                    .foreign_key(&mut cascade(
                        SyncJobs::Table,
                        SyncJobs::IntegrationId,
                        Integrations::Table,
                        Integrations::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "sync_jobs_integration_kind_key",
                SyncJobs::Table,
                vec![SyncJobs::IntegrationId, SyncJobs::Kind],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "sync_jobs_due_idx",
                SyncJobs::Table,
                vec![SyncJobs::NextRunAt],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SyncRuns::Table)
                    .col(id(SyncRuns::Id))
                    .col(fk(SyncRuns::AccountId))
                    .col(fk(SyncRuns::IntegrationId))
                    .col(text(SyncRuns::Kind))
                    .col(text(SyncRuns::Trigger))
                    .col(text(SyncRuns::Outcome))
                    .col(timestamp(SyncRuns::StartedAt))
                    .col(timestamp_null(SyncRuns::FinishedAt))
                    .col(big(SyncRuns::Created))
                    .col(big(SyncRuns::Updated))
                    .col(big(SyncRuns::Unchanged))
                    .col(big(SyncRuns::ApiCalls))
                    .col(text_null(SyncRuns::Error))
                    .foreign_key(&mut cascade(
                        SyncRuns::Table,
                        SyncRuns::IntegrationId,
                        Integrations::Table,
                        Integrations::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "sync_runs_integration_idx",
                SyncRuns::Table,
                vec![SyncRuns::IntegrationId, SyncRuns::Id],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SyncRuns::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SyncJobs::Table).to_owned())
            .await
    }
}
