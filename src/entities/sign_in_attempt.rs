//! `sign_in_attempts`: logins and registrations by email and client address, counted by
//! throttling (shared by every replica) and purged after a day.

use sea_orm::entity::prelude::*;

use crate::domain::SignInOutcome;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_in_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The email tried (lower case); empty when none was given.
    pub email: String,
    /// The client's address.
    pub address: String,
    pub outcome: SignInOutcome,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
