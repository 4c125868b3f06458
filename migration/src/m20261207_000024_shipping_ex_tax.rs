//! Shipping without tax, so an invoice shows subtotal + shipping + tax = total (the tax total
//! already holds the shipping tax).

use sea_orm_migration::prelude::*;

use crate::columns::{add_column, drop_column, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    ShippingCostExTax,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, Orders::Table, text_null(Orders::ShippingCostExTax)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, Orders::Table, Orders::ShippingCostExTax).await
    }
}
