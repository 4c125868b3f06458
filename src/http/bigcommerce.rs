//! BigCommerce's calls to orderdeck: the app callbacks (`/bigcommerce/auth`, `load`,
//! `uninstall`, `remove_user`) and webhook deliveries (`POST /webhooks/bigcommerce/{id}`).
//! None of them carries an orderdeck token: the callbacks are authenticated by the install
//! code or the signed payload, the deliveries by the secret header of their store.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::error::HttpError;
use crate::services::app_install::{self, CallbackError};
use crate::services::webhooks::{self, Receipt, Refusal};
use crate::state::AppState;

/// Query of the auth callback.
#[derive(Deserialize)]
pub struct AuthQuery {
    code: Option<String>,
    scope: Option<String>,
    context: Option<String>,
}

/// Query of the signed callbacks.
#[derive(Deserialize)]
pub struct SignedQuery {
    signed_payload_jwt: Option<String>,
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A small self-contained page (it renders inside the control panel's iframe). `body` is
/// HTML already escaped.
fn page(status: actix_web::http::StatusCode, title: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · orderdeck</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}}\
         code{{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}}#claim-code{{font-size:1.4rem;letter-spacing:.08em}}\
         pre{{background:#f3f3f3;padding:.8rem;overflow:auto}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>",
        title = escape(title),
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(html)
}

/// Where orderdeck is (its GraphiQL playground), for the pages' links.
fn orderdeck_link(state: &AppState) -> String {
    let base = state.settings.public_base().unwrap_or("");
    let url = escape(&format!("{base}/graphiql"));
    format!("<a href=\"{url}\" target=\"_blank\" rel=\"noopener\">{url}</a>")
}

/// The page of a refused or failed callback.
fn error_page(e: &CallbackError) -> HttpResponse {
    use actix_web::http::StatusCode;
    let (status, text) = match e {
        CallbackError::NotConfigured => (
            StatusCode::NOT_FOUND,
            "The BigCommerce app is not configured on this orderdeck server.".to_string(),
        ),
        CallbackError::BadRequest(why) => (StatusCode::BAD_REQUEST, why.clone()),
        CallbackError::Refused(_) => (
            StatusCode::UNAUTHORIZED,
            "This request could not be verified as coming from BigCommerce for this app. Open orderdeck again from the store's control panel.".to_string(),
        ),
        CallbackError::Upstream(why) => (
            StatusCode::BAD_GATEWAY,
            format!("{why}. Try installing the app again."),
        ),
        CallbackError::Internal(err) => {
            tracing::error!(error = %err.report(), "BigCommerce callback failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side; try again in a moment.".to_string(),
            )
        }
    };
    page(status, "orderdeck", &format!("<p>{}</p>", escape(&text)))
}

/// `GET /bigcommerce/auth`: the merchant installed the app; shows the claim code.
pub async fn auth(state: web::Data<AppState>, query: web::Query<AuthQuery>) -> HttpResponse {
    let q = query.into_inner();
    match app_install::auth_callback(
        &state,
        q.code.as_deref(),
        q.scope.as_deref(),
        q.context.as_deref(),
    )
    .await
    {
        Ok(p) => {
            let code = escape(&p.claim_code);
            let body = format!(
                "<p>orderdeck is installed on <strong>{name}</strong> (<code>{hash}</code>).</p>\
                 <p>orderdeck runs as an external app: to finish, sign in to orderdeck (or register) and claim this store with the code below. It works once, until {expires} UTC.</p>\
                 <p><code id=\"claim-code\">{code}</code></p>\
                 <p>In orderdeck's GraphQL playground, {link}, signed in:</p>\
                 <pre>mutation {{\n  claimBigCommerceInstallation(input: {{ code: \"{code}\" }}) {{\n    integration {{ id alias status }}\n    userErrors {{ field code message }}\n  }}\n}}</pre>",
                name = escape(&p.store_name),
                hash = escape(&p.store_hash),
                expires = p.expires_at.format("%Y-%m-%d %H:%M"),
                link = orderdeck_link(&state),
            );
            page(
                actix_web::http::StatusCode::OK,
                "orderdeck is installed",
                &body,
            )
        }
        Err(e) => error_page(&e),
    }
}

/// `GET /bigcommerce/load`: the merchant opened the app in the control panel.
pub async fn load(state: web::Data<AppState>, query: web::Query<SignedQuery>) -> HttpResponse {
    match app_install::load(&state, query.signed_payload_jwt.as_deref()).await {
        Ok(view) => {
            let status = if view.connected {
                "This store is connected to orderdeck: its orders and products are synchronised."
            } else if view.pending {
                "This store is installed and waits to be claimed with the code shown after installing."
            } else {
                "This store is not connected to orderdeck yet."
            };
            let body = format!(
                "<p>orderdeck is used as an external app: manage your orders, stock and shipments at {link}.</p>\
                 <p>{status}</p><p>Store: <code>{hash}</code></p>",
                link = orderdeck_link(&state),
                hash = escape(&view.store_hash),
            );
            page(actix_web::http::StatusCode::OK, "orderdeck", &body)
        }
        Err(e) => error_page(&e),
    }
}

/// A server-to-server callback's refusal as a JSON answer.
impl From<CallbackError> for HttpError {
    fn from(e: CallbackError) -> Self {
        match e {
            CallbackError::Refused(why) => {
                tracing::info!(%why, "BigCommerce callback refused");
                HttpError::Refused("signed payload refused")
            }
            CallbackError::NotConfigured => HttpError::NotFound("app not configured"),
            CallbackError::BadRequest(why) => HttpError::BadRequest(why),
            CallbackError::Upstream(why) => HttpError::Upstream(why),
            CallbackError::Internal(e) => HttpError::Internal(e),
        }
    }
}

/// `GET /bigcommerce/uninstall`: the store removed the app.
pub async fn uninstall(
    state: web::Data<AppState>,
    query: web::Query<SignedQuery>,
) -> Result<HttpResponse, HttpError> {
    let n = app_install::uninstall(&state, query.signed_payload_jwt.as_deref()).await?;
    Ok(HttpResponse::Ok().json(json!({ "status": "uninstalled", "storesDisconnected": n })))
}

/// `GET /bigcommerce/remove_user`: a control-panel user lost access to the app.
pub async fn remove_user(
    state: web::Data<AppState>,
    query: web::Query<SignedQuery>,
) -> Result<HttpResponse, HttpError> {
    app_install::remove_user(&state, query.signed_payload_jwt.as_deref()).await?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ok" })))
}

/// `POST /webhooks/bigcommerce/{id}`: a delivery. Answers at once; its order is imported by
/// `sync::webhook_imports`, merged with the other deliveries of the store.
pub async fn webhook(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, HttpError> {
    let Ok(id) = path.into_inner().parse::<i64>() else {
        return Err(HttpError::Refused("unknown destination"));
    };
    let secret = req
        .headers()
        .get(webhooks::SECRET_HEADER)
        .and_then(|v| v.to_str().ok());
    let status = match webhooks::receive(&state, id, secret, &body).await {
        Ok(Receipt::Duplicate) => "duplicate",
        Ok(Receipt::Accepted { .. }) => "accepted",
        Err(Refusal::Unauthorized) => return Err(HttpError::Refused("missing or wrong secret")),
        Err(Refusal::BadPayload(why)) => return Err(HttpError::BadRequest(why)),
    };
    Ok(HttpResponse::Ok().json(json!({ "status": status })))
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn page_text_is_escaped() {
        assert_eq!(
            escape("<b>\"Tom's\" & co</b>"),
            "&lt;b&gt;&quot;Tom&#39;s&quot; &amp; co&lt;/b&gt;"
        );
    }
}
