//! sea-orm entities, one per table of `migrations/`.

pub mod agent;
pub mod alert_sent;
pub mod attachment;
pub mod budget_alert_sent;
pub mod budget_purchase;
pub mod case;
pub mod case_event;
pub mod case_participant;
pub mod company;
pub mod company_member;
pub mod contact;
pub mod escalation;
pub mod health_alarm;
pub mod held_digest;
pub mod held_digest_item;
pub mod held_mail;
pub mod ingest_failure;
pub mod mailbox_state;
pub mod message;
pub mod message_raw;
pub mod oauth_token;
pub mod outbox;
pub mod quarantine;
pub mod report_sent;
pub mod team;
pub mod time_entry;
