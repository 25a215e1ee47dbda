//! Changes agents make to a case (by email commands later; directly from tests now). Every
//! change is an event, and touches `next_alert_at` so the scheduler looks again.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, DbErr, Set};

use super::{Actor, record_event};
use crate::config::Config;
use crate::domain::Status;
use crate::sla::{Classification, DueTimes};
use crate::storage::Tx;
use crate::storage::entities::case;

/// The first public reply of an agent meets the response target; later ones change nothing.
pub async fn record_response(txn: &Tx, c: &case::Model, actor: &Actor, at: DateTime<Utc>) -> Result<(), DbErr> {
    if c.first_response_at.is_some() {
        return Ok(());
    }
    let mut update: case::ActiveModel = c.clone().into();
    update.first_response_at = Set(Some(at));
    update.updated_at = Set(at);
    if c.status == Status::New {
        update.status = Set(Status::Open);
    }
    update.next_alert_at = Set(Some(at));
    update.update(txn).await?;
    record_event(txn, c.id, at, actor, "first_response", (None, Some(at.to_rfc3339())), None);
    Ok(())
}

/// Sets the status. Pending (waiting on the customer) pauses the resolution clock; leaving
/// pending moves the resolution due time on by the business time spent paused (counted into
/// the target from the start, as a change of classification counts it). A resolved or closed
/// case set to any other status is opened again, as a customer's reply opens it (`reopen`).
pub async fn set_status(
    txn: &Tx,
    config: &Config,
    c: &case::Model,
    status: Status,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<case::Model, DbErr> {
    let old: Status = c.status;
    let mut update: case::ActiveModel = c.clone().into();
    update.status = Set(status);
    update.updated_at = Set(now);
    update.next_alert_at = Set(Some(now));
    if ended(old) && !ended(status) {
        reopen(&mut update, config, c, now);
    }
    if status == Status::Pending && old != Status::Pending {
        update.paused_since = Set(Some(now));
    }
    if old == Status::Pending && status != Status::Pending {
        if let Some(since) = c.paused_since {
            let paused = c.paused_seconds + config.calendar.business_between(since, now).num_seconds();
            update.paused_seconds = Set(paused);
            update.resolution_due = Set(due_times(config, c, classification(c), paused).resolve);
        }
        update.paused_since = Set(None);
    }
    match status {
        Status::Resolved => update.resolved_at = Set(Some(now)),
        Status::Closed => update.closed_at = Set(Some(now)),
        _ => {}
    }
    let updated = update.update(txn).await?;
    record_event(txn, c.id, now, actor, "status", (Some(old.to_string()), Some(status.to_string())), None);
    Ok(updated)
}

fn ended(status: Status) -> bool {
    matches!(status, Status::Resolved | Status::Closed)
}

/// A resolved or closed case opened again, by the customer's reply or an agent's status
/// change: no longer ended (outcomes read `resolved_at`/`closed_at`, and a stale one would
/// judge the next resolution by the last), and its SLA starts afresh at `from`, with new
/// response and resolution targets and nothing paused, so that warnings are reckoned from
/// then rather than all falling due at once. The caller sets the new status and wakes the
/// scheduler (`next_alert_at`), which works out the new targets' alerts.
pub(super) fn reopen(update: &mut case::ActiveModel, config: &Config, c: &case::Model, from: DateTime<Utc>) {
    let due = config.sla.due_times(&config.calendar, classification(c), from, Duration::zero());
    update.sla_started_at = Set(from);
    update.paused_seconds = Set(0);
    update.paused_since = Set(None);
    update.first_response_at = Set(None);
    update.first_response_due = Set(Some(due.respond));
    update.resolution_due = Set(due.resolve);
    update.resolved_at = Set(None);
    update.closed_at = Set(None);
}

/// Changes severity, type or the client-configuration flag, and recomputes the due times from
/// the SLA clock's start (resolution moved on by any time spent paused). Each change is an
/// event; a recomputed due time re-arms its alerts (the ledger is keyed by due time).
pub async fn reclassify(
    txn: &Tx,
    config: &Config,
    c: &case::Model,
    to: Classification,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<case::Model, DbErr> {
    let mut update: case::ActiveModel = c.clone().into();
    update.severity = Set(to.severity);
    update.case_type = Set(to.case_type);
    update.client_config = Set(to.client_config);
    let due = due_times(config, c, to, c.paused_seconds);
    if c.first_response_at.is_none() {
        update.first_response_due = Set(Some(due.respond));
    }
    update.resolution_due = Set(due.resolve);
    update.updated_at = Set(now);
    update.next_alert_at = Set(Some(now));
    let updated = update.update(txn).await?;
    let changes = [
        ("severity", c.severity.to_string(), to.severity.to_string()),
        ("type", c.case_type.to_string(), to.case_type.to_string()),
        ("client_config", c.client_config.to_string(), to.client_config.to_string()),
    ];
    for (kind, old, new) in changes.into_iter().filter(|(_, old, new)| old != new) {
        record_event(txn, c.id, now, actor, kind, (Some(old), Some(new)), Some("due times recomputed".into()));
    }
    Ok(updated)
}

/// The due times of `c` as classified `as_class`, after `paused_seconds` spent pending: the
/// arithmetic of intake and `sla due`, from the SLA clock's start.
fn due_times(config: &Config, c: &case::Model, as_class: Classification, paused_seconds: i64) -> DueTimes {
    let paused = Duration::seconds(paused_seconds.max(0));
    config.sla.due_times(&config.calendar, as_class, c.sla_started_at, paused)
}

/// The case's classification as stored; a value the database should never hold reads as the
/// defaults (S3, Query) rather than failing the change.
fn classification(c: &case::Model) -> Classification {
    Classification { severity: c.severity, case_type: c.case_type, client_config: c.client_config }
}

/// When the scheduler next has an alert to look at for the case (`None`: none is left).
pub async fn set_next_alert(
    db: &impl sea_orm::ConnectionTrait,
    c: &case::Model,
    next: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    let mut update: case::ActiveModel = c.clone().into();
    update.next_alert_at = Set(next);
    update.update(db).await.map(|_| ())
}
