use sea_orm::entity::prelude::*;

/// A budget threshold alert that went (the ledger): one per company, threshold and amount
/// purchased, so a top-up re-arms the thresholds.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "budget_alerts_sent")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    /// As configured: `25%`.
    pub threshold: String,
    pub purchased_centihours: i64,
    pub sent_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
