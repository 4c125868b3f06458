//! Signing in: throttling per email and per client address (shared by replicas through the
//! database), sessions a user can see and revoke, and the purge of what no longer works.

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};

use crate::support::{codes, spawn_app, TestApp, PASSWORD};

const LOGIN: &str =
    "mutation($i: LoginInput!) { login(input: $i) { token userErrors { code message } } }";

async fn login_as(app: &TestApp, email: &str, password: &str) -> Value {
    app.data(
        None,
        LOGIN,
        json!({ "i": { "email": email, "password": password } }),
    )
    .await["login"]
        .clone()
}

/// Moves every recorded sign-in attempt `minutes` into the past, as if that time had gone by.
async fn age_attempts(app: &TestApp, minutes: i64) {
    let db = &app.state.db;
    let backend = db.get_database_backend();
    let rows = db
        .query_all(Statement::from_string(
            backend,
            "SELECT id, created_at FROM sign_in_attempts",
        ))
        .await
        .unwrap();
    for row in rows {
        let id: i64 = row.try_get("", "id").unwrap();
        let at: chrono::DateTime<Utc> = row.try_get("", "created_at").unwrap();
        let sql = match backend {
            sea_orm::DbBackend::Postgres => {
                "UPDATE sign_in_attempts SET created_at = $1 WHERE id = $2"
            }
            _ => "UPDATE sign_in_attempts SET created_at = ? WHERE id = ?",
        };
        db.execute(Statement::from_sql_and_values(
            backend,
            sql,
            [(at - Duration::minutes(minutes)).into(), id.into()],
        ))
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn the_sixth_wrong_password_in_fifteen_minutes_stops_even_the_right_one_until_the_window_passes(
) {
    let app = spawn_app().await;
    app.signed_in("throttled@example.com").await;
    for n in 1..=5 {
        let wrong = login_as(&app, "throttled@example.com", "a wrong password, again").await;
        assert_eq!(
            codes(&wrong),
            ["INVALID_CREDENTIALS"],
            "attempt {n}: {wrong}"
        );
    }

    let refused = login_as(&app, "throttled@example.com", PASSWORD).await;
    assert_eq!(codes(&refused), ["TOO_MANY_ATTEMPTS"], "{refused}");
    assert!(refused["token"].is_null());
    let message = refused["userErrors"][0]["message"].as_str().unwrap();
    let seconds: u64 = message
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no seconds to wait in {message:?}"));
    assert!((850..=900).contains(&seconds), "{message}");
    // Another email is not affected.
    app.signed_in("neighbour@example.com").await;

    age_attempts(&app, 16).await;
    let after = login_as(&app, "throttled@example.com", PASSWORD).await;
    assert!(after["token"].is_string(), "{after}");
}

#[tokio::test]
async fn thirty_one_sign_in_attempts_in_a_minute_from_one_address_get_429_with_retry_after() {
    let app = TestApp::builder()
        .settings(|s| s.sign_in_attempts_per_minute = 30)
        .spawn()
        .await;
    let send = |email: String| {
        let app = &app;
        async move {
            app.http
                .post(format!("{}/graphql", app.address))
                .json(&json!({ "query": LOGIN, "variables": { "i": { "email": email, "password": "whatever it is" } } }))
                .send()
                .await
                .unwrap()
        }
    };
    for n in 0..30 {
        let res = send(format!("nobody-{n}@example.com")).await;
        assert_eq!(res.status(), 200, "attempt {n}");
    }
    let res = send("one-more@example.com".into()).await;
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "TOO_MANY_ATTEMPTS",
        "{body}"
    );

    // The window slides: a minute later the address may try again.
    age_attempts(&app, 2).await;
    assert_eq!(
        send("after-a-minute@example.com".into()).await.status(),
        200
    );
}

#[tokio::test]
async fn a_user_sees_their_sessions_with_devices_and_revokes_one_at_once() {
    let app = spawn_app().await;
    let first = app.signed_in("devices@example.com").await;
    let res = app
        .http
        .post(format!("{}/graphql", app.address))
        .header("user-agent", "Packing station tablet")
        .json(&json!({ "query": LOGIN, "variables": { "i": { "email": "devices@example.com", "password": PASSWORD } } }))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    let tablet = body["data"]["login"]["token"].as_str().unwrap().to_string();

    let listed = app
        .data(
            Some(&first),
            "{ sessions { id userAgent current createdAt lastUsedAt expiresAt } }",
            json!({}),
        )
        .await["sessions"]
        .clone();
    let sessions = listed.as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{listed}");
    assert_eq!(
        sessions[0]["userAgent"], "Packing station tablet",
        "{listed}"
    );
    assert_eq!(sessions[0]["current"], false);
    assert_eq!(sessions[1]["current"], true);

    let revoked = app
        .data(
            Some(&first),
            "mutation($i: RevokeSessionInput!) { revokeSession(input: $i) { session { id } userErrors { code } } }",
            json!({ "i": { "id": sessions[0]["id"] } }),
        )
        .await["revokeSession"]
        .clone();
    assert_eq!(revoked["userErrors"], json!([]), "{revoked}");
    assert!(!app.token_works(&tablet).await);
    assert!(app.token_works(&first).await);

    // Another user's session is not found.
    let other = app.signed_in("other-devices@example.com").await;
    let foreign = app
        .data(
            Some(&other),
            "mutation($i: RevokeSessionInput!) { revokeSession(input: $i) { session { id } userErrors { code } } }",
            json!({ "i": { "id": sessions[1]["id"] } }),
        )
        .await["revokeSession"]
        .clone();
    assert_eq!(codes(&foreign), ["NOT_FOUND"], "{foreign}");
    assert!(app.token_works(&first).await);
}

#[tokio::test]
async fn the_purge_deletes_revoked_and_expired_sessions_used_invitations_and_old_attempts() {
    let app = spawn_app().await;
    let owner = app.signed_in("purge@example.com").await;
    let keep = app.login("purge@example.com", PASSWORD).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    app.gql(
        Some(&owner),
        "mutation { logout { revokedSessions } }",
        json!({}),
    )
    .await;
    let staff = app.member(&keep, "purge-staff@example.com", "STAFF").await;
    let open = app.invite(&keep, "purge-open@example.com", "VIEWER").await;
    assert_eq!(open["userErrors"], json!([]));
    assert!(app.token_works(&staff).await);
    let sessions_before = app.rows("sessions").await;
    age_attempts(&app, 2 * 24 * 60).await;

    let purged = orderdeck::services::sessions::purge(&app.state.db, Utc::now())
        .await
        .unwrap();

    assert_eq!(purged.sessions, 1, "{purged:?}");
    assert_eq!(purged.invitations, 1, "the accepted one: {purged:?}");
    assert!(purged.sign_in_attempts >= 4, "{purged:?}");
    assert_eq!(app.rows("sessions").await, sessions_before - 1);
    assert_eq!(app.rows("invitations").await, 1);
    assert_eq!(app.rows("sign_in_attempts").await, 0);
    assert!(app.token_works(&keep).await);
    assert!(app.token_works(&staff).await);
}
