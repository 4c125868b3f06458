//! Inventory items (one per SKU per account: the single stock figure) and listings (one
//! product or variant on one store), linked by SKU. Money is stored as decimal text: sea-orm
//! reads decimals from SQLite through f64, which is not exact.

use sea_orm_migration::prelude::*;

use crate::columns::{
    big, big_null, cascade, fk, id, index, json_null, text, text_null, timestamp, timestamp_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum InventoryItems {
    Table,
    Id,
    AccountId,
    Sku,
    Name,
    Weight,
    ImageUrl,
    Quantity,
    LowStockThreshold,
    Version,
    DeletedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum Listings {
    Table,
    Id,
    AccountId,
    IntegrationId,
    InventoryItemId,
    ExternalProductId,
    ExternalVariantId,
    Tracking,
    Sku,
    Title,
    Price,
    SalePrice,
    Weight,
    Images,
    Categories,
    ChannelStock,
    PushedStock,
    PushedAt,
    PushError,
    MissingSince,
    ChannelModifiedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
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
                    .table(InventoryItems::Table)
                    .col(id(InventoryItems::Id))
                    .col(fk(InventoryItems::AccountId))
                    .col(text_null(InventoryItems::Sku))
                    .col(text(InventoryItems::Name))
                    .col(text_null(InventoryItems::Weight))
                    .col(text_null(InventoryItems::ImageUrl))
                    .col(big(InventoryItems::Quantity))
                    .col(big_null(InventoryItems::LowStockThreshold))
                    .col(big(InventoryItems::Version))
                    .col(timestamp_null(InventoryItems::DeletedAt))
                    .col(timestamp(InventoryItems::CreatedAt))
                    .col(timestamp(InventoryItems::UpdatedAt))
                    .foreign_key(&mut cascade(
                        InventoryItems::Table,
                        InventoryItems::AccountId,
                        Accounts::Table,
                        Accounts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "inventory_items_account_sku_key",
                InventoryItems::Table,
                vec![InventoryItems::AccountId, InventoryItems::Sku],
                true,
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Listings::Table)
                    .col(id(Listings::Id))
                    .col(fk(Listings::AccountId))
                    .col(fk(Listings::IntegrationId))
                    .col(fk(Listings::InventoryItemId))
                    .col(big(Listings::ExternalProductId))
                    .col(big(Listings::ExternalVariantId))
                    .col(text(Listings::Tracking))
                    .col(text_null(Listings::Sku))
                    .col(text(Listings::Title))
                    .col(text(Listings::Price))
                    .col(text_null(Listings::SalePrice))
                    .col(text_null(Listings::Weight))
                    .col(json_null(Listings::Images))
                    .col(json_null(Listings::Categories))
                    .col(big_null(Listings::ChannelStock))
                    .col(big_null(Listings::PushedStock))
                    .col(timestamp_null(Listings::PushedAt))
                    .col(text_null(Listings::PushError))
                    .col(timestamp_null(Listings::MissingSince))
                    .col(timestamp_null(Listings::ChannelModifiedAt))
                    .col(timestamp(Listings::CreatedAt))
                    .col(timestamp(Listings::UpdatedAt))
                    .foreign_key(&mut cascade(
                        Listings::Table,
                        Listings::IntegrationId,
                        Integrations::Table,
                        Integrations::Id,
                    ))
                    .foreign_key(&mut cascade(
                        Listings::Table,
                        Listings::InventoryItemId,
                        InventoryItems::Table,
                        InventoryItems::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "listings_channel_key",
                Listings::Table,
                vec![
                    Listings::IntegrationId,
                    Listings::ExternalProductId,
                    Listings::ExternalVariantId,
                ],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "listings_item_idx",
                Listings::Table,
                vec![Listings::InventoryItemId],
                false,
            ))
            .await?;
        manager
            .create_index(index(
                "listings_account_sku_idx",
                Listings::Table,
                vec![Listings::AccountId, Listings::Sku],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Listings::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(InventoryItems::Table).to_owned())
            .await
    }
}
