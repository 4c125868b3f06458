//! Inventory as merchants run it: stock buffers per store and per listing (JSON `{mode,
//! value}`: what a store is not offered), bundles (an item whose figure is computed from its
//! components, never stored), and the bundle a component's movement was taken for.

use sea_orm_migration::prelude::*;

use crate::columns::{big, big_null, cascade, fk, id, index, json_null, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Integrations {
    Table,
    StockBuffer,
}

#[derive(DeriveIden)]
enum Listings {
    Table,
    StockBuffer,
}

#[derive(DeriveIden)]
enum InventoryItems {
    Table,
    Id,
    Bundle,
}

#[derive(DeriveIden)]
enum StockMovements {
    Table,
    BundleItemId,
}

#[derive(DeriveIden, Clone)]
enum BundleComponents {
    Table,
    Id,
    AccountId,
    BundleItemId,
    ComponentItemId,
    Quantity,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for alter in [
            Table::alter()
                .table(Integrations::Table)
                .add_column(json_null(Integrations::StockBuffer))
                .to_owned(),
            Table::alter()
                .table(Listings::Table)
                .add_column(json_null(Listings::StockBuffer))
                .to_owned(),
            Table::alter()
                .table(InventoryItems::Table)
                .add_column(
                    ColumnDef::new(InventoryItems::Bundle)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .to_owned(),
            Table::alter()
                .table(StockMovements::Table)
                .add_column(big_null(StockMovements::BundleItemId))
                .to_owned(),
        ] {
            manager.alter_table(alter).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(BundleComponents::Table)
                    .col(id(BundleComponents::Id))
                    .col(fk(BundleComponents::AccountId))
                    .col(fk(BundleComponents::BundleItemId))
                    .col(fk(BundleComponents::ComponentItemId))
                    .col(big(BundleComponents::Quantity))
                    .col(timestamp(BundleComponents::CreatedAt))
                    .foreign_key(&mut cascade(
                        BundleComponents::Table,
                        BundleComponents::BundleItemId,
                        InventoryItems::Table,
                        InventoryItems::Id,
                    ))
                    .foreign_key(&mut cascade(
                        BundleComponents::Table,
                        BundleComponents::ComponentItemId,
                        InventoryItems::Table,
                        InventoryItems::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "bundle_components_bundle_component_key",
                BundleComponents::Table,
                vec![
                    BundleComponents::BundleItemId,
                    BundleComponents::ComponentItemId,
                ],
                true,
            ))
            .await?;
        // The fan-out: every bundle containing a component, looked up on each stock change.
        manager
            .create_index(index(
                "bundle_components_component_idx",
                BundleComponents::Table,
                vec![BundleComponents::ComponentItemId],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BundleComponents::Table).to_owned())
            .await?;
        for alter in [
            Table::alter()
                .table(Integrations::Table)
                .drop_column(Integrations::StockBuffer)
                .to_owned(),
            Table::alter()
                .table(Listings::Table)
                .drop_column(Listings::StockBuffer)
                .to_owned(),
            Table::alter()
                .table(InventoryItems::Table)
                .drop_column(InventoryItems::Bundle)
                .to_owned(),
            Table::alter()
                .table(StockMovements::Table)
                .drop_column(StockMovements::BundleItemId)
                .to_owned(),
        ] {
            manager.alter_table(alter).await?;
        }
        Ok(())
    }
}
