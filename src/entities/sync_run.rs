//! `sync_runs`: the record of every import run.

use sea_orm::entity::prelude::*;

use crate::domain::{SyncKind, SyncOutcome, SyncTrigger};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub integration_id: i64,
    pub kind: SyncKind,
    pub trigger: SyncTrigger,
    pub outcome: SyncOutcome,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub api_calls: i64,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
