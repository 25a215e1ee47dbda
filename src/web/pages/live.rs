//! `/`: what a support lead watches. Each list of cases (breached, at risk, open) shows a
//! page of `[http] page_size` with its count and a link to the next; queues, held,
//! quarantined and outbox mail are counted and capped: what the page costs does not grow
//! with the backlog. No query reads a message's raw bytes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};

use super::sections::{self, link};
use super::words::when;
use crate::cases::{Section, live_sections};
use crate::desk::Desk;
use crate::domain::Status;
use crate::storage::entities::outbox::OutboxStatus;
use crate::storage::entities::{agent, case, company, outbox};
use crate::templates::{Budget, Count, KeptMail, LivePage, Mailbox, OutboxHealth, OutboxLine, Queue};

/// How often the page reloads itself: it reads a page of each list and counts, so a tab
/// left open costs little whatever the backlog.
const REFRESH_SECONDS: u32 = 30;
/// Rows shown of held and quarantined mail, and of mail waiting in the outbox.
const SHOWN: u64 = 20;
const OPEN: [Status; 3] = [Status::New, Status::Open, Status::Pending];

pub async fn page(desk: &Desk, now: DateTime<Utc>) -> Result<LivePage, DbErr> {
    let zone = desk.config.calendar.time_zone;
    let db = &desk.db;
    let lists = live_sections(db, &desk.config.calendar, now, desk.config.http.page_size).await?;
    let (counts, open_count) = (lists.counts, lists.counts.open as u64);
    // A case on two lists (the breached head the open list) is worded once.
    let [breached, at_risk, open] = sections::worded(
        desk,
        now,
        [
            (Section::Breached, lists.breached, counts.breached as u64),
            (Section::AtRisk, lists.at_risk, counts.at_risk as u64),
            (Section::Open, lists.open, open_count),
        ],
    )
    .await?;
    let (by_status, by_severity) = by_status_and_severity(db).await?;
    let (by_company, more_companies) = by_company(db, desk.config.http.page_size).await?;
    Ok(LivePage {
        title: format!("supportd: {open_count} open"),
        root: String::new(),
        generated: when(zone, now),
        refresh_seconds: REFRESH_SECONDS,
        support_hours: crate::outbound::support_hours(&desk.config.calendar),
        open_count,
        by_status,
        by_severity,
        by_company,
        more_companies,
        breached,
        at_risk,
        open,
        queues: queues(db).await?,
        held_count: crate::ingest::held::count(db).await?,
        held: held(db, zone).await?,
        quarantined_count: crate::ingest::quarantine::count(db).await?,
        quarantined: quarantined(db, zone).await?,
        outbox: outbox_health(db, zone, now).await?,
        budgets: budgets(desk).await?,
        mailboxes: mailboxes(desk, zone, now),
    })
}

/// Open cases by status and by severity, from `/metrics`' one GROUP BY.
async fn by_status_and_severity(db: &impl ConnectionTrait) -> Result<(Vec<Count>, Vec<Count>), DbErr> {
    let mut statuses: std::collections::BTreeMap<String, u64> = Default::default();
    let mut severities: std::collections::BTreeMap<String, u64> = Default::default();
    for (severity, status, n) in crate::web::metrics::open_cases(db).await? {
        *statuses.entry(status.to_string()).or_default() += n as u64;
        *severities.entry(severity.to_string()).or_default() += n as u64;
    }
    let counts = |m: std::collections::BTreeMap<String, u64>| m.into_iter().map(|(name, count)| Count { name, count });
    Ok((counts(statuses).collect(), counts(severities).collect()))
}

/// The `shown` companies with the most open cases, and how many more have some.
async fn by_company(db: &impl ConnectionTrait, shown: u64) -> Result<(Vec<Count>, u64), DbErr> {
    let n = case::Column::Id.count();
    // The groups' count beside each group: how many companies, in the same pass.
    let top: Vec<(Option<i64>, i64, i64)> = case::Entity::find()
        .filter(case::Column::Status.is_in(OPEN))
        .select_only()
        .column(case::Column::CompanyId)
        .column_as(n.clone(), "n")
        .column_as(Expr::cust("COUNT(*) OVER ()"), "companies")
        .group_by(case::Column::CompanyId)
        .order_by_desc(n)
        .order_by_asc(case::Column::CompanyId)
        .limit(shown)
        .into_tuple()
        .all(db)
        .await?;
    let companies = top.first().map_or(0, |(_, _, companies)| *companies as u64);
    let top: Vec<(Option<i64>, i64)> = top.into_iter().map(|(id, n, _)| (id, n)).collect();
    let ids: Vec<i64> = top.iter().filter_map(|(id, _)| *id).collect();
    let names: HashMap<i64, String> = company::Entity::find()
        .select_only()
        .columns([company::Column::Id, company::Column::Name])
        .filter(company::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let name = |id: Option<i64>| id.and_then(|id| names.get(&id).cloned()).unwrap_or_else(|| "(no company)".into());
    let counts: Vec<Count> = top.into_iter().map(|(id, n)| Count { name: name(id), count: n as u64 }).collect();
    Ok((counts.clone(), companies.saturating_sub(counts.len() as u64)))
}

/// Every active agent's queue (an empty one too) and those of agents no longer active who
/// still hold open cases, by address; then the unassigned. Counted, not listed: each links
/// to its own pages.
async fn queues(db: &impl ConnectionTrait) -> Result<Vec<Queue>, DbErr> {
    let held: HashMap<Option<i64>, i64> = case::Entity::find()
        .select_only()
        .column(case::Column::AssigneeId)
        .column_as(case::Column::Id.count(), "n")
        .filter(case::Column::Status.is_in(OPEN))
        .group_by(case::Column::AssigneeId)
        .into_tuple::<(Option<i64>, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let holders: Vec<i64> = held.keys().flatten().copied().collect();
    let agents: Vec<(i64, String, String)> = agent::Entity::find()
        .select_only()
        .columns([agent::Column::Id, agent::Column::Email, agent::Column::Name])
        .filter(sea_orm::sea_query::ExprTrait::or(agent::Column::Active.eq(true), agent::Column::Id.is_in(holders)))
        .order_by_asc(agent::Column::Email)
        .into_tuple()
        .all(db)
        .await?;
    let count = |id: Option<i64>| held.get(&id).copied().unwrap_or(0) as u64;
    let mut queues: Vec<Queue> = agents
        .into_iter()
        .map(|(id, address, name)| Queue {
            agent: name,
            address,
            count: count(Some(id)),
            link: link(Section::Queue(Some(id))),
        })
        .collect();
    if count(None) > 0 {
        let link = link(Section::Queue(None));
        queues.push(Queue { agent: "Unassigned".into(), address: String::new(), count: count(None), link });
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
