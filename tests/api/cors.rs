//! Cross-origin access: the origins of `ORDERDECK_CORS_ORIGINS` get preflights and CORS
//! headers on `/graphql` and the downloads; any other origin gets none.

use reqwest::Method;
use serde_json::json;

use crate::support::{spawn_app, TestApp};

const ALLOWED: &str = "http://localhost:5173";

async fn app_allowing(origins: &[&str]) -> TestApp {
    let origins: Vec<String> = origins.iter().map(|o| o.to_string()).collect();
    TestApp::builder()
        .settings(move |s| s.cors_origins = origins)
        .spawn()
        .await
}

async fn preflight(app: &TestApp, path: &str, origin: &str, method: &str) -> reqwest::Response {
    app.http
        .request(Method::OPTIONS, format!("{}{path}", app.address))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_succeeds_and_another_origin_gets_no_cors_headers() {
    let app = app_allowing(&[ALLOWED, "https://app.example.com"]).await;

    for path in ["/graphql", "/documents/invoices.pdf"] {
        let ok = preflight(&app, path, ALLOWED, "POST").await;
        assert!(ok.status().is_success(), "{path}: {}", ok.status());
        assert_eq!(
            header(&ok, "access-control-allow-origin").as_deref(),
            Some(ALLOWED)
        );
        let methods = header(&ok, "access-control-allow-methods").unwrap_or_default();
        assert!(
            methods.contains("POST") && methods.contains("GET"),
            "{methods}"
        );
        let headers = header(&ok, "access-control-allow-headers")
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(
            headers.contains("authorization") && headers.contains("content-type"),
            "{headers}"
        );
        assert_eq!(
            header(&ok, "access-control-max-age").as_deref(),
            Some("3600")
        );

        let other = preflight(&app, path, "https://evil.example", "POST").await;
        assert!(
            header(&other, "access-control-allow-origin").is_none(),
            "{path}"
        );
    }

    // A real request from the allowed origin carries the header; from another, none.
    for (origin, allowed) in [(ALLOWED, true), ("https://evil.example", false)] {
        let res = app
            .http
            .post(format!("{}/graphql", app.address))
            .header("origin", origin)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            header(&res, "access-control-allow-origin").is_some(),
            allowed,
            "{origin}"
        );
    }
}

#[tokio::test]
async fn without_cors_origins_no_origin_gets_cors_headers() {
    let app = spawn_app().await;
    let res = preflight(&app, "/graphql", ALLOWED, "POST").await;
    assert!(header(&res, "access-control-allow-origin").is_none());
    let res = app
        .http
        .post(format!("{}/graphql", app.address))
        .header("origin", ALLOWED)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(header(&res, "access-control-allow-origin").is_none());
}
