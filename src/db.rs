//! Database connection and migrations, on SQLite and PostgreSQL alike.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, TransactionTrait,
};

use crate::config::{Settings, StartupError};
use crate::secret::redact_url;
pub use scoped_futures::{ScopedBoxFuture, ScopedFutureExt};

/// Key of the PostgreSQL advisory lock that serialises migrations across replicas.
const MIGRATION_LOCK_KEY: i64 = 0x6f72_6465_7264;

/// The pool's connections lent out and idle, for the metrics.
pub fn pool_figures(db: &DatabaseConnection) -> Option<crate::metrics::Pool> {
    let (size, idle) = match db.get_database_backend() {
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DbBackend::MySql => return None,
    };
    let idle = i64::try_from(idle).unwrap_or(i64::MAX);
    Some(crate::metrics::Pool {
        in_use: (i64::from(size) - idle).max(0),
        idle,
    })
}

/// Connects to the configured database (creating the data directory for the default SQLite
/// file), with WAL mode on SQLite.
pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let mut url = settings.effective_database_url();
    let sqlite = url.starts_with("sqlite:");
    if settings.database_url.is_none() {
        writable_data_dir(&settings.data_dir)?;
    }
    let memory = sqlite && url.contains(":memory:");
    if sqlite && !memory && !url.contains("mode=") {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str("mode=rwc");
    }
    if sqlite && !memory && url.contains("mode=rwc") {
        create_sqlite_file(&url)?;
    }
    if !sqlite {
        reach_postgres(&url).await?;
    }
    if !sqlite && !url.contains("statement_timeout") {
        // No statement outlives the request that asked for it: a request stopped at its time
        // budget leaves nothing running on the server (migrations lift it for themselves).
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!(
            "options[statement_timeout]={}",
            settings.request_timeout.as_millis()
        ));
    }
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(if memory {
            1
        } else {
            settings.db_max_connections
        })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .with_context(|| format!("connecting to the database {}", redact_url(&url)))?;
    if sqlite && !memory {
        // Readers never wait for the writer; persistent in the database file.
        db.execute_unprepared("PRAGMA journal_mode=WAL")
            .await
            .context("enabling SQLite WAL mode")?;
    }
    Ok(db)
}

/// Creates the SQLite database file, empty (SQLite takes an empty file for an empty database)
/// and private to its owner (0600), when it does not exist yet: SQLite would create it 0644.
/// SQLite gives the -wal, -shm and -journal files it creates next to it the main file's mode
/// (`findCreateFileMode` and `unixOpenSharedMemory` in its unix VFS), so they are 0600 too. An
/// existing file keeps its mode: orderdeck did not create it.
/// Creates the data directory (0700) when missing and checks a file can be written in it.
pub fn writable_data_dir(dir: &std::path::Path) -> Result<(), StartupError> {
    let fail = |e: std::io::Error| {
        StartupError(format!(
            "the data directory {} cannot be written: {e} (set ORDERDECK_DATA_DIR to a \
             writable directory)",
            dir.display()
        ))
    };
    crate::crypto::create_private_dir(dir).map_err(fail)?;
    let probe = dir.join(format!(".write-check-{}", std::process::id()));
    crate::crypto::create_private_file(&probe)
        .or_else(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                std::fs::OpenOptions::new().write(true).open(&probe)
            } else {
                Err(e)
            }
        })
        .map_err(fail)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// How long the first connection to PostgreSQL may take at start.
const REACH_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects once to the PostgreSQL server of `url`, so that one it cannot reach is named with
/// its host, port and the cause (refused, no answer, authentication, no such database) within
/// [`REACH_TIMEOUT`], instead of the pool's bare time-out.
async fn reach_postgres(url: &str) -> Result<(), StartupError> {
    use sea_orm::sqlx::postgres::PgConnectOptions;
    use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
    let options = PgConnectOptions::from_str(url).map_err(|e| {
        StartupError(format!(
            "DATABASE_URL is not a PostgreSQL URL ({}): {e}",
            redact_url(url)
        ))
    })?;
    let place = format!("{}:{}", options.get_host(), options.get_port());
    let fail = |cause: String| {
        StartupError(format!(
            "cannot reach the database at {place}: {cause} (DATABASE_URL {})",
            redact_url(url)
        ))
    };
    match tokio::time::timeout(REACH_TIMEOUT, options.connect()).await {
        Err(_) => Err(fail(format!(
            "no answer within {} s (a firewall, or a wrong host)",
            REACH_TIMEOUT.as_secs()
        ))),
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(fail(reach_cause(&e))),
    }
}

/// The cause of a failed first connection, in plain words.
fn reach_cause(e: &sea_orm::sqlx::Error) -> String {
    use sea_orm::sqlx::Error;
    match e {
        Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused (is PostgreSQL running and listening there?)".into()
        }
        Error::Io(io) => format!("connection failed: {io}"),
        Error::Tls(tls) => format!("TLS failed: {tls}"),
        Error::Database(db) => match db.code().as_deref() {
            Some("28P01" | "28000") => format!("authentication failed: {}", db.message()),
            Some("3D000") => format!("no such database: {}", db.message()),
            _ => format!("the server refused: {}", db.message()),
        },
        other => other.to_string(),
    }
}

fn create_sqlite_file(url: &str) -> anyhow::Result<()> {
    let options = sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .with_context(|| format!("reading the SQLite database URL {}", redact_url(url)))?;
    let path = options.get_filename();
    match crate::crypto::create_private_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            Err(e).with_context(|| format!("creating the database file {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Applies pending migrations. On PostgreSQL an advisory lock makes replicas that start
/// together take turns.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let txn = db
                .begin()
                .await
                .context("starting the migration transaction")?;
            txn.execute_unprepared("SET LOCAL statement_timeout = 0")
                .await
                .context("lifting the statement timeout for migrations")?;
            txn.execute_unprepared(&format!(
                "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
            ))
            .await
            .context("taking the migration lock")?;
            Migrator::up(&txn, None)
                .await
                .context("running migrations")?;
            txn.commit().await.context("committing migrations")?;
        }
        _ => Migrator::up(db, None).await.context("running migrations")?,
    }
    Ok(())
}

/// Records the secret key's fingerprint on first start and checks it on every later one: a
/// process (a replica, or a restart with a lost key file) holding another key than the one the
/// stored store tokens were encrypted with refuses to start, saying so.
pub async fn check_secret_key(
    db: &DatabaseConnection,
    key: &crate::crypto::MasterKey,
) -> anyhow::Result<()> {
    let backend = db.get_database_backend();
    let fingerprint = key.fingerprint();
    let param = match backend {
        DbBackend::Postgres => "$1",
        _ => "?1",
    };
    let insert = format!(
        "INSERT INTO instance_facts (name, value) VALUES ('secret_key_fingerprint', {param}) \
         ON CONFLICT (name) DO NOTHING"
    );
    let select = "SELECT value FROM instance_facts WHERE name = 'secret_key_fingerprint'";
    db.execute(sea_orm::Statement::from_sql_and_values(
        backend,
        insert,
        [fingerprint.clone().into()],
    ))
    .await
    .context("recording the secret key's fingerprint")?;
    let stored: String = db
        .query_one(sea_orm::Statement::from_string(backend, select))
        .await
        .context("reading the secret key's fingerprint")?
        .context("no secret key fingerprint")?
        .try_get_by_index(0)
        .context("reading the secret key's fingerprint")?;
    if stored != fingerprint {
        return Err(StartupError(
            "this database's store tokens were encrypted with another secret key than this \
             process holds (ORDERDECK_SECRET_KEY, or secret.key in the data directory when it \
             is not set): give every replica the same ORDERDECK_SECRET_KEY, or restore the key"
                .into(),
        )
        .into());
    }
    Ok(())
}

/// Starts a transaction that will write (through [`write`], the one way use cases write). On SQLite it takes the write lock at once (a no-op
/// `UPDATE`): a deferred transaction that reads before it writes fails with `SQLITE_BUSY` when
/// another writer commits in between, while one that starts with a write waits its turn (the
/// busy timeout). On PostgreSQL it is a plain `BEGIN`.
async fn begin_write(
    db: &DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    let txn = db.begin().await?;
    if txn.get_database_backend() == DbBackend::Sqlite {
        txn.execute_unprepared("UPDATE accounts SET id = id WHERE 1 = 0")
            .await?;
    }
    Ok(txn)
}

/// Whether a statement failed only because of other transactions running at the same time: a
/// PostgreSQL deadlock (`40P01`, one of the transactions is aborted) or serialization failure
/// (`40001`), or SQLite's busy/locked. Running the whole transaction again is then correct.
pub fn is_transient(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{sqlx, DbErr, RuntimeErr};
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(sqlx::Error::Database(d)))
        | DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::Database(d))) => matches!(
            d.code().as_deref(),
            Some("40P01" | "40001" | "5" | "6" | "517" | "262")
        ),
        _ => false,
    }
}

/// True when a database error is a unique-constraint violation.
pub fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// An error that can tell whether it is, at its root, an [`is_transient`] database error.
pub trait Transient {
    /// Whether running the failed transaction again is the answer.
    fn is_transient(&self) -> bool;
    /// What went wrong, for the log.
    fn describe(&self) -> String;
}

impl Transient for crate::error::AppError {
    fn is_transient(&self) -> bool {
        crate::error::AppError::is_transient(self)
    }
    fn describe(&self) -> String {
        self.report().to_string()
    }
}

impl Transient for sea_orm::DbErr {
    fn is_transient(&self) -> bool {
        is_transient(self)
    }
    fn describe(&self) -> String {
        self.to_string()
    }
}

/// The one way a use case writes: runs `work` in a transaction started with [`begin_write`],
/// commits when it returns `Ok` and rolls back when it returns `Err` (nothing half-written),
/// and runs it all again from the start, up to 5 times, when only a concurrent transaction
/// made it fail ([`Transient`]: a PostgreSQL deadlock or serialization failure, SQLite busy).
/// `work` may therefore run more than once: it must do nothing but database work, and
/// effects such as waking the push worker come after `write` returns.
///
/// ```ignore
/// let order = db::write(&state.db, |txn| async move { cancel_in(txn, p, id).await }.scope_boxed()).await?;
/// ```
pub async fn write<'a, T, E, F>(db: &DatabaseConnection, mut work: F) -> Result<T, E>
where
    E: Transient + From<sea_orm::DbErr>,
    F: for<'t> FnMut(&'t sea_orm::DatabaseTransaction) -> ScopedBoxFuture<'a, 't, Result<T, E>>,
{
    let mut attempt = 0u64;
    loop {
        attempt += 1;
        let result: Result<T, E> = async {
            let txn = begin_write(db).await?;
            let value = work(&txn).await?;
            txn.commit().await?;
            Ok(value)
        }
        .await;
        match result {
            Err(e) if attempt < 5 && e.is_transient() => {
                tracing::info!(attempt, error = %e.describe(), "a transaction met a concurrent one; trying again");
                tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::borrow::Cow;
    use std::sync::atomic::{AtomicU32, Ordering};

    use sea_orm::sqlx::error::{DatabaseError, ErrorKind};
    use sea_orm::{sqlx, DbErr, RuntimeErr};

    use sea_orm::{
        ActiveModelTrait, ConnectOptions, Database, DatabaseConnection, EntityTrait, Set,
    };

    use super::{is_transient, write, ScopedFutureExt};
    use crate::entities::account;
    use crate::error::AppError;

    /// A migrated SQLite database in memory (one connection: each would have its own).
    async fn memory_db() -> DatabaseConnection {
        let mut options = ConnectOptions::new("sqlite::memory:");
        options.max_connections(1).sqlx_logging(false);
        let db = Database::connect(options).await.unwrap();
        super::migrate(&db).await.unwrap();
        db
    }

    /// A database error with this SQLSTATE.
    #[derive(Debug)]
    struct Coded(&'static str);

    impl std::fmt::Display for Coded {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "database error {}", self.0)
        }
    }

    impl std::error::Error for Coded {}

    impl DatabaseError for Coded {
        fn message(&self) -> &str {
            "database error"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            ErrorKind::Other
        }
    }

    fn db_error(code: &'static str) -> DbErr {
        DbErr::Exec(RuntimeErr::SqlxError(sqlx::Error::Database(Box::new(
            Coded(code),
        ))))
    }

    #[test]
    fn deadlocks_and_serialization_failures_are_transient_and_constraint_violations_are_not() {
        assert!(is_transient(&db_error("40P01")));
        assert!(is_transient(&db_error("40001")));
        assert!(!is_transient(&db_error("23505")));
        assert!(!is_transient(&DbErr::Custom("40P01".into())));
    }

    #[tokio::test]
    async fn a_transaction_aborted_as_a_deadlock_runs_again_until_it_commits() {
        let db = memory_db().await;
        let runs = AtomicU32::new(0);
        let result = write(&db, |_| {
            async {
                match runs.fetch_add(1, Ordering::SeqCst) {
                    0 | 1 => Err(AppError::from(db_error("40P01"))),
                    n => Ok(n),
                }
            }
            .scope_boxed()
        })
        .await;
        assert_eq!(result.ok(), Some(2));
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn other_errors_are_not_run_again_and_deadlocks_only_five_times() {
        let db = memory_db().await;
        let runs = AtomicU32::new(0);
        let unique = write(&db, |_| {
            async {
                runs.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(AppError::from(db_error("23505")))
            }
            .scope_boxed()
        })
        .await;
        assert!(unique.is_err());
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        let runs = AtomicU32::new(0);
        let deadlocked = write(&db, |_| {
            async {
                runs.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(AppError::from(db_error("40P01")))
            }
            .scope_boxed()
        })
        .await;
        assert!(deadlocked.is_err());
        assert_eq!(runs.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn a_write_that_fails_half_way_leaves_nothing_and_one_that_succeeds_commits() {
        let db = memory_db().await;
        let insert = |name: &'static str| account::ActiveModel {
            name: Set(name.to_string()),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        };
        let failed = write(&db, |txn| {
            async move {
                insert("half").insert(txn).await?;
                Err::<(), _>(AppError::internal("failed after the insert"))
            }
            .scope_boxed()
        })
        .await;
        assert!(failed.is_err());
        assert!(account::Entity::find().all(&db).await.unwrap().is_empty());
        let id = write(&db, |txn| {
            async move { Ok::<_, AppError>(insert("whole").insert(txn).await?.id) }.scope_boxed()
        })
        .await
        .unwrap();
        let stored = account::Entity::find_by_id(id).one(&db).await.unwrap();
        assert_eq!(stored.map(|a| a.name), Some("whole".to_string()));
    }
}
