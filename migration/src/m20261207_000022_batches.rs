//! Batches: orders shipped in one step, in pick-list order, printed as one PDF (each parcel's
//! packing slip and label). One row per batch, one per order it named with its outcome.

use sea_orm_migration::prelude::*;

use crate::columns::{big, big_null, cascade, fk, id, index, text, text_null, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden, Clone)]
enum Batches {
    Table,
    Id,
    AccountId,
    Method,
    Carrier,
    Service,
    CreatedByUserId,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum BatchOrders {
    Table,
    Id,
    AccountId,
    BatchId,
    OrderId,
    Position,
    ShipmentId,
    ErrorCode,
    ErrorMessage,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Batches::Table)
                    .col(id(Batches::Id))
                    .col(fk(Batches::AccountId))
                    .col(text(Batches::Method))
                    .col(text_null(Batches::Carrier))
                    .col(text_null(Batches::Service))
                    .col(big_null(Batches::CreatedByUserId))
                    .col(timestamp(Batches::CreatedAt))
                    .foreign_key(&mut cascade(
                        Batches::Table,
                        Batches::AccountId,
                        Accounts::Table,
                        Accounts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "batches_account_idx",
                Batches::Table,
                vec![Batches::AccountId, Batches::Id],
                false,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BatchOrders::Table)
                    .col(id(BatchOrders::Id))
                    .col(fk(BatchOrders::AccountId))
                    .col(fk(BatchOrders::BatchId))
                    .col(fk(BatchOrders::OrderId))
                    .col(big(BatchOrders::Position))
                    .col(big_null(BatchOrders::ShipmentId))
                    .col(text_null(BatchOrders::ErrorCode))
                    .col(text_null(BatchOrders::ErrorMessage))
                    .foreign_key(&mut cascade(
                        BatchOrders::Table,
                        BatchOrders::BatchId,
                        Batches::Table,
                        Batches::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "batch_orders_batch_position_key",
                BatchOrders::Table,
                vec![BatchOrders::BatchId, BatchOrders::Position],
                true,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BatchOrders::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Batches::Table).to_owned())
            .await
    }
}
