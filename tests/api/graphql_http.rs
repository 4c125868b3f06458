//! GraphQL over HTTP: clients asking for `application/graphql-response+json` get it, with 400
//! for documents that never ran; `application/json` clients get what they always got.

use serde_json::{json, Value};

use crate::support::{spawn_app, TestApp};

const MEDIA: &str = "application/graphql-response+json";

async fn post(app: &TestApp, accept: &str, query: &str) -> (u16, String, Value) {
    let res = app
        .http
        .post(format!("{}/graphql", app.address))
        .header("accept", accept)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let media = res.headers()["content-type"].to_str().unwrap().to_string();
    (status, media, res.json().await.unwrap())
}

#[tokio::test]
async fn graphql_response_json_is_answered_in_kind_with_400_for_documents_that_never_ran() {
    let app = spawn_app().await;
    let accept = format!("{MEDIA}, application/json;q=0.9");

    let (status, media, body) = post(&app, &accept, "{ __typename }").await;
    assert_eq!(
        (status, body["data"]["__typename"].as_str()),
        (200, Some("Query"))
    );
    assert!(media.starts_with(MEDIA), "{media}");

    for broken in ["{ __typename", "{ noSuchField }"] {
        let (status, media, body) = post(&app, &accept, broken).await;
        assert_eq!(status, 400, "{broken}: {body}");
        assert!(media.starts_with(MEDIA), "{media}");
        assert!(body["errors"][0]["message"].is_string(), "{body}");

        let (status, media, _) = post(&app, "application/json", broken).await;
        assert_eq!(status, 200, "{broken}");
        assert!(media.starts_with("application/json"), "{media}");
    }

    // A field error is not a request error: the document ran.
    let (status, _, body) = post(&app, &accept, "{ me { id } }").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn the_root_types_are_named_query_and_mutation() {
    let app = spawn_app().await;
    let data = app
        .data(
            None,
            "{ __schema { queryType { name } mutationType { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
    assert_eq!(data["__schema"]["mutationType"]["name"], "Mutation");
}
