//! Facts every process sharing the database must agree on (replicas). The first is a
//! fingerprint of the secret key the store tokens are encrypted with, so that a replica started
//! with another key refuses to start instead of failing on every store call.

use sea_orm_migration::prelude::*;

use crate::columns::text;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InstanceFacts {
    Table,
    Name,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InstanceFacts::Table)
                    .col(text(InstanceFacts::Name).primary_key())
                    .col(text(InstanceFacts::Value))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InstanceFacts::Table).to_owned())
            .await
    }
}
