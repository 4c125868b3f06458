use crate::helpers::spawn_app;

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
