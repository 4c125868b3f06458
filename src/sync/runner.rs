//! One run of a sync job: its record in `sync_runs`, the import with the lease kept alive,
//! the outcome; plus the use cases `syncNow` and `syncRuns` are built on.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use tracing::Instrument;

use super::jobs::{self, Finished};
use super::{channel_for, orders, products, ImportReport, SyncError};
use crate::channels::{ChannelError, SalesChannel};
use crate::domain::{IntegrationStatus, SyncKind, SyncOutcome, SyncTrigger};
use crate::entities::{integration, sync_job as job, sync_run as run};
use crate::error::{AppError, AppResult, DbContext, UserError, UserErrorCode as Code};
use crate::services::events::Event;
use crate::services::pagination::{Page, PageRequest};
use crate::services::Principal;
use crate::state::AppState;

/// Longest error text kept on a run (the log has the whole chain).
const MAX_ERROR_CHARS: usize = 1000;

/// Why a run failed, before it becomes the run's error text.
enum Failure {
    /// The import stopped.
    Sync(SyncError),
    /// The lease ran out and another process took the job over.
    LeaseLost,
}

/// Runs a job this process has claimed for `owner`: records a `RUNNING` run, imports, then
/// records the outcome, counts and API calls on the run and the job, and schedules the job's
/// next run. A store answering 401 marks the integration `NEEDS_CREDENTIALS`.
///
/// `None` when nothing ran because the integration is gone or no longer `ACTIVE`, or the
/// job imports orders of a store whose order management is off (the lease is given up and
/// the job scheduled one interval later). An `Err` means the record itself could not be written; the lease then runs
/// out and the job is retried.
pub async fn run_job(
    state: &AppState,
    job: &job::Model,
    owner: &str,
    trigger: SyncTrigger,
) -> AppResult<Option<run::Model>> {
    let db = &state.db;
    let interval = jobs::interval(&state.settings, job.kind);
    let integration = integration::Entity::find_by_id(job.integration_id)
        .one(db)
        .await
        .during("loading the integration of a sync job")?;
    let Some(integration) = integration.filter(|i| runs_for(i, job.kind)) else {
        tracing::info!(
            job_id = job.id,
            integration_id = job.integration_id,
            kind = ?job.kind,
            "sync job skipped: integration not active or this import is turned off"
        );
        jobs::release(
            db,
            job.id,
            owner,
            jobs::later(Utc::now(), interval),
            Finished::Skipped,
        )
        .await?;
        return Ok(None);
    };

    let started_at = Utc::now();
    close_abandoned_runs(state, job).await?;
    let record = start_run(db, &integration, job.kind, trigger, started_at).await?;
    tracing::info!(run_id = record.id, integration_id = job.integration_id, kind = ?job.kind, trigger = ?trigger, "sync run started");

    // The importers' own log lines carry the run they belong to.
    let span = tracing::info_span!("sync_run", run_id = record.id, integration_id = job.integration_id, kind = ?job.kind);
    let (result, api_calls) = import(state, &integration, job, owner)
        .instrument(span)
        .await;

    let done = finish_run(db, record, &result, api_calls).await?;
    finished(state, &done);
    let finished_at = done.finished_at.unwrap_or_else(Utc::now);
    let error = done.error.clone();
    match &error {
        None => tracing::info!(
            run_id = done.id,
            integration_id = job.integration_id,
            kind = ?job.kind,
            created = done.created,
            updated = done.updated,
            unchanged = done.unchanged,
            api_calls = done.api_calls,
            "sync run succeeded"
        ),
        Some(text) => tracing::warn!(
            run_id = done.id,
            integration_id = job.integration_id,
            kind = ?job.kind,
            api_calls = done.api_calls,
            error = %text,
            "sync run failed"
        ),
    }
    if matches!(
        result,
        Err(Failure::Sync(SyncError::Channel(
            ChannelError::Unauthorized
        )))
    ) {
        needs_credentials(state, &integration).await?;
    }
    let finished = match &error {
        None => Finished::Success,
        Some(text) => Finished::Failure(text),
    };
    let next = jobs::later(finished_at, interval);
    if !jobs::release(db, job.id, owner, next, finished).await? {
        tracing::warn!(
            job_id = job.id,
            run_id = done.id,
            "sync job lease was lost before the run ended; another process took it over"
        );
    }
    Ok(Some(done))
}

/// Records the start of a run.
async fn start_run(
    db: &sea_orm::DatabaseConnection,
    integration: &integration::Model,
    kind: SyncKind,
    trigger: SyncTrigger,
    started_at: chrono::DateTime<Utc>,
) -> AppResult<run::Model> {
    run::ActiveModel {
        account_id: Set(integration.account_id),
        integration_id: Set(integration.id),
        kind: Set(kind),
        trigger: Set(trigger),
        outcome: Set(SyncOutcome::Running),
        started_at: Set(started_at),
        created: Set(0),
        updated: Set(0),
        unchanged: Set(0),
        api_calls: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await
    .during("recording the start of a sync run")
}

/// Tells subscribers a run finished (its row is committed), and counts it.
fn finished(state: &AppState, run: &run::Model) {
    state.events.publish([Event::SyncRunFinished {
        account_id: run.account_id,
        run_id: run.id,
    }]);
    if state.metrics.enabled() {
        let took = run.finished_at.unwrap_or(run.started_at) - run.started_at;
        state.metrics.sync_run(crate::metrics::Run {
            integration_id: run.integration_id,
            kind: &run.kind.as_str().to_ascii_lowercase(),
            trigger: &run.trigger.as_str().to_ascii_lowercase(),
            outcome: &run.outcome.as_str().to_ascii_lowercase(),
            duration: took.to_std().unwrap_or_default(),
            created: run.created,
            orders: run.kind == SyncKind::Orders,
        });
    }
}

/// Records the end of a run: outcome, counts, API calls and error text.
async fn finish_run(
    db: &sea_orm::DatabaseConnection,
    record: run::Model,
    result: &Result<ImportReport, Failure>,
    api_calls: u64,
) -> AppResult<run::Model> {
    let error = result.as_ref().err().map(|f| error_text(f, record.id));
    let report = result.as_ref().copied().unwrap_or_default();
    let mut done = record.into_active_model();
    done.outcome = Set(if error.is_none() {
        SyncOutcome::Succeeded
    } else {
        SyncOutcome::Failed
    });
    done.finished_at = Set(Some(Utc::now()));
    done.created = Set(count(report.created));
    done.updated = Set(count(report.updated));
    done.unchanged = Set(count(report.unchanged));
    done.api_calls = Set(count(api_calls));
    done.error = Set(error);
    done.update(db)
        .await
        .during("recording the end of a sync run")
}

/// Whether a job of `kind` runs for the integration: only while it is `ACTIVE`, and orders
/// only with order management on.
fn runs_for(integration: &integration::Model, kind: SyncKind) -> bool {
    integration.status == IntegrationStatus::Active
        && (kind != SyncKind::Orders || integration.order_management)
}

/// The import of the job's kind, with the lease renewed every third of its length; the
/// store's API calls are counted whatever the outcome.
async fn import(
    state: &AppState,
    integration: &integration::Model,
    job: &job::Model,
    owner: &str,
) -> (Result<ImportReport, Failure>, u64) {
    let channel = match channel_for(state, integration) {
        Ok(c) => c,
        Err(e) => return (Err(Failure::Sync(e)), 0),
    };
    let work = async {
        match job.kind {
            SyncKind::Orders => {
                // With webhooks on, each order run also checks that the store's hooks are
                // still there and active (one call), and registers them again if not.
                crate::services::webhooks::ensure(state, integration).await;
                orders::import_orders(state, integration, &channel).await
            }
            SyncKind::Products => products::import_products(state, integration, &channel).await,
        }
    };
    let result = tokio::select! {
        r = work => r.map_err(Failure::Sync),
        () = keep_lease(state, job.id, owner) => Err(Failure::LeaseLost),
    };
    (result, channel.api_calls())
}

/// Renews the lease until it is lost (then returns, which stops the import: the process
/// that took the job over runs it again, and imports are idempotent).
async fn keep_lease(state: &AppState, job_id: i64, owner: &str) {
    let lease = state.settings.sync_lease;
    loop {
        tokio::time::sleep(lease / 3).await;
        match jobs::renew(&state.db, job_id, owner, Utc::now(), lease).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(job_id, owner, "sync job lease lost; stopping the run");
                return;
            }
            // A database hiccup: try again next time; the lease outlives two failed renewals.
            Err(e) => tracing::warn!(job_id, error = ?e, "renewing a sync job lease failed"),
        }
    }
}

/// The error text kept on the run: what went wrong in plain terms, never a secret.
fn error_text(failure: &Failure, run_id: i64) -> String {
    let text = match failure {
        Failure::LeaseLost => {
            "the lease on this job ran out and another process took the job over".to_string()
        }
        Failure::Sync(SyncError::Channel(e)) => format!("store: {e}"),
        Failure::Sync(SyncError::App(AppError::User(errors))) => errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        Failure::Sync(SyncError::App(e)) => {
            tracing::error!(run_id, error = ?e, "sync run failed on an internal error");
            format!("internal error: {}", e.report())
        }
    };
    text.chars().take(MAX_ERROR_CHARS).collect()
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Marks the integration as needing new credentials, unless they changed meanwhile (an
/// `updateIntegration` racing the failed run keeps its fresh token `ACTIVE`).
pub(crate) async fn needs_credentials(
    state: &AppState,
    integration: &integration::Model,
) -> AppResult<()> {
    let mut update = integration::Entity::update_many()
        .col_expr(
            integration::Column::Status,
            Expr::value(IntegrationStatus::NeedsCredentials),
        )
        .col_expr(integration::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(integration::Column::Id.eq(integration.id))
        .filter(integration::Column::Status.eq(IntegrationStatus::Active));
    update = match &integration.access_token_ciphertext {
        Some(c) => update.filter(integration::Column::AccessTokenCiphertext.eq(c.as_str())),
        None => update.filter(integration::Column::AccessTokenCiphertext.is_null()),
    };
    let changed = update
        .exec(&state.db)
        .await
        .during("marking an integration as needing credentials")?
        .rows_affected;
    if changed == 1 {
        tracing::warn!(
            integration_id = integration.id,
            account_id = integration.account_id,
            store = %integration.store_hash,
            "the store rejected the access token; sync stops until updateIntegration gives a new one"
        );
    }
    Ok(())
}

/// Runs of this job still marked `RUNNING` belong to a process that died or lost the lease
/// (this process holds it now): they are closed as failed so the record tells.
async fn close_abandoned_runs(state: &AppState, job: &job::Model) -> AppResult<()> {
    let closed = run::Entity::update_many()
        .col_expr(run::Column::Outcome, Expr::value(SyncOutcome::Failed))
        .col_expr(run::Column::FinishedAt, Expr::value(Some(Utc::now())))
        .col_expr(
            run::Column::Error,
            Expr::value("abandoned: the process running it stopped before it ended"),
        )
        .filter(run::Column::IntegrationId.eq(job.integration_id))
        .filter(run::Column::Kind.eq(job.kind))
        .filter(run::Column::Outcome.eq(SyncOutcome::Running))
        // Webhook imports run beside the job, without its lease.
        .filter(run::Column::Trigger.ne(SyncTrigger::Webhook))
        .exec(&state.db)
        .await
        .during("closing abandoned sync runs")?
        .rows_affected;
    if closed > 0 {
        tracing::warn!(
            job_id = job.id,
            closed,
            "closed sync runs abandoned by a stopped process"
        );
    }
    Ok(())
}

/// A webhook run still `RUNNING` after this long was abandoned by a stopped process.
const WEBHOOK_RUN_ABANDONED_AFTER: chrono::Duration = chrono::Duration::minutes(10);

/// Imports the orders `external_ids` (sorted, distinct: webhook deliveries merged by
/// `sync::webhook_imports`) right away, recorded as one `ORDERS` run triggered by `WEBHOOK`.
/// It runs beside the scheduled import without its lease: both write through the same
/// idempotent upserts. `None` when the store is not `ACTIVE` or its order management is off.
pub async fn import_orders_now(
    state: &AppState,
    integration_id: i64,
    external_ids: &[i64],
) -> AppResult<Option<run::Model>> {
    let db = &state.db;
    let fresh = integration::Entity::find_by_id(integration_id)
        .one(db)
        .await
        .during("loading the integration of a webhook import")?;
    let Some(integration) = fresh.filter(|i| runs_for(i, SyncKind::Orders)) else {
        return Ok(None);
    };
    let started_at = Utc::now();
    run::Entity::update_many()
        .col_expr(run::Column::Outcome, Expr::value(SyncOutcome::Failed))
        .col_expr(run::Column::FinishedAt, Expr::value(Some(started_at)))
        .col_expr(
            run::Column::Error,
            Expr::value("abandoned: the process running it stopped before it ended"),
        )
        .filter(run::Column::IntegrationId.eq(integration.id))
        .filter(run::Column::Trigger.eq(SyncTrigger::Webhook))
        .filter(run::Column::Outcome.eq(SyncOutcome::Running))
        .filter(run::Column::StartedAt.lt(started_at - WEBHOOK_RUN_ABANDONED_AFTER))
        .exec(db)
        .await
        .during("closing abandoned webhook runs")?;
    let record = start_run(
        db,
        &integration,
        SyncKind::Orders,
        SyncTrigger::Webhook,
        started_at,
    )
    .await?;
    let (result, api_calls) = match channel_for(state, &integration) {
        Ok(channel) => {
            let r = orders::import_orders_by_id(state, &integration, &channel, external_ids).await;
            (r, channel.api_calls())
        }
        Err(e) => (Err(e), 0),
    };
    let unauthorized = matches!(result, Err(SyncError::Channel(ChannelError::Unauthorized)));
    let done = finish_run(db, record, &result.map_err(Failure::Sync), api_calls).await?;
    finished(state, &done);
    let error = done.error.clone();
    match &error {
        None => tracing::info!(
            run_id = done.id,
            integration_id = integration.id,
            orders = external_ids.len(),
            created = done.created,
            updated = done.updated,
            api_calls = done.api_calls,
            "orders imported on webhooks"
        ),
        Some(text) => tracing::warn!(
            run_id = done.id,
            integration_id = integration.id,
            orders = external_ids.len(),
            error = %text,
            "webhook import failed; the next scheduled import picks the orders up"
        ),
    }
    if unauthorized {
        needs_credentials(state, &integration).await?;
    }
    Ok(Some(done))
}

/// `syncNow`: runs the integration's import of `kind` (both when `None`: products, then
/// orders, the latter only with order management on) right away and returns the finished
/// runs. `NOT_FOUND` for another account's or an
/// unknown integration, `INTEGRATION_DISCONNECTED`, `CREDENTIALS_REJECTED` while it waits for
/// new credentials, `SYNC_IN_PROGRESS` while any process runs that import.
pub async fn sync_now(
    state: &AppState,
    p: &Principal,
    integration_id: Option<i64>,
    kind: Option<SyncKind>,
) -> AppResult<Vec<run::Model>> {
    let integration =
        crate::services::integrations::require(state, p, integration_id, "integrationId").await?;
    match integration.status {
        IntegrationStatus::Active => {}
        IntegrationStatus::Disconnected => {
            return Err(UserError::new(
                "integrationId",
                Code::IntegrationDisconnected,
                "This store is disconnected; connect it again to sync it.",
            )
            .into())
        }
        IntegrationStatus::NeedsCredentials => {
            return Err(UserError::new(
                "integrationId",
                Code::CredentialsRejected,
                "The store rejected the stored access token; give a new one with updateIntegration first.",
            )
            .into())
        }
    }
    let kinds: Vec<SyncKind> = match kind {
        Some(SyncKind::Orders) if !integration.order_management => {
            return Err(UserError::new(
                "kind",
                Code::OrderManagementRequired,
                "Order management is off for this store; turn it on to import its orders.",
            )
            .into())
        }
        Some(k) => vec![k],
        None => [SyncKind::Products, SyncKind::Orders]
            .into_iter()
            .filter(|k| runs_for(&integration, *k))
            .collect(),
    };
    let owner = jobs::new_owner_id();
    let now = Utc::now();
    let mut claimed = Vec::new();
    for k in kinds {
        match jobs::claim_now(
            &state.db,
            &integration,
            k,
            &owner,
            now,
            state.settings.sync_lease,
        )
        .await
        {
            Ok(job) => claimed.push(job),
            Err(e) => {
                for job in &claimed {
                    if let Err(u) = jobs::unclaim(&state.db, job.id, &owner).await {
                        tracing::error!(job_id = job.id, error = ?u, "giving up an unused sync claim failed; its lease runs out");
                    }
                }
                return Err(e);
            }
        }
    }
    // On its own task: a client that hangs up does not cut the run (and its record) short.
    let state = state.clone();
    let task = tokio::spawn(async move {
        let mut runs = Vec::new();
        for job in claimed {
            if let Some(run) = run_job(&state, &job, &owner, SyncTrigger::Manual).await? {
                runs.push(run);
            }
        }
        Ok::<_, AppError>(runs)
    });
    task.await
        .map_err(|e| AppError::internal(format!("the syncNow task failed: {e}")))?
}

/// `syncRuns`: an integration's runs of the caller's account, newest first; empty for an
/// unknown or another account's integration.
pub async fn list_runs(
    state: &AppState,
    p: &Principal,
    integration_id: Option<i64>,
    kind: Option<SyncKind>,
    page: PageRequest,
) -> AppResult<Page<run::Model>> {
    let Some(integration_id) = integration_id else {
        return Ok(Page::from_overfetch(Vec::new(), page.first, 0));
    };
    let mut query = run::Entity::find()
        .filter(run::Column::AccountId.eq(p.account_id))
        .filter(run::Column::IntegrationId.eq(integration_id));
    if let Some(k) = kind {
        query = query.filter(run::Column::Kind.eq(k));
    }
    let total = query.clone().count(&state.db).await?;
    // Newest first: the next page holds the ids below the cursor.
    if let Some(after) = page.after {
        query = query.filter(run::Column::Id.lt(after));
    }
    let rows = query
        .order_by_desc(run::Column::Id)
        .limit(page.first + 1)
        .all(&state.db)
        .await?;
    Ok(Page::from_overfetch(rows, page.first, total))
}
