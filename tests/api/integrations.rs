use orderdeck_sandbox::config::UnknownStore;
use orderdeck_sandbox::model::scopes;
use orderdeck_sandbox::seed;
use serde_json::{json, Value};

use crate::support::{closed_port_url, codes, spawn_app, store_input, TestApp, INTEGRATION_FIELDS};

/// A token of the first store's API account that lacks `store_v2_information`.
const NO_INFO_SCOPE_TOKEN: &str = "no-information-scope-token";

/// Adds an API account with every scope but `store_v2_information` to the first store.
fn add_account_without_information_scope(app: &TestApp) {
    app.sandbox.with_store(&app.store.hash, |s| {
        s.accounts.push(seed::account(
            "client-no-info".into(),
            NO_INFO_SCOPE_TOKEN.into(),
            &[scopes::ORDERS, scopes::PRODUCTS, scopes::INVENTORY],
        ))
    });
}

const UPDATE: &str = "mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) { integration { FIELDS } userErrors { field code message } } }";

async fn update(app: &TestApp, token: &str, input: Value) -> Value {
    app.data(
        Some(token),
        &UPDATE.replace("FIELDS", INTEGRATION_FIELDS),
        json!({ "i": input }),
    )
    .await["updateIntegration"]
        .clone()
}

async fn fetch(app: &TestApp, token: &str, id: &Value) -> Value {
    app.data(
        Some(token),
        &format!("query($id: ID!) {{ integration(id: $id) {{ {INTEGRATION_FIELDS} }} }}"),
        json!({ "id": id }),
    )
    .await["integration"]
        .clone()
}

#[tokio::test]
async fn connecting_a_store_checks_its_credentials_and_defaults_the_alias_to_the_store_name() {
    let app = spawn_app().await;
    let token = app.signed_in("shop@example.com").await;
    let hash = app.store.hash.clone();
    let currency = app
        .sandbox
        .with_store(&hash, |s| s.currency.clone())
        .unwrap();
    let res = app
        .connect(
            &token,
            json!({ "storeHash": format!("Stores/{}", hash.to_uppercase()) }),
        )
        .await;
    assert_eq!(res["userErrors"], json!([]), "{res}");
    let i = &res["integration"];
    assert_eq!(i["storeHash"], hash.as_str());
    assert_eq!(i["alias"], "Sandbox Store 1");
    assert_eq!(i["storeName"], "Sandbox Store 1");
    assert_eq!(i["storeCurrency"], currency.as_str());
    assert_eq!(i["status"], "ACTIVE");
    assert_eq!(i["channel"], "BIGCOMMERCE");
    assert_eq!(i["orderManagement"], true);
    assert_eq!(i["inventoryManagement"], true);
    assert_eq!(i["historicalImport"], "LAST_30_DAYS");
    assert_eq!(i["phoneMode"], "PREFILL");
    assert_eq!(app.store_calls(), 1);
    assert_eq!(fetch(&app, &token, &i["id"]).await, *i);
}

#[tokio::test]
async fn the_access_token_is_encrypted_at_rest_and_only_its_last_four_characters_are_shown() {
    let app = spawn_app().await;
    let token = app.signed_in("secret@example.com").await;
    let res = app.connect(&token, json!({})).await;
    let secret = app.store.access_token.as_str();
    assert_eq!(
        res["integration"]["accessTokenLast4"],
        &secret[secret.len() - 4..]
    );
    assert!(!res.to_string().contains(secret));
    use sea_orm::ConnectionTrait;
    let row = app
        .state
        .db
        .query_one(sea_orm::Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT access_token_ciphertext FROM integrations".to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    let stored: String = row.try_get("", "access_token_ciphertext").unwrap();
    assert!(stored.starts_with("v1:") && !stored.contains(secret));
}

/// Each bad input gets its own code, on its field, and nothing is saved. The sandbox answers
/// unknown store hashes with 404 here; store-side failures are injected as faults, one case
/// at a time.
#[tokio::test]
async fn every_bad_connect_input_has_its_own_code_and_saves_nothing() {
    let app = TestApp::builder()
        .sandbox(|c| c.unknown_store = UnknownStore::NotFound)
        .spawn()
        .await;
    add_account_without_information_scope(&app);
    let token = app.signed_in("bad@example.com").await;
    let store_faults = |input: &Value| match input["storeHash"].as_str() {
        Some("slowstore") => Some(json!({ "latency_ms": 3000 })),
        Some("ratelimited") => Some(json!({ "schedule": [429] })),
        Some("broken500") => Some(json!({ "schedule": [500] })),
        _ => None,
    };
    let cases: Vec<(Value, &str, Value)> = vec![
        (
            json!({ "storeHash": "not a hash!" }),
            "INVALID_STORE_HASH",
            json!(["storeHash"]),
        ),
        (
            json!({ "accessToken": "wrong-token" }),
            "CREDENTIALS_REJECTED",
            json!(["accessToken"]),
        ),
        (
            json!({ "accessToken": NO_INFO_SCOPE_TOKEN }),
            "MISSING_SCOPE",
            json!(["accessToken"]),
        ),
        (
            json!({ "storeHash": "missing1" }),
            "STORE_NOT_FOUND",
            json!(["storeHash"]),
        ),
        // The next three are the first store with injected faults (see `store_faults`).
        (
            json!({ "storeHash": "slowstore" }),
            "STORE_TIMEOUT",
            json!(["storeHash"]),
        ),
        (
            json!({ "storeHash": "ratelimited" }),
            "STORE_RATE_LIMITED",
            json!([]),
        ),
        (
            json!({ "storeHash": "broken500" }),
            "STORE_ERROR",
            json!([]),
        ),
        (
            json!({ "orderManagement": false }),
            "ORDER_MANAGEMENT_REQUIRED",
            json!(["orderManagement"]),
        ),
        (
            json!({ "accessToken": "  " }),
            "REQUIRED",
            json!(["accessToken"]),
        ),
        (json!({ "clientId": "" }), "REQUIRED", json!(["clientId"])),
        (
            json!({ "iossNumber": "IM12" }),
            "INVALID_IOSS_NUMBER",
            json!(["iossNumber"]),
        ),
        (
            json!({ "phone": "call me" }),
            "INVALID_PHONE",
            json!(["phone"]),
        ),
        (
            json!({ "email": "nope" }),
            "INVALID_EMAIL",
            json!(["email"]),
        ),
        (
            json!({ "alias": "x".repeat(201) }),
            "TOO_LONG",
            json!(["alias"]),
        ),
        (
            json!({ "historicalImport": "SINCE_DATE" }),
            "INVALID_DATE",
            json!(["historicalImportSince"]),
        ),
        (
            json!({ "historicalImport": "SINCE_DATE", "historicalImportSince": "2999-01-01" }),
            "INVALID_DATE",
            json!(["historicalImportSince"]),
        ),
        (
            json!({ "returnAddress": { "street1": "Main 1", "city": "Berlin", "countryCode": "Germany" } }),
            "INVALID_COUNTRY_CODE",
            json!(["returnAddress", "countryCode"]),
        ),
        (
            json!({ "returnAddress": { "street1": " ", "city": "Berlin", "countryCode": "DE" } }),
            "REQUIRED",
            json!(["returnAddress", "street1"]),
        ),
    ];
    for (case, code, field) in cases {
        let faults = store_faults(&case);
        let input = match &faults {
            Some(f) => {
                app.faults(f.clone()).await;
                json!({})
            }
            None => case.clone(),
        };
        let res = app.connect(&token, input).await;
        if faults.is_some() {
            app.clear_faults().await;
        }
        assert_eq!(codes(&res), vec![code.to_string()], "case {case}: {res}");
        assert_eq!(res["userErrors"][0]["field"], field, "case {case}");
        assert!(res["integration"].is_null());
    }
    assert_eq!(app.rows("integrations").await, 0);
    assert_eq!(app.integration_count(&token).await, 0);
}

#[tokio::test]
async fn input_errors_are_found_before_the_store_is_called() {
    let app = spawn_app().await;
    let token = app.signed_in("early@example.com").await;
    let res = app
        .connect(
            &token,
            json!({ "storeHash": "bad hash", "iossNumber": "nope", "orderManagement": false }),
        )
        .await;
    let mut found = codes(&res);
    found.sort();
    assert_eq!(
        found,
        vec![
            "INVALID_IOSS_NUMBER",
            "INVALID_STORE_HASH",
            "ORDER_MANAGEMENT_REQUIRED"
        ]
    );
    assert_eq!(app.store_calls(), 0);
    assert_eq!(app.sandbox_requests(), 0);
}

/// BigCommerce's answer to an unknown store hash is unverified (403 or 404); with the
/// sandbox's default (the 403 scope body) it reads as a token without the scope.
#[tokio::test]
async fn an_unknown_store_hash_answered_with_403_reads_as_a_missing_scope() {
    let app = spawn_app().await;
    let token = app.signed_in("ambiguous@example.com").await;
    let res = app
        .connect(&token, json!({ "storeHash": "missing1" }))
        .await;
    assert_eq!(codes(&res), vec!["MISSING_SCOPE"]);
    assert_eq!(app.rows("integrations").await, 0);
}

#[tokio::test]
async fn an_unreachable_store_is_reported_as_such() {
    let app = TestApp::builder()
        .settings(|s| s.bigcommerce_api_url = closed_port_url())
        .spawn()
        .await;
    let token = app.signed_in("offline@example.com").await;
    let res = app.connect(&token, json!({})).await;
    assert_eq!(codes(&res), vec!["STORE_UNREACHABLE"]);
    assert_eq!(app.rows("integrations").await, 0);
}

#[tokio::test]
async fn an_alias_is_unique_within_the_account() {
    let app = spawn_app().await;
    let token = app.signed_in("alias@example.com").await;
    let other = app.sandbox.add_store(0, 0);
    let third = app.sandbox.add_store(0, 0);
    let fourth = app.sandbox.add_store(0, 0);
    assert_eq!(fourth.name, "Sandbox Store 4");
    assert_eq!(
        app.connect(&token, json!({ "alias": "Main" })).await["userErrors"],
        json!([])
    );
    let explicit = app
        .connect(&token, store_input(&other, json!({ "alias": "Main" })))
        .await;
    assert_eq!(codes(&explicit), vec!["ALIAS_TAKEN"]);
    // The default alias (the store's name) is checked too.
    assert_eq!(
        app.connect(
            &token,
            store_input(&third, json!({ "alias": fourth.name.clone() }))
        )
        .await["userErrors"],
        json!([])
    );
    let by_default = app.connect(&token, store_input(&fourth, json!({}))).await;
    assert_eq!(codes(&by_default), vec!["ALIAS_TAKEN"]);
    assert_eq!(app.integration_count(&token).await, 2);
}

#[tokio::test]
async fn a_store_cannot_be_connected_twice_to_one_account() {
    let app = spawn_app().await;
    let token = app.signed_in("twice@example.com").await;
    app.connect(&token, json!({})).await;
    let again = app
        .connect(&token, json!({ "alias": "Another name" }))
        .await;
    assert_eq!(codes(&again), vec!["STORE_ALREADY_CONNECTED"]);
    assert_eq!(app.rows("integrations").await, 1);
}

#[tokio::test]
async fn every_option_can_be_edited_and_null_clears_optional_ones() {
    let app = spawn_app().await;
    let token = app.signed_in("edit@example.com").await;
    let id = app.connect(&token, json!({})).await["integration"]["id"].clone();
    let res = update(
        &app,
        &token,
        json!({
            "id": id,
            "alias": "Berlin shop",
            "clientId": "client-2",
            "inventoryManagement": false,
            "orderManagement": true,
            "historicalImport": "SINCE_DATE",
            "historicalImportSince": "2026-01-15",
            "iossNumber": "im 0123456789",
            "returnAddress": { "name": "Returns", "company": "Acme GmbH", "street1": "Hauptstraße 1", "city": "Berlin", "postalCode": "10115", "countryCode": "de" },
            "phone": "+49 30 1234567",
            "phoneMode": "OVERWRITE",
            "email": "Returns@Acme.example",
            "emailMode": "OVERWRITE",
        }),
    )
    .await;
    assert_eq!(res["userErrors"], json!([]), "{res}");
    let i = fetch(&app, &token, &id).await;
    assert_eq!(i["alias"], "Berlin shop");
    assert_eq!(i["clientId"], "client-2");
    assert_eq!(i["inventoryManagement"], false);
    assert_eq!(i["historicalImport"], "SINCE_DATE");
    assert_eq!(i["historicalImportSince"], "2026-01-15");
    assert!(i["importOrdersSince"]
        .as_str()
        .unwrap()
        .starts_with("2026-01-15T00:00:00"));
    assert_eq!(i["iossNumber"], "IM0123456789");
    assert_eq!(i["returnAddress"]["street1"], "Hauptstraße 1");
    assert_eq!(i["returnAddress"]["countryCode"], "DE");
    assert_eq!(i["phone"], "+49 30 1234567");
    assert_eq!(i["phoneMode"], "OVERWRITE");
    assert_eq!(i["email"], "returns@acme.example");
    assert_eq!(i["emailMode"], "OVERWRITE");

    let cleared = update(
        &app,
        &token,
        json!({ "id": id, "iossNumber": null, "returnAddress": null, "phone": null }),
    )
    .await;
    assert_eq!(cleared["userErrors"], json!([]));
    let i = fetch(&app, &token, &id).await;
    assert!(i["iossNumber"].is_null() && i["returnAddress"].is_null() && i["phone"].is_null());
    assert_eq!(
        i["email"], "returns@acme.example",
        "omitted fields are kept"
    );
}

#[tokio::test]
async fn an_invalid_edit_changes_nothing() {
    let app = spawn_app().await;
    let token = app.signed_in("atomic@example.com").await;
    let id = app.connect(&token, json!({ "alias": "Before" })).await["integration"]["id"].clone();
    let before = fetch(&app, &token, &id).await;
    let res = update(
        &app,
        &token,
        json!({ "id": id, "alias": "After", "phone": "+1 555 0100", "iossNumber": "bad" }),
    )
    .await;
    assert_eq!(codes(&res), vec!["INVALID_IOSS_NUMBER"]);
    assert_eq!(fetch(&app, &token, &id).await, before);
    let blank = update(&app, &token, json!({ "id": id, "alias": "   " })).await;
    assert_eq!(codes(&blank), vec!["REQUIRED"]);
    let unknown = update(
        &app,
        &token,
        json!({ "id": "gid://orderdeck/Integration/999", "alias": "X" }),
    )
    .await;
    assert_eq!(codes(&unknown), vec!["NOT_FOUND"]);
    assert_eq!(fetch(&app, &token, &id).await, before);
}

#[tokio::test]
async fn renaming_to_another_stores_alias_is_refused() {
    let app = spawn_app().await;
    let token = app.signed_in("rename@example.com").await;
    app.connect(&token, json!({ "alias": "One" })).await;
    let two = app.sandbox.add_store(0, 0);
    let id = app
        .connect(&token, store_input(&two, json!({ "alias": "Two" })))
        .await["integration"]["id"]
        .clone();
    assert_eq!(
        codes(&update(&app, &token, json!({ "id": id, "alias": "One" })).await),
        vec!["ALIAS_TAKEN"]
    );
    assert_eq!(
        update(&app, &token, json!({ "id": id, "alias": "Two" })).await["userErrors"],
        json!([])
    );
}

#[tokio::test]
async fn a_new_access_token_is_checked_against_the_store_before_it_is_saved() {
    let app = spawn_app().await;
    let token = app.signed_in("rotate@example.com").await;
    let id = app.connect(&token, json!({})).await["integration"]["id"].clone();
    let rejected = update(
        &app,
        &token,
        json!({ "id": id, "accessToken": "revoked-token" }),
    )
    .await;
    assert_eq!(codes(&rejected), vec!["CREDENTIALS_REJECTED"]);
    let old = app.store.access_token.as_str();
    assert_eq!(
        fetch(&app, &token, &id).await["accessTokenLast4"],
        &old[old.len() - 4..]
    );
    // A second API account of the same store.
    app.sandbox.with_store(&app.store.hash, |s| {
        s.accounts.push(seed::account(
            "client-rotated".into(),
            "good-new-token-9876".into(),
            scopes::ALL,
        ))
    });
    let rotated = update(
        &app,
        &token,
        json!({ "id": id, "accessToken": "good-new-token-9876" }),
    )
    .await;
    assert_eq!(rotated["integration"]["accessTokenLast4"], "9876");
}

#[tokio::test]
async fn disconnecting_erases_the_token_keeps_the_store_and_reconnecting_restores_it() {
    let app = spawn_app().await;
    let token = app.signed_in("disc@example.com").await;
    let id = app.connect(&token, json!({ "alias": "Kept" })).await["integration"]["id"].clone();
    let q = format!("mutation($i: DisconnectIntegrationInput!) {{ disconnectIntegration(input: $i) {{ integration {{ {INTEGRATION_FIELDS} }} userErrors {{ code }} }} }}");
    let first = app
        .data(Some(&token), &q, json!({ "i": { "id": id } }))
        .await["disconnectIntegration"]
        .clone();
    assert_eq!(first["integration"]["status"], "DISCONNECTED");
    assert!(first["integration"]["accessTokenLast4"].is_null());
    assert!(first["integration"]["disconnectedAt"].is_string());
    let second = app
        .data(Some(&token), &q, json!({ "i": { "id": id } }))
        .await["disconnectIntegration"]
        .clone();
    assert_eq!(
        second["integration"], first["integration"],
        "disconnecting twice changes nothing"
    );
    assert_eq!(app.integration_count(&token).await, 1);

    let again = app.connect(&token, json!({})).await;
    assert_eq!(again["userErrors"], json!([]));
    assert_eq!(
        again["integration"]["id"], id,
        "the same integration comes back"
    );
    assert_eq!(again["integration"]["status"], "ACTIVE");
    assert_eq!(app.rows("integrations").await, 1);
}

#[tokio::test]
async fn integrations_are_listed_in_pages_with_a_total_and_a_status_filter() {
    let app = spawn_app().await;
    let token = app.signed_in("list@example.com").await;
    let stores = [
        app.store.clone(),
        app.sandbox.add_store(0, 0),
        app.sandbox.add_store(0, 0),
    ];
    let mut ids = Vec::new();
    for store in &stores {
        ids.push(
            app.connect(&token, store_input(store, json!({}))).await["integration"]["id"].clone(),
        );
    }
    let hash = |i: usize| json!({ "storeHash": stores[i].hash });
    let page = "query($after: String, $status: IntegrationStatus) { integrations(first: 2, after: $after, status: $status) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } nodes { storeHash } } }";
    let first = app.data(Some(&token), page, json!({})).await["integrations"].clone();
    assert_eq!(first["totalCount"], 3);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["nodes"], json!([hash(0), hash(1)]));
    let second = app
        .data(
            Some(&token),
            page,
            json!({ "after": first["pageInfo"]["endCursor"] }),
        )
        .await["integrations"]
        .clone();
    assert_eq!(second["pageInfo"]["hasNextPage"], false);
    assert_eq!(second["edges"][0]["node"]["id"], ids[2]);

    app.data(
        Some(&token),
        "mutation($i: DisconnectIntegrationInput!) { disconnectIntegration(input: $i) { userErrors { code } } }",
        json!({ "i": { "id": ids[1] } }),
    )
    .await;
    let active = app
        .data(Some(&token), page, json!({ "status": "ACTIVE" }))
        .await["integrations"]
        .clone();
    assert_eq!(active["totalCount"], 2);
    assert_eq!(active["nodes"], json!([hash(0), hash(2)]));
}
