use serde_json::{json, Value};

use crate::support::{error_code, spawn_app};

#[test]
fn schema_graphql_equals_the_served_schema() {
    let file =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    let served = orderdeck::graphql::sdl();
    assert!(
        file == served,
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql`"
    );
}

/// Scalars of GraphQL and of async-graphql itself (`Decimal` is an exact decimal in a JSON string).
const BUILT_IN: &[&str] = &["String", "Int", "Float", "Boolean", "ID", "Decimal"];

#[tokio::test]
async fn every_type_field_argument_and_enum_value_has_a_description() {
    let app = spawn_app().await;
    let body = app
        .data(
            None,
            "{ __schema { types { name description
                fields { name description args { name description } }
                inputFields { name description }
                enumValues { name description } } } }",
            json!({}),
        )
        .await;
    let mut missing = Vec::new();
    let blank = |v: &Value| v.as_str().map(str::trim).unwrap_or("").is_empty();
    for t in body["__schema"]["types"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if name.starts_with("__") || BUILT_IN.contains(&name) {
            continue;
        }
        if blank(&t["description"]) {
            missing.push(name.to_string());
        }
        for list in ["fields", "inputFields", "enumValues"] {
            for f in t[list].as_array().into_iter().flatten() {
                if blank(&f["description"]) {
                    missing.push(format!("{name}.{}", f["name"].as_str().unwrap()));
                }
                for a in f["args"].as_array().into_iter().flatten() {
                    if blank(&a["description"]) {
                        missing.push(format!(
                            "{name}.{}({})",
                            f["name"].as_str().unwrap(),
                            a["name"].as_str().unwrap()
                        ));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:?}");
}

#[tokio::test]
async fn a_query_deeper_than_the_limit_is_refused() {
    let app = spawn_app().await;
    let mut inner = "name".to_string();
    for _ in 0..20 {
        inner = format!("ofType {{ {inner} }}");
    }
    let body = app
        .gql(
            None,
            &format!("{{ __schema {{ types {{ fields {{ type {{ {inner} }} }} }} }} }}"),
            json!({}),
        )
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too deep"),
        "{body}"
    );
}

#[tokio::test]
async fn a_query_more_complex_than_the_limit_is_refused() {
    let app = spawn_app().await;
    let token = app.signed_in("complex@example.com").await;
    // Few root fields (below the root-field limit), each a page of pages.
    let fields: String = (0..5)
        .map(|i| {
            format!("a{i}: products(first: 100) {{ nodes {{ stockMovements(first: 100) {{ nodes {{ id }} }} }} }} ")
        })
        .collect();
    let body = app
        .gql(Some(&token), &format!("{{ {fields} }}"), json!({}))
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("complex"),
        "{body}"
    );
}

#[tokio::test]
async fn the_page_size_is_capped() {
    let app = spawn_app().await;
    let token = app.signed_in("pages@example.com").await;
    for first in [0, 101] {
        let body = app
            .gql(
                Some(&token),
                "query($f: Int!) { integrations(first: $f) { totalCount } }",
                json!({ "f": first }),
            )
            .await;
        assert!(
            body["errors"].is_array(),
            "first: {first} was accepted: {body}"
        );
    }
}

#[tokio::test]
async fn an_oversized_request_body_is_refused_with_413() {
    let app = spawn_app().await;
    let padding = "x".repeat(1024 * 1024 + 1);
    let res = app
        .http
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": "{ __typename }", "variables": { "pad": padding } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn batched_requests_and_mutations_over_get_are_refused() {
    let app = spawn_app().await;
    let batch = app
        .http
        .post(format!("{}/graphql", app.address))
        .json(&json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]))
        .send()
        .await
        .unwrap();
    assert_eq!(batch.status(), 400);
    let get_mutation = app
        .http
        .get(format!("{}/graphql", app.address))
        .query(&[("query", "mutation { logout { revokedSessions } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(get_mutation.status(), 405);
    let get_query = app
        .http
        .get(format!("{}/graphql", app.address))
        .query(&[("query", "{ me { email } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(get_query.status(), 200);
    let body: Value = get_query.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_page_of_a_hundred_orders_with_every_field_lines_listings_and_products_is_within_the_limits(
) {
    let app = spawn_app().await;
    let token = app.signed_in("bigpage@example.com").await;
    let money = "{ amount currencyCode }";
    let address = "{ firstName lastName company street1 street2 city state postalCode countryCode country phone email }";
    let query = format!(
        "{{ orders(first: 100) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ \
           id number status channelStatusId channelStatus integration {{ id alias storeHash }} \
           currencyCode subtotalExTax {money} subtotalIncTax {money} shipping {money} tax {money} \
           total {money} customerName customerEmail customerPhone billingAddress {address} \
           shippingAddresses {{ address {address} shippingMethod }} \
           lines {{ id externalId sku name quantity quantityShipped unitPrice {money} total {money} \
                    weight linked listing {{ id title price sku stockPushState }} \
                    product {{ id sku name stock }} }} \
           placedAt channelModifiedAt shippedAt historical stockTaken restocked importedAt }} }} }}"
    );
    let body = app.gql(Some(&token), &query, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["orders"]["totalCount"], 0);
}
