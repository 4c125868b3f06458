//! Pushes to the stores: a queue of listings whose stock or price must reach their store
//! (filled in the same transaction as the change, drained by the push worker), the price push
//! state on listings, and orders canceled here.

use sea_orm_migration::prelude::*;

use crate::columns::{
    big, big_null, cascade, fk, id, index, text, text_null, timestamp, timestamp_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum PushQueue {
    Table,
    Id,
    AccountId,
    IntegrationId,
    ListingId,
    Kind,
    Generation,
    Attempts,
    DueAt,
    ClaimedBy,
    ClaimedUntil,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Listings {
    Table,
    Id,
    OptionVariant,
    PricePushState,
    PricePushedAt,
    PricePushError,
    PushFailedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    CanceledHereAt,
    CanceledByUserId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PushQueue::Table)
                    .col(id(PushQueue::Id))
                    .col(fk(PushQueue::AccountId))
                    .col(fk(PushQueue::IntegrationId))
                    .col(fk(PushQueue::ListingId))
                    .col(text(PushQueue::Kind))
                    .col(big(PushQueue::Generation))
                    .col(big(PushQueue::Attempts))
                    .col(timestamp(PushQueue::DueAt))
                    .col(text_null(PushQueue::ClaimedBy))
                    .col(timestamp_null(PushQueue::ClaimedUntil))
                    .col(text_null(PushQueue::LastError))
                    .col(timestamp(PushQueue::CreatedAt))
                    .col(timestamp(PushQueue::UpdatedAt))
                    .foreign_key(&mut cascade(
                        PushQueue::Table,
                        PushQueue::ListingId,
                        Listings::Table,
                        Listings::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "push_queue_listing_kind",
                PushQueue::Table,
                vec![PushQueue::ListingId, PushQueue::Kind],
                true,
            ))
            .await?;
        manager
            .create_index(index(
                "push_queue_due",
                PushQueue::Table,
                vec![PushQueue::Kind, PushQueue::IntegrationId, PushQueue::DueAt],
                false,
            ))
            .await?;
        // SQLite adds one column per statement.
        let listing_columns = [
            ColumnDef::new(Listings::OptionVariant)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(Listings::PricePushState)
                .text()
                .not_null()
                .default("NONE")
                .to_owned(),
            timestamp_null(Listings::PricePushedAt),
            text_null(Listings::PricePushError),
            timestamp_null(Listings::PushFailedAt),
        ];
        for column in listing_columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Listings::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            timestamp_null(Orders::CanceledHereAt),
            big_null(Orders::CanceledByUserId),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Orders::CanceledByUserId, Orders::CanceledHereAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            Listings::PushFailedAt,
            Listings::PricePushError,
            Listings::PricePushedAt,
            Listings::PricePushState,
            Listings::OptionVariant,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Listings::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(PushQueue::Table).to_owned())
            .await
    }
}
