//! Invoice numbers: one per order, sequential per store, assigned once (the first time an
//! invoice is rendered or linked) and never changed, so a re-rendered invoice is the same one.

use sea_orm_migration::prelude::*;

use crate::columns::{big, cascade, fk, id, index, text, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Invoices {
    Table,
    Id,
    AccountId,
    IntegrationId,
    OrderId,
    Sequence,
    Number,
    IssuedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
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
                    .table(Invoices::Table)
                    .col(id(Invoices::Id))
                    .col(fk(Invoices::AccountId))
                    .col(fk(Invoices::IntegrationId))
                    .col(fk(Invoices::OrderId))
                    .col(big(Invoices::Sequence))
                    .col(text(Invoices::Number))
                    .col(timestamp(Invoices::IssuedAt))
                    .foreign_key(&mut cascade(
                        Invoices::Table,
                        Invoices::OrderId,
                        Orders::Table,
                        Orders::Id,
                    ))
                    .foreign_key(&mut cascade(
                        Invoices::Table,
                        Invoices::IntegrationId,
                        Integrations::Table,
                        Integrations::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "invoices_order",
                Invoices::Table,
                vec![Invoices::OrderId],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "invoices_integration_sequence",
                Invoices::Table,
                vec![Invoices::IntegrationId, Invoices::Sequence],
                true,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Invoices::Table).to_owned())
            .await
    }
}
