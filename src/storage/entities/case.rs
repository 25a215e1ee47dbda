use sea_orm::entity::prelude::*;

use crate::domain::{CaseNumber, CaseType, Channel, Priority, Severity, Status};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub number: CaseNumber,
    pub company_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub mailbox: String,
    /// How the request came: email, or a phone call, chat or web form an agent logged.
    pub channel: Channel,
    pub summary: String,
    pub case_type: CaseType,
    pub severity: Severity,
    pub priority: Priority,
    pub status: Status,
    pub error_category: Option<String>,
    /// Caused by client-side configuration: no resolution target applies.
    pub client_config: bool,
    pub assignee_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The server's receipt time of the first message: the SLA clock's start.
    pub sla_started_at: DateTimeUtc,
    pub first_response_at: Option<DateTimeUtc>,
    pub first_response_due: Option<DateTimeUtc>,
    pub resolution_due: Option<DateTimeUtc>,
    pub next_alert_at: Option<DateTimeUtc>,
    pub paused_since: Option<DateTimeUtc>,
    pub paused_seconds: i64,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub solution: Option<String>,
    pub linked_case_id: Option<i64>,
    /// Why this message opened a new case rather than joining one (e.g. a tag from an outsider).
    pub opened_because: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
