//! The app (OAuth) flow of docs/bigcommerce.md §8: registration, install, token exchange on
//! the login host, signed callbacks, uninstall.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{answer, sandbox, Answer, Sbx};

const REDIRECT: &str = "https://app.example.test/bc/auth";

async fn register_app(sbx: &Sbx) -> Value {
    let res = sbx
        .control(
            Method::POST,
            "/_sandbox/apps",
            Some(json!({ "redirect_uri": REDIRECT })),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.json
}

async fn install(sbx: &Sbx, app: &Value, body: Value) -> Value {
    let client_id = app["client_id"].as_str().unwrap();
    let res = sbx
        .control(
            Method::POST,
            &format!("/_sandbox/apps/{client_id}/install"),
            Some(body),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    res.json
}

/// The token request a real app sends after its auth callback.
fn token_request(app: &Value, installed: &Value) -> Value {
    json!({
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "code": installed["code"],
        "context": installed["context"],
        "scope": installed["scope"],
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT,
    })
}

async fn exchange(sbx: &Sbx, body: &Value) -> Answer {
    let res = sbx
        .http
        .post(format!("{}/oauth2/token", sbx.handle.url))
        .json(body)
        .send()
        .await
        .unwrap();
    answer(res).await
}

async fn exchange_form(sbx: &Sbx, body: &Value) -> Answer {
    let pairs: Vec<(String, String)> = body
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let res = sbx
        .http
        .post(format!("{}/oauth2/token", sbx.handle.url))
        .form(&pairs)
        .send()
        .await
        .unwrap();
    answer(res).await
}

async fn callback(sbx: &Sbx, app: &Value, kind: &str, body: Value) -> Value {
    let client_id = app["client_id"].as_str().unwrap();
    let res = sbx
        .control(
            Method::POST,
            &format!("/_sandbox/apps/{client_id}/callbacks/{kind}"),
            Some(body),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.json
}

/// Verifies an HS256 JWT with `secret` and returns its claims (`None` on a bad signature).
fn verify_jwt(secret: &str, jwt: &str) -> Option<Value> {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three parts");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header, json!({ "typ": "JWT", "alg": "HS256" }));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).ok()?;
    mac.verify_slice(&signature).ok()?;
    Some(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap())
}

async fn store_info(sbx: &Sbx, token: &str) -> Answer {
    sbx.call_as(token, Method::GET, "v2/store", None).await
}

#[tokio::test]
async fn an_installed_app_exchanges_its_code_for_a_token_that_calls_the_api() {
    let sbx = sandbox().await;
    let app = register_app(&sbx).await;
    let hash = sbx.store.hash.clone();
    let installed = install(
        &sbx,
        &app,
        json!({ "store_hash": hash, "scopes": ["store_v2_information_read_only", "store_v2_orders"] }),
    )
    .await;
    assert_eq!(installed["context"], format!("stores/{hash}"));
    assert_eq!(
        installed["scope"],
        "store_v2_information_read_only store_v2_orders"
    );

    let res = exchange(&sbx, &token_request(&app, &installed)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let body = &res.json;
    assert_eq!(body["context"], format!("stores/{hash}"));
    assert_eq!(
        body["scope"],
        "store_v2_information_read_only store_v2_orders"
    );
    assert_eq!(body["account_uuid"], app["account_uuid"]);
    for who in ["user", "owner"] {
        assert!(body[who]["id"].is_i64(), "{who}: {body}");
        assert!(body[who]["email"].as_str().unwrap().contains('@'));
        assert_eq!(body[who]["username"], body[who]["email"]);
    }
    let token = body["access_token"].as_str().unwrap();
    let store = store_info(&sbx, token).await;
    assert_eq!(store.status, StatusCode::OK);
    assert_eq!(store.json["id"], hash.as_str());

    // The account carries the app's client id and only the granted scopes.
    let account = sbx
        .handle
        .with_store(&hash, |s| s.account(token).cloned())
        .unwrap()
        .unwrap();
    assert_eq!(account.client_id, app["client_id"].as_str().unwrap());
    let products = sbx
        .call_as(token, Method::GET, "v3/catalog/products", None)
        .await;
    assert_eq!(products.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_token_exchange_also_accepts_a_form_body() {
    let sbx = sandbox().await;
    let app = register_app(&sbx).await;
    let installed = install(&sbx, &app, json!({ "store_hash": sbx.store.hash })).await;
    let res = exchange_form(&sbx, &token_request(&app, &installed)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let token = res.json["access_token"].as_str().unwrap();
    assert_eq!(store_info(&sbx, token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_auth_callback_url_carries_code_scope_context_and_account_uuid() {
    let sbx = sandbox().await;
    let app = register_app(&sbx).await;
    let hash = sbx.store.hash.clone();
    let installed = install(
        &sbx,
        &app,
        json!({ "store_hash": hash, "scopes": ["store_v2_orders", "store_inventory"] }),
    )
    .await;
    let url = installed["auth_callback_url"].as_str().unwrap();
    let (base, query) = url.split_once('?').unwrap();
    assert_eq!(base, REDIRECT);
    assert!(
        query.contains(&format!("context=stores%2F{hash}")),
        "{query}"
    );
    let params: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(query).unwrap();
    assert_eq!(params["code"], installed["code"].as_str().unwrap());
    assert_eq!(params["scope"], "store_v2_orders store_inventory");
    assert_eq!(params["context"], format!("stores/{hash}"));
    assert_eq!(
        params["account_uuid"],
        app["account_uuid"].as_str().unwrap()
    );
}

#[tokio::test]
async fn a_code_is_single_use() {
    let sbx = sandbox().await;
    let app = register_app(&sbx).await;
    let installed = install(&sbx, &app, json!({ "store_hash": sbx.store.hash })).await;
    let request = token_request(&app, &installed);
    assert_eq!(exchange(&sbx, &request).await.status, StatusCode::OK);
    let again = exchange(&sbx, &request).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.json["error"], "invalid_grant");
    assert!(again.json["error_description"].is_string());
}

#[tokio::test]
async fn bad_token_requests_are_refused_with_oauth_errors() {
    let sbx = sandbox().await;
    let app = register_app(&sbx).await;
    let installed = install(&sbx, &app, json!({ "store_hash": sbx.store.hash })).await;
    let good = token_request(&app, &installed);
    let with = |key: &str, value: &str| {
        let mut v = good.clone();
        v[key] = json!(value);
        v
    };
    let cases = [
        (with("client_secret", "wrong"), 401, "invalid_client"),
        (with("client_id", "nobody"), 401, "invalid_client"),
        (
            with("redirect_uri", "https://evil.test/auth"),
            400,
            "invalid_grant",
        ),
        (with("code", "not-a-code"), 400, "invalid_grant"),
        (
            with("grant_type", "client_credentials"),
            400,
            "unsupported_grant_type",
        ),
        (with("context", "stores/other1"), 400, "invalid_request"),
    ];
    for (body, status, error) in cases {
        let res = exchange(&sbx, &body).await;
        assert_eq!(res.status.as_u16(), status, "{body}: {}", res.text);
        assert_eq!(res.json["error"], error, "{body}");
    }
    // None of them used the code up.
    assert_eq!(exchange(&sbx, &good).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_code_of_another_app_is_refused() {
    let sbx = sandbox().await;
    let first = register_app(&sbx).await;
    let second = register_app(&sbx).await;
    let installed = install(&sbx, &first, json!({ "store_hash": sbx.store.hash })).await;
    let res = exchange(&sbx, &token_request(&second, &installed)).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.json["error"], "invalid_grant");
}

#[tokio::test]
async fn a_load_callback_carries_an_hs256_jwt_with_the_documented_claims() {
    let sbx = sandbox().await;
    let app = register_app(&sbx).await;
    let hash = sbx.store.hash.clone();
    install(
        &sbx,
        &app,
        json!({ "store_hash": hash, "user": { "id": 42, "email": "staff@example.test" } }),
    )
    .await;
    let res = callback(&sbx, &app, "load", json!({ "store_hash": hash })).await;
    let jwt = res["signed_payload_jwt"].as_str().unwrap();
    let url = res["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://app.example.test/bc/load?signed_payload_jwt="),
        "{url}"
    );
    assert!(url.ends_with(jwt), "a JWT needs no escaping in a query");

    let claims = verify_jwt(app["client_secret"].as_str().unwrap(), jwt).expect("valid signature");
    assert_eq!(claims["aud"], app["client_id"]);
    assert_eq!(claims["iss"], "bc");
    assert_eq!(claims["sub"], format!("stores/{hash}"));
    assert_eq!(
        claims["user"],
        json!({ "id": 42, "email": "staff@example.test", "locale": "en-US" })
    );
    assert!(claims["owner"]["id"].is_i64() && claims["owner"]["email"].is_string());
    assert_eq!(claims["url"], "/");
    assert!(claims["channel_id"].is_null());
    let now = chrono::Utc::now().timestamp();
    let iat = claims["iat"].as_i64().unwrap();
    assert!((iat - now).abs() < 60);
    assert_eq!(claims["nbf"], iat);
    assert_eq!(claims["exp"].as_i64().unwrap(), iat + 24 * 3600);
    assert_eq!(claims["jti"].as_str().unwrap().len(), 36);
    // Another callback gets another jti.
    let other = callback(&sbx, &app, "load", json!({ "store_hash": hash })).await;
    let other = verify_jwt(
        app["client_secret"].as_str().unwrap(),
        other["signed_payload_jwt"].as_str().unwrap(),
    )
    .unwrap();
    assert_ne!(other["jti"], claims["jti"]);
}

#[tokio::test]
async fn expired_wrong_audience_and_tampered_jwts_are_issued_on_request() {
    let sbx = sandbox().await;
    let app = register_app(&sbx).await;
    let secret = app["client_secret"].as_str().unwrap();
    let hash = sbx.store.hash.clone();
    let now = chrono::Utc::now().timestamp();

    let expired = callback(
        &sbx,
        &app,
        "load",
        json!({ "store_hash": hash, "expired": true }),
    )
    .await;
    let claims = verify_jwt(secret, expired["signed_payload_jwt"].as_str().unwrap()).unwrap();
    assert!(claims["exp"].as_i64().unwrap() < now);
    assert_eq!(claims["aud"], app["client_id"]);

    let wrong = callback(
        &sbx,
        &app,
        "load",
        json!({ "store_hash": hash, "wrong_audience": true }),
    )
    .await;
    let claims = verify_jwt(secret, wrong["signed_payload_jwt"].as_str().unwrap()).unwrap();
    assert_ne!(claims["aud"], app["client_id"]);
    assert!(claims["exp"].as_i64().unwrap() > now);

    let tampered = callback(
        &sbx,
        &app,
        "load",
        json!({ "store_hash": hash, "tamper": true }),
    )
    .await;
    assert!(verify_jwt(secret, tampered["signed_payload_jwt"].as_str().unwrap()).is_none());
    // A JWT signed with another secret does not verify either.
    let good = callback(&sbx, &app, "load", json!({ "store_hash": hash })).await;
    assert!(verify_jwt(
        "another secret",
        good["signed_payload_jwt"].as_str().unwrap()
    )
    .is_none());
}

#[tokio::test]
async fn the_legacy_signed_payload_is_base64_json_and_base64_of_the_hex_hmac() {
    let sbx = sandbox().await;
    let app = register_app(&sbx).await;
    let hash = sbx.store.hash.clone();
    let res = callback(&sbx, &app, "load", json!({ "store_hash": hash })).await;
    let (data, signature) = res["signed_payload"]
        .as_str()
        .unwrap()
        .split_once('.')
        .unwrap();
    let json = STANDARD.decode(data).unwrap();
    let mut mac =
        Hmac::<Sha256>::new_from_slice(app["client_secret"].as_str().unwrap().as_bytes()).unwrap();
    mac.update(&json);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(STANDARD.decode(signature).unwrap(), hex.into_bytes());
    let payload: Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(payload["store_hash"], hash.as_str());
    assert_eq!(payload["context"], format!("stores/{hash}"));

    // The library helpers sign the same way.
    let signed =
        orderdeck_sandbox::oauth::legacy_signed_payload("k", &json!({ "store_hash": "abc" }));
    assert!(signed.starts_with(&STANDARD.encode(r#"{"store_hash":"abc"}"#)));
    let jwt = orderdeck_sandbox::oauth::sign_jwt("k", &json!({ "sub": "stores/abc" }));
    assert_eq!(verify_jwt("k", &jwt).unwrap()["sub"], "stores/abc");
}

#[tokio::test]
async fn uninstalling_invalidates_the_token_and_deletes_the_apps_webhooks() {
    let sbx = sandbox().await;
    let app = register_app(&sbx).await;
    let client_id = app["client_id"].as_str().unwrap().to_string();
    let hash = sbx.store.hash.clone();
    let installed = install(&sbx, &app, json!({ "store_hash": hash })).await;
    let token = exchange(&sbx, &token_request(&app, &installed)).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(store_info(&sbx, &token).await.status, StatusCode::OK);
    // One hook of this app and one of another account.
    sbx.handle.with_store(&hash, |s| {
        for (id, owner) in [(1, client_id.as_str()), (2, "someone-else")] {
            s.hooks.insert(
                id,
                orderdeck_sandbox::model::Hook {
                    id,
                    client_id: owner.to_string(),
                    scope: "store/order/created".into(),
                    destination: "https://app.example.test/hooks".into(),
                    is_active: true,
                    headers: Default::default(),
                    created_at: 0,
                    updated_at: 0,
                },
            );
        }
    });

    let res = callback(&sbx, &app, "uninstall", json!({ "store_hash": hash })).await;
    assert!(res["url"]
        .as_str()
        .unwrap()
        .starts_with("https://app.example.test/bc/uninstall?signed_payload_jwt="));
    assert_eq!(
        store_info(&sbx, &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let owners: Vec<String> = sbx
        .handle
        .with_store(&hash, |s| {
            s.hooks.values().map(|h| h.client_id.clone()).collect()
        })
        .unwrap();
    assert_eq!(owners, vec!["someone-else".to_string()]);
    // The store's own credentials still work.
    assert_eq!(sbx.get("v2/store").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_code_issued_before_an_uninstall_cannot_be_exchanged() {
    let sbx = sandbox().await;
    let app = register_app(&sbx).await;
    let hash = sbx.store.hash.clone();
    let installed = install(&sbx, &app, json!({ "store_hash": hash })).await;
    callback(&sbx, &app, "uninstall", json!({ "store_hash": hash })).await;
    let res = exchange(&sbx, &token_request(&app, &installed)).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.json["error"], "invalid_grant");
}

#[tokio::test]
async fn registering_needs_a_redirect_uri_and_a_unique_client_id() {
    let sbx = sandbox().await;
    let missing = sbx
        .control(Method::POST, "/_sandbox/apps", Some(json!({})))
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let spec = json!({ "client_id": "my-app", "client_secret": "s3cret", "redirect_uri": REDIRECT, "load_url": "https://app.example.test/custom-load" });
    let first = sbx
        .control(Method::POST, "/_sandbox/apps", Some(spec.clone()))
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.json["client_id"], "my-app");
    assert_eq!(first.json["client_secret"], "s3cret");
    assert_eq!(
        first.json["uninstall_url"],
        "https://app.example.test/bc/uninstall"
    );
    let again = sbx
        .control(Method::POST, "/_sandbox/apps", Some(spec))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let res = callback(
        &sbx,
        &first.json,
        "load",
        json!({ "store_hash": sbx.store.hash }),
    )
    .await;
    assert!(res["url"]
        .as_str()
        .unwrap()
        .starts_with("https://app.example.test/custom-load?signed_payload_jwt="));
    // Apps of one sandbox are not visible in another.
    let other = sandbox().await;
    let listed = other.control(Method::GET, "/_sandbox/apps", None).await;
    assert_eq!(listed.json, json!([]));
}

#[tokio::test]
async fn installing_on_an_unknown_store_or_with_an_unknown_app_is_refused() {
    let sbx = sandbox().await;
    let app = register_app(&sbx).await;
    let client_id = app["client_id"].as_str().unwrap();
    let unknown_store = sbx
        .control(
            Method::POST,
            &format!("/_sandbox/apps/{client_id}/install"),
            Some(json!({ "store_hash": "nosuchstore" })),
        )
        .await;
    assert_eq!(unknown_store.status, StatusCode::NOT_FOUND);
    let unknown_app = sbx
        .control(
            Method::POST,
            "/_sandbox/apps/nobody/install",
            Some(json!({ "store_hash": sbx.store.hash })),
        )
        .await;
    assert_eq!(unknown_app.status, StatusCode::NOT_FOUND);
    let bad_kind = sbx
        .control(
            Method::POST,
            &format!("/_sandbox/apps/{client_id}/callbacks/explode"),
            Some(json!({ "store_hash": sbx.store.hash })),
        )
        .await;
    assert_eq!(bad_kind.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn reinstalling_replaces_the_previous_token() {
    let sbx = sandbox().await;
    let app = register_app(&sbx).await;
    let hash = sbx.store.hash.clone();
    let first = install(&sbx, &app, json!({ "store_hash": hash })).await;
    let old = exchange(&sbx, &token_request(&app, &first)).await.json["access_token"].clone();
    let second = install(&sbx, &app, json!({ "store_hash": hash })).await;
    let new = exchange(&sbx, &token_request(&app, &second)).await.json["access_token"].clone();
    assert_ne!(old, new);
    assert_eq!(
        store_info(&sbx, old.as_str().unwrap()).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        store_info(&sbx, new.as_str().unwrap()).await.status,
        StatusCode::OK
    );
}
