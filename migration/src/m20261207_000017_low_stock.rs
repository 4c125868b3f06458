//! Low stock: when a product's stock last fell to or below its threshold (cleared when it rises
//! above it or the threshold is cleared), so the products to reorder list in the order they ran
//! low.

use sea_orm_migration::prelude::*;

use crate::columns::timestamp_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InventoryItems {
    Table,
    AccountId,
    LowStockSince,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(InventoryItems::Table)
                    .add_column(timestamp_null(InventoryItems::LowStockSince))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inventory_items_low_stock_since")
                    .table(InventoryItems::Table)
                    .col(InventoryItems::AccountId)
                    .col(InventoryItems::LowStockSince)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("inventory_items_low_stock_since")
                    .table(InventoryItems::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(InventoryItems::Table)
                    .drop_column(InventoryItems::LowStockSince)
                    .to_owned(),
            )
            .await
    }
}
