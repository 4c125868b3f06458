//! Imported orders and their lines. Money is decimal text (see migration 5).

use sea_orm_migration::prelude::*;

use crate::columns::{
    big, big_null, boolean, cascade, fk, id, index, json_null, text, text_null, timestamp,
    timestamp_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Orders {
    Table,
    Id,
    AccountId,
    IntegrationId,
    ExternalId,
    Number,
    Status,
    ChannelStatusId,
    ChannelStatus,
    Currency,
    SubtotalExTax,
    SubtotalIncTax,
    ShippingCost,
    TaxTotal,
    Total,
    CustomerName,
    CustomerEmail,
    CustomerPhone,
    BillingAddress,
    ShippingAddresses,
    PlacedAt,
    ChannelModifiedAt,
    ShippedAt,
    Historical,
    StockTaken,
    Restocked,
    ImportedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum OrderLines {
    Table,
    Id,
    AccountId,
    OrderId,
    ExternalId,
    ExternalProductId,
    ExternalVariantId,
    OrderAddressId,
    Sku,
    Name,
    Quantity,
    QuantityShipped,
    UnitPrice,
    Total,
    Weight,
    ListingId,
    InventoryItemId,
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
                    .table(Orders::Table)
                    .col(id(Orders::Id))
                    .col(fk(Orders::AccountId))
                    .col(fk(Orders::IntegrationId))
                    .col(big(Orders::ExternalId))
                    .col(text(Orders::Number))
                    .col(text(Orders::Status))
                    .col(ColumnDef::new(Orders::ChannelStatusId).integer().not_null())
                    .col(text(Orders::ChannelStatus))
                    .col(text(Orders::Currency))
                    .col(text(Orders::SubtotalExTax))
                    .col(text(Orders::SubtotalIncTax))
                    .col(text(Orders::ShippingCost))
                    .col(text(Orders::TaxTotal))
                    .col(text(Orders::Total))
                    .col(text(Orders::CustomerName))
                    .col(text_null(Orders::CustomerEmail))
                    .col(text_null(Orders::CustomerPhone))
                    .col(json_null(Orders::BillingAddress))
                    .col(json_null(Orders::ShippingAddresses))
                    .col(timestamp(Orders::PlacedAt))
                    .col(timestamp(Orders::ChannelModifiedAt))
                    .col(timestamp_null(Orders::ShippedAt))
                    .col(boolean(Orders::Historical))
                    .col(boolean(Orders::StockTaken))
                    .col(boolean(Orders::Restocked))
                    .col(timestamp(Orders::ImportedAt))
                    .col(timestamp(Orders::UpdatedAt))
                    .foreign_key(&mut cascade(
                        Orders::Table,
                        Orders::IntegrationId,
                        Integrations::Table,
                        Integrations::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "orders_channel_key",
                vec![Orders::IntegrationId, Orders::ExternalId],
                true,
            ),
            (
                "orders_account_placed_idx",
                vec![Orders::AccountId, Orders::PlacedAt],
                false,
            ),
            (
                "orders_account_status_idx",
                vec![Orders::AccountId, Orders::Status, Orders::PlacedAt],
                false,
            ),
            (
                "orders_account_number_idx",
                vec![Orders::AccountId, Orders::Number],
                false,
            ),
            (
                "orders_account_email_idx",
                vec![Orders::AccountId, Orders::CustomerEmail],
                false,
            ),
        ] {
            manager
                .create_index(index(name, Orders::Table, cols, unique))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(OrderLines::Table)
                    .col(id(OrderLines::Id))
                    .col(fk(OrderLines::AccountId))
                    .col(fk(OrderLines::OrderId))
                    .col(big(OrderLines::ExternalId))
                    .col(big(OrderLines::ExternalProductId))
                    .col(big(OrderLines::ExternalVariantId))
                    .col(big(OrderLines::OrderAddressId))
                    .col(text_null(OrderLines::Sku))
                    .col(text(OrderLines::Name))
                    .col(big(OrderLines::Quantity))
                    .col(big(OrderLines::QuantityShipped))
                    .col(text(OrderLines::UnitPrice))
                    .col(text(OrderLines::Total))
                    .col(text_null(OrderLines::Weight))
                    .col(big_null(OrderLines::ListingId))
                    .col(big_null(OrderLines::InventoryItemId))
                    .foreign_key(&mut cascade(
                        OrderLines::Table,
                        OrderLines::OrderId,
                        Orders::Table,
                        Orders::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "order_lines_order_key",
                vec![OrderLines::OrderId, OrderLines::ExternalId],
                true,
            ),
            (
                "order_lines_account_sku_idx",
                vec![OrderLines::AccountId, OrderLines::Sku],
                false,
            ),
            (
                "order_lines_item_idx",
                vec![OrderLines::InventoryItemId],
                false,
            ),
        ] {
            manager
                .create_index(index(name, OrderLines::Table, cols, unique))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OrderLines::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Orders::Table).to_owned())
            .await
    }
}
