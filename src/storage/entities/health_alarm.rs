use sea_orm::entity::prelude::*;

/// An incident of the desk's own health (`health::alarms`): open while `cleared_at` is empty.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "health_alarms")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What is sick: `mailbox:NAME`, `outbox`.
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    pub raised_at: DateTimeUtc,
    pub cleared_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
