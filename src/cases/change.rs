//! Changes agents make to a case (by email commands later; directly from tests now). Every
//! change is an event, and touches `next_alert_at` so the scheduler looks again.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DbErr, Set};

use super::{Actor, record_event};
use crate::config::Config;
use crate::domain::{CaseType, Severity, Status};
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
    if c.status == Status::New.as_str() {
        update.status = Set(Status::Open.to_string());
    }
    update.next_alert_at = Set(Some(at));
    update.update(txn).await?;
    record_event(txn, c.id, at, actor, "first_response", (None, Some(at.to_rfc3339())), None);
    Ok(())
}

/// Sets the status. Pending (waiting on the customer) pauses the resolution clock; leaving
/// pending moves the resolution due time on by the business time spent paused.
pub async fn set_status(
    txn: &Tx,
    config: &Config,
    c: &case::Model,
    status: Status,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<case::Model, DbErr> {
    let old: Status = c.status.parse().unwrap_or(Status::Open);
    let mut update: case::ActiveModel = c.clone().into();
    update.status = Set(status.to_string());
    update.updated_at = Set(now);
    update.next_alert_at = Set(Some(now));
    if status == Status::Pending && old != Status::Pending {
        update.paused_since = Set(Some(now));
    }
    if old == Status::Pending && status != Status::Pending {
        if let (Some(since), Some(due)) = (c.paused_since, c.resolution_due) {
            let cal = &config.calendar;
            let paused = cal.business_between(since, now);
            let left = cal.business_between(since, due).num_minutes().max(0) as u64;
            update.resolution_due = Set(Some(cal.add_business(now, left)));
            update.paused_seconds = Set(c.paused_seconds + paused.num_seconds());
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

/// What decides a case's targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classification {
    pub severity: Severity,
    pub case_type: CaseType,
    /// Caused by client-side configuration: no resolution target.
    pub client_config: bool,
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
    let (cal, sla) = (&config.calendar, &config.sla);
    let start = c.sla_started_at;
    let mut update: case::ActiveModel = c.clone().into();
    update.severity = Set(to.severity.to_string());
    update.case_type = Set(to.case_type.to_string());
    update.client_config = Set(to.client_config);
    if c.first_response_at.is_none() {
        update.first_response_due = Set(Some(sla.respond_due(cal, to.severity, start)));
    }
    let paused = (c.paused_seconds / 60) as u64;
    let resolve = sla.resolve_due(cal, to.severity, to.case_type, to.client_config, start);
    update.resolution_due = Set(resolve.map(|due| cal.add_business(due, paused)));
    update.updated_at = Set(now);
    update.next_alert_at = Set(Some(now));
    let updated = update.update(txn).await?;
    let changes = [
        ("severity", c.severity.clone(), to.severity.to_string()),
        ("type", c.case_type.clone(), to.case_type.to_string()),
        ("client_config", c.client_config.to_string(), to.client_config.to_string()),
    ];
    for (kind, old, new) in changes.into_iter().filter(|(_, old, new)| old != new) {
        record_event(txn, c.id, now, actor, kind, (Some(old), Some(new)), Some("due times recomputed".into()));
    }
    Ok(updated)
}
