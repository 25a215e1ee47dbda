//! Open cases most urgent first, a page at a time, ordered and counted in SQL: the live view
//! reads the rows it shows (and one more, to know there is a next page), never the backlog.
//!
//! A case's urgency is its most urgent running target: breached first, then warned, then
//! the rest, each by due time (business time left grows with the due time, so the order is
//! the one business minutes give). Breached, at risk and the rest are three runs of that one
//! order, so every section pages by the same key: (rank, due, number).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::{
    Alias, Asterisk, CaseStatement, CommonTableExpression, Expr, ExprTrait, IntoIden, Order, Query, SelectStatement,
    TableRef, UnionType, WithClause,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, FromQueryResult, QueryResult};

use crate::domain::{CaseNumber, Status};
use crate::sla::{BusinessCalendar, Outcome, TargetKind, TargetView};
use crate::storage::entities::{alert_sent, case};

/// Within this much business time of its due time an unwarned clock reads "Due soon", and
/// its case is at risk.
pub const SOON_MINUTES: i64 = 60;

const OPEN: [Status; 3] = [Status::New, Status::Open, Status::Pending];

/// A target's place in the order: breached and not reached (0), running and warned of (1),
/// running (2); anything else (met, missed, paused, none) does not make a case urgent (3).
pub fn rank(t: &TargetView) -> i32 {
    match t.state.outcome {
        Outcome::Breached if t.settled_at.is_none() => 0,
        Outcome::Running if t.state.warned => 1,
        Outcome::Running => 2,
        _ => 3,
    }
}

/// A run of the order, or one agent's queue of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Past a target not reached yet.
    Breached,
    /// Not breached; warned of, or within `SOON_MINUTES` of business time of a target.
    AtRisk,
    /// Every open case.
    Open,
    /// The open cases of one agent (by id), or the unassigned (`None`).
    Queue(Option<i64>),
}

/// Where a page ends: the last row's key, so the next page starts after it (a case whose
/// urgency changed in between shows where it now belongs, and nothing else moves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    rank: i32,
    due: Option<DateTime<Utc>>,
    number: CaseNumber,
}

/// `2_2026-12-07T12:00:00.5Z_000123`; a case with nothing running: `3__000123`.
impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let due = self.due.map(|d| d.to_rfc3339_opts(SecondsFormat::AutoSi, true)).unwrap_or_default();
        write!(f, "{}_{due}_{}", self.rank, self.number)
    }
}

impl FromStr for Cursor {
    type Err = String;

    fn from_str(text: &str) -> Result<Cursor, String> {
        let bad = || format!("not a place in the list: {text:?}");
        let mut parts = text.split('_');
        let (Some(rank), Some(due), Some(number), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let rank: i32 = rank.parse().ok().filter(|r| (0..=3).contains(r)).ok_or_else(bad)?;
        let due = match due {
            "" if rank == 3 => None,
            _ if rank == 3 => return Err(bad()),
            d => Some(DateTime::parse_from_rfc3339(d).map_err(|_| bad())?.with_timezone(&Utc)),
        };
        Ok(Cursor { rank, due, number: number.parse().map_err(|_| bad())? })
    }
}

/// A page of a section: its cases in order, and where the next page starts when there is one.
pub struct UrgentPage {
    pub cases: Vec<case::Model>,
    pub next: Option<Cursor>,
}

/// How many open cases each section holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromQueryResult)]
pub struct SectionCounts {
    pub open: i64,
    pub breached: i64,
    pub at_risk: i64,
}

/// The live view's lists, each with its count and first page.
pub struct LiveSections {
    pub counts: SectionCounts,
    pub breached: UrgentPage,
    pub at_risk: UrgentPage,
    pub open: UrgentPage,
}

/// At most `limit` cases of `section` after `after`, most urgent first.
pub async fn urgent_page(
    db: &impl ConnectionTrait,
    calendar: &BusinessCalendar,
    now: DateTime<Utc>,
    section: Section,
    after: Option<Cursor>,
    limit: u64,
) -> Result<UrgentPage, DbErr> {
    let q = in_order(cases_of(keys(calendar, now, section, after, limit))).with(ranked_once(now, section, false));
    let mut rows = Vec::new();
    for row in db.query_all(&q).await? {
        rows.push(keyed(&row)?);
    }
    Ok(page_of(rows, limit))
}

/// The counts of breached, at risk and open cases and the first `limit` of each, in one
/// statement: the open cases are ranked once (each rank an index probe of alerts_sent per
/// target), and every list and count is read from that one ranking.
pub async fn live_sections(
    db: &impl ConnectionTrait,
    calendar: &BusinessCalendar,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<LiveSections, DbErr> {
    const LISTS: [Section; 3] = [Section::Breached, Section::AtRisk, Section::Open];
    let mut lists = LISTS.into_iter().enumerate().map(|(i, section)| {
        let mut keys = keys(calendar, now, section, None, limit);
        keys.expr_as(Expr::val(i as i32), Alias::new("section"));
        // Each list's own ORDER BY and LIMIT, which a bare arm of a UNION cannot have.
        Query::select().column(Asterisk).from_subquery(keys, Alias::new(format!("list{i}"))).to_owned()
    });
    let mut keys = lists.next().expect("three lists");
    keys.unions(lists.map(|list| (UnionType::All, list)));
    let mut q = cases_of(keys);
    q.column((Alias::new("k"), Alias::new("section")))
        .columns([Alias::new("open_count"), Alias::new("breached_count"), Alias::new("at_risk_count")])
        .cross_join(TableRef::SubQuery(Box::new(counts(calendar, now)), Alias::new("n").into_iden()))
        .order_by((Alias::new("k"), Alias::new("section")), Order::Asc);
    let q = in_order(q).with(ranked_once(now, Section::Open, true));
    let (mut counts, mut lists) = (SectionCounts::default(), [Vec::new(), Vec::new(), Vec::new()]);
    for row in db.query_all(&q).await? {
        let i: i32 = row.try_get("", "section")?;
        counts = counts_of(&row)?;
        lists[i as usize].push(keyed(&row)?);
    }
    let [breached, at_risk, open] = lists.map(|rows| page_of(rows, limit));
    Ok(LiveSections { counts, breached, at_risk, open })
}

/// A case with its place in the order.
fn keyed(row: &QueryResult) -> Result<(case::Model, Cursor), DbErr> {
    let c = case::Model::from_query_result(row, "")?;
    let rank: i32 = row.try_get("", "urgency_rank")?;
    let due: Option<DateTime<Utc>> = row.try_get("", "urgency_due")?;
    let cursor = Cursor { rank, due: due.filter(|_| rank < 3), number: c.number };
    Ok((c, cursor))
}

/// The first `limit` of `rows` (which read one more, to know whether a next page exists).
fn page_of(rows: Vec<(case::Model, Cursor)>, limit: u64) -> UrgentPage {
    let more = rows.len() as u64 > limit;
    let mut cases = Vec::with_capacity(rows.len().min(limit as usize));
    let mut last = None;
    for (c, cursor) in rows.into_iter().take(limit as usize) {
        last = Some(cursor);
        cases.push(c);
    }
    UrgentPage { cases, next: if more { last } else { None } }
}

/// The sections' sizes, in one pass over the open cases.
pub async fn section_counts(
    db: &impl ConnectionTrait,
    calendar: &BusinessCalendar,
    now: DateTime<Utc>,
) -> Result<SectionCounts, DbErr> {
    let q = counts(calendar, now).with(ranked_once(now, Section::Open, false));
    let Some(row) = db.query_one(&q).await? else { return Ok(SectionCounts::default()) };
    counts_of(&row)
}

/// The counts `counts` reads, from a row that carries them.
fn counts_of(row: &QueryResult) -> Result<SectionCounts, DbErr> {
    // SUM over no rows is NULL.
    let sum = |name: &str| row.try_get::<Option<i64>>("", name).map(Option::unwrap_or_default);
    Ok(SectionCounts {
        open: row.try_get("", "open_count")?,
        breached: sum("breached_count")?,
        at_risk: sum("at_risk_count")?,
    })
}

/// The ranked open cases (of a queue) as `u`, for the statements below to read. Read more
/// than once, it is computed once (materialized) rather than once per reader.
fn ranked_once(now: DateTime<Utc>, section: Section, materialized: bool) -> WithClause {
    let mut cte = CommonTableExpression::new();
    cte.query(ranked(now, section)).table_name(Alias::new("u")).materialized(materialized);
    WithClause::new().cte(cte).to_owned()
}

/// From `u`: how many cases, how many breached and how many at risk.
fn counts(calendar: &BusinessCalendar, now: DateTime<Utc>) -> SelectStatement {
    let one_if = |e: Expr| Expr::expr(CaseStatement::new().case(e, 1).finally(0)).sum();
    Query::select()
        .expr_as(Expr::col(Asterisk).count(), Alias::new("open_count"))
        .expr_as(one_if(member(calendar, now, Section::Breached)), Alias::new("breached_count"))
        .expr_as(one_if(member(calendar, now, Section::AtRisk)), Alias::new("at_risk_count"))
        .from(Alias::new("u"))
        .to_owned()
}

/// From `u`: the keys of the first `limit` + 1 cases of `section` after `after`. Only the
/// keys are sorted; the cases' rows are read for those shown (`cases_of`).
fn keys(
    calendar: &BusinessCalendar,
    now: DateTime<Utc>,
    section: Section,
    after: Option<Cursor>,
    limit: u64,
) -> SelectStatement {
    let mut q = Query::select();
    q.expr_as(Expr::col(case::Column::Id), Alias::new("urgent_id"))
        .columns([Alias::new("urgency_rank"), Alias::new("urgency_due")])
        .expr_as(Expr::col(case::Column::Number), Alias::new("urgent_number"))
        .from(Alias::new("u"))
        .and_where(member(calendar, now, section));
    if let Some(after) = after {
        q.and_where(beyond(after));
    }
    q.order_by(Alias::new("urgency_rank"), Order::Asc)
        .order_by(Alias::new("urgency_due"), Order::Asc)
        .order_by(case::Column::Number, Order::Asc)
        .limit(limit + 1);
    q
}

/// The cases that `keys` names (as `k`), with their rank and due time.
fn cases_of(keys: SelectStatement) -> SelectStatement {
    let k = Alias::new("k");
    Query::select()
        .column((case::Entity, Asterisk))
        .columns([(k.clone(), Alias::new("urgency_rank")), (k.clone(), Alias::new("urgency_due"))])
        .from_subquery(keys, k.clone())
        .inner_join(case::Entity, Expr::col((case::Entity, case::Column::Id)).equals((k, Alias::new("urgent_id"))))
        .to_owned()
}

/// Most urgent first: (rank, due, number).
fn in_order(mut q: SelectStatement) -> SelectStatement {
    let k = Alias::new("k");
    q.order_by((k.clone(), Alias::new("urgency_rank")), Order::Asc)
        .order_by((k.clone(), Alias::new("urgency_due")), Order::Asc)
        .order_by((k, Alias::new("urgent_number")), Order::Asc);
    q
}

/// The open cases (of a queue), their keys only: `id`, `number`, and from their targets'
/// ranks the case's `urgency_rank` and `urgency_due`.
fn ranked(now: DateTime<Utc>, section: Section) -> SelectStatement {
    let mut targets = Query::select();
    targets
        .columns([
            (case::Entity, case::Column::Id),
            (case::Entity, case::Column::Number),
            (case::Entity, case::Column::FirstResponseDue),
            (case::Entity, case::Column::ResolutionDue),
        ])
        .expr_as(target_rank(TargetKind::Respond, now), Alias::new("respond_rank"))
        .expr_as(target_rank(TargetKind::Resolve, now), Alias::new("resolve_rank"))
        .from(case::Entity)
        .and_where(case::Column::Status.is_in(OPEN));
    if let Section::Queue(agent) = section {
        targets.and_where(match agent {
            Some(id) => case::Column::AssigneeId.eq(id),
            None => case::Column::AssigneeId.is_null(),
        });
    }
    // An OFFSET keeps both databases from folding this query into the next, which would
    // evaluate each target's rank (an index probe of alerts_sent) four times over. (SQLite
    // takes an OFFSET only after a LIMIT.)
    targets.limit(i64::MAX as u64).offset(0);
    let (respond, resolve) = (Expr::col(Alias::new("respond_rank")), Expr::col(Alias::new("resolve_rank")));
    let (respond_due, resolve_due) =
        (Expr::col(case::Column::FirstResponseDue), Expr::col(case::Column::ResolutionDue));
    let rank =
        CaseStatement::new().case(respond.clone().lte(resolve.clone()), respond.clone()).finally(resolve.clone());
    let due = CaseStatement::new()
        .case(respond.clone().lt(resolve.clone()), respond_due.clone())
        .case(resolve.clone().lt(respond.clone()), resolve_due.clone())
        .case(respond.eq(3), Expr::null())
        .case(respond_due.clone().lte(resolve_due.clone()), respond_due)
        .finally(resolve_due);
    Query::select()
        .columns([case::Column::Id, case::Column::Number])
        .expr_as(rank, Alias::new("urgency_rank"))
        .expr_as(due, Alias::new("urgency_due"))
        .from_subquery(targets, Alias::new("t"))
        .to_owned()
}

/// `rank` in SQL, for a case that is open (neither resolved nor closed: nothing is reached
/// by its end), so that it costs a few comparisons per case. The tests below hold it to
/// `rank` over `TargetFacts::outcome` for every combination of the facts.
fn target_rank(target: TargetKind, now: DateTime<Utc>) -> Expr {
    let col = |c: case::Column| Expr::col((case::Entity, c));
    let due = col(crate::sla::outcome_sql::due_column(target));
    let mut rank = CaseStatement::new().case(due.clone().is_null(), 3);
    match target {
        // Answered, in time or late: settled.
        TargetKind::Respond => rank = rank.case(col(case::Column::FirstResponseAt).is_not_null(), 3),
        // Pending stops the clock, unless the target had lapsed before it stopped.
        TargetKind::Resolve => {
            let pending = case::Column::Status.eq(Status::Pending);
            let since = col(case::Column::PausedSince);
            rank = rank
                .case(pending.clone().and(since.clone().gt(due.clone())), 0)
                .case(pending.and(since.is_not_null()), 3);
        }
    }
    rank.case(due.lt(now), 0).case(warned(target), 1).finally(2).into()
}

/// A warning went out for the target's current due time (as `cases show` reads it).
fn warned(target: TargetKind) -> Expr {
    let a = |c: alert_sent::Column| Expr::col((alert_sent::Entity, c));
    let due = crate::sla::outcome_sql::due_column(target);
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(alert_sent::Entity)
            .and_where(a(alert_sent::Column::CaseId).equals((case::Entity, case::Column::Id)))
            .and_where(a(alert_sent::Column::Target).eq(target.as_str()))
            .and_where(a(alert_sent::Column::Level).ne("breach"))
            .and_where(a(alert_sent::Column::DueAt).equals((case::Entity, due)))
            .to_owned(),
    )
}

/// Whether a ranked case belongs to `section` (a queue is chosen in `ranked`).
fn member(calendar: &BusinessCalendar, now: DateTime<Utc>, section: Section) -> Expr {
    let rank = Expr::col(Alias::new("urgency_rank"));
    match section {
        Section::Breached => rank.eq(0),
        Section::AtRisk => {
            // "Due soon" is business time: within SOON_MINUTES while the business time
            // left, in whole minutes, is at most that.
            let soon = chrono::Duration::minutes(SOON_MINUTES + 1);
            let horizon = calendar.add_business_time(now, soon);
            rank.clone().eq(1).or(rank.eq(2).and(Expr::col(Alias::new("urgency_due")).lt(horizon)))
        }
        Section::Open | Section::Queue(_) => Expr::val(true),
    }
}

/// Rows after `c` in the order (rank, due, number).
fn beyond(c: Cursor) -> Expr {
    let rank = Expr::col(Alias::new("urgency_rank"));
    let number = Expr::col(case::Column::Number);
    let later = match c.due {
        Some(due) => {
            let d = Expr::col(Alias::new("urgency_due"));
            d.clone().gt(due).or(d.eq(due).and(number.gt(c.number)))
        }
        None => number.gt(c.number),
    };
    rank.clone().gt(c.rank).or(rank.eq(c.rank).and(later))
}

#[cfg(test)]
#[path = "urgency_tests.rs"]
mod tests;
