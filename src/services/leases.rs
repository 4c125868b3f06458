//! Claim tokens and lease ends: the pieces a claimer writes on the rows it takes (shipments,
//! queued pushes, sync jobs). Use cases claim inside their own transactions with these; the
//! sync layer's workers claim with the same ones, so both sides lease alike.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::RngCore;

/// How long a claimed shipment stays leased (well above the client's timeout, so a lease
/// never runs out while its request may still be on its way).
pub const SHIPMENT_LEASE: Duration = Duration::from_secs(120);
/// How long claimed push-queue rows stay leased (a push call takes well under this).
pub const PUSH_LEASE: Duration = Duration::from_secs(60);

/// A lease owner id for this process: `hostname-pid-random`.
pub fn new_owner_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_string());
    let mut random = [0u8; 4];
    rand::rngs::OsRng.fill_bytes(&mut random);
    let random: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{host}-{}-{random}", std::process::id())
}

/// A fresh claim token (`kind` says who claims).
pub fn claim_token(kind: &str) -> String {
    format!("{kind}:{}", new_owner_id())
}

/// When a shipment lease taken at `now` runs out.
pub fn shipment_lease_end(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(SHIPMENT_LEASE).unwrap_or_default()
}

/// When a push-queue lease taken at `now` runs out.
pub fn push_lease_end(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(PUSH_LEASE).unwrap_or_default()
}
