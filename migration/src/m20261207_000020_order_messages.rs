//! The customer's message on an order (a gift message), printed on packing slips.

use sea_orm_migration::prelude::*;

use crate::columns::{add_column, drop_column, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    CustomerMessage,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, Orders::Table, text_null(Orders::CustomerMessage)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, Orders::Table, Orders::CustomerMessage).await
    }
}
