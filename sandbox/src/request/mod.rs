//! What the API handlers share about a request: ids in paths, query parameters and paging
//! (`query`), body fields with per-field errors (`fields`), and how v3 and v2 answer a bad
//! body, a batch or a missing resource (`v3`, `v2`); plus the events a write raises.

pub mod fields;
pub mod query;
pub mod v2;
pub mod v3;

use serde_json::Value;

use crate::events;
use crate::model::SandboxState;

/// A webhook event to raise once the store is released: `(scope, data)`.
pub type Raised = Vec<(&'static str, Value)>;

/// Emits the events collected while the store was borrowed.
pub fn raise(state: &mut SandboxState, hash: &str, raised: Raised) {
    for (scope, data) in raised {
        events::emit(state, hash, scope, data);
    }
}

/// An id in a path (`None`: not an integer, which answers 404).
pub fn parse_id(raw: &str) -> Option<i64> {
    raw.trim().parse().ok()
}
