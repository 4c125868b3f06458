//! Webhook imports: the orders that deliveries announce, merged per store so that deliveries
//! (repeated, replayed or forged with the secret) cannot spend the store's API quota.
//!
//! Each accepted delivery adds its order to its integration's pending set; a delivery for an
//! order already pending adds nothing. One task per integration imports the pending orders:
//! at once when the store was quiet (a new order still arrives within milliseconds), then no
//! sooner than [`WINDOW`] after the previous import started. Each import reads one span of
//! ids (`channels::id_spans`: one API call whether it holds 1 or 250 orders), the span of
//! the order waiting longest, so a store spends at most one order read per window on this
//! process's deliveries, however many arrive.
//!
//! An order whose import is under way is pending again when a delivery for it arrives: the
//! store may have been read before the change that delivery announces (a status change a
//! moment after the order was placed). It costs at most the next window's read.
//!
//! Replicas each merge the deliveries they receive (so N replicas read at most N spans per
//! window); they import through the same idempotent upserts. Polling stays the safety net:
//! an order refused because its store already has [`MAX_PENDING`] waiting, and the orders
//! still pending when the process stops, are left to the next scheduled import (it reads
//! every order modified since its cursor). Shutdown does not wait for this task: an import
//! cut short rolls its transaction back, and its run is closed as abandoned by a later one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;

use crate::channels::id_spans;
use crate::services::workers::ImportQueue;
pub use crate::services::workers::Queued;
use crate::state::AppState;

/// The shortest time between the starts of two webhook imports of one store (per process).
/// BigCommerce's quota is 150 requests per 30 s: this takes at most 30 of them.
pub const WINDOW: Duration = Duration::from_secs(1);
/// Most orders waiting per store; deliveries beyond it are left to polling.
pub const MAX_PENDING: usize = 1_000;

/// The pending orders of every store this process received deliveries for. Cheap to clone.
#[derive(Clone, Default)]
pub struct WebhookImports(Arc<Mutex<HashMap<i64, Queue>>>);

/// One integration's waiting orders.
#[derive(Default)]
struct Queue {
    /// Order id → its arrival number (the span of the order waiting longest is read first).
    pending: HashMap<i64, u64>,
    arrivals: u64,
    /// Whether a task imports this queue.
    draining: bool,
}

impl WebhookImports {
    /// The map; a panic while it was held left it consistent (every change is one call).
    fn lock(&self) -> MutexGuard<'_, HashMap<i64, Queue>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the next batch of `integration_id`: the pending orders in the span of the one
    /// waiting longest, sorted. `None` when nothing waits: the queue is gone and a delivery
    /// arriving next starts a new task.
    fn take(&self, integration_id: i64) -> Option<Vec<i64>> {
        let mut all = self.lock();
        let queue = all.get_mut(&integration_id)?;
        let Some((&oldest, _)) = queue.pending.iter().min_by_key(|(_, arrival)| **arrival) else {
            all.remove(&integration_id);
            return None;
        };
        let mut ids: Vec<i64> = queue.pending.keys().copied().collect();
        ids.sort_unstable();
        let batch = id_spans(&ids)
            .into_iter()
            .find(|span| span.binary_search(&oldest).is_ok())
            .map(<[i64]>::to_vec)
            .unwrap_or_else(|| vec![oldest]);
        for id in &batch {
            queue.pending.remove(id);
        }
        Some(batch)
    }
}

impl ImportQueue for WebhookImports {
    /// Adds the order a delivery announced to its integration's pending orders, and starts
    /// the task importing them when none runs.
    fn queue(&self, state: &AppState, integration_id: i64, order: i64) -> Queued {
        let mut all = self.lock();
        let queue = all.entry(integration_id).or_default();
        if queue.pending.contains_key(&order) {
            return Queued::Merged;
        }
        if queue.pending.len() >= MAX_PENDING {
            return Queued::Full;
        }
        queue.arrivals += 1;
        queue.pending.insert(order, queue.arrivals);
        if !queue.draining {
            queue.draining = true;
            tokio::spawn(drain(state.clone(), self.clone(), integration_id));
        }
        Queued::Added
    }
}

/// Marks the queue undrained if its task ends before emptying it (a panic, or the runtime
/// stopping): the next delivery starts a new task.
struct Draining {
    imports: WebhookImports,
    integration_id: i64,
    finished: bool,
}

impl Drop for Draining {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        if let Some(queue) = self.imports.lock().get_mut(&self.integration_id) {
            queue.draining = false;
        }
    }
}

/// Imports the integration's pending orders, one batch per [`WINDOW`], until none waits.
async fn drain(state: AppState, imports: WebhookImports, integration_id: i64) {
    let mut guard = Draining {
        imports: imports.clone(),
        integration_id,
        finished: false,
    };
    let mut previous: Option<Instant> = None;
    loop {
        if let Some(started) = previous {
            tokio::time::sleep_until(started + WINDOW).await;
        }
        let Some(batch) = imports.take(integration_id) else {
            guard.finished = true;
            return;
        };
        previous = Some(Instant::now());
        let started_at = Utc::now();
        let outcome = super::runner::import_orders_now(&state, integration_id, &batch).await;
        crate::services::webhooks::imported(&state, integration_id, &batch, started_at, outcome)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_the_span_of_the_order_waiting_longest() {
        let imports = WebhookImports::default();
        {
            let mut all = imports.lock();
            let queue = all.entry(7).or_default();
            for (arrival, id) in [5_000, 10, 20, 5_100, 300].into_iter().enumerate() {
                queue.pending.insert(id, arrival as u64);
            }
        }
        assert_eq!(imports.take(7), Some(vec![5_000, 5_100]));
        assert_eq!(imports.take(7), Some(vec![10, 20]));
        assert_eq!(imports.take(7), Some(vec![300]));
        assert_eq!(imports.take(7), None);
        assert!(imports.lock().is_empty(), "an empty queue is gone");
    }
}
