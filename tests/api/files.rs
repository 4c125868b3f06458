//! The files orderdeck creates are private to the user running it: the data directory 0700,
//! the SQLite database (with its -wal and -shm files) and the generated secret key 0600.
//! These tests use SQLite files whatever TEST_DATABASE_URL says: they are about those files.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use orderdeck::config::Secret;
use orderdeck::crypto::GENERATED_KEY_FILE;

use crate::support::TestApp;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The database file at `db` and the -wal and -shm files SQLite keeps next to it.
fn database_files(db: &Path) -> [std::path::PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    [db.to_path_buf(), with("-wal"), with("-shm")]
}

#[tokio::test]
async fn a_new_data_directory_its_database_and_its_key_are_private_to_their_user() {
    let app = TestApp::builder()
        .settings(|s| {
            s.database_url = None;
            s.secret_key = None;
        })
        .spawn()
        .await;
    let dir = app.state.settings.data_dir.clone();

    assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    for file in database_files(&dir.join("orderdeck.db")) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    assert_eq!(mode(&dir.join(GENERATED_KEY_FILE)), 0o600);
}

#[tokio::test]
async fn a_new_sqlite_file_named_by_database_url_is_private_to_its_user() {
    let elsewhere = tempfile::tempdir().unwrap();
    let db = elsewhere.path().join("explicit.db");
    let url = format!("sqlite://{}", db.display());

    let _app = TestApp::builder()
        .settings(|s| s.database_url = Some(Secret::new(url)))
        .spawn()
        .await;

    for file in database_files(&db) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

#[tokio::test]
async fn an_existing_data_directory_and_database_keep_their_modes() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let db = dir.join("orderdeck.db");
    std::fs::write(&db, b"").unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();

    let _app = TestApp::builder()
        .settings(|s| {
            s.data_dir = dir.clone();
            s.database_url = None;
        })
        .spawn()
        .await;

    assert_eq!(mode(&dir), 0o755);
    // SQLite gives the -wal and -shm files the main file's mode.
    for file in database_files(&db) {
        assert_eq!(mode(&file), 0o644, "{}", file.display());
    }
}
