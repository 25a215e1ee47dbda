use sea_orm::entity::prelude::*;

/// A top-up of a company's support budget (`supportd budget add`), after the first purchase
/// in `[[company]] budget_hours`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "budget_purchases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub company_id: i64,
    /// Standard hours.
    pub hours: f64,
    pub note: Option<String>,
    /// When it was bought (the agreement's date).
    pub at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
