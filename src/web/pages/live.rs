//! `/`: what a support lead watches. Every open case is listed (that is the point); held,
//! quarantined and outbox mail are capped; no query reads a message's raw bytes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::words::{Shown, case_line, when, worst};
use crate::cases::{SlaLine, sla_status};
use crate::desk::Desk;
use crate::sla::TargetView;
use crate::storage::entities::outbox::OutboxStatus;
use crate::storage::entities::{agent, company, held_mail, outbox, quarantine};
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
        held_count: held_mail::Entity::find()
            .filter(held_mail::Column::State.eq(held_mail::State::Held))
            .count(db)
            .await?,
        held: held(db, zone).await?,
        quarantined_count: quarantine::Entity::find().filter(quarantine::Column::Released.eq(false)).count(db).await?,
        quarantined: quarantined(db, zone).await?,
        outbox: outbox_health(db, zone, now).await?,
        budgets: budgets(desk).await?,
        mailboxes: mailboxes(desk, zone, now),
    })
}

/// Breached first, then warned, then the least business time left; cases whose clocks all
/// stopped (met, paused) last.
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
    let active: Vec<String> = agent::Entity::find()
        .select_only()
        .column(agent::Column::Email)
        .filter(agent::Column::Active.eq(true))
        .order_by_asc(agent::Column::Email)
        .into_tuple()
        .all(db)
        .await?;
    let mut by_agent: BTreeMap<&str, Vec<CaseLine>> = active.iter().map(|a| (a.as_str(), Vec::new())).collect();
    for c in cases.iter().filter(|c| !c.assignee.is_empty()) {
        by_agent.entry(c.assignee.as_str()).or_default().push(c.clone());
    }
    let unassigned: Vec<CaseLine> = cases.iter().filter(|c| c.assignee.is_empty()).cloned().collect();
    let mut queues: Vec<Queue> = by_agent
        .into_iter()
        .map(|(agent, cases)| Queue { agent: agent.to_owned(), count: cases.len() as u64, cases })
        .collect();
    if !unassigned.is_empty() {
        queues.push(Queue { agent: "Unassigned".into(), count: unassigned.len() as u64, cases: unassigned });
    }
    Ok(queues)
}

async fn held(db: &impl ConnectionTrait, zone: Tz) -> Result<Vec<KeptMail>, DbErr> {
    let rows: Vec<(i64, String, String, String, String, DateTime<Utc>)> = held_mail::Entity::find()
        .select_only()
        .columns([
            held_mail::Column::Id,
            held_mail::Column::Mailbox,
            held_mail::Column::FromAddr,
            held_mail::Column::Subject,
            held_mail::Column::Reason,
            held_mail::Column::ReceivedAt,
        ])
        .filter(held_mail::Column::State.eq(held_mail::State::Held))
        .order_by_desc(held_mail::Column::Id)
        .limit(SHOWN)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, mailbox, from, subject, reason, at)| KeptMail {
            id,
            mailbox,
            from,
            subject,
            reason,
            received: when(zone, at),
        })
        .collect())
}

async fn quarantined(db: &impl ConnectionTrait, zone: Tz) -> Result<Vec<KeptMail>, DbErr> {
    let rows: Vec<(i64, Option<String>, String, DateTime<Utc>)> = quarantine::Entity::find()
        .select_only()
        .columns([
            quarantine::Column::Id,
            quarantine::Column::Mailbox,
            quarantine::Column::Reason,
            quarantine::Column::ReceivedAt,
        ])
        .filter(quarantine::Column::Released.eq(false))
        .order_by_desc(quarantine::Column::Id)
        .limit(SHOWN)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, mailbox, reason, at)| KeptMail {
            id,
            mailbox: mailbox.unwrap_or_else(|| "pipe".into()),
            from: String::new(),
            subject: String::new(),
            reason,
            received: when(zone, at),
        })
        .collect())
}

async fn outbox_health(db: &impl ConnectionTrait, zone: Tz, now: DateTime<Utc>) -> Result<OutboxHealth, DbErr> {
    let (by_status, _) = crate::web::metrics::outbox_figures(db, now).await?;
    let lines = |statuses: Vec<OutboxStatus>, newest_first: bool, n: u64| {
        let mut q = outbox::Entity::find()
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
        q = if newest_first { q.order_by_desc(outbox::Column::Id) } else { q.order_by_asc(outbox::Column::Id) };
        q.into_tuple::<(i64, OutboxStatus, String, String, i32, Option<String>, DateTime<Utc>)>().all(db)
    };
    let line = |(id, status, to, subject, attempts, error, at): (
        i64,
        OutboxStatus,
        String,
        String,
        i32,
        Option<String>,
        DateTime<Utc>,
    )| OutboxLine {
        id,
        status: status.to_string(),
        to,
        subject,
        attempts,
        error: error.unwrap_or_default(),
        queued: when(zone, at),
    };
    let waiting = lines(vec![OutboxStatus::Queued, OutboxStatus::Sending], false, SHOWN).await?;
    let failed = lines(vec![OutboxStatus::Failed], true, SHOWN / 2).await?;
    let oldest = waiting.first().map(|w| crate::health::age((now - w.6).to_std().unwrap_or_default()));
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
            let since = h.last_ok.or(h.watched_since).unwrap_or(now);
            let silent = (now - since).to_std().unwrap_or_default() > limit;
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
    use crate::sla::TargetState;

    fn targets(states: &[(TargetState, i64)]) -> Vec<TargetView> {
        states
            .iter()
            .map(|&(state, left)| TargetView { target: "respond", due: Utc::now(), business_minutes_left: left, state })
            .collect()
    }

    #[test]
    fn at_risk_is_warned_or_within_an_hour_of_business_time_and_never_breached() {
        assert!(at_risk(&targets(&[(TargetState::Warned, 300)])));
        assert!(at_risk(&targets(&[(TargetState::Ok, 60)])));
        assert!(!at_risk(&targets(&[(TargetState::Ok, 61)])));
        let both = targets(&[(TargetState::Breached, -5), (TargetState::Warned, 30)]);
        assert!(!at_risk(&both), "breached is its own list");
        assert!(!at_risk(&targets(&[(TargetState::Paused, 10), (TargetState::Met, 0)])));
    }

    #[test]
    fn breached_cases_come_first_then_warned_then_the_least_time_left() {
        let mut cases = [
            targets(&[(TargetState::Ok, 30)]),
            targets(&[(TargetState::Met, 0)]),
            targets(&[(TargetState::Warned, 90)]),
            targets(&[(TargetState::Ok, 10), (TargetState::Breached, -20)]),
            targets(&[(TargetState::Ok, 5)]),
        ];
        cases.sort_by_key(|t| urgency(t));
        let order: Vec<(Shown, i64)> = cases.iter().map(|t| urgency(t)).collect();
        let want =
            [(Shown::Breached, -20), (Shown::Warned, 90), (Shown::Ok, 5), (Shown::Ok, 30), (Shown::Paused, i64::MAX)];
        assert_eq!(order, want);
    }
}
