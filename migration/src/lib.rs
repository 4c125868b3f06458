//! Database migrations for orderdeck: one migration per file, each with its own identifiers
//! (never the live entities), so old migrations keep compiling as the entities change.
// A migration is one schema listing: its functions stay whole however long.
#![allow(clippy::too_many_lines)]

pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261127_000001_create_accounts_and_users;
mod m20261127_000002_create_sessions;
mod m20261127_000003_create_integrations;
mod m20261127_000004_create_integration_logos;
mod m20261127_000005_create_inventory_items_and_listings;
mod m20261127_000006_create_orders;
mod m20261127_000007_create_stock_movements;
mod m20261127_000008_create_sync_jobs_and_runs;
mod m20261128_000009_create_push_queue;
mod m20261128_000010_create_invoices;
mod m20261128_000011_create_shipments;
mod m20261128_000012_create_app_installations_and_webhooks;
mod m20261128_000013_order_read_indexes;
mod m20261204_000014_order_counts_and_search;
mod m20261204_000015_create_instance_facts;
mod m20261206_000016_teams;
mod m20261207_000017_low_stock;
mod m20261207_000018_bundles_and_buffers;
mod m20261207_000019_bin_locations;
mod m20261207_000020_order_messages;
mod m20261207_000021_order_merges;
mod m20261207_000022_batches;
mod m20261207_000023_thumbnails;
mod m20261207_000024_shipping_ex_tax;
mod m20261207_000025_health_indexes;

/// Applies every migration in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_accounts_and_users::Migration),
            Box::new(m20261127_000002_create_sessions::Migration),
            Box::new(m20261127_000003_create_integrations::Migration),
            Box::new(m20261127_000004_create_integration_logos::Migration),
            Box::new(m20261127_000005_create_inventory_items_and_listings::Migration),
            Box::new(m20261127_000006_create_orders::Migration),
            Box::new(m20261127_000007_create_stock_movements::Migration),
            Box::new(m20261127_000008_create_sync_jobs_and_runs::Migration),
            Box::new(m20261128_000009_create_push_queue::Migration),
            Box::new(m20261128_000010_create_invoices::Migration),
            Box::new(m20261128_000011_create_shipments::Migration),
            Box::new(m20261128_000012_create_app_installations_and_webhooks::Migration),
            Box::new(m20261128_000013_order_read_indexes::Migration),
            Box::new(m20261204_000014_order_counts_and_search::Migration),
            Box::new(m20261204_000015_create_instance_facts::Migration),
            Box::new(m20261206_000016_teams::Migration),
            Box::new(m20261207_000017_low_stock::Migration),
            Box::new(m20261207_000018_bundles_and_buffers::Migration),
            Box::new(m20261207_000019_bin_locations::Migration),
            Box::new(m20261207_000020_order_messages::Migration),
            Box::new(m20261207_000021_order_merges::Migration),
            Box::new(m20261207_000022_batches::Migration),
            Box::new(m20261207_000023_thumbnails::Migration),
            Box::new(m20261207_000024_shipping_ex_tax::Migration),
            Box::new(m20261207_000025_health_indexes::Migration),
        ]
    }
}
