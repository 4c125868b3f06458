//! The append-only stock ledger: every change of an inventory item's quantity.

use sea_orm_migration::prelude::*;

use crate::columns::{big, big_null, cascade, fk, id, index, text, text_null, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum StockMovements {
    Table,
    Id,
    AccountId,
    InventoryItemId,
    Delta,
    QuantityAfter,
    Reason,
    ActorUserId,
    IntegrationId,
    OrderId,
    IdempotencyKey,
    Note,
    CreatedAt,
}

#[derive(DeriveIden)]
enum InventoryItems {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StockMovements::Table)
                    .col(id(StockMovements::Id))
                    .col(fk(StockMovements::AccountId))
                    .col(fk(StockMovements::InventoryItemId))
                    .col(big(StockMovements::Delta))
                    .col(big(StockMovements::QuantityAfter))
                    .col(text(StockMovements::Reason))
                    .col(big_null(StockMovements::ActorUserId))
                    .col(big_null(StockMovements::IntegrationId))
                    .col(big_null(StockMovements::OrderId))
                    .col(text_null(StockMovements::IdempotencyKey))
                    .col(text_null(StockMovements::Note))
                    .col(timestamp(StockMovements::CreatedAt))
                    .foreign_key(&mut cascade(
                        StockMovements::Table,
                        StockMovements::InventoryItemId,
                        InventoryItems::Table,
                        InventoryItems::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "stock_movements_item_idx",
                StockMovements::Table,
                vec![StockMovements::InventoryItemId, StockMovements::Id],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "stock_movements_idempotency_key",
                StockMovements::Table,
                vec![StockMovements::AccountId, StockMovements::IdempotencyKey],
                true,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StockMovements::Table).to_owned())
            .await
    }
}
