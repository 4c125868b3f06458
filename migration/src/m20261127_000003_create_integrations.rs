//! Integrations: connected stores with their options. The access token is stored encrypted.

use sea_orm_migration::prelude::*;

use crate::columns::{boolean, fk, id, text, text_null, timestamp, timestamp_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Integrations {
    Table,
    Id,
    AccountId,
    Channel,
    Status,
    StoreHash,
    ClientId,
    AccessTokenCiphertext,
    AccessTokenLast4,
    Alias,
    StoreName,
    StoreCurrency,
    OrderManagement,
    InventoryManagement,
    HistoricalImport,
    HistoricalImportSince,
    ImportOrdersSince,
    IossNumber,
    ReturnAddress,
    Phone,
    PhoneMode,
    Email,
    EmailMode,
    ConnectedAt,
    DisconnectedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Integrations::Table)
                    .col(id(Integrations::Id))
                    .col(fk(Integrations::AccountId))
                    .col(text(Integrations::Channel))
                    .col(text(Integrations::Status))
                    .col(text(Integrations::StoreHash))
                    .col(text(Integrations::ClientId))
                    .col(text_null(Integrations::AccessTokenCiphertext))
                    .col(text_null(Integrations::AccessTokenLast4))
                    .col(text(Integrations::Alias))
                    .col(text(Integrations::StoreName))
                    .col(text_null(Integrations::StoreCurrency))
                    .col(boolean(Integrations::OrderManagement))
                    .col(boolean(Integrations::InventoryManagement))
                    .col(text(Integrations::HistoricalImport))
                    .col(
                        ColumnDef::new(Integrations::HistoricalImportSince)
                            .date()
                            .null(),
                    )
                    .col(timestamp(Integrations::ImportOrdersSince))
                    .col(text_null(Integrations::IossNumber))
                    .col(ColumnDef::new(Integrations::ReturnAddress).json().null())
                    .col(text_null(Integrations::Phone))
                    .col(text(Integrations::PhoneMode))
                    .col(text_null(Integrations::Email))
                    .col(text(Integrations::EmailMode))
                    .col(timestamp(Integrations::ConnectedAt))
                    .col(timestamp_null(Integrations::DisconnectedAt))
                    .col(timestamp(Integrations::CreatedAt))
                    .col(timestamp(Integrations::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Integrations::Table, Integrations::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("integrations_account_alias_key")
                    .table(Integrations::Table)
                    .col(Integrations::AccountId)
                    .col(Integrations::Alias)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("integrations_account_store_key")
                    .table(Integrations::Table)
                    .col(Integrations::AccountId)
                    .col(Integrations::Channel)
                    .col(Integrations::StoreHash)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Integrations::Table).to_owned())
            .await
    }
}
