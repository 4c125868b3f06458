//! Where a product lies in the warehouse (`binLocation`), the order pick lists walk in.

use sea_orm_migration::prelude::*;

use crate::columns::text_null;

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
        manager
            .alter_table(
                Table::alter()
                    .table(InventoryItems::Table)
                    .add_column(text_null(InventoryItems::BinLocation))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(InventoryItems::Table)
                    .drop_column(InventoryItems::BinLocation)
                    .to_owned(),
            )
            .await
    }
}
