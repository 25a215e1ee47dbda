use sea_orm::entity::prelude::*;

/// A report the scheduler mailed (the ledger): one per company, kind and period.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "reports_sent")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    /// `monthly`.
    pub kind: String,
    /// `2026-11` (`Period::key`).
    pub period: String,
    pub sent_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
