use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "mailbox_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub mailbox: String,
    pub uid_validity: Option<i64>,
    pub last_uid: Option<i64>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
