//! Health alarms by mail, at each scheduler tick: `[health] notify` hears once when a
//! mailbox goes silent (naming its last error: authentication failed, TLS, a timeout) or
//! the outbox is stuck, and once when it recovers. The ledger (`health_alarms`, one open
//! row per subject) makes that once across restarts and instances; the mail goes through
//! the outbox in the same transaction.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, Set, SqlErr};
use tracing::{info, warn};

use super::age;
use crate::desk::Desk;
use crate::outbound::{Composed, MailError, new_message_id, queue_mail};
use crate::storage::Tx;
use crate::storage::entities::health_alarm;
use crate::templates::Rendered;

/// One thing that can be sick, and how it is now.
struct Check {
    subject: String,
    state: State,
}

enum State {
    /// What is wrong.
    Sick(String),
    /// Well since this instant: an open alarm raised before it clears.
    Well(DateTime<Utc>),
    /// Not known yet (a mailbox this process has not fetched yet, within its limit): a
    /// restart must not mail a recovery nobody saw.
    Unknown,
}

pub async fn alarm_tick(desk: &Desk) -> Result<(), MailError> {
    if desk.config.health.notify.is_empty() {
        return Ok(());
    }
    let now = desk.now();
    let mut checks: Vec<Check> = desk.config.mailboxes.iter().map(|m| mailbox(desk, m, now)).collect();
    checks.push(outbox(desk, now).await?);
    for check in checks {
        settle(desk, check, now).await?;
    }
    Ok(())
}

fn mailbox(desk: &Desk, m: &crate::config::MailboxConfig, now: DateTime<Utc>) -> Check {
    let limit = desk.config.health.mailbox_silent_after.max(m.poll_interval * 2);
    let health = super::mailbox(&m.name);
    let since = health.last_ok.or(health.watched_since).unwrap_or(now);
    let quiet = (now - since).to_std().unwrap_or_default();
    let state = match health.last_ok {
        _ if quiet > limit => {
            let error = health.error.map(|e| format!("; the last error: {e}")).unwrap_or_default();
            let what = if health.last_ok.is_some() { "has not fetched successfully" } else { "has not fetched once" };
            State::Sick(format!(
                "the mailbox {} {what} for {} (the limit is {}){error}",
                m.name,
                age(quiet),
                age(limit)
            ))
        }
        Some(at) => State::Well(at),
        None => State::Unknown,
    };
    Check { subject: format!("mailbox:{}", m.name), state }
}

async fn outbox(desk: &Desk, now: DateTime<Utc>) -> Result<Check, DbErr> {
    let limit = desk.config.health.outbox_stuck_after;
    let unsent = crate::outbound::outbox::unsent(&desk.db).await?;
    let sick = unsent.and_then(|u| {
        let waited = (now - u.oldest_at).to_std().unwrap_or_default();
        (waited > limit).then(|| {
            let error = u.oldest_error.map(|e| format!("; the last error: {e}")).unwrap_or_default();
            format!(
                "{} mail(s) unsent; the oldest has waited {} (the limit is {}){error}",
                u.count,
                age(waited),
                age(limit)
            )
        })
    });
    Ok(Check { subject: "outbox".into(), state: sick.map_or(State::Well(now), State::Sick) })
}

/// Raises an incident not yet open, or clears one that is, with its mail; nothing else.
async fn settle(desk: &Desk, check: Check, now: DateTime<Utc>) -> Result<(), MailError> {
    let open = health_alarm::Entity::find()
        .filter(health_alarm::Column::Subject.eq(&check.subject))
        .filter(health_alarm::Column::ClearedAt.is_null())
        .one(&desk.db)
        .await?;
    let txn = Tx::begin(&desk.db).await?;
    let (subject, text) = match (check.state, open) {
        (State::Sick(detail), None) => {
            let row = health_alarm::ActiveModel {
                subject: Set(check.subject.clone()),
                detail: Set(detail.clone()),
                raised_at: Set(now),
                ..Default::default()
            };
            match health_alarm::Entity::insert(row).exec(&txn).await {
                Ok(_) => {}
                // Another instance raised it first: its mail is the one.
                Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
            warn!(subject = %check.subject, %detail, "health alarm raised");
            (
                format!("supportd alarm: {}", check.subject),
                format!("{detail}.\n\nAnother mail follows when it recovers.\n"),
            )
        }
        (State::Well(well_since), Some(row)) if well_since > row.raised_at => {
            let (was, since) = (row.detail.clone(), row.raised_at);
            let cleared = health_alarm::Entity::update_many()
                .col_expr(health_alarm::Column::ClearedAt, Expr::value(now))
                .filter(health_alarm::Column::Id.eq(row.id))
                .filter(health_alarm::Column::ClearedAt.is_null())
                .exec(&txn)
                .await?;
            if cleared.rows_affected == 0 {
                // Another instance cleared it (and mailed the recovery).
                return Ok(());
            }
            info!(subject = %check.subject, "health alarm cleared");
            let lasted = age((now - since).to_std().unwrap_or_default());
            (
                format!("supportd recovered: {}", check.subject),
                format!("{} is well again after {lasted}.\n\nIt was: {was}.\n", check.subject),
            )
        }
        _ => return Ok(()),
    };
    queue(desk, &txn, subject, text, now).await?;
    txn.commit().await?;
    Ok(())
}

async fn queue(desk: &Desk, txn: &Tx, subject: String, text: String, now: DateTime<Utc>) -> Result<(), MailError> {
    let from = &desk.config.outbound.from;
    let html = format!("<pre>{}</pre>", handlebars::html_escape(&text));
    let rendered = Rendered { subject, text, html };
    let message_id = new_message_id("health", None, from.domain());
    let to = desk.config.health.notify.iter().map(|a| (None, a)).collect();
    let mail = Composed::notice((desk.config.outbound.from_name.as_deref(), from), from, to, &message_id, &rendered);
    queue_mail(txn, "health", None, &mail, now).await
}
