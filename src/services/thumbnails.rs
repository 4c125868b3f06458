//! Product pictures for pick lists (docs/rules.md §7): each picture URL of an account is
//! fetched once, checked and shrunk like an uploaded logo (`logo_image`), and kept as a small
//! PNG. A picture that cannot be fetched is remembered and tried again an hour later; a pick
//! list never waits long for pictures: what is not there in time prints without one.
//!
//! Fetching guards the server: http(s) only, no redirects, public addresses only unless
//! `ORDERDECK_IMAGE_FETCH_PRIVATE` (the address is resolved once and connected to as checked,
//! so a name cannot change its answer in between), at most 2 MB read, a few seconds each.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use super::blocking;
use super::logo_image::{self, MAX_BYTES};
use crate::entities::thumbnail;
use crate::error::AppResult;
use crate::state::AppState;

/// Thumbnails fit this square (pixels).
pub const SIDE: u32 = 96;
/// Most distinct pictures one document asks for.
const MAX_PER_DOCUMENT: usize = 500;
/// Pictures fetched at once.
const CONCURRENCY: usize = 8;
/// Time for one picture (address lookup, connection, download).
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// Time a document waits for the pictures it lacks.
const WAIT: Duration = Duration::from_secs(6);
/// A picture that could not be fetched is tried again after this.
const RETRY_AFTER: chrono::Duration = chrono::Duration::hours(1);

fn key(url: &str) -> String {
    Sha256::digest(url.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `ip` is an address on the public internet (not loopback, private, link-local,
/// shared, documentation, multicast or unspecified).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x2001 && v6.segments()[1] == 0x0db8))
        }
    }
}

/// Downloads `url` under the guards above; its bytes.
async fn download(url: &str, allow_private: bool) -> Result<Vec<u8>, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("only http and https pictures are fetched".into());
    }
    let host = parsed.host_str().ok_or("the URL has no host")?.to_string();
    let port = parsed
        .port_or_known_default()
        .ok_or("the URL has no port")?;
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let addr = addrs
        .iter()
        .copied()
        .find(|a| allow_private || is_public(a.ip()))
        .ok_or_else(|| format!("{host} is not a public address"))?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(FETCH_TIMEOUT)
        .resolve(&host, addr)
        .build()
        .map_err(|e| e.to_string())?;
    let mut res = client.get(parsed).send().await.map_err(|e| e.to_string())?;
    if !res.status().is_success() {
        return Err(format!("the picture's server answered {}", res.status()));
    }
    if res.content_length().is_some_and(|n| n > MAX_BYTES as u64) {
        return Err("the picture is larger than 2 MB".into());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| e.to_string())? {
        if bytes.len() + chunk.len() > MAX_BYTES {
            return Err("the picture is larger than 2 MB".into());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Fetches and shrinks one picture: a PNG of at most [`SIDE`] a side.
async fn fetch(url: String, allow_private: bool) -> (String, Result<Vec<u8>, String>) {
    let result = match tokio::time::timeout(FETCH_TIMEOUT, download(&url, allow_private)).await {
        Err(_) => Err("the picture took too long".to_string()),
        Ok(Err(e)) => Err(e),
        Ok(Ok(bytes)) => blocking(move || {
            logo_image::process_within(&bytes, SIDE)
                .map(|p| p.png)
                .map_err(|e| e.to_string())
        })
        .await
        .unwrap_or_else(|e| Err(e.to_string())),
    };
    (url, result)
}

/// The thumbnails (PNG bytes) of these picture URLs of the account, by URL: from the store of
/// fetched pictures, fetching those it lacks (or failed over an hour ago) within a few
/// seconds. URLs without a picture in time are left out.
pub async fn for_urls(
    state: &AppState,
    account_id: i64,
    urls: impl IntoIterator<Item = String>,
) -> AppResult<HashMap<String, Vec<u8>>> {
    let mut wanted: Vec<String> = urls.into_iter().filter(|u| !u.trim().is_empty()).collect();
    wanted.sort();
    wanted.dedup();
    wanted.truncate(MAX_PER_DOCUMENT);
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: HashMap<String, String> = wanted.iter().map(|u| (key(u), u.clone())).collect();
    let stored = thumbnail::Entity::find()
        .filter(thumbnail::Column::AccountId.eq(account_id))
        .filter(thumbnail::Column::UrlSha256.is_in(keys.keys().cloned()))
        .all(&state.db)
        .await?;
    let now = Utc::now();
    let mut out = HashMap::new();
    let mut known = std::collections::HashSet::new();
    for row in stored {
        let Some(url) = keys.get(&row.url_sha256) else {
            continue;
        };
        match row.data {
            Some(png) => {
                known.insert(url.clone());
                out.insert(url.clone(), png);
            }
            None if row.failed_at.is_some_and(|at| now - at < RETRY_AFTER) => {
                known.insert(url.clone());
            }
            None => {}
        }
    }
    let missing: Vec<String> = wanted.into_iter().filter(|u| !known.contains(u)).collect();
    if missing.is_empty() {
        return Ok(out);
    }
    let allow_private = state.settings.image_fetch_private;
    let mut fetched = Vec::new();
    let mut stream = futures_util::stream::iter(missing)
        .map(|url| fetch(url, allow_private))
        .buffer_unordered(CONCURRENCY);
    let deadline = tokio::time::Instant::now() + WAIT;
    while let Ok(Some(done)) = tokio::time::timeout_at(deadline, stream.next()).await {
        fetched.push(done);
    }
    let rows: Vec<thumbnail::ActiveModel> = fetched
        .iter()
        .map(|(url, result)| {
            if let Err(e) = result {
                tracing::info!(account_id, url = %url, reason = %e, "product picture not fetched; tried again in an hour");
            }
            thumbnail::ActiveModel {
                account_id: Set(account_id),
                url_sha256: Set(key(url)),
                url: Set(url.clone()),
                data: Set(result.as_ref().ok().cloned()),
                failed_at: Set(result.is_err().then_some(now)),
                fetched_at: Set(now),
                ..Default::default()
            }
        })
        .collect();
    if !rows.is_empty() {
        thumbnail::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([thumbnail::Column::AccountId, thumbnail::Column::UrlSha256])
                    .update_columns([
                        thumbnail::Column::Data,
                        thumbnail::Column::FailedAt,
                        thumbnail::Column::FetchedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&state.db)
            .await?;
    }
    out.extend(
        fetched
            .into_iter()
            .filter_map(|(url, result)| result.ok().map(|png| (url, png))),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_count_as_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(
                !is_public(private.parse().unwrap_or(IpAddr::from([0; 4]))),
                "{private}"
            );
        }
        for public in ["151.101.1.1", "8.8.8.8", "2606:4700::1111"] {
            assert!(
                is_public(public.parse().unwrap_or(IpAddr::from([0; 4]))),
                "{public}"
            );
        }
    }
}
