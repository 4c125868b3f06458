//! Indexes for reading a large order history by store: a store's page and its
//! count, with or without a status, walk an index instead of the account's every order.

use sea_orm_migration::prelude::*;

use crate::columns::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Orders {
    Table,
    AccountId,
    IntegrationId,
    Status,
    PlacedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, cols) in [
            // The status after the date: a page of one store's orders in some statuses walks
            // the store's dates and skips other statuses in the index, without reading them.
            (
                "orders_account_store_placed_idx",
                vec![
                    Orders::AccountId,
                    Orders::IntegrationId,
                    Orders::PlacedAt,
                    Orders::Status,
                ],
            ),
            (
                "orders_account_store_status_idx",
                vec![
                    Orders::AccountId,
                    Orders::IntegrationId,
                    Orders::Status,
                    Orders::PlacedAt,
                ],
            ),
        ] {
            manager
                .create_index(index(name, Orders::Table, cols, false))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "orders_account_store_status_idx",
            "orders_account_store_placed_idx",
        ] {
            manager
                .drop_index(Index::drop().name(name).table(Orders::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}
