//! Start-up failures an operator fixes in the configuration or the machine: each is one plain
//! line on stderr naming what to fix, exit code 2, and no backtrace even with RUST_BACKTRACE
//! set, well within 10 seconds.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::support::random_secret_key;

/// Runs `orderdeck serve` in an empty directory with only `env` set (and RUST_BACKTRACE as
/// given): (exit code, stderr, how long it took).
async fn serve(
    env: Vec<(&'static str, String)>,
    key: &str,
    backtrace: bool,
) -> (Option<i32>, String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_orderdeck"));
    command
        .arg("serve")
        .env_clear()
        .env("ORDERDECK_SECRET_KEY", key)
        .env("ORDERDECK_SYNC_ENABLED", "false")
        .env("ORDERDECK_PUSH_ENABLED", "false")
        .current_dir(dir.path());
    if backtrace {
        command.env("RUST_BACKTRACE", "1");
    }
    for (k, v) in env {
        command.env(k, v);
    }
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    drop(dir);
    (
        out.status.code(),
        String::from_utf8(out.stderr).unwrap(),
        started.elapsed(),
    )
}

/// Checks the run ended with one plain line containing every one of `wanted`.
async fn refused(env: Vec<(&'static str, String)>, wanted: &[&str]) {
    let key = random_secret_key();
    for backtrace in [false, true] {
        let (code, stderr, took) = serve(env.clone(), &key, backtrace).await;
        assert_eq!(code, Some(2), "{stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {stderr}");
        assert!(lines[0].starts_with("orderdeck: "), "{stderr}");
        for w in wanted {
            assert!(lines[0].contains(w), "{w:?} in {stderr}");
        }
        assert!(!stderr.contains("backtrace"), "{stderr}");
        assert!(took < Duration::from_secs(10), "took {took:?}");
    }
}

#[tokio::test]
async fn a_database_that_refuses_connections_is_named_with_its_host_and_port() {
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    refused(
        vec![(
            "DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:{closed}/test"),
        )],
        &[&format!("127.0.0.1:{closed}"), "connection refused"],
    )
    .await;
}

#[tokio::test]
async fn a_data_directory_that_cannot_be_written_is_named() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let dir = file.path().join("data");
    refused(
        vec![("ORDERDECK_DATA_DIR", dir.display().to_string())],
        &[
            "data directory",
            &dir.display().to_string(),
            "ORDERDECK_DATA_DIR",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_port_in_use_is_named() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let data = tempfile::tempdir().unwrap();
    refused(
        vec![
            ("ORDERDECK_BIND", addr.to_string()),
            ("ORDERDECK_DATA_DIR", data.path().display().to_string()),
        ],
        &[&addr.to_string(), "in use", "ORDERDECK_BIND"],
    )
    .await;
    drop(taken);
}

#[tokio::test]
async fn a_metrics_port_in_use_is_named() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let data = tempfile::tempdir().unwrap();
    refused(
        vec![
            ("ORDERDECK_BIND", "127.0.0.1:0".into()),
            ("ORDERDECK_METRICS_BIND", addr.to_string()),
            ("ORDERDECK_DATA_DIR", data.path().display().to_string()),
        ],
        &[&addr.to_string(), "in use", "ORDERDECK_METRICS_BIND"],
    )
    .await;
    drop(taken);
}

#[tokio::test]
async fn a_templates_directory_that_cannot_be_read_is_named() {
    let templates = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    refused(
        vec![
            (
                "ORDERDECK_TEMPLATES_DIR",
                templates.path().display().to_string(),
            ),
            ("ORDERDECK_DATA_DIR", data.path().display().to_string()),
        ],
        &["invoice.toml", &templates.path().display().to_string()],
    )
    .await;
}

#[tokio::test]
async fn a_database_of_another_secret_key_is_refused_in_one_line() {
    let data = tempfile::tempdir().unwrap();
    let dir = ("ORDERDECK_DATA_DIR", data.path().display().to_string());
    // A first start makes the database with one key (and is stopped by a port in use).
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = ("ORDERDECK_BIND", taken.local_addr().unwrap().to_string());
    let (code, stderr, _) = serve(vec![dir.clone(), bind], &random_secret_key(), false).await;
    assert_eq!(code, Some(2), "{stderr}");
    refused(vec![dir], &["another secret key", "ORDERDECK_SECRET_KEY"]).await;
}

#[tokio::test]
async fn a_database_that_refuses_the_login_says_so_on_postgresql() {
    let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
        // SQLite run: no server to refuse a login.
        return;
    };
    let Some(rest) = url
        .strip_prefix("postgres://")
        .and_then(|r| r.split_once('@'))
    else {
        return;
    };
    refused(
        vec![(
            "DATABASE_URL",
            format!("postgres://no_such_role_here@{}", rest.1),
        )],
        &["authentication failed", "no_such_role_here"],
    )
    .await;
}
