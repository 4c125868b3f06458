use std::time::Duration;

use serde_json::json;

use crate::helpers::{codes, error_code, spawn_app, spawn_app_with, PASSWORD};

const ME: &str = "{ me { id email account { id name } } }";

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
    let app = spawn_app_with(|s| s.session_ttl = Duration::from_secs(1)).await;
    let token = app.signed_in("late@example.com").await;
    assert!(app.gql(Some(&token), ME, json!({})).await["errors"].is_null());
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
