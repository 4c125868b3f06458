//! A listing whose stock or price must reach its store. One row per listing and kind: a new
//! change bumps `generation` (coalescing: only the latest figure is sent); the push worker
//! claims rows with a lease, and deletes a row after a successful push only if its generation
//! did not move meanwhile.

use sea_orm::entity::prelude::*;

use crate::domain::PushKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "push_queue")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub integration_id: i64,
    pub listing_id: i64,
    pub kind: PushKind,
    pub generation: i64,
    pub attempts: i64,
    pub due_at: DateTimeUtc,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
