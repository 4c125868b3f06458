use std::time::Duration;

use serde_json::json;

use crate::support::{codes, error_code, spawn_app, TestApp, ME, PASSWORD};

#[tokio::test]
async fn registering_creates_an_account_and_its_first_user() {
    let app = spawn_app().await;
    let reg = app.register("Acme Ltd", "Owner@Example.com").await;
    assert_eq!(reg["userErrors"], json!([]));
    assert_eq!(reg["user"]["email"], "owner@example.com");
    assert_eq!(reg["user"]["account"]["name"], "Acme Ltd");
    assert_eq!(
        (app.rows("accounts").await, app.rows("users").await),
        (1, 1)
    );
}

#[tokio::test]
async fn invalid_registration_input_is_reported_field_by_field_and_nothing_is_saved() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({ "accountName": " ", "email": "a@example.com", "password": PASSWORD }),
            "REQUIRED",
            "accountName",
        ),
        (
            json!({ "accountName": "A", "email": "not-an-email", "password": PASSWORD }),
            "INVALID_EMAIL",
            "email",
        ),
        (
            json!({ "accountName": "A", "email": "a@example.com", "password": "short" }),
            "PASSWORD_TOO_SHORT",
            "password",
        ),
        (
            json!({ "accountName": "A", "email": "a@example.com", "password": "x".repeat(129) }),
            "PASSWORD_TOO_LONG",
            "password",
        ),
        (
            json!({ "accountName": "A".repeat(201), "email": "a@example.com", "password": PASSWORD }),
            "TOO_LONG",
            "accountName",
        ),
    ];
    for (input, code, field) in cases {
        let res = app
            .data(None, "mutation($i: RegisterInput!) { register(input: $i) { user { id } userErrors { field code message } } }", json!({ "i": input }))
            .await;
        let payload = &res["register"];
        assert_eq!(codes(payload), vec![code.to_string()], "{payload}");
        assert_eq!(payload["userErrors"][0]["field"], json!([field]));
        assert!(payload["user"].is_null());
    }
    assert_eq!(
        (app.rows("accounts").await, app.rows("users").await),
        (0, 0)
    );
}

#[tokio::test]
async fn an_email_can_register_only_once_whatever_its_case() {
    let app = spawn_app().await;
    app.register("First", "dup@example.com").await;
    let again = app.register("Second", "DUP@example.com").await;
    assert_eq!(codes(&again), vec!["EMAIL_TAKEN"]);
    assert_eq!(app.rows("accounts").await, 1);
}

#[tokio::test]
async fn a_login_token_identifies_the_user_and_is_stored_only_as_a_hash() {
    let app = spawn_app().await;
    let token = app.signed_in("me@example.com").await;
    assert!(token.starts_with("odk_"));
    let me = app.data(Some(&token), ME, json!({})).await;
    assert_eq!(me["me"]["email"], "me@example.com");
    assert_eq!(me["me"]["account"]["name"], "Company of me@example.com");
    let stored = app
        .state
        .db
        .query_one(sea_orm::Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT token_hash FROM sessions".to_string(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "token_hash")
        .unwrap();
    assert!(!stored.contains(&token) && !token.contains(&stored));
}

use sea_orm::ConnectionTrait;

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.register("Acme", "known@example.com").await;
    let wrong_password = app.login("known@example.com", "wrong password!").await;
    let unknown_email = app.login("nobody@example.com", PASSWORD).await;
    assert_eq!(codes(&wrong_password), vec!["INVALID_CREDENTIALS"]);
    assert_eq!(wrong_password["userErrors"], unknown_email["userErrors"]);
    assert!(wrong_password["token"].is_null() && unknown_email["token"].is_null());
    assert_eq!(app.rows("sessions").await, 0);
}

#[tokio::test]
async fn logging_out_revokes_the_token_used() {
    let app = spawn_app().await;
    let first = app.signed_in("out@example.com").await;
    let second = app.login("out@example.com", PASSWORD).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let out = app
        .data(
            Some(&first),
            "mutation { logout { revokedSessions userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(out["logout"]["revokedSessions"], 1);
    assert_eq!(
        error_code(&app.gql(Some(&first), ME, json!({})).await),
        "UNAUTHENTICATED"
    );
    assert!(app.gql(Some(&second), ME, json!({})).await["errors"].is_null());
}

#[tokio::test]
async fn logging_out_everywhere_revokes_every_token_of_the_user() {
    let app = spawn_app().await;
    let first = app.signed_in("all@example.com").await;
    let second = app.login("all@example.com", PASSWORD).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let out = app
        .data(
            Some(&first),
            "mutation { logout(input: { everywhere: true }) { revokedSessions } }",
            json!({}),
        )
        .await;
    assert_eq!(out["logout"]["revokedSessions"], 2);
    assert_eq!(
        error_code(&app.gql(Some(&second), ME, json!({})).await),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = TestApp::builder()
        .settings(|s| s.session_ttl = Duration::from_secs(1))
        .spawn()
        .await;
    let token = app.signed_in("late@example.com").await;
    assert!(app.gql(Some(&token), ME, json!({})).await["errors"].is_null());
    // Time passing is the point: the session's one second runs out.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        error_code(&app.gql(Some(&token), ME, json!({})).await),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn requests_without_a_valid_token_are_unauthenticated() {
    let app = spawn_app().await;
    for header in [None, Some("odk_forged"), Some("not-even-a-token")] {
        let body = app.gql(header, ME, json!({})).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{header:?}");
    }
    let basic = app
        .http
        .post(format!("{}/graphql", app.address))
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(error_code(&basic), "UNAUTHENTICATED");
}

const REGISTER: &str = "mutation($i: RegisterInput!) { register(input: $i) { user { id } userErrors { field code message } } }";
const NEW_PASSWORD: &str = "violet kettle on the moon";

/// Spawns the app with `email` registered and logged in twice: the app, the token that will
/// call, and the other one.
async fn user_with_two_sessions(email: &str) -> (TestApp, String, String) {
    let app = spawn_app().await;
    let caller = app.signed_in(email).await;
    let other = app.login(email, PASSWORD).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    (app, caller, other)
}

#[tokio::test]
async fn short_common_and_blank_passwords_are_refused_at_registration() {
    let app = spawn_app().await;
    let email = "weak@example.com";
    let cases = [
        ("eleven char".to_string(), "PASSWORD_TOO_SHORT"),
        (" ".repeat(10), "PASSWORD_TOO_SHORT"),
        ("password12".to_string(), "PASSWORD_TOO_SHORT"),
        (" ".repeat(12), "PASSWORD_TOO_COMMON"),
        ("\t\t\t\t  \n   \t  ".to_string(), "CONTROL_CHARACTERS"),
        ("z".repeat(12), "PASSWORD_TOO_COMMON"),
        ("password1234".to_string(), "PASSWORD_TOO_COMMON"),
        ("123456789012".to_string(), "PASSWORD_TOO_COMMON"),
        ("qwertyuiopas".to_string(), "PASSWORD_TOO_COMMON"),
        ("Weak@Example.com".to_string(), "PASSWORD_TOO_COMMON"),
    ];
    for (password, code) in cases {
        let input = json!({ "accountName": "Weak Ltd", "email": email, "password": password });
        let payload = &app.data(None, REGISTER, json!({ "i": input })).await["register"];
        assert_eq!(
            codes(payload),
            vec![code.to_string()],
            "{password:?}: {payload}"
        );
        assert_eq!(payload["userErrors"][0]["field"], json!(["password"]));
    }
    assert_eq!(app.rows("users").await, 0);
}

#[tokio::test]
async fn changing_the_password_revokes_every_other_session_and_keeps_the_callers() {
    let email = "change@example.com";
    let (app, caller, other) = user_with_two_sessions(email).await;

    let res = app
        .change_password(Some(&caller), PASSWORD, NEW_PASSWORD)
        .await;

    let payload = &res["data"]["changePassword"];
    assert_eq!(payload["userErrors"], json!([]), "{res}");
    assert_eq!(payload["revokedSessions"], 1);
    assert!(app.token_works(&caller).await);
    assert!(!app.token_works(&other).await);
    app.assert_password(email, NEW_PASSWORD, PASSWORD).await;
}

#[tokio::test]
async fn a_wrong_current_password_changes_nothing() {
    let email = "wrong@example.com";
    let (app, caller, other) = user_with_two_sessions(email).await;

    let res = app
        .change_password(Some(&caller), "not my password at all", NEW_PASSWORD)
        .await;

    let payload = &res["data"]["changePassword"];
    assert_eq!(codes(payload), vec!["INVALID_CREDENTIALS"], "{res}");
    assert_eq!(
        payload["userErrors"][0]["field"],
        json!(["currentPassword"])
    );
    assert_eq!(payload["revokedSessions"], 0);
    assert!(app.token_works(&other).await);
    app.assert_password(email, PASSWORD, NEW_PASSWORD).await;
}

#[tokio::test]
async fn a_weak_new_password_is_refused_and_changes_nothing() {
    let email = "weaknew@example.com";
    let (app, caller, other) = user_with_two_sessions(email).await;
    for (new, code) in [
        ("short pass", "PASSWORD_TOO_SHORT"),
        ("password1234", "PASSWORD_TOO_COMMON"),
        ("            ", "PASSWORD_TOO_COMMON"),
        (email, "PASSWORD_TOO_COMMON"),
    ] {
        let res = app.change_password(Some(&caller), PASSWORD, new).await;

        let payload = &res["data"]["changePassword"];
        assert_eq!(codes(payload), vec![code.to_string()], "{new:?}: {res}");
        assert_eq!(payload["userErrors"][0]["field"], json!(["newPassword"]));
    }
    assert!(app.token_works(&other).await);
    app.assert_password(email, PASSWORD, "short pass").await;
}

#[tokio::test]
async fn changing_the_password_needs_a_logged_in_user() {
    let app = spawn_app().await;
    app.register("Acme", "anon@example.com").await;

    let res = app.change_password(None, PASSWORD, NEW_PASSWORD).await;

    assert_eq!(error_code(&res), "UNAUTHENTICATED", "{res}");
    assert!(app.login("anon@example.com", PASSWORD).await["token"].is_string());
}

/// Runs `orderdeck reset-password EMAIL` against the app's database: exit success, stdout,
/// stderr.
async fn reset_password_command(app: &TestApp, email: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let key = app
        .state
        .settings
        .secret_key
        .as_ref()
        .map(|k| k.expose().clone())
        .unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_orderdeck"));
    command
        .args(["reset-password", email])
        .env_clear()
        .env("DATABASE_URL", app.db_url())
        .env("ORDERDECK_SECRET_KEY", key)
        .env("ORDERDECK_DATA_DIR", dir.path().join("data"))
        .current_dir(dir.path());
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test]
async fn the_reset_password_command_prints_a_new_password_and_revokes_every_session() {
    let email = "locked-out@example.com";
    let (app, first, second) = user_with_two_sessions(email).await;

    let (ok, stdout, stderr) = reset_password_command(&app, "Locked-Out@example.com").await;

    assert!(ok, "stdout: {stdout}\nstderr: {stderr}");
    let printed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("One-time password: "))
        .collect();
    assert_eq!(printed.len(), 1, "{stdout}");
    let password = printed[0];
    assert!(password.chars().count() >= 20, "{password}");
    assert_eq!(stdout.matches(password).count(), 1, "{stdout}");
    assert!(stdout.contains("changePassword"), "{stdout}");
    assert!(!app.token_works(&first).await && !app.token_works(&second).await);
    app.assert_password(email, password, PASSWORD).await;
}

#[tokio::test]
async fn the_reset_password_command_fails_plainly_for_an_unknown_email() {
    let app = spawn_app().await;
    let token = app.signed_in("known@example.com").await;

    let (ok, stdout, stderr) = reset_password_command(&app, "nobody@example.com").await;

    assert!(!ok, "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("nobody@example.com"), "{stderr}");
    assert!(!stdout.contains("One-time password"), "{stdout}");
    assert!(app.token_works(&token).await);
}
