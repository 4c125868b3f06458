//! One account cannot take the server from the others: the root query fields that read the
//! database (lists, lookups, searches, counts) of one account run at most
//! `account_concurrency` at a time in this process, whichever requests they come from; the
//! next ones wait their turn, first come first served, within their request's time budget.
//!
//! Every account shares the database pool with every other account, and async-graphql runs
//! the root fields of a query side by side: without turns, one request of 20 aliased searches
//! from each of four clients holds every connection, and a stranger's `me` waits behind them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Whose turn a field waits for: an account id.
pub type Caller = i64;

/// The turns of every account with a field running or waiting.
#[derive(Clone)]
pub struct Gate {
    inner: Arc<Inner>,
}

struct Inner {
    per_caller: usize,
    callers: Mutex<HashMap<Caller, Arc<Semaphore>>>,
}

/// A field's turn; the next field of the account may start once it is dropped.
pub struct Turn {
    permit: Option<OwnedSemaphorePermit>,
    semaphore: Arc<Semaphore>,
    caller: Caller,
    inner: Arc<Inner>,
}

impl Gate {
    /// A gate letting `per_caller` fields of one account run at once (at least 1).
    pub fn new(per_caller: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                per_caller: per_caller.max(1),
                callers: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Waits for the caller's turn (first come, first served).
    pub async fn enter(&self, caller: Caller) -> Turn {
        let semaphore = {
            let mut callers = self.callers();
            Arc::clone(
                callers
                    .entry(caller)
                    .or_insert_with(|| Arc::new(Semaphore::new(self.inner.per_caller))),
            )
        };
        // The semaphore is never closed, so acquiring cannot fail; if it ever did, the
        // field runs without a turn rather than not at all.
        let permit = Arc::clone(&semaphore).acquire_owned().await.ok();
        Turn {
            permit,
            semaphore,
            caller,
            inner: Arc::clone(&self.inner),
        }
    }

    fn callers(&self) -> std::sync::MutexGuard<'_, HashMap<Caller, Arc<Semaphore>>> {
        lock(&self.inner.callers)
    }
}

fn lock(
    m: &Mutex<HashMap<Caller, Arc<Semaphore>>>,
) -> std::sync::MutexGuard<'_, HashMap<Caller, Arc<Semaphore>>> {
    // A panic while holding this lock cannot leave the map inconsistent (each operation is a
    // single insert or remove), so a poisoned lock is used as it is.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut callers = lock(&self.inner.callers);
        drop(self.permit.take());
        // Clones are only made under this lock: two references (the map's and this turn's)
        // mean nobody else runs or waits for this caller, so its entry can go.
        if Arc::strong_count(&self.semaphore) == 2 {
            callers.remove(&self.caller);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_caller_waits_for_its_own_turn_but_not_for_others() {
        let gate = Gate::new(2);
        let a1 = gate.enter(1).await;
        let _a2 = gate.enter(1).await;
        let third = tokio::time::timeout(Duration::from_millis(50), gate.enter(1));
        assert!(third.await.is_err(), "a third field of account 1 must wait");
        let other = tokio::time::timeout(Duration::from_millis(50), gate.enter(2));
        assert!(other.await.is_ok(), "account 2 must not wait for account 1");
        drop(a1);
        let again = tokio::time::timeout(Duration::from_millis(50), gate.enter(1));
        assert!(again.await.is_ok());
    }

    #[tokio::test]
    async fn accounts_without_fields_running_are_forgotten() {
        let gate = Gate::new(1);
        let turn = gate.enter(3).await;
        assert_eq!(gate.callers().len(), 1);
        drop(turn);
        assert_eq!(gate.callers().len(), 0);
    }
}
