//! Read models of cases for people: `cases list`, `cases show`, reports.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;

use super::trail::EventView;
use crate::config::Config;
use crate::domain::{CaseNumber, Status};
use crate::sla::{CaseClocks, Outcome, TargetFacts, TargetKind, TargetView, target_view};
use crate::storage::entities::{
    agent, alert_sent, case, case_event, case_participant, company, contact, message, outbox, time_entry,
};

#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub number: CaseNumber,
    /// How the request came: `email`, `phone`, `chat` or `web`.
    pub channel: String,
    pub summary: String,
    pub company: Option<String>,
    pub contact: Option<String>,
    pub status: String,
    pub case_type: String,
    pub severity: String,
    pub priority: String,
    pub error_category: Option<String>,
    /// The assigned agent's address.
    pub assignee: Option<String>,
    /// The assigned agent's name, as people are shown it.
    pub assignee_name: Option<String>,
    /// Caused by client-side configuration: no resolution target.
    pub client_config: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub first_response_due: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    /// How the response target ended, once it has (answered, or the case resolved or closed):
    /// `met`, `breached` or `missed`, as `sla::Outcome` decides. `None` while it runs.
    pub response_settled: Option<Outcome>,
    pub resolution_due: Option<DateTime<Utc>>,
    pub solution: Option<String>,
    pub opened_because: Option<String>,
    /// The teams the case is escalated to now (`#escalate`).
    pub with_teams: Vec<String>,
}

/// Read with only its own columns: never the raw message or its HTML (a case's attachments
/// can be many megabytes, and the live pages ask for this often).
#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct MessageView {
    pub direction: String,
    pub message_id: Option<String>,
    pub from: String,
    pub subject: String,
    pub received_at: DateTime<Utc>,
    pub no_ack_reason: Option<String>,
    /// Decoding problems (an unknown charset...): the text is a lossy decode.
    pub flags: Option<String>,
    /// An agent's message the customer never saw (a note, a refused or unverified reply).
    pub internal: bool,
    /// The text, or its first `Window::body_chars` characters.
    pub text_body: String,
    /// The whole text's length in characters: more than `text_body`'s when it was cut.
    pub body_chars: i64,
}

/// Time spent, and what it drew from the company's budget (in standard hours).
#[derive(Debug, Clone, Serialize)]
pub struct TimeView {
    pub at: DateTime<Utc>,
    /// The agent's address, and their name.
    pub agent: Option<String>,
    pub agent_name: Option<String>,
    pub minutes: i32,
    pub rate: String,
    pub budget_hours: f64,
}

/// Mail supportd wrote on the case (acknowledgement, notifications, relays, alerts) and
/// where it stands in the outbox.
#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct SentView {
    pub outbox_id: i64,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: CaseView,
    /// Each target's due time, business time left and state.
    pub sla: Vec<TargetView>,
    /// Remembered Cc's on the customer side.
    pub cc: Vec<String>,
    pub linked_case: Option<CaseNumber>,
    /// The company's special handling instructions, shown wherever an agent handles the case.
    pub reference_notes: Option<String>,
    /// The company's support budget, when it bought one: `12.5 of 40 h left (31%)`.
    pub budget: Option<String>,
    pub time: Vec<TimeView>,
    /// The messages in the window (the latest), oldest first; `messages_total` in all.
    pub messages: Vec<MessageView>,
    pub messages_total: u64,
    /// Mail we sent in the window, oldest first; `sent_total` in all.
    pub sent: Vec<SentView>,
    pub sent_total: u64,
    /// The case's history in the window, oldest first; `events_total` in all.
    pub events: Vec<EventView>,
    pub events_total: u64,
    /// Its escalations to other teams, current (no `until`) and past, oldest first.
    pub escalations: Vec<crate::teams::Escalated>,
}

/// Company names, contact and agent addresses by id, for views of many cases.
#[derive(Default)]
pub(super) struct Names {
    companies: HashMap<i64, String>,
    contacts: HashMap<i64, String>,
    agents: HashMap<i64, String>,
    agent_names: HashMap<i64, String>,
    /// Case id to the teams it is escalated to now.
    with_teams: HashMap<i64, Vec<String>>,
}

/// The names the cases in `scope` refer to (every case when `None`): two columns of each
/// table, and only the rows those cases name, so an open-case view does not read every
/// contact ever seen.
pub(super) async fn party_names(db: &impl ConnectionTrait, scope: Option<&[Status]>) -> Result<Names, DbErr> {
    let referred = |column: case::Column| {
        let mut q = sea_orm::sea_query::Query::select();
        q.column(column).from(case::Entity);
        if let Some(statuses) = scope {
            q.and_where(case::Column::Status.is_in(statuses.iter().copied()));
        }
        q
    };
    let mut names = names(
        db,
        company::Column::Id.in_subquery(referred(case::Column::CompanyId)),
        contact::Column::Id.in_subquery(referred(case::Column::ContactId)),
    )
    .await?;
    names.with_teams = crate::teams::with_teams(db).await?;
    Ok(names)
}

/// The names of the companies and contacts the two conditions pick, and every agent's
/// (`with_teams` is left to the caller, who knows which cases it needs).
async fn names(
    db: &impl ConnectionTrait,
    companies: sea_orm::sea_query::SimpleExpr,
    contacts: sea_orm::sea_query::SimpleExpr,
) -> Result<Names, DbErr> {
    let companies: Vec<(i64, String)> = company::Entity::find()
        .select_only()
        .columns([company::Column::Id, company::Column::Name])
        .filter(companies)
        .into_tuple()
        .all(db)
        .await?;
    let contacts: Vec<(i64, String)> = contact::Entity::find()
        .select_only()
        .columns([contact::Column::Id, contact::Column::Email])
        .filter(contacts)
        .into_tuple()
        .all(db)
        .await?;
    let agents: Vec<(i64, String, String)> = agent::Entity::find()
        .select_only()
        .columns([agent::Column::Id, agent::Column::Email, agent::Column::Name])
        .into_tuple()
        .all(db)
        .await?;
    Ok(Names {
        companies: companies.into_iter().collect(),
        contacts: contacts.into_iter().collect(),
        agent_names: agents.iter().map(|(id, _, name)| (*id, name.clone())).collect(),
        agents: agents.into_iter().map(|(id, email, _)| (id, email)).collect(),
        with_teams: HashMap::new(),
    })
}

/// One page of cases, by number: those with one of `statuses` (any when empty), numbered
/// after `after`, at most `limit`.
#[derive(Debug, Clone, Default)]
pub struct CasesPage {
    pub statuses: Vec<Status>,
    pub after: Option<CaseNumber>,
    pub limit: u64,
}

/// A page of `cases list`: what `/api/cases` serves, so that a desk with years of cases is
/// read a page at a time. Names are read for the page's cases only.
pub async fn list_cases_page(db: &impl ConnectionTrait, page: &CasesPage) -> Result<Vec<CaseView>, DbErr> {
    let cases = cases_page(db, page).await?;
    let names = names_of(db, &cases).await?;
    Ok(cases.into_iter().map(|c| view(c, &names)).collect())
}

pub(super) async fn cases_page(db: &impl ConnectionTrait, page: &CasesPage) -> Result<Vec<case::Model>, DbErr> {
    page_filter(page).order_by_asc(case::Column::Number).limit(page.limit).all(db).await
}

/// How many cases the page's list holds after `page.after` (all of them without it),
/// however many a page shows.
pub async fn count_cases(db: &impl ConnectionTrait, page: &CasesPage) -> Result<u64, DbErr> {
    sea_orm::PaginatorTrait::count(page_filter(page), db).await
}

fn page_filter(page: &CasesPage) -> sea_orm::Select<case::Entity> {
    let mut q = case::Entity::find();
    if !page.statuses.is_empty() {
        q = q.filter(case::Column::Status.is_in(page.statuses.iter().copied()));
    }
    if let Some(after) = page.after {
        q = q.filter(case::Column::Number.gt(after));
    }
    q
}

/// The names `cases` refer to, and no others.
pub(super) async fn names_of(db: &impl ConnectionTrait, cases: &[case::Model]) -> Result<Names, DbErr> {
    let ids = |f: fn(&case::Model) -> Option<i64>| {
        let mut ids: Vec<i64> = cases.iter().filter_map(f).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let mut names =
        names(db, company::Column::Id.is_in(ids(|c| c.company_id)), contact::Column::Id.is_in(ids(|c| c.contact_id)))
            .await?;
    let case_ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
    for e in crate::teams::current_of(db, &case_ids).await? {
        names.with_teams.entry(e.case_id).or_default().push(e.team);
    }
    Ok(names)
}

pub async fn list_cases(db: &impl ConnectionTrait) -> Result<Vec<CaseView>, DbErr> {
    let cases = case::Entity::find().order_by_asc(case::Column::Number).all(db).await?;
    let names = party_names(db, None).await?;
    Ok(cases.into_iter().map(|c| view(c, &names)).collect())
}

/// The case numbered `number`, if there is one.
pub async fn by_number(db: &impl ConnectionTrait, number: CaseNumber) -> Result<Option<case::Model>, DbErr> {
    case::Entity::find().filter(case::Column::Number.eq(number)).one(db).await
}

/// How much of a case's history a view reads: a page reads the latest rows and the first
/// part of each text, whatever a customer's thousands of follow-ups add; `cases show` reads
/// it all.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Messages, events and sent mail: the latest this many of each.
    pub rows: Option<u64>,
    /// Characters of each message's text.
    pub body_chars: Option<u64>,
}

impl Window {
    pub const WHOLE: Window = Window { rows: None, body_chars: None };
}

pub async fn show_case(
    db: &impl ConnectionTrait,
    config: &Config,
    number: CaseNumber,
    now: DateTime<Utc>,
    window: Window,
) -> Result<Option<CaseDetail>, DbErr> {
    let Some(c) = by_number(db, number).await? else {
        return Ok(None);
    };
    let mut names = Names::default();
    let mut reference_notes = None;
    let mut budget = None;
    if let Some(id) = c.company_id
        && let Some(co) = company::Entity::find_by_id(id).one(db).await?
    {
        reference_notes = Some(co.notes).filter(|n| !n.is_empty());
        let standing = crate::budget::standing(db, id).await?;
        budget = (standing.purchased > 0.0).then(|| standing.describe());
        names.companies.insert(id, co.name);
    }
    if let Some(id) = c.contact_id
        && let Some(ct) = contact::Entity::find_by_id(id).one(db).await?
    {
        names.contacts.insert(id, ct.email);
    }
    let agents = agent::Entity::find().all(db).await?;
    for a in &agents {
        names.agent_names.insert(a.id, a.name.clone());
        names.agents.insert(a.id, a.email.clone());
    }
    let time = time_entry::Entity::find()
        .filter(time_entry::Column::CaseId.eq(c.id))
        .order_by_asc(time_entry::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|t| TimeView {
            at: t.at,
            agent: t.agent_id.and_then(|id| names.agents.get(&id).cloned()),
            agent_name: t.agent_id.and_then(|id| names.agent_names.get(&id).cloned()),
            minutes: t.minutes,
            rate: t.rate_kind,
            budget_hours: t.budget_hours,
        })
        .collect();
    let messages = messages_of(db, c.id, window).await?;
    let messages_total =
        total(db, message::Entity::find().filter(message::Column::CaseId.eq(c.id)), &messages, window).await?;
    let events = super::trail::events_of(db, c.id, &agents, window.rows).await?;
    let case_events = case_event::Entity::find().filter(case_event::Column::CaseId.eq(c.id));
    let events_total = total(db, case_events, &events, window).await?;
    let cc = case_participant::Entity::find()
        .filter(case_participant::Column::CaseId.eq(c.id))
        .order_by_asc(case_participant::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.email)
        .collect();
    let linked_case = match c.linked_case_id {
        Some(id) => case::Entity::find_by_id(id).one(db).await?.map(|l| l.number),
        None => None,
    };
    let sent = sent_on(db, c.id, window.rows).await?;
    let sent_total = total(db, outbox::Entity::find().filter(outbox::Column::CaseId.eq(c.id)), &sent, window).await?;
    let sla = sla_of(config, &c, &warned_of(db, c.id).await?, now);
    let escalations = crate::teams::of_case(db, c.id, &agents).await?;
    let current = escalations.iter().filter(|e| e.until.is_none()).map(|e| e.team.clone()).collect();
    names.with_teams.insert(c.id, current);
    let case = view(c, &names);
    Ok(Some(CaseDetail {
        case,
        sla,
        cc,
        linked_case,
        reference_notes,
        budget,
        time,
        messages,
        messages_total,
        sent,
        sent_total,
        events,
        events_total,
        escalations,
    }))
}

/// The case's latest messages in `window`, oldest first, each text cut in the database.
async fn messages_of(db: &impl ConnectionTrait, case_id: i64, window: Window) -> Result<Vec<MessageView>, DbErr> {
    let text = Expr::col(message::Column::TextBody);
    let body: Expr = match window.body_chars {
        // Integer arguments: PostgreSQL has no SUBSTR(text, bigint, bigint).
        Some(n) => {
            Func::cust(Alias::new("SUBSTR")).arg(text.clone()).arg(1i32).arg(n.min(i32::MAX as u64) as i32).into()
        }
        None => text.clone(),
    };
    let mut latest = message::Entity::find()
        .select_only()
        .columns([
            message::Column::Direction,
            message::Column::MessageId,
            message::Column::Subject,
            message::Column::ReceivedAt,
            message::Column::NoAckReason,
            message::Column::Flags,
            message::Column::Internal,
        ])
        .column_as(message::Column::FromAddr, "from")
        .column_as(body, "text_body")
        .column_as(
            Expr::from(Func::cast_as(Func::cust(Alias::new("LENGTH")).arg(text), Alias::new("BIGINT"))),
            "body_chars",
        )
        .filter(message::Column::CaseId.eq(case_id))
        .order_by_desc(message::Column::Id)
        .limit(window.rows)
        .into_model::<MessageView>()
        .all(db)
        .await?;
    latest.reverse();
    Ok(latest)
}

/// How many rows `all` selects, counted only when the window may have left some out.
async fn total<E, T>(
    db: &impl ConnectionTrait,
    all: sea_orm::Select<E>,
    shown: &[T],
    window: Window,
) -> Result<u64, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
{
    match window.rows {
        Some(n) if shown.len() as u64 >= n => all.count(db).await,
        _ => Ok(shown.len() as u64),
    }
}

/// The latest `rows` of mail sent about the case (all without), oldest first.
async fn sent_on(db: &impl ConnectionTrait, case_id: i64, rows: Option<u64>) -> Result<Vec<SentView>, DbErr> {
    let mut latest = outbox::Entity::find()
        .select_only()
        .columns([
            outbox::Column::Kind,
            outbox::Column::Subject,
            outbox::Column::Status,
            outbox::Column::Attempts,
            outbox::Column::LastError,
            outbox::Column::CreatedAt,
            outbox::Column::SentAt,
        ])
        .column_as(outbox::Column::Id, "outbox_id")
        .column_as(outbox::Column::EnvelopeTo, "to")
        .filter(outbox::Column::CaseId.eq(case_id))
        .order_by_desc(outbox::Column::Id)
        .limit(rows)
        .into_model::<SentView>()
        .all(db)
        .await?;
    latest.reverse();
    Ok(latest)
}

async fn warned_of(db: &impl ConnectionTrait, case_id: i64) -> Result<Vec<alert_sent::Model>, DbErr> {
    alert_sent::Entity::find().filter(alert_sent::Column::CaseId.eq(case_id)).all(db).await
}

/// Each target's view; `alerts` are the case's rows of `alerts_sent` (a warning sent for
/// the target's current due time makes it "warned").
pub(super) fn sla_of(
    config: &Config,
    c: &case::Model,
    alerts: &[alert_sent::Model],
    now: DateTime<Utc>,
) -> Vec<TargetView> {
    let was_warned = |t: TargetKind, due: DateTime<Utc>| {
        alerts.iter().any(|a| a.level != "breach" && a.target == t.as_str() && a.due_at == due)
    };
    let clocks = CaseClocks::from(c);
    let facts = [clocks.respond(), clocks.resolve()]
        .into_iter()
        .flatten()
        .map(|f| TargetFacts { warned: was_warned(f.target, f.due), ..f });
    facts.map(|f| target_view(&config.calendar, &f, now)).collect()
}

pub(super) fn view(c: case::Model, names: &Names) -> CaseView {
    let response_settled = CaseClocks::from(&c).respond().and_then(|f| f.settled());
    CaseView {
        channel: c.channel.to_string(),
        number: c.number,
        summary: c.summary,
        company: c.company_id.and_then(|id| names.companies.get(&id).cloned()),
        contact: c.contact_id.and_then(|id| names.contacts.get(&id).cloned()),
        status: c.status.to_string(),
        case_type: c.case_type.to_string(),
        severity: c.severity.to_string(),
        priority: c.priority.to_string(),
        error_category: c.error_category,
        assignee: c.assignee_id.and_then(|id| names.agents.get(&id).cloned()),
        assignee_name: c.assignee_id.and_then(|id| names.agent_names.get(&id).cloned()),
        client_config: c.client_config,
        created_at: c.created_at,
        updated_at: c.updated_at,
        first_response_due: c.first_response_due,
        first_response_at: c.first_response_at,
        response_settled,
        resolution_due: c.resolution_due,
        with_teams: names.with_teams.get(&c.id).cloned().unwrap_or_default(),
        solution: c.solution,
        opened_because: c.opened_because,
    }
}
