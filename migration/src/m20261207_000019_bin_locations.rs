//! Where a product lies in the warehouse (`binLocation`), the order pick lists walk in.

use sea_orm_migration::prelude::*;

use crate::columns::{add_column, drop_column, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InventoryItems {
    Table,
    BinLocation,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            InventoryItems::Table,
            text_null(InventoryItems::BinLocation),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, InventoryItems::Table, InventoryItems::BinLocation).await
    }
}
