//! Webhook events raised by API writes and merchant actions; `hooks` delivers them to the
//! hooks registered for their scope.

use chrono::Utc;
use serde_json::Value;

use crate::model::SandboxState;

/// An event waiting for delivery.
#[derive(Clone, Debug)]
pub struct Event {
    /// Store hash.
    pub store: String,
    /// Webhook scope, e.g. `store/order/created`.
    pub scope: String,
    /// The light `data` object of the payload.
    pub data: Value,
    /// Unix seconds.
    pub created_at: i64,
}

/// Queues an event for delivery (no-op when nothing listens; delivery filters by hooks).
pub fn emit(state: &mut SandboxState, store: &str, scope: &str, data: Value) {
    state.events.push_back(Event {
        store: store.to_string(),
        scope: scope.to_string(),
        data,
        created_at: Utc::now().timestamp(),
    });
    state.events_notify.notify_one();
}
