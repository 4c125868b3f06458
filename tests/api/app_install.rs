//! The BigCommerce app-store install flow against the sandbox: install → claim → load →
//! uninstall → reinstall, and the refusal of forged, expired and foreign signed payloads.

use serde_json::{json, Value};

use crate::support::{codes, spawn_app, TestApp, APP_CLIENT_ID};

/// The sandbox signs a callback of `kind` for the first store (`flags`: `expired`,
/// `wrong_audience`, `tamper`); the URL the control panel would open.
async fn callback_url(app: &TestApp, kind: &str, flags: Value) -> String {
    let mut body = json!({ "store_hash": app.store.hash });
    for (k, v) in flags.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, answer) = app
        .sandbox_control(&format!("apps/{APP_CLIENT_ID}/callbacks/{kind}"), body)
        .await;
    assert_eq!(status, 200, "{answer}");
    answer["url"].as_str().unwrap().to_string()
}

/// GETs `url`: status and body text.
async fn open(app: &TestApp, url: &str) -> (u16, String) {
    let res = app.http.get(url).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn integration(app: &TestApp, token: &str, id: &str) -> Value {
    app.data(
        Some(token),
        "query($id: ID!) { integration(id: $id) { id status connectedVia clientId accessTokenLast4 alias } }",
        json!({ "id": id }),
    )
    .await["integration"]
        .clone()
}

#[tokio::test]
async fn the_whole_install_claim_load_uninstall_and_reinstall_flow_works_against_the_sandbox() {
    let app = TestApp::builder().public().spawn().await;

    // Install: the auth callback exchanges the code and shows a claim code.
    let code = app.install_app().await;
    assert_eq!(code.len(), 23, "{code}");
    assert_eq!(app.rows("app_installations").await, 1);
    assert_eq!(app.rows("integrations").await, 0);

    // A user registers and claims it (the code is read loosely).
    let token = app.signed_in("owner@example.com").await;
    let claimed = app
        .claim(
            &token,
            json!({ "code": code.to_lowercase().replace('-', " "), "historicalImport": "LAST_90_DAYS" }),
        )
        .await;
    assert_eq!(claimed["userErrors"], json!([]), "{claimed}");
    let i = &claimed["integration"];
    assert_eq!(i["status"], "ACTIVE");
    assert_eq!(i["connectedVia"], "APP");
    assert_eq!(i["clientId"], APP_CLIENT_ID);
    assert_eq!(i["storeHash"], app.store.hash.as_str());
    assert_eq!(i["historicalImport"], "LAST_90_DAYS");
    let id = i["id"].as_str().unwrap().to_string();

    // The app's token works: an order import through it succeeds.
    let runs = app.sync_now(&token, &id, Some("ORDERS")).await;
    assert_eq!(runs["runs"][0]["outcome"], "SUCCEEDED", "{runs}");

    // The code works once.
    let again = app.claim(&token, json!({ "code": code })).await;
    assert_eq!(codes(&again), ["INSTALLATION_NOT_FOUND"], "{again}");
    assert_eq!(app.rows("integrations").await, 1);

    // Load: a verified user sees that orderdeck is an external app, and where.
    let (status, html) = open(&app, &callback_url(&app, "load", json!({})).await).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("external app"), "{html}");
    assert!(
        html.contains(&format!("{}/graphiql", app.address)),
        "{html}"
    );
    assert!(html.contains("is connected to orderdeck"), "{html}");

    // remove_user is verified and answered.
    let (status, body) = open(&app, &callback_url(&app, "remove_user", json!({})).await).await;
    assert_eq!(status, 200, "{body}");

    // Uninstall: the store is disconnected, its history and the integration kept.
    let (status, body) = open(&app, &callback_url(&app, "uninstall", json!({})).await).await;
    assert_eq!(status, 200, "{body}");
    let after = integration(&app, &token, &id).await;
    assert_eq!(after["status"], "DISCONNECTED", "{after}");
    assert!(after["accessTokenLast4"].is_null(), "{after}");

    // Reinstall: a new code reconnects the same integration, keeping its alias.
    let code2 = app.install_app().await;
    assert_ne!(code2, code);
    let reclaimed = app.claim(&token, json!({ "code": code2 })).await;
    assert_eq!(reclaimed["userErrors"], json!([]), "{reclaimed}");
    assert_eq!(reclaimed["integration"]["id"], id.as_str());
    assert_eq!(reclaimed["integration"]["status"], "ACTIVE");
    assert_eq!(reclaimed["integration"]["alias"], after["alias"]);
    assert_eq!(app.rows("integrations").await, 1);
    let runs = app.sync_now(&token, &id, Some("ORDERS")).await;
    assert_eq!(runs["runs"][0]["outcome"], "SUCCEEDED", "{runs}");
}

#[tokio::test]
async fn forged_expired_and_wrong_audience_payloads_are_refused_by_every_callback() {
    let app = TestApp::builder().public().spawn().await;
    let code = app.install_app().await;
    let token = app.signed_in("owner@example.com").await;
    let claimed = app.claim(&token, json!({ "code": code })).await;
    let id = claimed["integration"]["id"].as_str().unwrap().to_string();

    for kind in ["load", "uninstall", "remove_user"] {
        for flags in [
            json!({ "tamper": true }),
            json!({ "expired": true }),
            json!({ "wrong_audience": true }),
        ] {
            let url = callback_url(&app, kind, flags.clone()).await;
            let (status, body) = open(&app, &url).await;
            assert_eq!(status, 401, "{kind} with {flags}: {body}");
            assert!(!body.contains("is connected"), "{body}");
        }
        // No payload at all.
        let (status, _) = open(&app, &format!("{}/bigcommerce/{kind}", app.address)).await;
        assert_eq!(status, 401, "{kind} without a payload");
    }
    // A forged uninstall changed nothing.
    assert_eq!(integration(&app, &token, &id).await["status"], "ACTIVE");
}

#[tokio::test]
async fn a_load_payload_replayed_to_uninstall_leaves_a_store_that_still_has_the_app_connected() {
    let app = TestApp::builder().public().spawn().await;
    let code = app.install_app().await;
    let token = app.signed_in("owner@example.com").await;
    let claimed = app.claim(&token, json!({ "code": code })).await;
    let id = claimed["integration"]["id"].as_str().unwrap().to_string();

    let load = callback_url(&app, "load", json!({})).await;
    let replayed = load.replacen("/bigcommerce/load", "/bigcommerce/uninstall", 1);
    let (status, body) = open(&app, &replayed).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"storesDisconnected\":0"), "{body}");
    assert_eq!(integration(&app, &token, &id).await["status"], "ACTIVE");
}

#[tokio::test]
async fn a_claim_with_an_unknown_code_or_bad_options_changes_nothing_and_keeps_the_code() {
    let app = TestApp::builder().public().spawn().await;
    let code = app.install_app().await;
    let token = app.signed_in("owner@example.com").await;

    let unknown = app
        .claim(&token, json!({ "code": "AAAAA-BBBBB-CCCCC-DDDDD" }))
        .await;
    assert_eq!(codes(&unknown), ["INSTALLATION_NOT_FOUND"], "{unknown}");
    let blank = app.claim(&token, json!({ "code": "  " })).await;
    assert_eq!(codes(&blank), ["REQUIRED"], "{blank}");
    let bad = app
        .claim(
            &token,
            json!({ "code": code, "orderManagement": false, "iossNumber": "nope" }),
        )
        .await;
    assert_eq!(
        codes(&bad),
        ["ORDER_MANAGEMENT_REQUIRED", "INVALID_IOSS_NUMBER"],
        "{bad}"
    );
    assert_eq!(app.rows("integrations").await, 0);

    // The code still works after the refusals.
    let claimed = app.claim(&token, json!({ "code": code })).await;
    assert_eq!(claimed["userErrors"], json!([]), "{claimed}");
}

#[tokio::test]
async fn the_auth_callback_refuses_a_code_the_login_service_rejects_and_needs_the_app_configured() {
    let app = TestApp::builder().public().spawn().await;
    let url = format!(
        "{}/bigcommerce/auth?code=bogus&scope=store_v2_orders&context=stores/{}",
        app.address, app.store.hash
    );
    let (status, html) = open(&app, &url).await;
    assert_eq!(status, 502, "{html}");
    assert!(html.contains("authorization code is invalid"), "{html}");
    let (status, _) = open(&app, &format!("{}/bigcommerce/auth?code=x", app.address)).await;
    assert_eq!(status, 400);
    assert_eq!(app.rows("app_installations").await, 0);

    // A server without the app configured has no install flow.
    let plain = spawn_app().await;
    let (status, html) = open(
        &plain,
        &format!("{}/bigcommerce/load?signed_payload_jwt=x", plain.address),
    )
    .await;
    assert_eq!(status, 404, "{html}");
    let claim = plain
        .claim(
            &plain.signed_in("x@example.com").await,
            json!({ "code": "AAAAA" }),
        )
        .await;
    assert_eq!(codes(&claim), ["INSTALLATION_NOT_FOUND"], "{claim}");
}
