//! Product pictures for pick lists: each picture URL of an account fetched once, kept as a
//! small PNG (or the time it could not be fetched, to try again later).

use sea_orm_migration::prelude::*;

use crate::columns::{cascade, fk, id, index, text, timestamp, timestamp_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden, Clone)]
enum Thumbnails {
    Table,
    Id,
    AccountId,
    UrlSha256,
    Url,
    Data,
    FailedAt,
    FetchedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Thumbnails::Table)
                    .col(id(Thumbnails::Id))
                    .col(fk(Thumbnails::AccountId))
                    .col(text(Thumbnails::UrlSha256))
                    .col(text(Thumbnails::Url))
                    .col(ColumnDef::new(Thumbnails::Data).blob().null())
                    .col(timestamp_null(Thumbnails::FailedAt))
                    .col(timestamp(Thumbnails::FetchedAt))
                    .foreign_key(&mut cascade(
                        Thumbnails::Table,
                        Thumbnails::AccountId,
                        Accounts::Table,
                        Accounts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "thumbnails_account_url_key",
                Thumbnails::Table,
                vec![Thumbnails::AccountId, Thumbnails::UrlSha256],
                true,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Thumbnails::Table).to_owned())
            .await
    }
}
