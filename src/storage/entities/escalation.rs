use sea_orm::entity::prelude::*;

/// A case escalated to a team: current while `ended_at` is empty.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "escalations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    /// The `[[team]]` name, or "account" for the company's CRM when no account team is set.
    pub team: String,
    /// The agent's address ("agent:jo@example.com", as in the audit trail).
    pub escalated_by: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub started_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    pub ended_by: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub end_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
