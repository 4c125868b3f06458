//! The app side of BigCommerce's single-click install flow (docs/bigcommerce.md §8): the
//! exchange of an install code for a token at the login service, and the verification of the
//! `signed_payload_jwt` that the `load`, `uninstall` and `remove_user` callbacks carry.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Sha256, Sha512};

use super::client::map_transport_error;
use super::BigCommerceClient;
use crate::channels::ChannelError;

/// Seconds of clock difference tolerated on `exp` and `nbf`.
pub const CLOCK_LEEWAY_SECS: i64 = 60;
/// Longest `signed_payload_jwt` accepted (real ones are well under 2 KB).
pub const MAX_JWT_LEN: usize = 8 * 1024;

/// A control-panel user as the callbacks name them.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct AppUser {
    /// BigCommerce's user id.
    #[serde(default)]
    pub id: i64,
    /// The user's email.
    #[serde(default)]
    pub email: String,
}

/// What a verified `signed_payload_jwt` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedPayload {
    /// The store (`sub` = `stores/{hash}`).
    pub store_hash: String,
    /// The user who opened the app, was removed, or uninstalled it.
    pub user: AppUser,
    /// The store owner.
    pub owner: AppUser,
    /// The deep link inside the app (`/` by default).
    pub url: Option<String>,
}

/// Why a `signed_payload_jwt` was refused. Each is logged; the caller only learns "refused".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtRejection {
    /// Not three base64url parts of JSON, or too long.
    #[error("malformed token")]
    Malformed,
    /// An algorithm other than HS256/HS512 (`none` included).
    #[error("unsupported algorithm {0:?}")]
    Algorithm(String),
    /// The signature does not match the app's client secret (forged or tampered).
    #[error("bad signature")]
    Signature,
    /// `exp` is in the past.
    #[error("expired")]
    Expired,
    /// `nbf` or `iat` is in the future.
    #[error("not valid yet")]
    NotYetValid,
    /// `aud` is not this app's client id.
    #[error("wrong audience")]
    Audience,
    /// `iss` is not `bc`.
    #[error("wrong issuer")]
    Issuer,
    /// `sub` is not `stores/{hash}`.
    #[error("no store in the subject")]
    Subject,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// `aud` may be a string or a list of strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Claims {
    aud: Option<Audience>,
    iss: Option<String>,
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
    sub: Option<String>,
    #[serde(default)]
    user: AppUser,
    #[serde(default)]
    owner: AppUser,
    url: Option<String>,
}

fn decode_part(part: &str) -> Result<Vec<u8>, JwtRejection> {
    URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| JwtRejection::Malformed)
}

/// Whether `signature` is the HMAC of `message` under `secret` with `alg` (compared in
/// constant time by the MAC itself).
fn signature_matches(alg: &str, secret: &[u8], message: &[u8], signature: &[u8]) -> bool {
    match alg {
        "HS256" => Hmac::<Sha256>::new_from_slice(secret)
            .map(|mut m| {
                m.update(message);
                m.verify_slice(signature).is_ok()
            })
            .unwrap_or(false),
        "HS512" => Hmac::<Sha512>::new_from_slice(secret)
            .map(|mut m| {
                m.update(message);
                m.verify_slice(signature).is_ok()
            })
            .unwrap_or(false),
        _ => false,
    }
}

/// Verifies a `signed_payload_jwt`: HMAC (HS256, or HS512) with the app's client secret,
/// `aud` = the client id, `iss` = `bc`, not expired and already valid at `now` (unix
/// seconds, with [`CLOCK_LEEWAY_SECS`]), `sub` naming a store.
pub fn verify_signed_payload(
    jwt: &str,
    client_id: &str,
    client_secret: &str,
    now: i64,
) -> Result<SignedPayload, JwtRejection> {
    let jwt = jwt.trim();
    if jwt.is_empty() || jwt.len() > MAX_JWT_LEN {
        return Err(JwtRejection::Malformed);
    }
    let mut parts = jwt.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtRejection::Malformed);
    };
    let head: Header =
        serde_json::from_slice(&decode_part(header)?).map_err(|_| JwtRejection::Malformed)?;
    if head.alg != "HS256" && head.alg != "HS512" {
        return Err(JwtRejection::Algorithm(head.alg.chars().take(16).collect()));
    }
    let signature = decode_part(signature)?;
    let signing_input = &jwt[..header.len() + 1 + payload.len()];
    if !signature_matches(
        &head.alg,
        client_secret.as_bytes(),
        signing_input.as_bytes(),
        &signature,
    ) {
        return Err(JwtRejection::Signature);
    }
    // Only a signed payload is parsed any further.
    let claims: Claims =
        serde_json::from_slice(&decode_part(payload)?).map_err(|_| JwtRejection::Malformed)?;
    match claims.exp {
        Some(exp) if exp + CLOCK_LEEWAY_SECS >= now => {}
        _ => return Err(JwtRejection::Expired),
    }
    if [claims.nbf, claims.iat]
        .into_iter()
        .flatten()
        .any(|t| t > now + CLOCK_LEEWAY_SECS)
    {
        return Err(JwtRejection::NotYetValid);
    }
    let audience_ok = match &claims.aud {
        Some(Audience::One(a)) => a == client_id,
        Some(Audience::Many(list)) => list.iter().any(|a| a == client_id),
        None => false,
    };
    if !audience_ok {
        return Err(JwtRejection::Audience);
    }
    if claims.iss.as_deref() != Some("bc") {
        return Err(JwtRejection::Issuer);
    }
    let store_hash = claims
        .sub
        .as_deref()
        .and_then(|s| s.strip_prefix("stores/"))
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric()))
        .ok_or(JwtRejection::Subject)?
        .to_string();
    Ok(SignedPayload {
        store_hash,
        user: claims.user,
        owner: claims.owner,
        url: claims.url,
    })
}

/// What the app sends to exchange an install code.
#[derive(Debug)]
pub struct CodeExchange<'a> {
    /// `{login}` base (`https://login.bigcommerce.com`; the sandbox in tests).
    pub login_base: &'a str,
    /// The app's client id.
    pub client_id: &'a str,
    /// The app's client secret.
    pub client_secret: &'a str,
    /// The one-time code of the auth callback.
    pub code: &'a str,
    /// The scopes of the auth callback.
    pub scope: &'a str,
    /// `stores/{hash}`.
    pub context: &'a str,
    /// The app's auth callback URL, exactly as registered.
    pub redirect_uri: &'a str,
}

/// The login service's answer.
#[derive(Clone, Deserialize)]
pub struct Grant {
    /// The store's access token for this app (never logged).
    pub access_token: String,
    /// The scopes granted, space-separated.
    #[serde(default)]
    pub scope: String,
    /// `stores/{hash}`.
    pub context: String,
    /// The control-panel user who installed the app.
    #[serde(default)]
    pub user: AppUser,
    /// The store owner.
    #[serde(default)]
    pub owner: AppUser,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("access_token", &"***")
            .field("scope", &self.scope)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl Grant {
    /// The store hash of `context`.
    pub fn store_hash(&self) -> Option<&str> {
        self.context
            .strip_prefix("stores/")
            .filter(|h| !h.is_empty())
    }
}

#[derive(Deserialize)]
struct OAuthError {
    error: Option<String>,
    error_description: Option<String>,
}

impl BigCommerceClient {
    /// `POST {login}/oauth2/token`: exchanges an install code for the store's token. Sent
    /// once (a code is single-use). A refusal is [`ChannelError::Rejected`] with the login
    /// service's reason.
    pub async fn exchange_install_code(
        &self,
        req: &CodeExchange<'_>,
    ) -> Result<Grant, ChannelError> {
        let body = serde_json::json!({
            "client_id": req.client_id,
            "client_secret": req.client_secret,
            "code": req.code,
            "scope": req.scope,
            "grant_type": "authorization_code",
            "redirect_uri": req.redirect_uri,
            "context": req.context,
        });
        let url = format!("{}/oauth2/token", req.login_base.trim_end_matches('/'));
        let response = self
            .http()
            .post(&url)
            .header("Accept", "application/json")
            .json(&body)
            .send()
            .await
            .map_err(|e| map_transport_error(&e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| map_transport_error(&e))?;
        if status.is_success() {
            return serde_json::from_slice::<Grant>(&bytes)
                .map_err(|e| ChannelError::UnexpectedResponse(format!("oauth2/token: {e}")));
        }
        if status.is_server_error() {
            return Err(ChannelError::Server {
                status: status.as_u16(),
            });
        }
        let message = serde_json::from_slice::<OAuthError>(&bytes)
            .ok()
            .and_then(|e| e.error_description.or(e.error))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(200).collect());
        Err(ChannelError::Rejected {
            status: status.as_u16(),
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use orderdeck_sandbox::oauth::sign_jwt;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn claims() -> serde_json::Value {
        json!({
            "aud": "app-id", "iss": "bc", "iat": NOW, "nbf": NOW, "exp": NOW + 86400,
            "jti": "x", "sub": "stores/abc123",
            "user": {"id": 7, "email": "u@example.com", "locale": "en-US"},
            "owner": {"id": 1, "email": "o@example.com"}, "url": "/", "channel_id": null
        })
    }

    fn verify(jwt: &str) -> Result<SignedPayload, JwtRejection> {
        verify_signed_payload(jwt, "app-id", "secret", NOW)
    }

    #[test]
    fn a_token_signed_with_the_secret_for_this_app_is_accepted() {
        let p = verify(&sign_jwt("secret", &claims())).unwrap();
        assert_eq!(p.store_hash, "abc123");
        assert_eq!(p.user.email, "u@example.com");
        assert_eq!(p.owner.id, 1);
    }

    #[test]
    fn forged_expired_early_foreign_and_storeless_tokens_are_refused() {
        assert_eq!(
            verify(&sign_jwt("not-the-secret", &claims())),
            Err(JwtRejection::Signature)
        );
        let mut c = claims();
        c["exp"] = json!(NOW - 3600);
        assert_eq!(verify(&sign_jwt("secret", &c)), Err(JwtRejection::Expired));
        let mut c = claims();
        c["nbf"] = json!(NOW + 3600);
        assert_eq!(
            verify(&sign_jwt("secret", &c)),
            Err(JwtRejection::NotYetValid)
        );
        let mut c = claims();
        c["aud"] = json!("other-app");
        assert_eq!(verify(&sign_jwt("secret", &c)), Err(JwtRejection::Audience));
        let mut c = claims();
        c["iss"] = json!("someone");
        assert_eq!(verify(&sign_jwt("secret", &c)), Err(JwtRejection::Issuer));
        let mut c = claims();
        c["sub"] = json!("stores/");
        assert_eq!(verify(&sign_jwt("secret", &c)), Err(JwtRejection::Subject));
    }

    #[test]
    fn unsigned_and_garbled_tokens_are_refused() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
        assert_eq!(
            verify(&format!("{header}.{payload}.")),
            Err(JwtRejection::Algorithm("none".into()))
        );
        assert_eq!(verify("a.b"), Err(JwtRejection::Malformed));
        assert_eq!(verify("!!.??.##"), Err(JwtRejection::Malformed));
        assert_eq!(verify(""), Err(JwtRejection::Malformed));
    }
}
