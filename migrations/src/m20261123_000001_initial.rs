//! The whole support-desk model: companies, contacts, agents, cases and their messages,
//! attachments, events, the outbox, alerts, time entries, mailbox sync state, quarantine.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            m.create_table(table).await?;
        }
        for index in indexes() {
            m.create_index(index).await?;
        }
        // Case numbers come from this row, incremented inside the transaction that opens
        // the case: a rolled-back case gives its number back, so there are no gaps.
        let seed = Query::insert()
            .into_table(Counters::Table)
            .columns([Counters::Name, Counters::Value])
            .values_panic(["case_number".into(), 0i64.into()])
            .to_owned();
        m.exec_stmt(seed).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in tables().iter().rev() {
            let name = table.get_table_name().expect("every table has a name").clone();
            m.drop_table(Table::drop().table(name).to_owned()).await?;
        }
        Ok(())
    }
}

fn tables() -> Vec<TableCreateStatement> {
    vec![
        Table::create()
            .table(Counters::Table)
            .col(string(Counters::Name).primary_key())
            .col(big_integer(Counters::Value))
            .to_owned(),
        Table::create()
            .table(Companies::Table)
            .col(big_pk_auto(Companies::Id))
            .col(string_uniq(Companies::Slug))
            .col(string(Companies::Name))
            .col(text(Companies::Domains))
            .col(string_null(Companies::TimeZone))
            .col(string_null(Companies::CrmName))
            .col(string_null(Companies::CrmEmail))
            .col(text(Companies::Notes))
            .col(double(Companies::BudgetHours))
            .col(double_null(Companies::StandardRate))
            .col(double_null(Companies::ConsultancyRate))
            .col(timestamp_with_time_zone(Companies::CreatedAt))
            .col(timestamp_with_time_zone(Companies::UpdatedAt))
            .to_owned(),
        Table::create()
            .table(Contacts::Table)
            .col(big_pk_auto(Contacts::Id))
            .col(string_uniq(Contacts::Email))
            .col(string_null(Contacts::Name))
            .col(big_integer_null(Contacts::CompanyId))
            .col(timestamp_with_time_zone(Contacts::CreatedAt))
            .to_owned(),
        Table::create()
            .table(Agents::Table)
            .col(big_pk_auto(Agents::Id))
            .col(string_uniq(Agents::Email))
            .col(string(Agents::Name))
            .col(text(Agents::Aliases))
            .col(boolean(Agents::Active))
            .col(string_null(Agents::Token))
            .col(timestamp_with_time_zone(Agents::CreatedAt))
            .col(timestamp_with_time_zone(Agents::UpdatedAt))
            .to_owned(),
        Table::create()
            .table(Cases::Table)
            .col(big_pk_auto(Cases::Id))
            .col(big_integer_uniq(Cases::Number))
            .col(big_integer_null(Cases::CompanyId))
            .col(big_integer_null(Cases::ContactId))
            .col(string(Cases::Mailbox))
            .col(text(Cases::Summary))
            .col(string(Cases::CaseType))
            .col(string(Cases::Severity))
            .col(string(Cases::Priority))
            .col(string(Cases::Status))
            .col(string_null(Cases::ErrorCategory))
            .col(boolean(Cases::ClientConfig))
            .col(big_integer_null(Cases::AssigneeId))
            .col(timestamp_with_time_zone(Cases::CreatedAt))
            .col(timestamp_with_time_zone(Cases::UpdatedAt))
            .col(timestamp_with_time_zone(Cases::SlaStartedAt))
            .col(timestamp_with_time_zone_null(Cases::FirstResponseAt))
            .col(timestamp_with_time_zone_null(Cases::FirstResponseDue))
            .col(timestamp_with_time_zone_null(Cases::ResolutionDue))
            .col(timestamp_with_time_zone_null(Cases::NextAlertAt))
            .col(timestamp_with_time_zone_null(Cases::PausedSince))
            .col(big_integer(Cases::PausedSeconds))
            .col(timestamp_with_time_zone_null(Cases::ResolvedAt))
            .col(timestamp_with_time_zone_null(Cases::ClosedAt))
            .col(text_null(Cases::Solution))
            .col(big_integer_null(Cases::LinkedCaseId))
            .col(text_null(Cases::OpenedBecause))
            .to_owned(),
        Table::create()
            .table(CaseParticipants::Table)
            .col(big_pk_auto(CaseParticipants::Id))
            .col(big_integer(CaseParticipants::CaseId))
            .col(string(CaseParticipants::Email))
            .col(string_null(CaseParticipants::Name))
            .col(string(CaseParticipants::Role))
            .to_owned(),
        Table::create()
            .table(Messages::Table)
            .col(big_pk_auto(Messages::Id))
            .col(big_integer(Messages::CaseId))
            .col(string(Messages::Direction))
            .col(string_null(Messages::MessageId))
            .col(text_null(Messages::InReplyTo))
            .col(text_null(Messages::References))
            .col(string(Messages::FromAddr))
            .col(string_null(Messages::FromName))
            .col(text(Messages::ToAddrs))
            .col(text(Messages::CcAddrs))
            .col(text(Messages::Subject))
            .col(text(Messages::TextBody))
            .col(text_null(Messages::HtmlBody))
            .col(blob(Messages::Raw))
            .col(timestamp_with_time_zone(Messages::ReceivedAt))
            .col(string_null(Messages::Mailbox))
            .col(string_null(Messages::DedupKey))
            .col(text_null(Messages::NoAckReason))
            .col(text_null(Messages::Flags))
            .col(big_integer_null(Messages::AgentId))
            .col(boolean(Messages::Internal))
            .to_owned(),
        Table::create()
            .table(Attachments::Table)
            .col(big_pk_auto(Attachments::Id))
            .col(big_integer(Attachments::MessageId))
            .col(text_null(Attachments::Filename))
            .col(string(Attachments::ContentType))
            .col(big_integer(Attachments::Size))
            .col(string(Attachments::Sha256))
            .col(blob(Attachments::Data))
            .to_owned(),
        Table::create()
            .table(CaseEvents::Table)
            .col(big_pk_auto(CaseEvents::Id))
            .col(big_integer(CaseEvents::CaseId))
            .col(timestamp_with_time_zone(CaseEvents::At))
            .col(string(CaseEvents::Actor))
            .col(string(CaseEvents::Kind))
            .col(text_null(CaseEvents::OldValue))
            .col(text_null(CaseEvents::NewValue))
            .col(text_null(CaseEvents::Detail))
            .to_owned(),
        Table::create()
            .table(Outbox::Table)
            .col(big_pk_auto(Outbox::Id))
            .col(big_integer_null(Outbox::CaseId))
            .col(string(Outbox::Kind))
            .col(string_uniq(Outbox::MessageId))
            .col(string(Outbox::EnvelopeFrom))
            .col(text(Outbox::EnvelopeTo))
            .col(text(Outbox::Subject))
            .col(blob(Outbox::Raw))
            .col(string(Outbox::Status))
            .col(integer(Outbox::Attempts))
            .col(text_null(Outbox::LastError))
            .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
            .col(timestamp_with_time_zone_null(Outbox::ClaimedUntil))
            .col(timestamp_with_time_zone(Outbox::CreatedAt))
            .col(timestamp_with_time_zone_null(Outbox::SentAt))
            .to_owned(),
        Table::create()
            .table(AlertsSent::Table)
            .col(big_pk_auto(AlertsSent::Id))
            .col(big_integer(AlertsSent::CaseId))
            .col(string(AlertsSent::Target))
            .col(string(AlertsSent::Level))
            .col(timestamp_with_time_zone(AlertsSent::DueAt))
            .col(big_integer_null(AlertsSent::OutboxId))
            .col(timestamp_with_time_zone(AlertsSent::SentAt))
            .to_owned(),
        Table::create()
            .table(TimeEntries::Table)
            .col(big_pk_auto(TimeEntries::Id))
            .col(big_integer(TimeEntries::CaseId))
            .col(big_integer_null(TimeEntries::AgentId))
            .col(integer(TimeEntries::Minutes))
            .col(string(TimeEntries::RateKind))
            .col(double(TimeEntries::BudgetHours))
            .col(text_null(TimeEntries::Note))
            .col(timestamp_with_time_zone(TimeEntries::At))
            .to_owned(),
        Table::create()
            .table(MailboxState::Table)
            .col(string(MailboxState::Mailbox).primary_key())
            .col(big_integer_null(MailboxState::UidValidity))
            .col(big_integer_null(MailboxState::LastUid))
            .col(timestamp_with_time_zone(MailboxState::UpdatedAt))
            .to_owned(),
        Table::create()
            .table(Quarantine::Table)
            .col(big_pk_auto(Quarantine::Id))
            .col(string_null(Quarantine::Mailbox))
            .col(text_null(Quarantine::SourceRef))
            .col(text(Quarantine::Reason))
            .col(blob(Quarantine::Raw))
            .col(timestamp_with_time_zone(Quarantine::ReceivedAt))
            .col(timestamp_with_time_zone(Quarantine::CreatedAt))
            .col(timestamp_with_time_zone_null(Quarantine::RetriedAt))
            .col(boolean(Quarantine::Released))
            .to_owned(),
        Table::create()
            .table(IngestFailures::Table)
            .col(string(IngestFailures::Key).primary_key())
            .col(integer(IngestFailures::Attempts))
            .col(text(IngestFailures::LastError))
            .col(timestamp_with_time_zone(IngestFailures::UpdatedAt))
            .to_owned(),
    ]
}

fn index(name: &str, table: impl IntoIden, cols: &[&'static str], unique: bool) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    if unique {
        stmt.unique();
    }
    stmt.to_owned()
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index("idx_contacts_company", Contacts::Table, &["company_id"], false),
        index("idx_cases_company", Cases::Table, &["company_id"], false),
        index("idx_cases_status", Cases::Table, &["status"], false),
        // A scheduler tick reads only cases with an alert due.
        index("idx_cases_next_alert", Cases::Table, &["next_alert_at"], false),
        index("idx_participants_case_email", CaseParticipants::Table, &["case_id", "email"], true),
        index("idx_messages_case", Messages::Table, &["case_id"], false),
        index("idx_messages_message_id", Messages::Table, &["message_id"], false),
        // The same message is stored once, whichever mailbox or retry brings it.
        index("idx_messages_dedup", Messages::Table, &["dedup_key"], true),
        index("idx_attachments_message", Attachments::Table, &["message_id"], false),
        index("idx_events_case", CaseEvents::Table, &["case_id"], false),
        index("idx_outbox_status_next", Outbox::Table, &["status", "next_attempt_at"], false),
        index("idx_outbox_case", Outbox::Table, &["case_id"], false),
        // The per-sender acknowledgement limit counts recent acks to one address.
        index("idx_outbox_recipient", Outbox::Table, &["envelope_to", "created_at"], false),
        index("idx_alerts_key", AlertsSent::Table, &["case_id", "target", "level", "due_at"], true),
        index("idx_time_entries_case", TimeEntries::Table, &["case_id"], false),
    ]
}

#[derive(DeriveIden)]
enum Counters {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum Companies {
    Table,
    Id,
    Slug,
    Name,
    Domains,
    TimeZone,
    CrmName,
    CrmEmail,
    Notes,
    BudgetHours,
    StandardRate,
    ConsultancyRate,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    Id,
    Email,
    Name,
    CompanyId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
    Email,
    Name,
    Aliases,
    Active,
    Token,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    Number,
    CompanyId,
    ContactId,
    Mailbox,
    Summary,
    CaseType,
    Severity,
    Priority,
    Status,
    ErrorCategory,
    ClientConfig,
    AssigneeId,
    CreatedAt,
    UpdatedAt,
    SlaStartedAt,
    FirstResponseAt,
    FirstResponseDue,
    ResolutionDue,
    NextAlertAt,
    PausedSince,
    PausedSeconds,
    ResolvedAt,
    ClosedAt,
    Solution,
    LinkedCaseId,
    OpenedBecause,
}

#[derive(DeriveIden)]
enum CaseParticipants {
    Table,
    Id,
    CaseId,
    Email,
    Name,
    Role,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    CaseId,
    Direction,
    MessageId,
    InReplyTo,
    References,
    FromAddr,
    FromName,
    ToAddrs,
    CcAddrs,
    Subject,
    TextBody,
    HtmlBody,
    Raw,
    ReceivedAt,
    Mailbox,
    DedupKey,
    NoAckReason,
    Flags,
    AgentId,
    Internal,
}

#[derive(DeriveIden)]
enum Attachments {
    Table,
    Id,
    MessageId,
    Filename,
    ContentType,
    Size,
    Sha256,
    Data,
}

#[derive(DeriveIden)]
enum CaseEvents {
    Table,
    Id,
    CaseId,
    At,
    Actor,
    Kind,
    OldValue,
    NewValue,
    Detail,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    CaseId,
    Kind,
    MessageId,
    EnvelopeFrom,
    EnvelopeTo,
    Subject,
    Raw,
    Status,
    Attempts,
    LastError,
    NextAttemptAt,
    ClaimedUntil,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum AlertsSent {
    Table,
    Id,
    CaseId,
    Target,
    Level,
    DueAt,
    OutboxId,
    SentAt,
}

#[derive(DeriveIden)]
enum TimeEntries {
    Table,
    Id,
    CaseId,
    AgentId,
    Minutes,
    RateKind,
    BudgetHours,
    Note,
    At,
}

#[derive(DeriveIden)]
enum MailboxState {
    Table,
    Mailbox,
    UidValidity,
    LastUid,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Quarantine {
    Table,
    Id,
    Mailbox,
    SourceRef,
    Reason,
    Raw,
    ReceivedAt,
    CreatedAt,
    RetriedAt,
    Released,
}

#[derive(DeriveIden)]
enum IngestFailures {
    Table,
    Key,
    Attempts,
    LastError,
    UpdatedAt,
}
