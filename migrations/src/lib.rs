//! The supportd schema, one migration per file. Runs on SQLite and PostgreSQL alike.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_initial;
mod m20261124_000002_outbox_message_id;
mod m20261201_000003_quarantine_full_size;
mod m20261202_000004_outbox_recipient_lower;
mod m20261202_000005_held_mail;
mod m20261202_000006_company_members;
mod m20261202_000007_case_channel;
mod m20261202_000008_budget;
mod m20261202_000009_reports_sent;
mod m20261202_000010_company_report_token;
mod m20261203_000011_escalations;
mod m20261203_000012_health_alarms;
mod m20261204_000013_outbox_failed_at;
mod m20261207_000014_held_digests;
mod m20261207_000015_outbox_strangers;
mod m20261207_000016_message_raw;
mod m20261207_000017_cases_open_counts;
mod m20261208_000018_oauth_tokens;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_initial::Migration),
            Box::new(m20261124_000002_outbox_message_id::Migration),
            Box::new(m20261201_000003_quarantine_full_size::Migration),
            Box::new(m20261202_000004_outbox_recipient_lower::Migration),
            Box::new(m20261202_000005_held_mail::Migration),
            Box::new(m20261202_000006_company_members::Migration),
            Box::new(m20261202_000007_case_channel::Migration),
            Box::new(m20261202_000008_budget::Migration),
            Box::new(m20261202_000009_reports_sent::Migration),
            Box::new(m20261202_000010_company_report_token::Migration),
            Box::new(m20261203_000011_escalations::Migration),
            Box::new(m20261203_000012_health_alarms::Migration),
            Box::new(m20261204_000013_outbox_failed_at::Migration),
            Box::new(m20261207_000014_held_digests::Migration),
            Box::new(m20261207_000015_outbox_strangers::Migration),
            Box::new(m20261207_000016_message_raw::Migration),
            Box::new(m20261207_000017_cases_open_counts::Migration),
            Box::new(m20261208_000018_oauth_tokens::Migration),
        ]
    }
}
