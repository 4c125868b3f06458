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
async fn graphiql_and_every_file_it_names_are_served_by_orderdeck_itself() {
    let app = spawn_app().await;
    let res = app
        .http
        .get(format!("{}/graphiql", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("GraphiQL"));

    // Every src= and href= of the page.
    let mut urls = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            urls.push(part.split('"').next().unwrap().to_string());
        }
    }
    assert_eq!(urls.len(), 4, "{urls:?}");
    for url in &urls {
        assert!(
            url.starts_with('/') && !url.starts_with("//"),
            "{url} is not served by orderdeck"
        );
        let res = app
            .http
            .get(format!("{}{url}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{url}");
        assert_eq!(res.headers()["content-encoding"], "gzip", "{url}");
        let body = res.bytes().await.unwrap();
        assert!(
            body.starts_with(&[0x1f, 0x8b]) && body.len() > 1000,
            "{url}"
        );
    }
    // Every address the page uses is built from its own origin (`window.location`).
    for other_host in ["http://", "https://", "unpkg", "cdn"] {
        assert!(
            !html.contains(other_host),
            "the page names another host: {other_host}"
        );
    }
    let missing = app
        .http
        .get(format!("{}/graphiql/assets/nothing.js", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
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
