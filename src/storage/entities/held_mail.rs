//! Mail that reached the desk but opened no case, kept until an agent releases or discards it.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "held_mail")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub mailbox: String,
    /// Where the message came from: a Maildir file name, an IMAP UID, `stdin`.
    pub source_ref: Option<String>,
    pub kind: Kind,
    /// The words for the agents: which header or phrase gave it away, why it threads nowhere.
    pub reason: String,
    pub from_addr: String,
    pub subject: String,
    pub message_id: Option<String>,
    #[sea_orm(unique)]
    pub dedup_key: String,
    pub raw: Vec<u8>,
    /// The server's receipt time, as for a message stored on a case.
    pub received_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub state: State,
    /// When it was released or discarded.
    pub settled_at: Option<DateTimeUtc>,
    /// The case its release opened or joined.
    pub case_id: Option<i64>,
}

/// Why a message was held: what kind of automated mail it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A delivery failure or delay report.
    #[sea_orm(string_value = "bounce")]
    Bounce,
    /// An out-of-office or other automatic reply.
    #[sea_orm(string_value = "auto_reply")]
    AutoReply,
    /// A read receipt or a feedback (abuse) report.
    #[sea_orm(string_value = "report")]
    Report,
    /// Mailing-list or bulk mail.
    #[sea_orm(string_value = "list")]
    List,
    /// Marked as spam by the mail server's filter.
    #[sea_orm(string_value = "spam")]
    Spam,
    /// From a no-reply address, a mail system or a robot that must not be answered.
    #[sea_orm(string_value = "no_reply")]
    NoReply,
    /// From one of supportd's own addresses.
    #[sea_orm(string_value = "own_mail")]
    OwnMail,
    /// From someone who may not open cases (`[intake] who_may_open`).
    #[sea_orm(string_value = "not_member")]
    NotMember,
    /// A `#report` request that was refused (not from the company's CRM, or not verified), or
    /// a CRM's reply to a report or budget mail that could not be verified.
    #[sea_orm(string_value = "report_request")]
    ReportRequest,
}

impl Kind {
    /// Kinds that are a person's mail; every other kind is automated.
    pub const PEOPLE: [Kind; 2] = [Kind::NotMember, Kind::ReportRequest];

    pub fn is_a_persons(self) -> bool {
        Kind::PEOPLE.contains(&self)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Bounce => "bounce",
            Kind::AutoReply => "auto_reply",
            Kind::Report => "report",
            Kind::List => "list",
            Kind::Spam => "spam",
            Kind::NoReply => "no_reply",
            Kind::OwnMail => "own_mail",
            Kind::NotMember => "not_member",
            Kind::ReportRequest => "report_request",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum State {
    #[sea_orm(string_value = "held")]
    Held,
    #[sea_orm(string_value = "released")]
    Released,
    #[sea_orm(string_value = "discarded")]
    Discarded,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Held => "held",
            State::Released => "released",
            State::Discarded => "discarded",
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
