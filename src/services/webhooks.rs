//! Order webhooks (docs/rules.md §11): registering them on a store when it is connected,
//! removing them when it is disconnected, and accepting deliveries.
//!
//! Each store's hooks carry a random secret in [`SECRET_HEADER`]; only its SHA-256 is kept.
//! A delivery is accepted once: it is recorded under (store, scope, hash, sent at) before
//! anything is imported, so a repeated delivery finds its record and imports nothing. The
//! payload `hash` alone is not enough: it is the SHA-1 of the event's data (`{type, id}` for
//! `store/order/created`), which is the same for two real status changes of one order.
//!
//! A delivery sent more than [`MAX_FUTURE_SKEW`] ahead of this server's clock, or longer ago
//! than [`MAX_DELIVERY_AGE`], is refused: its record could not stop a replay (records are
//! kept [`KEEP_DELIVERIES`] after they arrive). The orders of accepted deliveries are merged
//! per store and imported by the state's [`ImportQueue`](crate::services::workers::ImportQueue)
//! (the sync layer's webhook imports), at most one read of the store per window, however many
//! deliveries arrive.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;

use crate::channels::bigcommerce::{BigCommerceStore, NewHook};
use crate::crypto::{constant_time_eq, generate_secret, hash_token};
use crate::db::is_unique_violation;
use crate::domain::{IntegrationStatus, WebhookState};
use crate::entities::{integration, webhook_delivery as delivery};
use crate::metrics::Delivery;
use crate::services::workers::Queued;
use crate::state::AppState;

/// The custom header every delivery must carry, with the store's secret.
pub const SECRET_HEADER: &str = "X-Orderdeck-Webhook-Secret";
/// The events orderdeck subscribes to.
pub const ORDER_SCOPES: [&str; 2] = ["store/order/created", "store/order/statusUpdated"];
/// Largest delivery body accepted (deliveries are light: a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// How long delivery records are kept (the store retries for about 48 hours).
const KEEP_DELIVERIES: Duration = Duration::days(7);
/// How far ahead of this server's clock a delivery's `created_at` may be (clock skew).
pub const MAX_FUTURE_SKEW: Duration = Duration::minutes(5);
/// The oldest `created_at` accepted: the store's retries stop after about 48 hours. With
/// [`MAX_FUTURE_SKEW`] it stays below [`KEEP_DELIVERIES`], so a replay of any accepted
/// delivery still finds its record.
pub const MAX_DELIVERY_AGE: Duration = Duration::days(3);
/// Longest error text kept on an integration.
const MAX_ERROR_CHARS: usize = 500;

/// The URL a store's hooks deliver to.
pub fn destination(public_base: &str, integration_id: i64) -> String {
    format!("{public_base}/webhooks/bigcommerce/{integration_id}")
}

fn channel(state: &AppState, i: &integration::Model) -> Option<BigCommerceStore> {
    crate::services::store_channel::channel_for(state, i).ok()
}

/// Saves the webhook columns of an integration still `ACTIVE` (a store disconnected
/// meanwhile keeps its cleared columns); the integration as stored afterwards.
async fn save_state(
    state: &AppState,
    i: integration::Model,
    webhook_state: WebhookState,
    secret_hash: Option<String>,
    destination: Option<String>,
    error: Option<String>,
) -> integration::Model {
    let now = Utc::now();
    let mut update = integration::Entity::update_many()
        .col_expr(
            integration::Column::WebhookState,
            Expr::value(webhook_state),
        )
        .col_expr(
            integration::Column::WebhookError,
            Expr::value(error.clone()),
        )
        .col_expr(integration::Column::UpdatedAt, Expr::value(now))
        .filter(integration::Column::Id.eq(i.id))
        .filter(integration::Column::Status.eq(IntegrationStatus::Active));
    if webhook_state == WebhookState::Active {
        update = update
            .col_expr(
                integration::Column::WebhookSecretHash,
                Expr::value(secret_hash.clone()),
            )
            .col_expr(
                integration::Column::WebhookDestination,
                Expr::value(destination.clone()),
            )
            .col_expr(integration::Column::WebhooksRegisteredAt, Expr::value(now));
    }
    if let Err(e) = update.exec(&state.db).await {
        tracing::error!(integration_id = i.id, error = %e, "saving the webhook state failed");
        return i;
    }
    match integration::Entity::find_by_id(i.id).one(&state.db).await {
        Ok(Some(fresh)) => fresh,
        _ => i,
    }
}

/// Registers (or repairs) the store's order hooks with a new secret, when a public URL is
/// configured and the store is `ACTIVE`. Never fails the caller: a store that refuses is
/// marked `FAILED` with the reason, and the next scheduled order import tries again.
pub async fn register(state: &AppState, i: integration::Model) -> integration::Model {
    let Some(base) = state.settings.public_base() else {
        return i;
    };
    if i.status != IntegrationStatus::Active {
        return i;
    }
    let Some(store) = channel(state, &i) else {
        return i;
    };
    let target = destination(base, i.id);
    let secret = generate_secret();
    match put_hooks(&store, &target, &secret, i.webhook_destination.as_deref()).await {
        Ok(()) => {
            tracing::info!(integration_id = i.id, destination = %target, "order webhooks registered");
            save_state(
                state,
                i,
                WebhookState::Active,
                Some(hash_token(&secret)),
                Some(target),
                None,
            )
            .await
        }
        Err(e) => {
            tracing::warn!(integration_id = i.id, error = %e, "registering order webhooks failed; polling continues");
            let text: String = format!("the store refused the webhooks: {e}")
                .chars()
                .take(MAX_ERROR_CHARS)
                .collect();
            save_state(state, i, WebhookState::Failed, None, None, Some(text)).await
        }
    }
}

/// Creates or updates one hook per [`ORDER_SCOPES`] at `target` with `secret`, and removes
/// hooks left at an old destination of this store.
async fn put_hooks(
    store: &BigCommerceStore,
    target: &str,
    secret: &str,
    old_destination: Option<&str>,
) -> Result<(), crate::channels::ChannelError> {
    let existing = store.hooks().await?;
    for scope in ORDER_SCOPES {
        let hook = NewHook {
            scope,
            destination: target,
            is_active: true,
            headers: [(SECRET_HEADER, secret)].into_iter().collect(),
        };
        match existing
            .iter()
            .find(|h| h.scope == scope && h.destination == target)
        {
            Some(h) => {
                store.update_hook(h.id, &hook).await?;
            }
            None => {
                store.create_hook(&hook).await?;
            }
        }
    }
    if let Some(old) = old_destination.filter(|o| *o != target) {
        for h in existing.iter().filter(|h| h.destination == old) {
            store.delete_hook(h.id).await?;
        }
    }
    Ok(())
}

/// Whether the store's hooks are all in place, active, and carry the secret on record.
async fn hooks_intact(
    store: &BigCommerceStore,
    i: &integration::Model,
    target: &str,
) -> Result<bool, crate::channels::ChannelError> {
    let Some(secret_hash) = &i.webhook_secret_hash else {
        return Ok(false);
    };
    let hooks = store.hooks().await?;
    Ok(ORDER_SCOPES.iter().all(|scope| {
        hooks.iter().any(|h| {
            h.scope == *scope
                && h.destination == target
                && h.is_active
                && h.headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(SECRET_HEADER))
                    .is_some_and(|(_, v)| {
                        constant_time_eq(hash_token(v).as_bytes(), secret_hash.as_bytes())
                    })
        })
    }))
}

/// Checks the store's hooks and registers them again when one is missing, was turned off by
/// the store (after two days of failed deliveries) or points elsewhere; called by every
/// scheduled order import while a public URL is configured (one API call).
pub async fn ensure(state: &AppState, i: &integration::Model) {
    let Some(base) = state.settings.public_base() else {
        return;
    };
    if i.status != IntegrationStatus::Active {
        return;
    }
    let Some(store) = channel(state, i) else {
        return;
    };
    let target = destination(base, i.id);
    let intact = i.webhook_state == WebhookState::Active
        && i.webhook_destination.as_deref() == Some(target.as_str())
        && matches!(hooks_intact(&store, i, &target).await, Ok(true));
    if !intact {
        register(state, i.clone()).await;
    }
}

/// Removes the store's hooks (before its token is erased). Best effort: failures are logged.
pub async fn unregister(state: &AppState, i: &integration::Model) {
    let Some(target) = i.webhook_destination.as_deref() else {
        return;
    };
    let Some(store) = channel(state, i) else {
        return;
    };
    let removed = async {
        for h in store.hooks().await? {
            if h.destination == target {
                store.delete_hook(h.id).await?;
            }
        }
        Ok::<_, crate::channels::ChannelError>(())
    }
    .await;
    match removed {
        Ok(()) => tracing::info!(integration_id = i.id, "order webhooks removed"),
        Err(e) => {
            tracing::warn!(integration_id = i.id, error = %e, "removing order webhooks failed")
        }
    }
}

/// The parts of a delivery orderdeck reads.
#[derive(Deserialize)]
struct Payload {
    scope: String,
    hash: String,
    created_at: i64,
    producer: Option<String>,
    #[serde(default)]
    data: serde_json::Value,
}

/// Why a delivery was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No such store, no webhooks registered, or a missing or wrong secret header: 401.
    Unauthorized,
    /// Not a delivery orderdeck understands: 400, with what is wrong.
    BadPayload(String),
}

/// An accepted delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum Receipt {
    /// Seen before: nothing to do.
    Duplicate,
    /// Recorded; its order, if the event is about one, is queued for import (the HTTP route
    /// answers without waiting for it).
    Accepted {
        /// The delivery's record.
        delivery_id: i64,
        /// What became of its order.
        import: Option<Queued>,
    },
}

/// Refuses a `created_at` (unix seconds) outside [`MAX_DELIVERY_AGE`] ..
/// [`MAX_FUTURE_SKEW`] around `now`.
fn check_sent_at(created_at: i64, now: DateTime<Utc>) -> Result<(), Refusal> {
    let now_secs = now.timestamp();
    if created_at > now_secs + MAX_FUTURE_SKEW.num_seconds() {
        return Err(Refusal::BadPayload(format!(
            "the payload's created_at is more than {} minutes ahead of this server's clock",
            MAX_FUTURE_SKEW.num_minutes()
        )));
    }
    if created_at < now_secs - MAX_DELIVERY_AGE.num_seconds() {
        return Err(Refusal::BadPayload(format!(
            "the payload's created_at is more than {} days old",
            MAX_DELIVERY_AGE.num_days()
        )));
    }
    Ok(())
}

/// Checks and records a delivery for integration `id`, and queues its order for import;
/// counts it in the metrics, with its delay when accepted.
pub async fn receive(
    state: &AppState,
    id: i64,
    secret: Option<&str>,
    body: &[u8],
) -> Result<Receipt, Refusal> {
    let result = check_and_record(state, id, secret, body).await;
    let (outcome, delay) = match &result {
        Ok(Receipt::Accepted { .. }) => (Delivery::Accepted, accepted_delay(body)),
        Ok(Receipt::Duplicate) => (Delivery::Duplicate, None),
        Err(_) => (Delivery::Refused, None),
    };
    state.metrics.webhook(outcome, delay);
    result
}

/// From the store's `created_at` of an accepted delivery to now (zero when the store's
/// clock is ahead).
fn accepted_delay(body: &[u8]) -> Option<std::time::Duration> {
    #[derive(Deserialize)]
    struct Sent {
        created_at: i64,
    }
    let sent: Sent = serde_json::from_slice(body).ok()?;
    let millis = (Utc::now().timestamp_millis() - sent.created_at.saturating_mul(1000)).max(0);
    Some(std::time::Duration::from_millis(
        u64::try_from(millis).unwrap_or(0),
    ))
}

async fn check_and_record(
    state: &AppState,
    id: i64,
    secret: Option<&str>,
    body: &[u8],
) -> Result<Receipt, Refusal> {
    let found = integration::Entity::find_by_id(id)
        .one(&state.db)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "loading the integration of a webhook delivery failed");
            Refusal::Unauthorized
        })?;
    let Some(i) = found.filter(|i| i.status == IntegrationStatus::Active) else {
        tracing::warn!(
            integration_id = id,
            "webhook delivery refused: no active store"
        );
        return Err(Refusal::Unauthorized);
    };
    let authentic = match (&i.webhook_secret_hash, secret) {
        (Some(expected), Some(given)) => {
            constant_time_eq(hash_token(given.trim()).as_bytes(), expected.as_bytes())
        }
        _ => false,
    };
    if !authentic {
        tracing::warn!(
            integration_id = id,
            secret_given = secret.is_some(),
            "webhook delivery refused: missing or wrong secret header"
        );
        return Err(Refusal::Unauthorized);
    }
    let payload: Payload = serde_json::from_slice(body)
        .map_err(|e| Refusal::BadPayload(format!("not a webhook payload: {e}")))?;
    if payload.producer.as_deref() != Some(format!("stores/{}", i.store_hash).as_str()) {
        return Err(Refusal::BadPayload(
            "the payload's producer is not this store".into(),
        ));
    }
    let hash = payload.hash.trim();
    if hash.is_empty() || hash.len() > 128 {
        return Err(Refusal::BadPayload("the payload has no usable hash".into()));
    }
    let order_id = (payload.data.get("type").and_then(|t| t.as_str()) == Some("order"))
        .then(|| payload.data.get("id").and_then(|v| v.as_i64()))
        .flatten()
        .filter(|id| *id > 0);
    let import = order_id.filter(|_| payload.scope.starts_with("store/order/"));
    let now = Utc::now();
    if let Err(refusal) = check_sent_at(payload.created_at, now) {
        tracing::warn!(
            integration_id = id,
            scope = %payload.scope,
            created_at = payload.created_at,
            now = now.timestamp(),
            "webhook delivery refused: created_at out of the accepted window"
        );
        return Err(refusal);
    }
    let record = delivery::ActiveModel {
        account_id: Set(i.account_id),
        integration_id: Set(i.id),
        scope: Set(payload.scope.chars().take(100).collect()),
        hash: Set(hash.to_string()),
        sent_at: Set(payload.created_at),
        order_external_id: Set(order_id),
        received_at: Set(now),
        ..Default::default()
    }
    .insert(&state.db)
    .await;
    match record {
        Ok(row) => {
            if row.id % 100 == 0 {
                purge_old(state).await;
            }
            let queued = import.map(|order| state.webhook_imports.queue(state, i.id, order));
            match queued {
                Some(Queued::Full) => tracing::warn!(
                    integration_id = id,
                    delivery_id = row.id,
                    "webhook import queue full; the delivery's order is left to polling"
                ),
                Some(q) => {
                    tracing::debug!(integration_id = id, delivery_id = row.id, queued = ?q, "webhook delivery accepted")
                }
                None => {}
            }
            Ok(Receipt::Accepted {
                delivery_id: row.id,
                import: queued,
            })
        }
        Err(e) if is_unique_violation(&e) => {
            tracing::info!(
                integration_id = id,
                scope = %payload.scope,
                "duplicate webhook delivery ignored"
            );
            Ok(Receipt::Duplicate)
        }
        Err(e) => {
            tracing::error!(integration_id = id, error = %e, "recording a webhook delivery failed");
            // Not recorded: the store retries later, and polling imports the order anyway.
            Err(Refusal::BadPayload(
                "the delivery could not be recorded".into(),
            ))
        }
    }
}

/// Deletes delivery records older than [`KEEP_DELIVERIES`].
async fn purge_old(state: &AppState) {
    let before = Utc::now() - KEEP_DELIVERIES;
    if let Err(e) = delivery::Entity::delete_many()
        .filter(delivery::Column::ReceivedAt.lt(before))
        .exec(&state.db)
        .await
    {
        tracing::warn!(error = %e, "purging old webhook deliveries failed");
    }
}

/// Records a webhook import of `orders` started at `started_at` on the deliveries it served
/// (those of these orders that arrived before it started), and the time on the integration.
pub async fn imported(
    state: &AppState,
    integration_id: i64,
    orders: &[i64],
    started_at: DateTime<Utc>,
    outcome: crate::error::AppResult<Option<crate::entities::sync_run::Model>>,
) {
    let error = match outcome {
        Ok(Some(run)) => run.error,
        Ok(None) => None,
        Err(e) => {
            tracing::error!(integration_id, error = ?e, "a webhook import failed; the next scheduled import picks its orders up");
            Some(format!("{e:?}").chars().take(MAX_ERROR_CHARS).collect())
        }
    };
    let now = Utc::now();
    let saved = delivery::Entity::update_many()
        .col_expr(delivery::Column::ProcessedAt, Expr::value(now))
        .col_expr(delivery::Column::Error, Expr::value(error))
        .filter(delivery::Column::IntegrationId.eq(integration_id))
        .filter(delivery::Column::OrderExternalId.is_in(orders.iter().copied()))
        .filter(delivery::Column::ProcessedAt.is_null())
        .filter(delivery::Column::ReceivedAt.lte(started_at))
        .exec(&state.db)
        .await;
    let touched = integration::Entity::update_many()
        .col_expr(integration::Column::LastWebhookAt, Expr::value(now))
        .filter(integration::Column::Id.eq(integration_id))
        .exec(&state.db)
        .await;
    if let Err(e) = saved.map(|_| ()).and(touched.map(|_| ())) {
        tracing::warn!(integration_id, error = %e, "recording a webhook import on its deliveries failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_of_any_accepted_delivery_still_finds_its_record() {
        assert!(MAX_DELIVERY_AGE + MAX_FUTURE_SKEW < KEEP_DELIVERIES);
    }

    #[test]
    fn created_at_is_accepted_from_three_days_ago_to_five_minutes_ahead() {
        let now = Utc::now();
        let at = |d: Duration| (now + d).timestamp();
        assert_eq!(check_sent_at(at(Duration::zero()), now), Ok(()));
        assert_eq!(check_sent_at(at(Duration::minutes(4)), now), Ok(()));
        assert_eq!(check_sent_at(at(-Duration::hours(48)), now), Ok(()));
        assert!(check_sent_at(at(Duration::minutes(6)), now).is_err());
        assert!(check_sent_at(at(Duration::days(365)), now).is_err());
        assert!(check_sent_at(at(-Duration::days(4)), now).is_err());
        assert!(check_sent_at(i64::MAX, now).is_err());
        assert!(check_sent_at(i64::MIN, now).is_err());
    }
}
