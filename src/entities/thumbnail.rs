//! `thumbnails`: a product picture URL of an account fetched once and kept as a small PNG for
//! pick lists, or the time it could not be fetched (tried again an hour later).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "thumbnails")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    /// Hex SHA-256 of the URL (the lookup key).
    pub url_sha256: String,
    pub url: String,
    /// The picture as a PNG of at most 96 × 96 pixels; null when it could not be fetched.
    pub data: Option<Vec<u8>>,
    /// When fetching last failed.
    pub failed_at: Option<DateTimeUtc>,
    pub fetched_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
