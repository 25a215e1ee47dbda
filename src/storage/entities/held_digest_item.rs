use sea_orm::entity::prelude::*;

/// A held message a digest listed: listed once, whatever happens after.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "held_digest_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub held_id: i64,
    pub digest_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
