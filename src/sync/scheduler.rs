//! The scheduler: every tick it makes sure each ACTIVE integration has its jobs, claims due
//! jobs through database leases and runs a few at a time. Tests drive [`run_once`] directly.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::jobs;
use super::runner::run_job;
use crate::domain::SyncTrigger;
use crate::entities::sync_run;
use crate::error::AppResult;
use crate::state::AppState;

/// Most jobs one process runs at the same time (the channel client bounds the calls per
/// store; this bounds the work per process).
pub const MAX_CONCURRENT_JOBS: usize = 4;

/// Starts the background scheduler.
pub struct Scheduler;

/// A running scheduler; [`SchedulerHandle::shutdown`] stops it.
pub struct SchedulerHandle {
    owner: String,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    grace: Duration,
}

impl Scheduler {
    /// Spawns the scheduler loop on the current tokio runtime, with a fresh lease owner id.
    pub fn start(state: AppState) -> SchedulerHandle {
        let owner = jobs::new_owner_id();
        let grace = state.settings.shutdown_timeout;
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run_loop(state, owner.clone(), stopped));
        SchedulerHandle {
            owner,
            stop,
            task,
            grace,
        }
    }
}

impl SchedulerHandle {
    /// The lease owner id of this scheduler (`hostname-pid-random`).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Stops claiming jobs and lets the running ones finish, waiting at most the shutdown
    /// timeout; jobs still running then are cut off (their leases run out and another process
    /// takes them over).
    pub async fn shutdown(self) {
        // An error only means the loop already ended.
        let _ = self.stop.send(true);
        let mut task = self.task;
        match tokio::time::timeout(self.grace, &mut task).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "the scheduler task failed"),
            Err(_) => {
                tracing::warn!(
                    grace = ?self.grace,
                    "sync jobs still running at shutdown were cut off; their leases will run out"
                );
                task.abort();
            }
        }
    }
}

async fn run_loop(state: AppState, owner: String, mut stopped: watch::Receiver<bool>) {
    tracing::info!(owner = %owner, tick = ?state.settings.scheduler_tick, "sync scheduler started");
    let mut ticker = tokio::time::interval(state.settings.scheduler_tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut running: JoinSet<()> = JoinSet::new();
    loop {
        tokio::select! {
            // A stop request, or the handle dropped.
            _ = stopped.changed() => break,
            _ = ticker.tick() => {}
        }
        while let Some(done) = running.try_join_next() {
            report_task(done);
        }
        tick(&state, &owner, &mut running).await;
    }
    tracing::info!(owner = %owner, running = running.len(), "sync scheduler stopping; letting running jobs finish");
    while let Some(done) = running.join_next().await {
        report_task(done);
    }
    tracing::info!(owner = %owner, "sync scheduler stopped");
}

/// One tick: repair missing jobs, then claim due jobs while there is room.
async fn tick(state: &AppState, owner: &str, running: &mut JoinSet<()>) {
    if let Err(e) = ensure_missing_jobs(state).await {
        tracing::error!(error = ?e, "creating missing sync jobs failed");
    }
    while running.len() < MAX_CONCURRENT_JOBS {
        match jobs::claim_due(&state.db, owner, Utc::now(), state.settings.sync_lease).await {
            Ok(Some(job)) => {
                let state = state.clone();
                let owner = owner.to_string();
                running.spawn(async move {
                    if let Err(e) = run_job(&state, &job, &owner, SyncTrigger::Schedule).await {
                        tracing::error!(job_id = job.id, integration_id = job.integration_id, kind = ?job.kind, error = ?e, "sync job could not be recorded; its lease will run out and it is retried");
                    }
                });
            }
            Ok(None) => break,
            Err(e) => {
                tracing::error!(error = ?e, "claiming due sync jobs failed");
                break;
            }
        }
    }
}

fn report_task(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done {
        tracing::error!(error = %e, "a sync job task panicked or was cancelled");
    }
}

/// Gives every ACTIVE integration its jobs (normally they exist already: one cheap query).
async fn ensure_missing_jobs(state: &AppState) -> AppResult<()> {
    for integration in jobs::integrations_without_jobs(&state.db).await? {
        jobs::ensure_jobs(&state.db, &integration).await?;
    }
    Ok(())
}

/// Runs every due job once, one after the other, as `owner`, and returns their runs (jobs
/// another process claims first are left to it). Tests drive the scheduler with this.
pub async fn run_once(state: &AppState, owner: &str) -> AppResult<Vec<sync_run::Model>> {
    ensure_missing_jobs(state).await?;
    let mut runs = Vec::new();
    let mut seen = HashSet::new();
    let mut again = Vec::new();
    while let Some(job) =
        jobs::claim_due(&state.db, owner, Utc::now(), state.settings.sync_lease).await?
    {
        // With an interval shorter than a run, a job is due again already: it runs once per
        // call, and stays claimed until the end so the loop moves on to the others.
        if !seen.insert(job.id) {
            again.push(job.id);
            continue;
        }
        if let Some(run) = run_job(state, &job, owner, SyncTrigger::Schedule).await? {
            runs.push(run);
        }
    }
    for id in again {
        jobs::unclaim(&state.db, id, owner).await?;
    }
    Ok(runs)
}
