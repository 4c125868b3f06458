//! Shipping without tax, so an invoice shows subtotal + shipping + tax = total (the tax total
//! already holds the shipping tax).

use sea_orm_migration::prelude::*;

use crate::columns::text_null;

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
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(text_null(Orders::ShippingCostExTax))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .drop_column(Orders::ShippingCostExTax)
                    .to_owned(),
            )
            .await
    }
}
