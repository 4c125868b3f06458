//! Indexes for the stores' health (the API's `Integration.health` and the metrics scrape, which
//! reads it for every store at once): the last successful order import of each store, listings
//! whose last push failed, and shipments by push state, each read from an index instead of a
//! scan of a table that grows with the years (sync runs) or the catalogue (listings).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (name, statement) of each index; plain SQL that SQLite and PostgreSQL both read (the
/// listing index is partial: only listings with a push error are in it).
const INDEXES: [(&str, &str); 3] = [
    (
        "sync_runs_last_success",
        r#"CREATE INDEX "sync_runs_last_success" ON "sync_runs" ("kind", "outcome", "integration_id", "finished_at")"#,
    ),
    (
        "listings_push_failed",
        r#"CREATE INDEX "listings_push_failed" ON "listings" ("integration_id") WHERE "push_error" IS NOT NULL"#,
    ),
    (
        "shipments_push_state",
        r#"CREATE INDEX "shipments_push_state" ON "shipments" ("push_state", "integration_id")"#,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (_, create) in INDEXES {
            db.execute_unprepared(create).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _) in INDEXES {
            db.execute_unprepared(&format!(r#"DROP INDEX "{name}""#))
                .await?;
        }
        Ok(())
    }
}
