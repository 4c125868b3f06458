//! Password hashing and checking on a bounded pool.
//!
//! One argon2 computation holds 19 MiB for tens of milliseconds. Left to `spawn_blocking`,
//! a burst of logins runs dozens of them at once on as many threads, and the process grows by
//! hundreds of megabytes. Here at most one computation per core runs at a time; the callers
//! beyond that wait their turn (a waiting caller holds no hashing memory), and once the
//! queue is full a caller is told at once to try again later (`TOO_MANY_ATTEMPTS`) instead of
//! waiting without bound. The memory each computation used goes back to the operating system
//! (`crypto::hash_password`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::crypto::{hash_password, verify_password};
use crate::error::{AppError, AppResult, UserError, UserErrorCode};

/// Callers that may wait per running computation before new ones are refused: with 2 cores,
/// 128 wait, about two seconds of work.
const WAITING_PER_SLOT: usize = 64;

/// The pool: cheap to clone, one per process.
#[derive(Clone, Debug)]
pub struct PasswordPool {
    /// One permit per computation allowed to run at once.
    slots: Arc<Semaphore>,
    /// Callers running or waiting.
    inside: Arc<AtomicUsize>,
    /// Callers allowed inside (running and waiting) before new ones are refused.
    most_inside: usize,
}

/// A caller counted inside the pool until it is dropped (finished or cancelled).
struct Inside(Arc<AtomicUsize>);

impl Drop for Inside {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PasswordPool {
    /// `slots` computations at once, `waiting_per_slot` callers waiting per slot.
    pub fn new(slots: usize, waiting_per_slot: usize) -> Self {
        let slots = slots.max(1);
        Self {
            slots: Arc::new(Semaphore::new(slots)),
            inside: Arc::new(AtomicUsize::new(0)),
            most_inside: slots + slots * waiting_per_slot,
        }
    }

    /// One computation per core of this machine.
    pub fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::new(cores, WAITING_PER_SLOT)
    }

    /// Whether `password` matches the `stored` hash; with `None` it costs the same time and
    /// answers `false` (an unknown email looks like a wrong password).
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> AppResult<bool> {
        let (password, stored) = (password.to_string(), stored.map(str::to_string));
        self.run(move || verify_password(&password, stored.as_deref()))
            .await
    }

    /// The argon2 hash of `password`, to store.
    pub async fn hash(&self, password: &str) -> AppResult<String> {
        let password = password.to_string();
        Ok(self.run(move || hash_password(&password)).await??)
    }

    /// Runs `work` on a blocking thread once a slot is free; refuses at once when the queue
    /// is full.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        if self.inside.fetch_add(1, Ordering::AcqRel) >= self.most_inside {
            self.inside.fetch_sub(1, Ordering::AcqRel);
            tracing::warn!(
                limit = self.most_inside,
                "password checks refused: the queue is full"
            );
            return Err(busy().into());
        }
        let _inside = Inside(self.inside.clone());
        let permit = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AppError::internal("the password pool is closed"))?;
        // The permit moves into the thread: a caller that goes away while its computation
        // runs does not free the slot before the computation ends.
        tokio::task::spawn_blocking(move || {
            let value = work();
            drop(permit);
            value
        })
        .await
        .map_err(|e| AppError::internal(format!("password computation failed: {e}")))
    }
}

fn busy() -> UserError {
    UserError::new(
        "",
        UserErrorCode::TooManyAttempts,
        "Too many sign-ins are being checked right now; try again in a few seconds.",
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn a_hash_made_by_the_pool_verifies_and_a_wrong_password_does_not() {
        let pool = PasswordPool::new(1, 1);
        let hash = pool.hash("a long enough password").await.unwrap();
        assert!(pool
            .verify("a long enough password", Some(&hash))
            .await
            .unwrap());
        assert!(!pool.verify("another password", Some(&hash)).await.unwrap());
        assert!(!pool.verify("a long enough password", None).await.unwrap());
    }

    #[tokio::test]
    async fn callers_beyond_the_queue_are_refused_at_once_and_the_rest_are_served() {
        // One running and one waiting: of four at once, two are refused.
        let pool = PasswordPool::new(1, 1);
        let calls = (0..4).map(|_| {
            let pool = pool.clone();
            async move { pool.verify("pw", None).await }
        });
        let results = futures_util::future::join_all(calls).await;
        let refused = results
            .iter()
            .filter(|r| {
                matches!(r, Err(AppError::User(e)) if e[0].code == UserErrorCode::TooManyAttempts)
            })
            .count();
        assert_eq!(refused, 2, "{results:?}");
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 2);
        assert_eq!(pool.inside.load(Ordering::Acquire), 0);
    }
}
