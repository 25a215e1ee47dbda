use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    /// `in` or `out`.
    pub direction: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    /// Space-separated Message-IDs, without angle brackets.
    pub references: Option<String>,
    pub from_addr: String,
    pub from_name: Option<String>,
    pub to_addrs: String,
    pub cc_addrs: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    pub received_at: DateTimeUtc,
    pub mailbox: Option<String>,
    pub dedup_key: Option<String>,
    /// Why no acknowledgement was sent (auto-reply, list, bounce...), if none was.
    pub no_ack_reason: Option<String>,
    pub flags: Option<String>,
    pub agent_id: Option<i64>,
    pub internal: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
