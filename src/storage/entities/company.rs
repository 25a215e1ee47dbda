use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "companies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    /// Comma-separated e-mail domains.
    pub domains: String,
    pub time_zone: Option<String>,
    pub crm_name: Option<String>,
    pub crm_email: Option<String>,
    pub notes: String,
    /// Pre-purchased support, in hours at the standard rate.
    pub budget_hours: f64,
    pub standard_rate: Option<f64>,
    pub consultancy_rate: Option<f64>,
    /// The CRM's secret for `#report` requests (in the Reply-To of mail sent to them).
    pub report_token: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
