//! `sync_jobs`: one per integration and kind; claimed through leases.

use sea_orm::entity::prelude::*;

use crate::domain::SyncKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub integration_id: i64,
    pub kind: SyncKind,
    pub next_run_at: DateTimeUtc,
    /// Who holds the lease (a process id), if anyone.
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    /// Where the next incremental run starts (e.g. the orders' modification watermark, RFC 3339).
    pub cursor: Option<String>,
    pub last_success_at: Option<DateTimeUtc>,
    pub last_failure_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
