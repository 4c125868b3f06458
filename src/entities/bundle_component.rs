//! `bundle_components`: what one bundle (an inventory item with `bundle` set) is made of, one
//! row per component item with the quantity one bundle takes of it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bundle_components")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub bundle_item_id: i64,
    pub component_item_id: i64,
    /// Units of the component in one bundle (at least 1).
    pub quantity: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
