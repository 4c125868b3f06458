use crate::support::spawn_app;

#[tokio::test]
async fn the_health_endpoints_answer_when_the_database_is_reachable() {
    let app = spawn_app().await;
    let live = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    assert!(live.headers().contains_key("x-request-id"));
    let ready = app
        .http
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_closed() {
    let app = spawn_app().await;
    app.state.db.clone().close().await.unwrap();
    let ready = app
        .http
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
}

#[tokio::test]
async fn graphiql_is_served() {
    let app = spawn_app().await;
    let res = app
        .http
        .get(format!("{}/graphiql", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("GraphiQL"));
}

#[tokio::test]
async fn a_process_with_another_secret_key_than_the_databases_refuses_to_start() {
    let app = spawn_app().await;
    let mut settings = (*app.state.settings).clone();
    settings.bind = "127.0.0.1:0".into();
    // The same key starts (a second replica).
    let twin = orderdeck::startup::Application::build(settings.clone()).await;
    assert!(twin.is_ok(), "{:?}", twin.err());
    // Another key, or none (a key file generated in an empty data directory), does not.
    let dir = tempfile::tempdir().unwrap();
    for key in [Some(secrecy_key([7u8; 32])), None] {
        let mut other = settings.clone();
        other.secret_key = key;
        other.data_dir = dir.path().to_path_buf();
        let refused = orderdeck::startup::Application::build(other)
            .await
            .err()
            .expect("started with another key");
        let message = format!("{refused:#}");
        assert!(
            message.contains("another secret key") && message.contains("ORDERDECK_SECRET_KEY"),
            "{message}"
        );
    }
}

fn secrecy_key(bytes: [u8; 32]) -> orderdeck::config::Secret<String> {
    use base64::Engine;
    orderdeck::config::Secret::new(base64::engine::general_purpose::STANDARD.encode(bytes))
}
