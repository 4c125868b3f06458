//! Cheap `totalCount` and indexed search over a large order history.
//!
//! - `order_counts`: how many orders each (account, store, status) has, kept by triggers on
//!   `orders` in the writing transaction (so it is exact at every commit), and filled from the
//!   orders already there. A count by status and/or store sums a handful of rows instead of
//!   walking an index over hundreds of thousands of orders.
//! - Search by part of the customer's email or name: on PostgreSQL, trigram (pg_trgm) GIN
//!   indexes on the lower-cased columns serve `LIKE '%…%'`; on SQLite, an FTS5 table with the
//!   trigram tokenizer over `orders` (external content, kept by triggers) serves substring
//!   queries of three characters or more, folding case for every alphabet.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &[&str] = &[
    "CREATE TABLE order_counts (
        account_id INTEGER NOT NULL,
        integration_id INTEGER NOT NULL,
        status TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (account_id, integration_id, status)
    )",
    "INSERT INTO order_counts (account_id, integration_id, status, n)
        SELECT account_id, integration_id, status, COUNT(*) FROM orders
        GROUP BY account_id, integration_id, status",
    "CREATE TRIGGER order_counts_insert AFTER INSERT ON orders BEGIN
        INSERT INTO order_counts (account_id, integration_id, status, n)
            VALUES (NEW.account_id, NEW.integration_id, NEW.status, 1)
            ON CONFLICT (account_id, integration_id, status) DO UPDATE SET n = n + 1;
    END",
    "CREATE TRIGGER order_counts_delete AFTER DELETE ON orders BEGIN
        UPDATE order_counts SET n = n - 1
            WHERE account_id = OLD.account_id AND integration_id = OLD.integration_id
              AND status = OLD.status;
    END",
    "CREATE TRIGGER order_counts_update AFTER UPDATE OF account_id, integration_id, status ON orders
    WHEN OLD.account_id IS NOT NEW.account_id OR OLD.integration_id IS NOT NEW.integration_id
      OR OLD.status IS NOT NEW.status
    BEGIN
        UPDATE order_counts SET n = n - 1
            WHERE account_id = OLD.account_id AND integration_id = OLD.integration_id
              AND status = OLD.status;
        INSERT INTO order_counts (account_id, integration_id, status, n)
            VALUES (NEW.account_id, NEW.integration_id, NEW.status, 1)
            ON CONFLICT (account_id, integration_id, status) DO UPDATE SET n = n + 1;
    END",
    "CREATE VIRTUAL TABLE orders_search USING fts5(
        customer_email, customer_name,
        content = 'orders', content_rowid = 'id', tokenize = 'trigram'
    )",
    "INSERT INTO orders_search (orders_search) VALUES ('rebuild')",
    "CREATE TRIGGER orders_search_insert AFTER INSERT ON orders BEGIN
        INSERT INTO orders_search (rowid, customer_email, customer_name)
            VALUES (NEW.id, NEW.customer_email, NEW.customer_name);
    END",
    "CREATE TRIGGER orders_search_delete AFTER DELETE ON orders BEGIN
        INSERT INTO orders_search (orders_search, rowid, customer_email, customer_name)
            VALUES ('delete', OLD.id, OLD.customer_email, OLD.customer_name);
    END",
    "CREATE TRIGGER orders_search_update AFTER UPDATE OF customer_email, customer_name ON orders
    WHEN OLD.customer_email IS NOT NEW.customer_email OR OLD.customer_name IS NOT NEW.customer_name
    BEGIN
        INSERT INTO orders_search (orders_search, rowid, customer_email, customer_name)
            VALUES ('delete', OLD.id, OLD.customer_email, OLD.customer_name);
        INSERT INTO orders_search (rowid, customer_email, customer_name)
            VALUES (NEW.id, NEW.customer_email, NEW.customer_name);
    END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS orders_search_update",
    "DROP TRIGGER IF EXISTS orders_search_delete",
    "DROP TRIGGER IF EXISTS orders_search_insert",
    "DROP TABLE IF EXISTS orders_search",
    "DROP TRIGGER IF EXISTS order_counts_update",
    "DROP TRIGGER IF EXISTS order_counts_delete",
    "DROP TRIGGER IF EXISTS order_counts_insert",
    "DROP TABLE IF EXISTS order_counts",
];

const POSTGRES_UP: &[&str] = &[
    "CREATE TABLE order_counts (
        account_id BIGINT NOT NULL,
        integration_id BIGINT NOT NULL,
        status TEXT NOT NULL,
        n BIGINT NOT NULL,
        PRIMARY KEY (account_id, integration_id, status)
    )",
    // Taken before counting, so that no order written meanwhile is missed or counted twice.
    "LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE",
    "INSERT INTO order_counts (account_id, integration_id, status, n)
        SELECT account_id, integration_id, status, COUNT(*) FROM orders
        GROUP BY account_id, integration_id, status",
    "CREATE FUNCTION order_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.account_id = NEW.account_id
           AND OLD.integration_id = NEW.integration_id AND OLD.status = NEW.status THEN
            RETURN NULL;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE order_counts SET n = n - 1
                WHERE account_id = OLD.account_id AND integration_id = OLD.integration_id
                  AND status = OLD.status;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO order_counts (account_id, integration_id, status, n)
                VALUES (NEW.account_id, NEW.integration_id, NEW.status, 1)
                ON CONFLICT (account_id, integration_id, status)
                DO UPDATE SET n = order_counts.n + 1;
        END IF;
        RETURN NULL;
    END
    $$",
    "CREATE TRIGGER order_counts_keep AFTER INSERT OR DELETE OR UPDATE OF account_id, integration_id, status
        ON orders FOR EACH ROW EXECUTE FUNCTION order_counts_keep()",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX orders_email_trgm_idx ON orders USING gin (lower(customer_email) gin_trgm_ops)",
    "CREATE INDEX orders_name_trgm_idx ON orders USING gin (lower(customer_name) gin_trgm_ops)",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS orders_name_trgm_idx",
    "DROP INDEX IF EXISTS orders_email_trgm_idx",
    "DROP TRIGGER IF EXISTS order_counts_keep ON orders",
    "DROP FUNCTION IF EXISTS order_counts_keep()",
    "DROP TABLE IF EXISTS order_counts",
];

async fn run(manager: &SchemaManager<'_>, sqlite: &[&str], postgres: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let statements = match db.get_database_backend() {
        DbBackend::Postgres => postgres,
        _ => sqlite,
    };
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_UP, POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_DOWN, POSTGRES_DOWN).await
    }
}
