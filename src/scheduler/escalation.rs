//! One escalation tick: for each case whose next alert is due, record every alert now due in
//! the ledger (case, target, level, due time) and queue one email naming the most severe.
//! The ledger's unique key makes each alert once, across restarts and across daemons.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use tracing::info;

use super::alert_mail::{People, queue_alert};
use crate::desk::Desk;
use crate::domain::Status;
use crate::sla::{AlertPoint, case_alert_points};
use crate::storage::Tx;
use crate::storage::begin_write;
use crate::storage::entities::{alert_sent, case};

/// Cases looked at per tick, oldest alert first; the rest wait for the next tick.
const CASES_PER_TICK: u64 = 5000;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TickStats {
    pub cases: usize,
    pub alerts_queued: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum TickError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error(transparent)]
    Mail(#[from] crate::outbound::MailError),
}

pub async fn tick(desk: &Desk) -> Result<TickStats, TickError> {
    let now = desk.now();
    let due: Vec<case::Model> = case::Entity::find()
        .filter(case::Column::NextAlertAt.lte(now))
        .order_by_asc(case::Column::NextAlertAt)
        .limit(CASES_PER_TICK)
        .all(&desk.db)
        .await?;
    let mut stats = TickStats::default();
    if due.is_empty() {
        return Ok(stats);
    }
    // One transaction for the tick: one fsync, and the tick ends when its rows are committed.
    let txn = begin_write(&desk.db).await?;
    let ids: Vec<i64> = due.iter().map(|c| c.id).collect();
    let mut sent: HashMap<i64, HashSet<LedgerKey>> = HashMap::new();
    for a in alert_sent::Entity::find().filter(alert_sent::Column::CaseId.is_in(ids)).all(&txn).await? {
        sent.entry(a.case_id).or_default().insert((a.target, a.level, a.due_at));
    }
    let people = People::load(&txn, &due).await?;
    for c in due {
        let already = sent.remove(&c.id).unwrap_or_default();
        stats.alerts_queued += escalate(&txn, desk, &people, &c, &already, now).await?;
        stats.cases += 1;
    }
    txn.commit().await?;
    Ok(stats)
}

/// (target, level, due time) of an alert of one case: the ledger's key.
type LedgerKey = (String, String, DateTime<Utc>);

/// The alerts of one case; returns how many emails were queued (0, 1 or 2: the desk's, the CRM's).
async fn escalate(
    txn: &Tx,
    desk: &Desk,
    people: &People,
    c: &case::Model,
    sent: &HashSet<LedgerKey>,
    now: DateTime<Utc>,
) -> Result<usize, TickError> {
    let points = open_points(desk, c);
    let key = |p: &AlertPoint| (p.target.as_str().to_owned(), p.level.clone(), p.due);
    let mut recorded = Vec::new();
    for p in points.iter().filter(|p| p.at <= now && !sent.contains(&key(p))) {
        let row = alert_sent::ActiveModel {
            case_id: Set(c.id),
            target: Set(p.target.as_str().to_owned()),
            level: Set(p.level.clone()),
            due_at: Set(p.due),
            sent_at: Set(now),
            ..Default::default()
        };
        // Another daemon may have recorded it first: then it sends, not us.
        let inserted = alert_sent::Entity::insert(row)
            .on_conflict_do_nothing_on([
                alert_sent::Column::CaseId,
                alert_sent::Column::Target,
                alert_sent::Column::Level,
                alert_sent::Column::DueAt,
            ])
            .exec(txn)
            .await?;
        if matches!(inserted, sea_orm::TryInsertResult::Inserted(_)) {
            recorded.push(p.clone());
        }
    }
    // After downtime several levels are due at once: one email, naming the most severe.
    let worst = recorded.iter().max_by_key(|p| (p.is_breach(), p.at)).cloned();
    let queued = match worst {
        Some(worst) => {
            let mails = queue_alert(txn, desk, people, c, &worst, &recorded, now).await?;
            info!(case = %c.number, target = worst.target.as_str(), level = %worst.level, mails, "alert queued");
            mails
        }
        None => 0,
    };
    let next = points.iter().filter(|p| p.at > now && !sent.contains(&key(p))).map(|p| p.at).min();
    crate::cases::set_next_alert(txn, c, next).await?;
    Ok(queued)
}

/// Alert points of the targets still open: no response yet; not resolved and not paused.
/// A resolved or closed case has none, answered or not: closing a case without a public reply
/// (`#status closed` alone) ends its alerts too. A customer's reply reopens it with a new
/// response target, and the alerts with it.
fn open_points(desk: &Desk, c: &case::Model) -> Vec<AlertPoint> {
    let status: Status = c.status;
    if matches!(status, Status::Resolved | Status::Closed) {
        return Vec::new();
    }
    let respond = c.first_response_due.filter(|_| c.first_response_at.is_none()).map(|d| (c.sla_started_at, d));
    let resolve = c
        .resolution_due
        .filter(|_| c.resolved_at.is_none() && status != Status::Pending)
        .map(|d| (c.sla_started_at, d));
    case_alert_points(&desk.config.calendar, &desk.config.scheduler.warn_at, respond, resolve)
}
