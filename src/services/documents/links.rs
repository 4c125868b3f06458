//! Short-lived signed download links: the request (account, kind, orders or shipments, paper,
//! label details) and its expiry, as base64url JSON, then an HMAC-SHA256 over it. Nothing is stored:
//! a link is valid while its signature checks and its time has not passed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::DocumentRequest;
use crate::crypto::LinkSigner;

/// How long a link works.
pub const LINK_TTL: Duration = Duration::minutes(15);

const VERSION: &str = "v1";

/// Why a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not a link of ours, or altered: its signature does not check.
    #[error("the link is invalid")]
    Invalid,
    /// Its time has passed.
    #[error("the link has expired")]
    Expired,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    /// Account.
    a: i64,
    /// Expiry (Unix seconds).
    x: i64,
    /// The request.
    r: DocumentRequest,
}

/// The token of a link for `request` of `account_id`, valid until `expires_at`.
pub fn sign(
    signer: &LinkSigner,
    account_id: i64,
    request: &DocumentRequest,
    expires_at: DateTime<Utc>,
) -> anyhow::Result<String> {
    let claims = Claims {
        a: account_id,
        x: expires_at.timestamp(),
        r: request.clone(),
    };
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?);
    Ok(signer.seal(&format!("{VERSION}.{body}")))
}

/// The account and request of a valid `token` at `now`.
pub fn open(
    signer: &LinkSigner,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(i64, DocumentRequest), LinkError> {
    let message = signer.unseal(token).ok_or(LinkError::Invalid)?;
    let body = message
        .strip_prefix(VERSION)
        .and_then(|b| b.strip_prefix('.'))
        .ok_or(LinkError::Invalid)?;
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(body)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or(LinkError::Invalid)?;
    if now.timestamp() >= claims.x {
        return Err(LinkError::Expired);
    }
    Ok((claims.a, claims.r))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::crypto::MasterKey;
    use crate::pdf::DocumentKind;

    fn signer(byte: u8) -> LinkSigner {
        LinkSigner::new(&MasterKey::from_bytes([byte; 32]))
    }

    fn request() -> DocumentRequest {
        DocumentRequest {
            kind: DocumentKind::Invoice,
            order_ids: vec![4, 5],
            shipment_ids: Vec::new(),
            paper: None,
            shipping: Vec::new(),
            batch_id: None,
        }
    }

    #[test]
    fn a_link_to_shipment_labels_carries_the_shipments_and_links_made_before_still_open() {
        let now = Utc::now();
        let labels = DocumentRequest {
            kind: DocumentKind::Label,
            order_ids: Vec::new(),
            shipment_ids: vec![9, 3],
            paper: None,
            shipping: Vec::new(),
            batch_id: None,
        };
        let token = sign(&signer(1), 7, &labels, now + LINK_TTL).unwrap();
        assert_eq!(open(&signer(1), &token, now).unwrap(), (7, labels));
        // The claims of a link signed before shipments existed: no `h`.
        let old = serde_json::from_str::<DocumentRequest>(r#"{"k":"I","o":[4,5]}"#).unwrap();
        assert_eq!(old, request());
    }

    #[test]
    fn a_link_opens_until_it_expires() {
        let now = Utc::now();
        let token = sign(&signer(1), 7, &request(), now + LINK_TTL).unwrap();
        assert_eq!(open(&signer(1), &token, now).unwrap(), (7, request()));
        assert_eq!(
            open(&signer(1), &token, now + LINK_TTL),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn an_altered_or_foreign_link_is_refused() {
        let now = Utc::now();
        let token = sign(&signer(1), 7, &request(), now + LINK_TTL).unwrap();
        assert_eq!(open(&signer(2), &token, now), Err(LinkError::Invalid));
        // Another account or other orders in the body, the old signature kept.
        let (message, sig) = token.rsplit_once('.').unwrap();
        let mut other = request();
        other.order_ids = vec![99];
        let forged = sign(&signer(3), 8, &other, now + LINK_TTL).unwrap();
        let (forged_message, _) = forged.rsplit_once('.').unwrap();
        assert_eq!(
            open(&signer(1), &format!("{forged_message}.{sig}"), now),
            Err(LinkError::Invalid)
        );
        assert_eq!(open(&signer(1), message, now), Err(LinkError::Invalid));
        assert_eq!(open(&signer(1), "garbage", now), Err(LinkError::Invalid));
    }
}
