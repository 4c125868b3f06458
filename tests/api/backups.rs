//! `orderdeck backup` and `orderdeck restore` (SQLite): a copy taken while orders are being
//! imported restores intact, every stock figure equal to its ledger's sum; a taken data
//! directory, another secret key and an existing backup file are each refused in one line.

use std::path::Path;

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::json;

use crate::support::{a_second_passes, random_secret_key, shop};

/// Runs `orderdeck <args>` with the database of `data_dir` (or `database_url`) and `key`:
/// (exit code, stdout, stderr).
async fn command(
    args: Vec<String>,
    database_url: Option<String>,
    data_dir: &Path,
    key: &str,
) -> (Option<i32>, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_orderdeck"));
    cmd.args(args)
        .env_clear()
        .env("ORDERDECK_SECRET_KEY", key)
        .env("ORDERDECK_DATA_DIR", data_dir)
        .current_dir(data_dir.parent().unwrap());
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test]
async fn a_backup_taken_while_orders_are_imported_restores_intact_with_every_figure_explained() {
    let s = shop("backups@example.com").await;
    if s.app.db_url().starts_with("postgres") {
        // PostgreSQL is backed up with pg_dump (README); the command refuses it plainly.
        return;
    }
    s.stocked(&[("BK-1", 5_000), ("BK-2", 5_000)]).await;
    a_second_passes().await;
    for n in 0..1_000 {
        let sku = if n % 3 == 0 { "BK-2" } else { "BK-1" };
        s.place(json!([{ "sku": sku, "quantity": 1 + n % 2 }]))
            .await;
    }
    let key = s
        .app
        .state
        .settings
        .secret_key
        .as_ref()
        .map(|k| k.expose().clone())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("orderdeck-backup.db");
    let unused = dir.path().join("unused-data");

    // The copy is taken while the 1,000 orders are being imported.
    let (imported, (code, stdout, stderr)) = tokio::join!(s.import("ORDERS"), async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        command(
            vec!["backup".into(), file.display().to_string()],
            Some(s.app.db_url()),
            &unused,
            &key,
        )
        .await
    });
    assert_eq!(imported["outcome"], "SUCCEEDED", "{imported}");
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("Backup written"), "{stdout}");

    // Refusals, each one line: the file exists; another key; a data directory with a database.
    let (code, _, stderr) = command(
        vec!["backup".into(), file.display().to_string()],
        Some(s.app.db_url()),
        &unused,
        &key,
    )
    .await;
    assert_eq!((code, stderr.lines().count()), (Some(2), 1), "{stderr}");
    assert!(stderr.contains("exists"), "{stderr}");
    let fresh = dir.path().join("restored");
    let (code, _, stderr) = command(
        vec!["restore".into(), file.display().to_string()],
        None,
        &fresh,
        &random_secret_key(),
    )
    .await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("another secret key"), "{stderr}");

    let (code, stdout, stderr) = command(
        vec!["restore".into(), file.display().to_string()],
        None,
        &fresh,
        &key,
    )
    .await;
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let (code, _, stderr) = command(
        vec!["restore".into(), file.display().to_string()],
        None,
        &fresh,
        &key,
    )
    .await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("already holds a database"), "{stderr}");

    // The restored database is intact and every figure is its ledger's sum.
    let restored = Database::connect(format!(
        "sqlite://{}?mode=ro",
        fresh.join("orderdeck.db").display()
    ))
    .await
    .unwrap();
    let ok = restored
        .query_one(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<String>(0)
        .unwrap();
    assert_eq!(ok, "ok");
    let rows = restored
        .query_all(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT i.sku, i.quantity, COALESCE((SELECT SUM(m.delta) FROM stock_movements m \
             WHERE m.inventory_item_id = i.id), 0) AS ledger FROM inventory_items i",
        ))
        .await
        .unwrap();
    assert!(rows.len() >= 2);
    for r in rows {
        let sku: Option<String> = r.try_get("", "sku").unwrap();
        let (quantity, ledger): (i64, i64) = (
            r.try_get("", "quantity").unwrap(),
            r.try_get("", "ledger").unwrap(),
        );
        assert_eq!(quantity, ledger, "{sku:?}");
    }
}
