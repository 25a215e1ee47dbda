//! Held mail: what reached the desk but opened no case (automated mail that threads to no
//! case; later, senders who may not open cases). Each row keeps the raw message, the reason
//! as a named kind plus words, and its receipt time, until an agent releases it into a case
//! or discards it. The dedup key makes a second delivery of the same message no second row.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum HeldMail {
    Table,
    Id,
    Mailbox,
    SourceRef,
    Kind,
    Reason,
    FromAddr,
    Subject,
    MessageId,
    DedupKey,
    Raw,
    ReceivedAt,
    CreatedAt,
    State,
    SettledAt,
    CaseId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let table = Table::create()
            .table(HeldMail::Table)
            .if_not_exists()
            .col(big_pk_auto(HeldMail::Id))
            .col(string(HeldMail::Mailbox))
            .col(text_null(HeldMail::SourceRef))
            .col(string(HeldMail::Kind))
            .col(text(HeldMail::Reason))
            .col(text(HeldMail::FromAddr))
            .col(text(HeldMail::Subject))
            .col(text_null(HeldMail::MessageId))
            .col(string(HeldMail::DedupKey))
            .col(blob(HeldMail::Raw))
            .col(timestamp_with_time_zone(HeldMail::ReceivedAt))
            .col(timestamp_with_time_zone(HeldMail::CreatedAt))
            .col(string(HeldMail::State))
            .col(timestamp_with_time_zone_null(HeldMail::SettledAt))
            .col(big_integer_null(HeldMail::CaseId))
            .to_owned();
        m.create_table(table).await?;
        let dedup = Index::create()
            .if_not_exists()
            .name("idx_held_mail_dedup")
            .table(HeldMail::Table)
            .col(HeldMail::DedupKey)
            .unique()
            .to_owned();
        m.create_index(dedup).await?;
        let state = Index::create()
            .if_not_exists()
            .name("idx_held_mail_state")
            .table(HeldMail::Table)
            .col(HeldMail::State)
            .col(HeldMail::Id)
            .to_owned();
        m.create_index(state).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(HeldMail::Table).to_owned()).await
    }
}
