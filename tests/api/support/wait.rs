//! Waiting for something to happen instead of sleeping a fixed time.

use std::fmt::Debug;
use std::time::{Duration, Instant};

/// How often [`wait_until`] and [`wait_for`] check their condition.
const POLL: Duration = Duration::from_millis(50);

/// Checks `condition` every 50 ms until it holds; panics naming `what` if it still does not
/// after `timeout`.
///
/// ```ignore
/// wait_until("store B to hold 8", Duration::from_secs(3), async || {
///     channel_stock(&app, &stores[1], id, None) == 8
/// })
/// .await;
/// ```
pub async fn wait_until(what: &str, timeout: Duration, mut condition: impl AsyncFnMut() -> bool) {
    wait_for(what, timeout, async || {
        if condition().await {
            Ok(())
        } else {
            Err("not yet")
        }
    })
    .await
}

/// Checks `check` every 50 ms until it answers `Ok`, and returns what it answered; panics
/// naming `what` and showing the last `Err` if it still has not after `timeout`.
pub async fn wait_for<T, E: Debug>(
    what: &str,
    timeout: Duration,
    mut check: impl AsyncFnMut() -> Result<T, E>,
) -> T {
    let start = Instant::now();
    loop {
        match check().await {
            Ok(done) => return done,
            Err(last) => assert!(
                start.elapsed() < timeout,
                "gave up after {timeout:?} waiting for {what}; last seen: {last:?}"
            ),
        }
        tokio::time::sleep(POLL).await;
    }
}
