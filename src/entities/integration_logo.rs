//! `integration_logos`: one re-encoded logo per integration.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "integration_logos")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub integration_id: i64,
    pub account_id: i64,
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    pub byte_size: i32,
    #[sea_orm(column_type = "Blob")]
    pub data: Vec<u8>,
    pub sha256: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
