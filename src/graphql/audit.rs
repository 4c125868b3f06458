//! The audit trail in the API: `auditEvents` (owners and admins), and [`record`], which every
//! mutation that changed something calls once with what it changed.

use async_graphql::{Context, InputObject, Object, ID};
use chrono::{DateTime, Utc};

use super::context::{principal_with_turn, state};
use super::ids;
use crate::domain::{AuditAction, Permission};
use crate::entities::audit_event;
use crate::services::audit::{self, ActorFilter, AuditFilter, Event};
use crate::services::pagination::PageRequest;
use crate::services::Principal;

/// A recorded change.
pub struct AuditEvent(audit_event::Model);

/// A change in the account: who made it, when, to what, and what it was.
#[Object]
impl AuditEvent {
    /// Global id.
    async fn id(&self) -> ID {
        ids::encode("AuditEvent", self.0.id)
    }
    /// The kind of change.
    async fn action(&self) -> AuditAction {
        self.0.action
    }
    /// The user who made it, when a user did (null for an API key, and for a failed login).
    async fn actor_user_id(&self) -> Option<ID> {
        self.0.actor_user_id.map(|id| ids::encode("User", id))
    }
    /// The API key that made it, when a key did.
    async fn actor_api_key_id(&self) -> Option<ID> {
        self.0.actor_api_key_id.map(|id| ids::encode("ApiKey", id))
    }
    /// The global id of what changed, when one thing did (a failed login names the user).
    async fn target_id(&self) -> Option<ID> {
        self.0.target_id.clone().map(ID)
    }
    /// What changed, in a few words; never a secret.
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// When (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

super::connection::connection!(
    AuditEventConnection,
    AuditEventEdge,
    AuditEvent,
    "audit events"
);

/// Which events `auditEvents` lists; every given condition must hold.
#[derive(InputObject, Default)]
pub struct AuditEventFilterInput {
    /// Only those of this user or API key (a `User` or `ApiKey` global id).
    pub actor_id: Option<ID>,
    /// Only this kind of change.
    pub action: Option<AuditAction>,
    /// Only those about this global id (an order, a product, a store, a user…).
    pub target_id: Option<ID>,
    /// Only those at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only those before this time.
    pub to: Option<DateTime<Utc>>,
}

/// Audit queries.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The account's audit trail, newest first (owners and admins).
    #[graphql(complexity = "first.max(1) as usize * child_complexity + super::QUERY_COST")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page size (1–100).",
            default = 20,
            validator(minimum = 1, maximum = 100)
        )]
        first: i32,
        #[graphql(desc = "Cursor after which the page starts (older events follow).")]
        after: Option<String>,
        #[graphql(desc = "Filters.")] filter: Option<AuditEventFilterInput>,
    ) -> async_graphql::Result<AuditEventConnection> {
        let (p, _turn) = principal_with_turn(ctx, Permission::ReadAudit).await?;
        let after = after.as_deref().map(ids::decode_cursor).transpose()?;
        let f = filter.unwrap_or_default();
        let actor =
            f.actor_id.map(
                |gid| match (ids::decode("User", &gid), ids::decode("ApiKey", &gid)) {
                    (Some(user), _) => ActorFilter::User(user),
                    (_, Some(key)) => ActorFilter::ApiKey(key),
                    _ => ActorFilter::Nobody,
                },
            );
        let filter = AuditFilter {
            actor,
            action: f.action,
            target_id: f.target_id.map(|id| id.0),
            from: f.from,
            to: f.to,
        };
        let page = audit::list(
            state(ctx)?,
            &p,
            filter,
            PageRequest {
                first: u64::try_from(first).unwrap_or(1),
                after,
            },
        )
        .await?;
        Ok(AuditEventConnection::build(
            page,
            after.is_some(),
            |m| ids::cursor(m.id),
            AuditEvent,
        ))
    }
}

/// Records what a mutation changed, by its caller. The change is committed already: when the
/// event cannot be written the failure is logged and the mutation still answers.
pub async fn record(
    ctx: &Context<'_>,
    p: &Principal,
    action: AuditAction,
    target_id: Option<String>,
    summary: impl Into<String>,
) {
    let event = Event {
        action,
        target_id,
        summary: summary.into(),
    };
    let written = match state(ctx) {
        Ok(st) => audit::record(&st.db, p.account_id, p.actor.into(), event)
            .await
            .map(|_| ()),
        Err(_) => Ok(()),
    };
    if let Err(e) = written {
        tracing::error!(error = %e, ?action, account_id = p.account_id, "writing an audit event failed");
    }
}
