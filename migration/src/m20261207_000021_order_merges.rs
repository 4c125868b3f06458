//! Merged orders: orders of one customer at one address sent as one parcel. The orders stay
//! separate records; each names its merge (`orders.merge_id`).

use sea_orm_migration::prelude::*;

use crate::columns::{big_null, cascade, fk, id, index, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    MergeId,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden, Clone)]
enum OrderMerges {
    Table,
    Id,
    AccountId,
    IntegrationId,
    CreatedByUserId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OrderMerges::Table)
                    .col(id(OrderMerges::Id))
                    .col(fk(OrderMerges::AccountId))
                    .col(fk(OrderMerges::IntegrationId))
                    .col(big_null(OrderMerges::CreatedByUserId))
                    .col(timestamp(OrderMerges::CreatedAt))
                    .foreign_key(&mut cascade(
                        OrderMerges::Table,
                        OrderMerges::AccountId,
                        Accounts::Table,
                        Accounts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(big_null(Orders::MergeId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "orders_merge_idx",
                Orders::Table,
                vec![Orders::MergeId],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("orders_merge_idx")
                    .table(Orders::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .drop_column(Orders::MergeId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(OrderMerges::Table).to_owned())
            .await
    }
}
