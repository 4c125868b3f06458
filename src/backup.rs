//! `orderdeck backup FILE` and `orderdeck restore FILE` for SQLite (PostgreSQL has `pg_dump`
//! and `pg_restore`: see the README). A backup is a consistent copy taken while the server
//! runs (`VACUUM INTO`: one read transaction, so writers go on); both commands check the copy
//! (`PRAGMA integrity_check`), its migration level and the secret key's fingerprint, and say
//! what to do when they do not fit.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

use crate::config::{Settings, StartupError};
use crate::crypto::MasterKey;

/// What a backup file holds, as checked.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Its size in bytes.
    pub bytes: u64,
    /// The newest migration applied to it.
    pub migration: String,
    /// The fingerprint of the secret key its store tokens were encrypted with.
    pub key_fingerprint: String,
}

fn plain(message: impl Into<String>) -> anyhow::Error {
    StartupError(message.into()).into()
}

/// The SQLite file of `settings`, or why there is none to back up or restore.
fn sqlite_path(settings: &Settings) -> anyhow::Result<PathBuf> {
    let url = settings.effective_database_url();
    if !url.starts_with("sqlite:") {
        return Err(plain(
            "backup and restore copy a SQLite database; for PostgreSQL use pg_dump and \
             pg_restore (see the README, Operating it)",
        ));
    }
    let options = sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(&url)
        .context("reading the SQLite database URL")?;
    Ok(options.get_filename().to_path_buf())
}

async fn open_read_only(path: &Path) -> anyhow::Result<DatabaseConnection> {
    let url = format!("sqlite://{}?mode=ro", path.display());
    let mut options = sea_orm::ConnectOptions::new(url);
    options.max_connections(1).sqlx_logging(false);
    Database::connect(options)
        .await
        .with_context(|| format!("opening {}", path.display()))
}

async fn one_text(db: &DatabaseConnection, sql: &str) -> anyhow::Result<Option<String>> {
    let row = db
        .query_one(Statement::from_string(DbBackend::Sqlite, sql))
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get_by_index::<String>(0)?),
        None => None,
    })
}

/// Checks the SQLite file at `path`: intact, migrated by orderdeck, with a key fingerprint.
pub async fn check(path: &Path) -> anyhow::Result<Checked> {
    let bytes = std::fs::metadata(path)
        .map_err(|e| plain(format!("cannot read {}: {e}", path.display())))?
        .len();
    let db = open_read_only(path).await?;
    let integrity = one_text(&db, "PRAGMA integrity_check").await.ok().flatten();
    if integrity.as_deref() != Some("ok") {
        return Err(plain(format!(
            "{} is not an intact SQLite database (integrity check: {})",
            path.display(),
            integrity.unwrap_or_else(|| "unreadable".into())
        )));
    }
    let migration = one_text(
        &db,
        "SELECT version FROM seaql_migrations ORDER BY version DESC LIMIT 1",
    )
    .await
    .ok()
    .flatten()
    .ok_or_else(|| plain(format!("{} is not an orderdeck database", path.display())))?;
    let key_fingerprint = one_text(
        &db,
        "SELECT value FROM instance_facts WHERE name = 'secret_key_fingerprint'",
    )
    .await
    .ok()
    .flatten()
    .ok_or_else(|| {
        plain(format!(
            "{} has no secret key fingerprint: it never ran a server",
            path.display()
        ))
    })?;
    db.close().await.ok();
    Ok(Checked {
        bytes,
        migration,
        key_fingerprint,
    })
}

/// Compares the backup's key with the one this process holds.
fn check_key(settings: &Settings, checked: &Checked) -> anyhow::Result<()> {
    match MasterKey::load(settings)? {
        Some(key) if key.fingerprint() == checked.key_fingerprint => Ok(()),
        Some(key) => Err(plain(format!(
            "the backup's store tokens were encrypted with another secret key (its fingerprint \
             {}, this process's {}): set ORDERDECK_SECRET_KEY to the key the backup was made \
             with",
            checked.key_fingerprint,
            key.fingerprint()
        ))),
        None => Err(plain(format!(
            "no secret key: set ORDERDECK_SECRET_KEY to the key the backup was made with \
             (fingerprint {}), or put its secret.key in the data directory",
            checked.key_fingerprint
        ))),
    }
}

/// Writes a consistent copy of the SQLite database to `file` (which must not exist) while the
/// server may be running, then checks the copy.
pub async fn backup(settings: &Settings, file: &Path) -> anyhow::Result<Checked> {
    let source = sqlite_path(settings)?;
    if !source.exists() {
        return Err(plain(format!(
            "no database at {} (DATABASE_URL / ORDERDECK_DATA_DIR)",
            source.display()
        )));
    }
    if file.exists() {
        return Err(plain(format!(
            "{} exists: back up into a new file",
            file.display()
        )));
    }
    let db = open_read_only(&source).await?;
    db.execute(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "VACUUM INTO ?",
        [file.display().to_string().into()],
    ))
    .await
    .map_err(|e| plain(format!("cannot write {}: {e}", file.display())))?;
    db.close().await.ok();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
    }
    let checked = check(file).await?;
    check_key(settings, &checked)?;
    Ok(checked)
}

/// Puts the backup `file` back as the database of `settings`, into a data directory without a
/// database; refuses a copy that is damaged, made by a newer orderdeck, or encrypted with
/// another secret key.
pub async fn restore(settings: &Settings, file: &Path) -> anyhow::Result<Checked> {
    let target = sqlite_path(settings)?;
    let taken = [
        target.clone(),
        PathBuf::from(format!("{}-wal", target.display())),
    ]
    .into_iter()
    .any(|p| std::fs::metadata(&p).is_ok_and(|m| m.len() > 0));
    if taken {
        return Err(plain(format!(
            "{} already holds a database: restore into an empty data directory (move the \
             present one away first)",
            target.display()
        )));
    }
    let checked = check(file).await?;
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    if !known.contains(&checked.migration) {
        return Err(plain(format!(
            "the backup was made by a newer orderdeck (migration {}): restore it with that \
             version or a newer one",
            checked.migration
        )));
    }
    check_key(settings, &checked)?;
    if let Some(dir) = target.parent() {
        crate::db::writable_data_dir(dir)?;
    }
    let partial = target.with_extension("restoring");
    std::fs::copy(file, &partial)
        .map_err(|e| plain(format!("cannot write {}: {e}", partial.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&partial, &target)
        .map_err(|e| plain(format!("cannot write {}: {e}", target.display())))?;
    Ok(checked)
}
