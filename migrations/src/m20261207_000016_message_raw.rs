//! A stored message's raw bytes live in a table of their own, one row per message.
//!
//! Why: SQLite rewrites a whole row on every UPDATE and builds a whole record on every
//! INSERT, so the raw bytes in the same row as the decoded text and HTML meant a 24 MB
//! message was held several times over at once (the statement's copies, the old row read
//! back, the new record). Apart, each write carries one of them. And no query that loads
//! a message row can read megabytes of raw bytes it never needed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MessageRaw {
    Table,
    MessageId,
    Raw,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Raw,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(MessageRaw::Table)
                .col(big_integer(MessageRaw::MessageId).primary_key())
                .col(blob(MessageRaw::Raw))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared("INSERT INTO message_raw (message_id, raw) SELECT id, raw FROM messages").await?;
        m.alter_table(Table::alter().table(Messages::Table).drop_column(Messages::Raw).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(Messages::Table).add_column(blob(Messages::Raw).default(Vec::<u8>::new())).to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "UPDATE messages SET raw = (SELECT r.raw FROM message_raw r WHERE r.message_id = messages.id) \
             WHERE id IN (SELECT message_id FROM message_raw)",
        )
        .await?;
        m.drop_table(Table::drop().table(MessageRaw::Table).to_owned()).await
    }
}
