//! `/`: what a support lead watches. Every open case is listed (that is the point); held,
//! quarantined and outbox mail are capped; no query reads a message's raw bytes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};

use super::words::{Shown, case_line, when, worst};
use crate::cases::{SlaLine, sla_status};
use crate::desk::Desk;
use crate::sla::TargetView;
use crate::storage::entities::outbox::OutboxStatus;
use crate::storage::entities::{agent, company, outbox};
use crate::templates::{Budget, CaseLine, Count, KeptMail, LivePage, Mailbox, OutboxHealth, OutboxLine, Queue};

/// How often the page reloads itself.
const REFRESH_SECONDS: u32 = 30;
/// Rows shown of held and quarantined mail, and of mail waiting in the outbox.
const SHOWN: u64 = 20;

pub async fn page(desk: &Desk, now: DateTime<Utc>) -> Result<LivePage, DbErr> {
    let zone = desk.config.calendar.time_zone;
    let mut open = sla_status(&desk.db, &desk.config, now).await?;
    open.sort_by_key(|l| urgency(&l.sla));
    let cases: Vec<CaseLine> = open.iter().map(|l| case_line(zone, &l.case, &l.sla)).collect();
    let breached = cases.iter().filter(|c| c.state == "breached").cloned().collect();
    let at_risk = open.iter().zip(&cases).filter(|(l, _)| at_risk(&l.sla)).map(|(_, c)| c.clone()).collect();
    let db = &desk.db;
    Ok(LivePage {
        title: format!("supportd: {} open", cases.len()),
        root: String::new(),
        generated: when(zone, now),
        refresh_seconds: REFRESH_SECONDS,
        support_hours: crate::outbound::support_hours(&desk.config.calendar),
        open_count: cases.len() as u64,
        by_status: count_by(&open, |l| l.case.status.clone()),
        by_severity: count_by(&open, |l| l.case.severity.clone()),
        by_company: count_by(&open, |l| l.case.company.clone().unwrap_or_else(|| "(no company)".into())),
        queues: queues(db, &cases).await?,
        cases,
        breached,
        at_risk,
        held_count: crate::ingest::held::count(db).await?,
        held: held(db, zone).await?,
        quarantined_count: crate::ingest::quarantine::count(db).await?,
        quarantined: quarantined(db, zone).await?,
        outbox: outbox_health(db, zone, now).await?,
        budgets: budgets(desk).await?,
        mailboxes: mailboxes(desk, zone, now),
    })
}

/// Breached first, then warned, then the least business time left; cases whose clocks all
/// stopped (paused, missed, met) last.
fn urgency(targets: &[TargetView]) -> (Shown, i64) {
    let running = targets.iter().filter(|t| Shown::of(t) < Shown::Paused);
    // Due soon or on track: the time left decides.
    let rank = |t: &TargetView| match Shown::of(t) {
        Shown::Soon => Shown::Ok,
        s => s,
    };
    running.map(|t| (rank(t), t.business_minutes_left)).min().unwrap_or((Shown::Paused, i64::MAX))
}

/// Not breached, but warned of or within `SOON_MINUTES` of business time of a target.
/// (`/metrics` counts wall-clock hours instead: what a pager should wake someone for.)
fn at_risk(targets: &[TargetView]) -> bool {
    matches!(worst(targets), Some(Shown::Warned | Shown::Soon))
}

fn count_by(open: &[SlaLine], key: impl Fn(&SlaLine) -> String) -> Vec<Count> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for l in open {
        *counts.entry(key(l)).or_default() += 1;
    }
    counts.into_iter().map(|(name, count)| Count { name, count }).collect()
}

/// Every active agent's open cases (none is a queue too) and those of agents no longer
/// active, by address; then the unassigned.
async fn queues(db: &impl ConnectionTrait, cases: &[CaseLine]) -> Result<Vec<Queue>, DbErr> {
    let active: Vec<(String, String)> = agent::Entity::find()
        .select_only()
        .columns([agent::Column::Email, agent::Column::Name])
        .filter(agent::Column::Active.eq(true))
        .order_by_asc(agent::Column::Email)
        .into_tuple()
        .all(db)
        .await?;
    // By address, each with the agent's name.
    let mut by_agent: BTreeMap<&str, (&str, Vec<CaseLine>)> =
        active.iter().map(|(email, name)| (email.as_str(), (name.as_str(), Vec::new()))).collect();
    for c in cases.iter().filter(|c| !c.assignee_address.is_empty()) {
        let queue = by_agent.entry(c.assignee_address.as_str()).or_insert((c.assignee.as_str(), Vec::new()));
        queue.1.push(c.clone());
    }
    let unassigned: Vec<CaseLine> = cases.iter().filter(|c| c.assignee_address.is_empty()).cloned().collect();
    let mut queues: Vec<Queue> = by_agent
        .into_iter()
        .map(|(address, (name, cases))| Queue {
            agent: name.to_owned(),
            address: address.to_owned(),
            count: cases.len() as u64,
            cases,
        })
        .collect();
    if !unassigned.is_empty() {
        let count = unassigned.len() as u64;
        queues.push(Queue { agent: "Unassigned".into(), address: String::new(), count, cases: unassigned });
    }
    Ok(queues)
}

async fn held(db: &impl ConnectionTrait, zone: Tz) -> Result<Vec<KeptMail>, DbErr> {
    let rows = crate::ingest::held::newest(db, SHOWN).await?;
    Ok(rows
        .into_iter()
        .map(|h| KeptMail {
            id: h.id,
            mailbox: h.mailbox,
            from: h.from_addr,
            subject: h.subject,
            reason: h.reason,
            received: when(zone, h.received_at),
        })
        .collect())
}

async fn quarantined(db: &impl ConnectionTrait, zone: Tz) -> Result<Vec<KeptMail>, DbErr> {
    let rows = crate::ingest::quarantine::newest(db, SHOWN).await?;
    Ok(rows
        .into_iter()
        .map(|q| KeptMail {
            id: q.id,
            mailbox: q.mailbox.unwrap_or_else(|| "pipe".into()),
            from: String::new(),
            subject: String::new(),
            reason: q.reason,
            received: when(zone, q.received_at),
        })
        .collect())
}

/// An outbox row as the live view lists it: no body, no raw bytes.
#[derive(FromQueryResult)]
struct OutboxRow {
    id: i64,
    status: OutboxStatus,
    envelope_to: String,
    subject: String,
    attempts: i32,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
}

async fn outbox_health(db: &impl ConnectionTrait, zone: Tz, now: DateTime<Utc>) -> Result<OutboxHealth, DbErr> {
    let rows = |statuses: Vec<OutboxStatus>, newest_first: bool, n: u64| {
        let q = outbox::Entity::find()
            .select_only()
            .columns([
                outbox::Column::Id,
                outbox::Column::Status,
                outbox::Column::EnvelopeTo,
                outbox::Column::Subject,
                outbox::Column::Attempts,
                outbox::Column::LastError,
                outbox::Column::CreatedAt,
            ])
            .filter(outbox::Column::Status.is_in(statuses))
            .limit(n);
        let q = if newest_first { q.order_by_desc(outbox::Column::Id) } else { q.order_by_asc(outbox::Column::Id) };
        q.into_model::<OutboxRow>().all(db)
    };
    let line = |r: OutboxRow| OutboxLine {
        id: r.id,
        status: r.status.to_string(),
        to: r.envelope_to,
        subject: r.subject,
        attempts: r.attempts,
        error: r.last_error.unwrap_or_default(),
        queued: when(zone, r.created_at),
    };
    let waiting = rows(vec![OutboxStatus::Queued, OutboxStatus::Sending], false, SHOWN).await?;
    let failed = rows(vec![OutboxStatus::Failed], true, SHOWN / 2).await?;
    let oldest = waiting.first().map(|w| crate::health::age((now - w.created_at).to_std().unwrap_or_default()));
    let by_status = crate::web::metrics::outbox_by_status(db).await?;
    Ok(OutboxHealth {
        by_status: by_status.into_iter().map(|(s, n)| Count { name: s.to_string(), count: n as u64 }).collect(),
        oldest_unsent: oldest.unwrap_or_default(),
        waiting: waiting.into_iter().map(line).collect(),
        failed: failed.into_iter().map(line).collect(),
    })
}

/// Companies that bought a budget: what is left, and whether a `[budget] warn_at`
/// threshold was reached.
async fn budgets(desk: &Desk) -> Result<Vec<Budget>, DbErr> {
    let standings = crate::budget::standings(&desk.db).await?;
    let names: Vec<(i64, String)> = company::Entity::find()
        .select_only()
        .columns([company::Column::Id, company::Column::Name])
        .order_by_asc(company::Column::Name)
        .into_tuple()
        .all(&desk.db)
        .await?;
    let warn_at = desk.config.budget.warn_at.iter().copied().max().map_or(0.0, f64::from);
    let hours = crate::budget::hours;
    Ok(names
        .into_iter()
        .filter_map(|(id, company)| {
            let s = standings.get(&id)?;
            let pct = s.remaining_pct()?;
            let state = if s.remaining() < 0.0 {
                "overdrawn"
            } else if pct <= warn_at {
                "low"
            } else {
                "ok"
            };
            Some(Budget {
                company,
                purchased: hours(s.purchased),
                used: hours(s.used),
                remaining: hours(s.remaining()),
                remaining_pct: format!("{pct:.0}%"),
                state: state.into(),
            })
        })
        .collect())
}

/// Each mailbox as `/readyz` and the alarms judge it: `silent` past its limit without a
/// good fetch, `failing` while its last pass failed, `waiting` for its first.
fn mailboxes(desk: &Desk, zone: Tz, now: DateTime<Utc>) -> Vec<Mailbox> {
    desk.config
        .mailboxes
        .iter()
        .map(|m| {
            let h = crate::health::mailbox(&m.name);
            let limit = crate::health::silent_limit(&desk.config, m);
            let silent = h.quiet(now) > limit;
            let state = match (&h.error, h.last_ok) {
                _ if silent => "silent",
                (Some(_), _) => "failing",
                (None, Some(_)) => "ok",
                (None, None) => "waiting",
            };
            Mailbox {
                name: m.name.clone(),
                state: state.into(),
                last_fetch: h.last_ok.map(|t| when(zone, t)).unwrap_or_default(),
                error: h.error.unwrap_or_default(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::{Outcome, TargetState};

    const OK: TargetState = TargetState::new(Outcome::Running, false);
    const WARNED: TargetState = TargetState::new(Outcome::Running, true);
    const BREACHED: TargetState = TargetState::new(Outcome::Breached, false);
    const PAUSED: TargetState = TargetState::new(Outcome::Paused, false);
    const MET: TargetState = TargetState::new(Outcome::Met, false);

    fn targets(states: &[(TargetState, i64)]) -> Vec<TargetView> {
        states
            .iter()
            .map(|&(state, left)| TargetView {
                target: "respond",
                due: Utc::now(),
                business_minutes_left: left,
                state,
                settled_at: None,
            })
            .collect()
    }

    #[test]
    fn at_risk_is_warned_or_within_an_hour_of_business_time_and_never_breached() {
        assert!(at_risk(&targets(&[(WARNED, 300)])));
        assert!(at_risk(&targets(&[(OK, 60)])));
        assert!(!at_risk(&targets(&[(OK, 61)])));
        let both = targets(&[(BREACHED, -5), (WARNED, 30)]);
        assert!(!at_risk(&both), "breached is its own list");
        assert!(!at_risk(&targets(&[(PAUSED, 10), (MET, 0)])));
    }

    #[test]
    fn breached_cases_come_first_then_warned_then_the_least_time_left() {
        let mut cases = [
            targets(&[(OK, 30)]),
            targets(&[(MET, 0)]),
            targets(&[(WARNED, 90)]),
            targets(&[(OK, 10), (BREACHED, -20)]),
            targets(&[(OK, 5)]),
        ];
        cases.sort_by_key(|t| urgency(t));
        let order: Vec<(Shown, i64)> = cases.iter().map(|t| urgency(t)).collect();
        let want =
            [(Shown::Breached, -20), (Shown::Warned, 90), (Shown::Ok, 5), (Shown::Ok, 30), (Shown::Paused, i64::MAX)];
        assert_eq!(order, want);
    }
}
