//! Database migrations for orderdeck: one migration per file, each with its own identifiers
//! (never the live entities), so old migrations keep compiling as the entities change.

pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261127_000001_create_accounts_and_users;
mod m20261127_000002_create_sessions;
mod m20261127_000003_create_integrations;
mod m20261127_000004_create_integration_logos;

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
        ]
    }
}
