//! `audit_events`: who changed what in an account, and when. Summaries never hold a secret.

use sea_orm::entity::prelude::*;

use crate::domain::AuditAction;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub actor_user_id: Option<i64>,
    pub actor_api_key_id: Option<i64>,
    pub action: AuditAction,
    /// The global id of what was changed, when one thing was.
    pub target_id: Option<String>,
    pub summary: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
