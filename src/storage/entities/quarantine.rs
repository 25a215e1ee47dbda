use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "quarantine")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub mailbox: Option<String>,
    /// Where the message came from: a Maildir file name, an IMAP UID, `stdin`.
    pub source_ref: Option<String>,
    pub reason: String,
    /// The message, or only its first part when it was over the size limit.
    pub raw: Vec<u8>,
    /// The whole message's size and SHA-256 (hex), when known; `raw` may be shorter.
    pub full_size: Option<i64>,
    pub sha256: Option<String>,
    pub received_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub retried_at: Option<DateTimeUtc>,
    pub released: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
