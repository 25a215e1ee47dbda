use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: Option<i64>,
    pub kind: String,
    #[sea_orm(unique)]
    pub message_id: String,
    pub envelope_from: String,
    /// Comma-separated recipients.
    pub envelope_to: String,
    pub subject: String,
    /// The complete message, rendered once so that every attempt sends the same bytes.
    pub raw: Vec<u8>,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTimeUtc,
    pub claimed_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// When it was given up on (migration 13; empty for rows that failed before it).
    pub failed_at: Option<DateTimeUtc>,
    /// When it was last queued: its creation, or `supportd outbox retry` (migration 13).
    pub queued_at: Option<DateTimeUtc>,
    /// Mail to someone not yet a party of a case: the recipient folded (`name+tag@Domain` as
    /// `name@domain`) and its domain, for the hourly caps (`outbound::strangers`; migration 15).
    pub stranger_to: Option<String>,
    pub stranger_domain: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Where an outgoing mail stands. `Limited`: never to be sent (mail to an agent over
/// `[agents] mail_limit_per_hour`), kept so that the operator can see it.
#[derive(sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    Queued,
    Sending,
    Sent,
    Failed,
    Limited,
}

crate::domain::named_enum!(OutboxStatus, "an outbox status", {
    Queued => "queued",
    Sending => "sending",
    Sent => "sent",
    Failed => "failed",
    Limited => "limited",
});
