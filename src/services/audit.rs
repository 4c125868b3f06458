//! The audit trail: one event per change an account's users and keys make (and per failed
//! login to one of its users), with the actor, the action, the target and a short summary
//! that never holds a secret.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::pagination::{Page, PageRequest};
use super::sessions::{Actor, Principal};
use crate::domain::AuditAction;
use crate::entities::audit_event;
use crate::error::AppResult;
use crate::state::AppState;

/// Longest summary kept, in characters.
pub const SUMMARY_MAX: usize = 500;

/// What happened.
#[derive(Clone, Debug)]
pub struct Event {
    /// The kind of change.
    pub action: AuditAction,
    /// The global id of what changed, when one thing did.
    pub target_id: Option<String>,
    /// What changed, in a few words (never a secret).
    pub summary: String,
}

/// Who made a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// A user.
    User(i64),
    /// An API key.
    ApiKey(i64),
    /// Nobody signed in (a failed login).
    Nobody,
}

impl From<Actor> for By {
    fn from(actor: Actor) -> Self {
        match actor {
            Actor::User { user_id, .. } => By::User(user_id),
            Actor::ApiKey { key_id } => By::ApiKey(key_id),
        }
    }
}

/// Records `event` in `account_id`, made by `by`.
pub async fn record(
    conn: &impl ConnectionTrait,
    account_id: i64,
    by: By,
    event: Event,
) -> Result<audit_event::Model, DbErr> {
    let (user, key) = match by {
        By::User(id) => (Some(id), None),
        By::ApiKey(id) => (None, Some(id)),
        By::Nobody => (None, None),
    };
    let summary: String = event.summary.chars().take(SUMMARY_MAX).collect();
    audit_event::ActiveModel {
        account_id: Set(account_id),
        actor_user_id: Set(user),
        actor_api_key_id: Set(key),
        action: Set(event.action),
        target_id: Set(event.target_id),
        summary: Set(summary),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await
}

/// The actor an `auditEvents` filter names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorFilter {
    /// Events of this user.
    User(i64),
    /// Events of this API key.
    ApiKey(i64),
    /// An id that names no user or key: no events.
    Nobody,
}

/// Which events `auditEvents` lists.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only this actor's.
    pub actor: Option<ActorFilter>,
    /// Only this kind.
    pub action: Option<AuditAction>,
    /// Only those about this global id.
    pub target_id: Option<String>,
    /// Only those at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only those before this time.
    pub to: Option<DateTime<Utc>>,
}

/// The account's events matching `filter`, newest first.
pub async fn list(
    state: &AppState,
    p: &Principal,
    filter: AuditFilter,
    page: PageRequest,
) -> AppResult<Page<audit_event::Model>> {
    let mut query =
        audit_event::Entity::find().filter(audit_event::Column::AccountId.eq(p.account_id));
    match filter.actor {
        Some(ActorFilter::User(id)) => {
            query = query.filter(audit_event::Column::ActorUserId.eq(id))
        }
        Some(ActorFilter::ApiKey(id)) => {
            query = query.filter(audit_event::Column::ActorApiKeyId.eq(id));
        }
        Some(ActorFilter::Nobody) => return Ok(Page::from_overfetch(Vec::new(), page.first, 0)),
        None => {}
    }
    if let Some(action) = filter.action {
        query = query.filter(audit_event::Column::Action.eq(action));
    }
    if let Some(target) = filter.target_id {
        query = query.filter(audit_event::Column::TargetId.eq(target));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_event::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_event::Column::CreatedAt.lt(to));
    }
    let total = query.clone().count(&state.db).await?;
    if let Some(after) = page.after {
        query = query.filter(audit_event::Column::Id.lt(after));
    }
    let rows = query
        .order_by_desc(audit_event::Column::Id)
        .limit(page.first + 1)
        .all(&state.db)
        .await?;
    Ok(Page::from_overfetch(rows, page.first, total))
}
