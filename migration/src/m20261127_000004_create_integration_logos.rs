//! Store logos, kept apart from the integration row so listing integrations never loads images.

use sea_orm_migration::prelude::*;

use crate::columns::{fk, text, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IntegrationLogos {
    Table,
    IntegrationId,
    AccountId,
    ContentType,
    Width,
    Height,
    ByteSize,
    Data,
    Sha256,
    UpdatedAt,
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
                    .table(IntegrationLogos::Table)
                    .col(
                        ColumnDef::new(IntegrationLogos::IntegrationId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(fk(IntegrationLogos::AccountId))
                    .col(text(IntegrationLogos::ContentType))
                    .col(ColumnDef::new(IntegrationLogos::Width).integer().not_null())
                    .col(
                        ColumnDef::new(IntegrationLogos::Height)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(IntegrationLogos::ByteSize)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(IntegrationLogos::Data).blob().not_null())
                    .col(text(IntegrationLogos::Sha256))
                    .col(timestamp(IntegrationLogos::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(IntegrationLogos::Table, IntegrationLogos::IntegrationId)
                            .to(Integrations::Table, Integrations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IntegrationLogos::Table).to_owned())
            .await
    }
}
