//! The OAuth side of a BigCommerce app (docs/bigcommerce.md §8, §9): the login host's
//! `POST /oauth2/token` and the `/_sandbox/apps…` controls that play the merchant's part
//! (register an app, install it on a store, fire the signed `load`/`uninstall`/`remove_user`
//! callbacks).
//!
//! Controls:
//! - `POST /_sandbox/apps` `{client_id?, client_secret?, redirect_uri, load_url?,
//!   uninstall_url?, remove_user_url?, account_uuid?}` → 201 with the app (secret included).
//! - `GET /_sandbox/apps` → the registered apps.
//! - `POST /_sandbox/apps/{client_id}/install` `{store_hash, scopes?, user?}` → a one-time
//!   code and the auth callback URL the merchant's browser would open; the API account the
//!   code stands for is created on the store at once.
//! - `POST /_sandbox/apps/{client_id}/callbacks/{load|uninstall|remove_user}` `{store_hash,
//!   user?, expired?, wrong_audience?, tamper?}` → `{signed_payload_jwt, signed_payload, url}`.
//!   `uninstall` also deletes the app's API account and webhooks on that store.
//!
//! The apps, codes and installations of a sandbox live in `SandboxState::oauth`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use actix_web::http::header::CONTENT_TYPE;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::model::scopes;
use crate::seed;
use crate::server::{lock, Shared};

type HmacSha256 = Hmac<Sha256>;

/// Seconds a `signed_payload_jwt` is valid (`exp = nbf + 24 h`).
pub const JWT_LIFETIME_SECS: i64 = 24 * 3600;

/// A registered app (what the Developer Portal holds).
#[derive(Clone, Debug, Serialize)]
pub struct RegisteredApp {
    pub client_id: String,
    pub client_secret: String,
    /// The auth callback URL; the token exchange's `redirect_uri` must equal it.
    pub redirect_uri: String,
    pub load_url: String,
    pub uninstall_url: String,
    pub remove_user_url: String,
    /// The Developer Portal account owning the app.
    pub account_uuid: String,
}

/// A control-panel user (`{id, email}`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
}

/// An app installed on a store.
#[derive(Clone, Debug)]
struct Installation {
    access_token: String,
    scope: String,
    user: User,
    owner: User,
}

/// An authorization code waiting for its exchange.
#[derive(Clone, Debug)]
struct Grant {
    client_id: String,
    store_hash: String,
    access_token: String,
    used: bool,
}

/// The OAuth state of one sandbox.
#[derive(Debug, Default)]
pub struct OAuthState {
    apps: BTreeMap<String, RegisteredApp>,
    codes: HashMap<String, Grant>,
    /// `(client_id, store_hash)` → installation.
    installs: HashMap<(String, String), Installation>,
}

/// Runs `f` on the OAuth state of the sandbox (never call it while holding the state lock).
fn with_oauth<R>(shared: &Shared, f: impl FnOnce(&mut OAuthState) -> R) -> R {
    f(&mut crate::server::lock(shared).oauth)
}

/// Registers the login host's routes and the `/_sandbox/apps` controls (at the App root).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/oauth2/token", web::post().to(token))
        .route("/_sandbox/apps", web::post().to(register))
        .route("/_sandbox/apps", web::get().to(list_apps))
        .route(
            "/_sandbox/apps/{client_id}/install",
            web::post().to(install),
        )
        .route(
            "/_sandbox/apps/{client_id}/callbacks/{kind}",
            web::post().to(callback),
        );
}

// ---------------------------------------------------------------------------------------------
// Signing

fn hmac_sha256(secret: &str, message: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this never fails; fall back to an empty MAC anyway.
    match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An HS256 JWT of `claims`, signed with `secret` (the app's client secret).
pub fn sign_jwt(secret: &str, claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(hmac_sha256(secret, signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

/// The legacy `signed_payload` (§8.6): `base64(json) + "." + base64(hex(HMAC-SHA256(json)))`.
pub fn legacy_signed_payload(secret: &str, payload: &Value) -> String {
    let json = payload.to_string();
    let signature = hex(&hmac_sha256(secret, json.as_bytes()));
    format!("{}.{}", STANDARD.encode(&json), STANDARD.encode(signature))
}

/// Changes one character of a JWT's signature (the first, so the decoded bytes change too).
fn tamper(jwt: &str) -> String {
    match jwt.rfind('.') {
        Some(dot) if dot + 1 < jwt.len() => {
            let (head, sig) = jwt.split_at(dot + 1);
            let mut chars = sig.chars();
            let first = chars.next().unwrap_or('A');
            let swapped = if first == 'A' { 'B' } else { 'A' };
            format!("{head}{swapped}{}", chars.as_str())
        }
        _ => format!("{jwt}A"),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

fn uuid() -> String {
    let mut b: [u8; 16] = rand::thread_rng().gen();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn control_error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message }))
}

/// An OAuth error body: `{"error": code, "error_description": text}`.
fn oauth_error(status: StatusCode, code: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": code, "error_description": description }))
}

/// Parses an optional JSON control body (empty → default); errors are a 400 answer.
fn parse_body<T: serde::de::DeserializeOwned + Default>(
    body: &[u8],
) -> Result<T, Box<HttpResponse>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        Box::new(control_error(
            StatusCode::BAD_REQUEST,
            &format!("invalid JSON body: {e}"),
        ))
    })
}

/// `{redirect_uri's origin and directory}/{name}`: default callback URLs.
fn sibling_url(redirect_uri: &str, name: &str) -> String {
    let base = redirect_uri
        .split(['?', '#'])
        .next()
        .unwrap_or(redirect_uri);
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    match base[after_scheme..].rfind('/') {
        Some(i) => format!("{}/{name}", &base[..after_scheme + i]),
        None => format!("{base}/{name}"),
    }
}

fn with_query(url: &str, query: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{query}")
}

/// The store owner (its admin email, as `/v2/store` reports it).
fn owner_of(store_id: i64, hash: &str) -> User {
    User {
        id: store_id,
        email: format!("admin@{hash}.sandbox.test"),
    }
}

// ---------------------------------------------------------------------------------------------
// Controls

/// Body of `POST /_sandbox/apps`.
#[derive(Deserialize, Default)]
struct NewApp {
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: Option<String>,
    load_url: Option<String>,
    uninstall_url: Option<String>,
    remove_user_url: Option<String>,
    account_uuid: Option<String>,
}

async fn register(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    let spec: NewApp = match parse_body(&body) {
        Ok(s) => s,
        Err(res) => return *res,
    };
    let Some(redirect_uri) = spec.redirect_uri.filter(|u| !u.trim().is_empty()) else {
        return control_error(
            StatusCode::BAD_REQUEST,
            "redirect_uri (the app's auth callback URL) is required",
        );
    };
    let app = RegisteredApp {
        client_id: spec
            .client_id
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| random_token(31)),
        client_secret: spec
            .client_secret
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| random_token(63)),
        load_url: spec
            .load_url
            .unwrap_or_else(|| sibling_url(&redirect_uri, "load")),
        uninstall_url: spec
            .uninstall_url
            .unwrap_or_else(|| sibling_url(&redirect_uri, "uninstall")),
        remove_user_url: spec
            .remove_user_url
            .unwrap_or_else(|| sibling_url(&redirect_uri, "remove_user")),
        account_uuid: spec.account_uuid.unwrap_or_else(uuid),
        redirect_uri,
    };
    let inserted = with_oauth(&shared, |o| {
        if o.apps.contains_key(&app.client_id) {
            false
        } else {
            o.apps.insert(app.client_id.clone(), app.clone());
            true
        }
    });
    if inserted {
        HttpResponse::Created().json(app)
    } else {
        control_error(
            StatusCode::CONFLICT,
            &format!("an app with client_id {} exists", app.client_id),
        )
    }
}

async fn list_apps(shared: web::Data<Shared>) -> HttpResponse {
    let apps: Vec<RegisteredApp> = with_oauth(&shared, |o| o.apps.values().cloned().collect());
    HttpResponse::Ok().json(apps)
}

/// The app registered as `client_id`; errors are a 404 answer.
fn find_app(shared: &Shared, client_id: &str) -> Result<RegisteredApp, Box<HttpResponse>> {
    with_oauth(shared, |o| o.apps.get(client_id).cloned()).ok_or_else(|| {
        Box::new(control_error(
            StatusCode::NOT_FOUND,
            &format!("no sandbox app {client_id}"),
        ))
    })
}

/// Body of `POST /_sandbox/apps/{client_id}/install`.
#[derive(Deserialize, Default)]
struct InstallSpec {
    store_hash: Option<String>,
    scopes: Option<Vec<String>>,
    user: Option<User>,
}

async fn install(
    path: web::Path<String>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let client_id = path.into_inner();
    let spec: InstallSpec = match parse_body(&body) {
        Ok(s) => s,
        Err(res) => return *res,
    };
    let app = match find_app(&shared, &client_id) {
        Ok(a) => a,
        Err(res) => return *res,
    };
    let Some(hash) = spec.store_hash else {
        return control_error(StatusCode::BAD_REQUEST, "store_hash is required");
    };
    let mut granted: Vec<String> = Vec::new();
    for s in spec
        .scopes
        .unwrap_or_else(|| scopes::ALL.iter().map(|s| s.to_string()).collect())
    {
        if !s.trim().is_empty() && !granted.contains(&s) {
            granted.push(s);
        }
    }
    let scope = granted.join(" ");
    let access_token = random_token(31);

    // The API account: a reinstall replaces the app's previous token on that store.
    let owner = {
        let mut state = lock(&shared);
        let Some(store) = state.stores.get_mut(&hash) else {
            return control_error(StatusCode::NOT_FOUND, &format!("no sandbox store {hash}"));
        };
        store.accounts.retain(|a| a.client_id != app.client_id);
        let refs: Vec<&str> = granted.iter().map(String::as_str).collect();
        store.accounts.push(seed::account(
            app.client_id.clone(),
            access_token.clone(),
            &refs,
        ));
        owner_of(store.store_id, &store.hash)
    };
    let user = spec.user.unwrap_or_else(|| owner.clone());
    let code = random_token(40);
    with_oauth(&shared, |o| {
        o.codes
            .retain(|_, g| !(g.client_id == app.client_id && g.store_hash == hash));
        o.codes.insert(
            code.clone(),
            Grant {
                client_id: app.client_id.clone(),
                store_hash: hash.clone(),
                access_token: access_token.clone(),
                used: false,
            },
        );
        o.installs.insert(
            (app.client_id.clone(), hash.clone()),
            Installation {
                access_token: access_token.clone(),
                scope: scope.clone(),
                user,
                owner,
            },
        );
    });
    let context = format!("stores/{hash}");
    let query = serde_urlencoded::to_string([
        ("code", code.as_str()),
        ("scope", scope.as_str()),
        ("context", context.as_str()),
        ("account_uuid", app.account_uuid.as_str()),
    ])
    .unwrap_or_default();
    HttpResponse::Created().json(json!({
        "code": code,
        "context": context,
        "scope": scope,
        "account_uuid": app.account_uuid,
        "auth_callback_url": with_query(&app.redirect_uri, &query),
    }))
}

/// Body of `POST /_sandbox/apps/{client_id}/callbacks/{kind}`.
#[derive(Deserialize, Default)]
struct CallbackSpec {
    store_hash: Option<String>,
    user: Option<User>,
    #[serde(default)]
    expired: bool,
    #[serde(default)]
    wrong_audience: bool,
    #[serde(default)]
    tamper: bool,
}

async fn callback(
    path: web::Path<(String, String)>,
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> HttpResponse {
    let (client_id, kind) = path.into_inner();
    let spec: CallbackSpec = match parse_body(&body) {
        Ok(s) => s,
        Err(res) => return *res,
    };
    let app = match find_app(&shared, &client_id) {
        Ok(a) => a,
        Err(res) => return *res,
    };
    let url = match kind.as_str() {
        "load" => app.load_url.clone(),
        "uninstall" => app.uninstall_url.clone(),
        "remove_user" => app.remove_user_url.clone(),
        _ => {
            return control_error(
                StatusCode::NOT_FOUND,
                "callback kind must be load, uninstall or remove_user",
            )
        }
    };
    let Some(hash) = spec.store_hash else {
        return control_error(StatusCode::BAD_REQUEST, "store_hash is required");
    };

    // Uninstalling deletes the app's API account (its token stops working) and its webhooks.
    let owner = {
        let mut state = lock(&shared);
        let Some(store) = state.stores.get_mut(&hash) else {
            return control_error(StatusCode::NOT_FOUND, &format!("no sandbox store {hash}"));
        };
        if kind == "uninstall" {
            store.accounts.retain(|a| a.client_id != app.client_id);
            store.hooks.retain(|_, h| h.client_id != app.client_id);
        }
        owner_of(store.store_id, &store.hash)
    };
    let installed = with_oauth(&shared, |o| {
        let key = (app.client_id.clone(), hash.clone());
        let found = o.installs.get(&key).cloned();
        if kind == "uninstall" {
            o.installs.remove(&key);
            o.codes
                .retain(|_, g| !(g.client_id == app.client_id && g.store_hash == hash));
        }
        found
    });
    let owner = installed.as_ref().map(|i| i.owner.clone()).unwrap_or(owner);
    let user = spec
        .user
        .or_else(|| installed.as_ref().map(|i| i.user.clone()))
        .unwrap_or_else(|| owner.clone());

    let now = Utc::now().timestamp();
    let iat = if spec.expired {
        now - 2 * JWT_LIFETIME_SECS
    } else {
        now
    };
    let aud = if spec.wrong_audience {
        format!("not-{}", app.client_id)
    } else {
        app.client_id.clone()
    };
    let claims = json!({
        "aud": aud,
        "iss": "bc",
        "iat": iat,
        "nbf": iat,
        "exp": iat + JWT_LIFETIME_SECS,
        "jti": uuid(),
        "sub": format!("stores/{hash}"),
        "user": { "id": user.id, "email": user.email, "locale": "en-US" },
        "owner": { "id": owner.id, "email": owner.email },
        "url": "/",
        "channel_id": Value::Null,
    });
    let mut jwt = sign_jwt(&app.client_secret, &claims);
    if spec.tamper {
        jwt = tamper(&jwt);
    }
    let legacy = legacy_signed_payload(
        &app.client_secret,
        &json!({
            "user": { "id": user.id, "email": user.email },
            "owner": { "id": owner.id, "email": owner.email },
            "context": format!("stores/{hash}"),
            "store_hash": hash,
            "timestamp": iat as f64,
        }),
    );
    let query =
        serde_urlencoded::to_string([("signed_payload_jwt", jwt.as_str())]).unwrap_or_default();
    HttpResponse::Ok().json(json!({
        "signed_payload_jwt": jwt,
        "signed_payload": legacy,
        "claims": claims,
        "url": with_query(&url, &query),
    }))
}

// ---------------------------------------------------------------------------------------------
// The login host

/// Fields of `POST /oauth2/token` (JSON or form-urlencoded).
#[derive(Deserialize, Default, Debug)]
struct TokenRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    context: Option<String>,
    scope: Option<String>,
    grant_type: Option<String>,
    redirect_uri: Option<String>,
}

fn parse_token_request(req: &HttpRequest, body: &[u8]) -> Option<TokenRequest> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let json = || serde_json::from_slice::<TokenRequest>(body).ok();
    let form = || serde_urlencoded::from_bytes::<TokenRequest>(body).ok();
    if content_type.starts_with("application/json") {
        json()
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        form()
    } else {
        json().or_else(form)
    }
}

fn scope_set(scope: &str) -> BTreeSet<&str> {
    scope
        .split([' ', ',', '+'])
        .filter(|s| !s.is_empty())
        .collect()
}

async fn token(req: HttpRequest, shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    let Some(form) = parse_token_request(&req, &body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body must be JSON or application/x-www-form-urlencoded.",
        );
    };
    let field = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_string();
    let client_id = field(&form.client_id);
    let app = match with_oauth(&shared, |o| o.apps.get(&client_id).cloned()) {
        Some(app) if !client_id.is_empty() => app,
        _ => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Invalid client id or client secret.",
            )
        }
    };
    if field(&form.client_secret) != app.client_secret {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client id or client secret.",
        );
    }
    if field(&form.grant_type) != "authorization_code" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be authorization_code.",
        );
    }
    if field(&form.redirect_uri) != app.redirect_uri {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri does not match the app's auth callback URL.",
        );
    }
    let code = field(&form.code);
    let context = field(&form.context);
    let scope = field(&form.scope);

    // Check and consume the code in one step: codes are single-use.
    enum Outcome {
        Bad(&'static str, &'static str),
        Granted(Grant, Option<Installation>),
    }
    let outcome = with_oauth(&shared, |o| {
        let Some(grant) = o.codes.get(&code).filter(|g| g.client_id == app.client_id) else {
            return Outcome::Bad("invalid_grant", "The authorization code is invalid.");
        };
        if grant.used {
            return Outcome::Bad(
                "invalid_grant",
                "The authorization code has already been used.",
            );
        }
        if context != format!("stores/{}", grant.store_hash) {
            return Outcome::Bad(
                "invalid_request",
                "context does not match the authorization code.",
            );
        }
        let install = o
            .installs
            .get(&(grant.client_id.clone(), grant.store_hash.clone()))
            .cloned();
        if let Some(i) = &install {
            if !scope.is_empty() && scope_set(&scope) != scope_set(&i.scope) {
                return Outcome::Bad(
                    "invalid_scope",
                    "scope does not match the scopes the merchant granted.",
                );
            }
        }
        let grant = grant.clone();
        if let Some(g) = o.codes.get_mut(&code) {
            g.used = true;
        }
        Outcome::Granted(grant, install)
    });
    let (grant, install) = match outcome {
        Outcome::Bad(code, description) => {
            return oauth_error(StatusCode::BAD_REQUEST, code, description)
        }
        Outcome::Granted(g, i) => (g, i),
    };
    // The install may have been undone (uninstall, reset) since the code was issued.
    let alive = {
        let state = lock(&shared);
        state
            .stores
            .get(&grant.store_hash)
            .and_then(|s| s.account(&grant.access_token))
            .is_some()
    };
    let Some(install) = install.filter(|i| alive && i.access_token == grant.access_token) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The app is no longer installed on this store.",
        );
    };
    HttpResponse::Ok().json(json!({
        "access_token": install.access_token,
        "scope": install.scope,
        "user": { "id": install.user.id, "username": install.user.email, "email": install.user.email },
        "owner": { "id": install.owner.id, "username": install.owner.email, "email": install.owner.email },
        "context": format!("stores/{}", grant.store_hash),
        "account_uuid": app.account_uuid,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_callback_urls_are_siblings_of_the_auth_callback() {
        assert_eq!(
            sibling_url("http://127.0.0.1:8080/bc/auth?x=1", "load"),
            "http://127.0.0.1:8080/bc/load"
        );
        assert_eq!(
            sibling_url("http://127.0.0.1:8080", "load"),
            "http://127.0.0.1:8080/load"
        );
    }

    #[test]
    fn a_tampered_jwt_differs_only_in_its_signature() {
        let jwt = sign_jwt("secret", &json!({"a": 1}));
        let bad = tamper(&jwt);
        assert_ne!(jwt, bad);
        assert_eq!(
            jwt.rsplit_once('.').map(|p| p.0),
            bad.rsplit_once('.').map(|p| p.0)
        );
    }
}
