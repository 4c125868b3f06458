//! Shipments made here and their lines. A shipment is the outbox of its own push to
//! the store: `push_state`, `push_due_at` and a lease (`push_claimed_*`) drive the push worker;
//! `external_id` holds the store's shipment id once known, so it is never created twice.

use sea_orm_migration::prelude::*;

use crate::columns::{
    big, big_null, cascade, fk, id, index, json_null, text, text_null, timestamp, timestamp_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Shipments {
    Table,
    Id,
    AccountId,
    IntegrationId,
    OrderId,
    Method,
    Carrier,
    Service,
    TrackingNumber,
    ShippingProvider,
    TrackingCarrier,
    OrderAddressId,
    Weight,
    ContactPhone,
    ContactEmail,
    Customs,
    IdempotencyKey,
    PushState,
    PushAttempts,
    PushError,
    PushDueAt,
    PushClaimedBy,
    PushClaimedUntil,
    PushedAt,
    ExternalId,
    TrackingLink,
    CreatedByUserId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum ShipmentLines {
    Table,
    Id,
    AccountId,
    ShipmentId,
    OrderLineId,
    OrderProductId,
    Sku,
    Name,
    Quantity,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Shipments::Table)
                    .col(id(Shipments::Id))
                    .col(fk(Shipments::AccountId))
                    .col(fk(Shipments::IntegrationId))
                    .col(fk(Shipments::OrderId))
                    .col(text(Shipments::Method))
                    .col(text_null(Shipments::Carrier))
                    .col(text_null(Shipments::Service))
                    .col(text(Shipments::TrackingNumber))
                    .col(text(Shipments::ShippingProvider))
                    .col(text(Shipments::TrackingCarrier))
                    .col(big(Shipments::OrderAddressId))
                    .col(text_null(Shipments::Weight))
                    .col(text_null(Shipments::ContactPhone))
                    .col(text_null(Shipments::ContactEmail))
                    .col(json_null(Shipments::Customs))
                    .col(text_null(Shipments::IdempotencyKey))
                    .col(text(Shipments::PushState))
                    .col(big(Shipments::PushAttempts))
                    .col(text_null(Shipments::PushError))
                    .col(timestamp_null(Shipments::PushDueAt))
                    .col(text_null(Shipments::PushClaimedBy))
                    .col(timestamp_null(Shipments::PushClaimedUntil))
                    .col(timestamp_null(Shipments::PushedAt))
                    .col(big_null(Shipments::ExternalId))
                    .col(text_null(Shipments::TrackingLink))
                    .col(big_null(Shipments::CreatedByUserId))
                    .col(timestamp(Shipments::CreatedAt))
                    .col(timestamp(Shipments::UpdatedAt))
                    .foreign_key(&mut cascade(
                        Shipments::Table,
                        Shipments::OrderId,
                        Orders::Table,
                        Orders::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ShipmentLines::Table)
                    .col(id(ShipmentLines::Id))
                    .col(fk(ShipmentLines::AccountId))
                    .col(fk(ShipmentLines::ShipmentId))
                    // No foreign key: a line the store later removes from the order stays
                    // shipped here (sku and name are kept for that).
                    .col(big(ShipmentLines::OrderLineId))
                    .col(big(ShipmentLines::OrderProductId))
                    .col(text_null(ShipmentLines::Sku))
                    .col(text(ShipmentLines::Name))
                    .col(big(ShipmentLines::Quantity))
                    .foreign_key(&mut cascade(
                        ShipmentLines::Table,
                        ShipmentLines::ShipmentId,
                        Shipments::Table,
                        Shipments::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        let indexes = [
            index(
                "shipments_order",
                Shipments::Table,
                vec![Shipments::OrderId],
                false,
            ),
            index(
                "shipments_account_idempotency",
                Shipments::Table,
                vec![
                    Shipments::AccountId,
                    Shipments::IdempotencyKey,
                    Shipments::OrderAddressId,
                ],
                true,
            ),
            index(
                "shipments_integration_external",
                Shipments::Table,
                vec![Shipments::IntegrationId, Shipments::ExternalId],
                true,
            ),
            index(
                "shipments_push_due",
                Shipments::Table,
                vec![Shipments::PushDueAt],
                false,
            ),
        ];
        for i in indexes {
            manager.create_index(i).await?;
        }
        for i in [
            index(
                "shipment_lines_shipment",
                ShipmentLines::Table,
                vec![ShipmentLines::ShipmentId],
                false,
            ),
            index(
                "shipment_lines_order_line",
                ShipmentLines::Table,
                vec![ShipmentLines::OrderLineId],
                false,
            ),
        ] {
            manager.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ShipmentLines::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Shipments::Table).to_owned())
            .await
    }
}
