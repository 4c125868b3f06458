//! The sync engine in the API: `syncRuns`, `syncNow`, and `Integration.syncJobs`.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::audit;
use super::context::{acting, principal_with_turn, state};
use super::ids;
use super::text;
use crate::domain::{AuditAction, Permission};
use crate::domain::{SyncKind, SyncOutcome, SyncTrigger};
use crate::entities::{integration, sync_job, sync_run};
use crate::error::{into_payload, UserError};
use crate::services::pagination::PageRequest;
use crate::sync::runner;

/// One import run of a store: what ran, when, how it ended and what it did.
#[derive(Clone)]
pub struct SyncRun(pub sync_run::Model);

/// One import run of a store: what ran, when, how it ended and what it did.
#[Object]
impl SyncRun {
    /// Global id.
    async fn id(&self) -> ID {
        ids::encode("SyncRun", self.0.id)
    }
    /// Global id of the integration (store) it imported from.
    async fn integration_id(&self) -> ID {
        ids::encode("Integration", self.0.integration_id)
    }
    /// What it imported.
    async fn kind(&self) -> SyncKind {
        self.0.kind
    }
    /// What started it: the scheduler or `syncNow`.
    async fn trigger(&self) -> SyncTrigger {
        self.0.trigger
    }
    /// How it ended; `RUNNING` while it runs.
    async fn outcome(&self) -> SyncOutcome {
        self.0.outcome
    }
    /// When it started.
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }
    /// When it ended; null while it runs.
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
    /// Records created here (orders or listings).
    async fn created(&self) -> i64 {
        self.0.created
    }
    /// Records changed here.
    async fn updated(&self) -> i64 {
        self.0.updated
    }
    /// Records seen and already up to date.
    async fn unchanged(&self) -> i64 {
        self.0.unchanged
    }
    /// Calls made to the store's API, retries included (they spend the store's shared quota).
    async fn api_calls(&self) -> i64 {
        self.0.api_calls
    }
    /// Why it failed; null unless `outcome` is `FAILED`.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
}

/// A store's recurring import of one kind: its schedule and how its runs went lately.
pub struct SyncJob(pub sync_job::Model);

/// A store's recurring import of one kind: its schedule and how its runs went lately.
#[Object]
impl SyncJob {
    /// What it imports.
    async fn kind(&self) -> SyncKind {
        self.0.kind
    }
    /// When the scheduler runs it next (it runs only while the integration is `ACTIVE`).
    async fn next_run_at(&self) -> DateTime<Utc> {
        self.0.next_run_at
    }
    /// When a run last succeeded; null if none has yet.
    async fn last_success_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_success_at
    }
    /// When a run last failed; null if none has.
    async fn last_failure_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_failure_at
    }
    /// The error of the last failed run (at `lastFailureAt`); it stays after later
    /// successes, so compare the two times.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// Whether a process is running it right now.
    async fn running(&self) -> bool {
        self.0.lease_owner.is_some()
            && self
                .0
                .lease_expires_at
                .is_some_and(|until| until > Utc::now())
    }
}

super::connection::connection!(
    SyncRunConnection,
    SyncRunEdge,
    SyncRun,
    "import runs, newest first"
);

/// `Integration.syncJobs`: the integration's jobs, by kind.
pub async fn jobs_of_integration(
    ctx: &Context<'_>,
    integration: &integration::Model,
) -> async_graphql::Result<Vec<SyncJob>> {
    let rows = super::loaders::load::<super::loaders::SyncJobsLoader>(ctx, integration.id).await?;
    Ok(rows.unwrap_or_default().into_iter().map(SyncJob).collect())
}

/// Input of `syncNow`.
#[derive(InputObject)]
pub struct SyncNowInput {
    /// The integration (store) to import from.
    pub integration_id: ID,
    /// What to import; when omitted, products then orders (orders only while the store's
    /// order management is on).
    pub kind: Option<SyncKind>,
}

/// Result of `syncNow`.
#[derive(SimpleObject)]
pub struct SyncNowPayload {
    /// The finished runs, one per kind; empty when `userErrors` is not empty.
    pub runs: Vec<SyncRun>,
    /// What was wrong; empty on success. A failed import is not a user error: it is a run
    /// with outcome `FAILED`.
    pub user_errors: Vec<UserError>,
}

/// Sync queries.
#[derive(Default)]
pub struct SyncQuery;

#[Object]
impl SyncQuery {
    /// A store's import runs, newest first; empty for an integration that is not the account's.
    #[graphql(complexity = "first.max(1) as usize * child_complexity + super::QUERY_COST")]
    async fn sync_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global id of the integration.")] integration_id: ID,
        #[graphql(
            desc = "Page size (1–100).",
            default = 20,
            validator(minimum = 1, maximum = 100)
        )]
        first: i32,
        #[graphql(desc = "Cursor after which the page starts (older runs follow).")] after: Option<
            String,
        >,
        #[graphql(desc = "Only runs of this kind.")] kind: Option<SyncKind>,
    ) -> async_graphql::Result<SyncRunConnection> {
        let (p, _turn) = principal_with_turn(ctx, Permission::Read).await?;
        let after = after.as_deref().map(ids::decode_cursor).transpose()?;
        let page = runner::list_runs(
            state(ctx)?,
            &p,
            ids::decode("Integration", &integration_id),
            kind,
            PageRequest {
                first: u64::try_from(first).unwrap_or(1),
                after,
            },
        )
        .await?;
        Ok(SyncRunConnection::build(
            page,
            after.is_some(),
            |m| ids::cursor(m.id),
            SyncRun,
        ))
    }
}

/// Sync mutations.
#[derive(Default)]
pub struct SyncMutation;

#[Object]
impl SyncMutation {
    /// Runs a store's import(s) now and answers when they have finished. `NOT_FOUND` for an
    /// integration that is not the account's, `INTEGRATION_DISCONNECTED`,
    /// `CREDENTIALS_REJECTED` while the store waits for a new token, `SYNC_IN_PROGRESS` while
    /// that import runs (here or in another process), `ORDER_MANAGEMENT_REQUIRED` for orders
    /// of a store whose order management is off.
    async fn sync_now(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: SyncNowInput,
    ) -> async_graphql::Result<SyncNowPayload> {
        let (p, allowed) = acting(ctx, Permission::SyncNow)?;
        let id = ids::decode("Integration", &input.integration_id);
        let (runs, user_errors) = into_payload(
            text::then(allowed, runner::sync_now(state(ctx)?, &p, id, input.kind)).await,
        )?;
        if let Some(runs) = &runs {
            let kinds: Vec<&str> = runs.iter().map(|r| r.kind.as_str()).collect();
            let summary = format!("import of {} started", kinds.join(" and "));
            audit::record(
                ctx,
                &p,
                AuditAction::SyncNow,
                Some(input.integration_id.0),
                summary,
            )
            .await;
        }
        Ok(SyncNowPayload {
            runs: runs.unwrap_or_default().into_iter().map(SyncRun).collect(),
            user_errors,
        })
    }
}
