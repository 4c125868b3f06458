//! The BigCommerce app-store install flow and order webhooks.
//!
//! - `app_installations`: a store that installed the app, held (token encrypted) until a
//!   user claims it with the one-time code shown on the auth callback page.
//! - `webhook_deliveries`: every accepted delivery, unique by (integration, scope, hash,
//!   sent at), so a repeated delivery is recognised and imports nothing twice.
//! - `integrations` gains how it was connected and the state of its webhooks (the secret
//!   header is kept as a SHA-256 digest only).

use sea_orm_migration::prelude::*;

use crate::columns::{
    big_null, cascade, fk, id, index, text, text_null, timestamp, timestamp_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum AppInstallations {
    Table,
    Id,
    StoreHash,
    ClientId,
    AccessTokenCiphertext,
    Scope,
    UserEmail,
    OwnerEmail,
    ClaimCodeHash,
    CreatedAt,
    ExpiresAt,
    ClaimedAt,
    ClaimedByAccountId,
    IntegrationId,
}

#[derive(DeriveIden, Clone)]
enum WebhookDeliveries {
    Table,
    Id,
    AccountId,
    IntegrationId,
    Scope,
    Hash,
    SentAt,
    OrderExternalId,
    ReceivedAt,
    ProcessedAt,
    Error,
}

#[derive(DeriveIden, Clone)]
enum Integrations {
    Table,
    Id,
    ConnectedVia,
    WebhookState,
    WebhookSecretHash,
    WebhookDestination,
    WebhookError,
    WebhooksRegisteredAt,
    LastWebhookAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AppInstallations::Table)
                    .col(id(AppInstallations::Id))
                    .col(text(AppInstallations::StoreHash))
                    .col(text(AppInstallations::ClientId))
                    .col(text(AppInstallations::AccessTokenCiphertext))
                    .col(text(AppInstallations::Scope))
                    .col(text_null(AppInstallations::UserEmail))
                    .col(text_null(AppInstallations::OwnerEmail))
                    .col(text(AppInstallations::ClaimCodeHash))
                    .col(timestamp(AppInstallations::CreatedAt))
                    .col(timestamp(AppInstallations::ExpiresAt))
                    .col(timestamp_null(AppInstallations::ClaimedAt))
                    .col(big_null(AppInstallations::ClaimedByAccountId))
                    .col(big_null(AppInstallations::IntegrationId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(id(WebhookDeliveries::Id))
                    .col(fk(WebhookDeliveries::AccountId))
                    .col(fk(WebhookDeliveries::IntegrationId))
                    .col(text(WebhookDeliveries::Scope))
                    .col(text(WebhookDeliveries::Hash))
                    .col(fk(WebhookDeliveries::SentAt))
                    .col(big_null(WebhookDeliveries::OrderExternalId))
                    .col(timestamp(WebhookDeliveries::ReceivedAt))
                    .col(timestamp_null(WebhookDeliveries::ProcessedAt))
                    .col(text_null(WebhookDeliveries::Error))
                    .foreign_key(&mut cascade(
                        WebhookDeliveries::Table,
                        WebhookDeliveries::IntegrationId,
                        Integrations::Table,
                        Integrations::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        for i in [
            index(
                "app_installations_claim_code",
                AppInstallations::Table,
                vec![AppInstallations::ClaimCodeHash],
                true,
            ),
            index(
                "app_installations_store",
                AppInstallations::Table,
                vec![AppInstallations::StoreHash],
                false,
            ),
            index(
                "webhook_deliveries_unique",
                WebhookDeliveries::Table,
                vec![
                    WebhookDeliveries::IntegrationId,
                    WebhookDeliveries::Scope,
                    WebhookDeliveries::Hash,
                    WebhookDeliveries::SentAt,
                ],
                true,
            ),
            index(
                "webhook_deliveries_received",
                WebhookDeliveries::Table,
                vec![WebhookDeliveries::ReceivedAt],
                false,
            ),
        ] {
            manager.create_index(i).await?;
        }
        for column in [
            ColumnDef::new(Integrations::ConnectedVia)
                .text()
                .not_null()
                .default("MANUAL")
                .to_owned(),
            ColumnDef::new(Integrations::WebhookState)
                .text()
                .not_null()
                .default("OFF")
                .to_owned(),
            text_null(Integrations::WebhookSecretHash),
            text_null(Integrations::WebhookDestination),
            text_null(Integrations::WebhookError),
            timestamp_null(Integrations::WebhooksRegisteredAt),
            timestamp_null(Integrations::LastWebhookAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Integrations::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Integrations::LastWebhookAt,
            Integrations::WebhooksRegisteredAt,
            Integrations::WebhookError,
            Integrations::WebhookDestination,
            Integrations::WebhookSecretHash,
            Integrations::WebhookState,
            Integrations::ConnectedVia,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Integrations::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AppInstallations::Table).to_owned())
            .await
    }
}
