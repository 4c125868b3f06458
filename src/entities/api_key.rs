//! `api_keys`: long-lived secrets the merchant's own systems send like a login token. Only a
//! hash of each secret is stored, with its last characters to recognise it.

use sea_orm::entity::prelude::*;

use crate::domain::Role;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub role: Role,
    pub key_hash: String,
    /// The secret's prefix and last four characters (`odk_live_…a1b2`).
    pub hint: String,
    pub created_by_user_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
