use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set};

use super::{Actor, record_event};
use crate::config::Config;
use crate::domain::{CaseNumber, CaseType, Channel, EmailAddress, Priority, Severity, Status};
use crate::mail::{ParsedMessage, Party};
use crate::storage::Tx;
use crate::storage::entities::{attachment, case, case_participant, message};

/// What a new case starts with.
pub struct NewCase<'a> {
    pub mailbox: &'a str,
    pub channel: Channel,
    pub company_id: Option<i64>,
    pub contact_id: i64,
    /// The customer's subject without reply prefixes or tag.
    pub summary: String,
    pub case_type: CaseType,
    pub severity: Severity,
    /// The server's receipt time of the first message: the SLA clock starts here.
    pub received_at: DateTime<Utc>,
    pub opened_because: Option<String>,
    /// The earlier case this one follows on from (a reply to a case closed too long ago).
    pub linked_case_id: Option<i64>,
    pub actor: Actor,
}

/// Opens a case with the next case number and its due times, and records the event.
pub async fn open_case(txn: &Tx, config: &Config, new: NewCase<'_>, now: DateTime<Utc>) -> Result<case::Model, DbErr> {
    let number = txn.next_case_number().await?;
    let (cal, sla) = (&config.calendar, &config.sla);
    let respond_due = sla.respond_due(cal, new.severity, new.received_at);
    let resolve_due = sla.resolve_due(cal, new.severity, new.case_type, false, new.received_at);
    // The scheduler reads only cases whose next alert is due: start that clock now.
    let points = crate::sla::case_alert_points(
        cal,
        &config.scheduler.warn_at,
        Some((new.received_at, respond_due)),
        resolve_due.map(|d| (new.received_at, d)),
    );
    let next_alert_at = points.iter().map(|p| p.at).min();
    let case = case::ActiveModel {
        number: Set(CaseNumber::new(number.unsigned_abs()).map_err(|e| DbErr::Custom(e.to_string()))?),
        company_id: Set(new.company_id),
        contact_id: Set(Some(new.contact_id)),
        mailbox: Set(new.mailbox.to_owned()),
        channel: Set(new.channel),
        summary: Set(new.summary.clone()),
        case_type: Set(new.case_type),
        severity: Set(new.severity),
        priority: Set(Priority::Normal),
        status: Set(Status::New),
        client_config: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        sla_started_at: Set(new.received_at),
        first_response_due: Set(Some(respond_due)),
        resolution_due: Set(resolve_due),
        next_alert_at: Set(next_alert_at),
        paused_seconds: Set(0),
        opened_because: Set(new.opened_because.clone()),
        linked_case_id: Set(new.linked_case_id),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    record_event(txn, case.id, now, &new.actor, "opened", (None, Some(Status::New.to_string())), new.opened_because);
    Ok(case)
}

/// Whom of a message's Cc's its case takes in as parties (their replies join it; the
/// agents' replies go to them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CcRule {
    /// No one: a delivery report from a stranger's server, a message an agent added.
    None,
    /// Everyone: the sender is vouched for (a key member by address, or the case is no
    /// company's).
    All,
    /// Only those at these domains (the company's own): the sender is the company's only by
    /// its domain, which anyone can write in a From, so the people they copy elsewhere are
    /// not let in.
    AtDomains(Vec<String>),
}

/// Stores an incoming message (and its attachments) on a case, and takes in the Cc's `cc`
/// lets in: returns those it left out.
pub async fn store_message(
    txn: &Tx,
    case_id: i64,
    msg: &ParsedMessage,
    arrival: Arrival<'_>,
    no_ack_reason: Option<String>,
    cc: &CcRule,
) -> Result<Vec<EmailAddress>, DbErr> {
    insert_message(txn, case_id, msg, arrival, no_ack_reason, Author::Customer);
    let (taken, left): (Vec<&Party>, Vec<&Party>) = match cc {
        CcRule::None => return Ok(Vec::new()),
        CcRule::All => (msg.cc.iter().collect(), Vec::new()),
        CcRule::AtDomains(domains) => msg.cc.iter().partition(|p| domains.iter().any(|d| p.address.at_domain(d))),
    };
    remember_cc(txn, case_id, &taken).await?;
    Ok(left.into_iter().map(|p| p.address.clone()).collect())
}

/// Stores a message from the company's CRM as an internal note: the customer never sees
/// it, and its Cc's are not remembered.
pub fn store_crm_note(txn: &Tx, case_id: i64, msg: &ParsedMessage, arrival: Arrival<'_>) {
    insert_message(txn, case_id, msg, arrival, None, Author::Crm);
    // An internal note is an update of the case, as an agent's is (Date of Last Update).
    txn.stage_touch(case_id, arrival.received_at);
}

/// Stores a message from a team the case was escalated to as an internal note; `flag` says
/// what it is ("an answer from the Hosting team") or why it did nothing.
pub fn store_team_note(txn: &Tx, case_id: i64, msg: &ParsedMessage, arrival: Arrival<'_>, flag: String) {
    insert_message(txn, case_id, msg, arrival, None, Author::Team(flag));
    txn.stage_touch(case_id, arrival.received_at);
}

/// Who wrote a stored message, besides its From address.
enum Author {
    Customer,
    Crm,
    Team(String),
    Agent(AgentMark),
}

/// How a message reached us.
#[derive(Clone, Copy)]
pub struct Arrival<'a> {
    pub raw: &'a [u8],
    pub mailbox: &'a str,
    pub received_at: DateTime<Utc>,
}

/// An agent's message: internal notes are never shown to the customer; `flag` says why a
/// message did nothing (unverified, rejected commands).
pub struct AgentMark {
    pub agent_id: i64,
    pub internal: bool,
    pub flag: Option<String>,
}

/// Stores an agent's message on a case. Their Cc's are not remembered: those are the
/// customer's side.
pub fn store_agent_message(txn: &Tx, case_id: i64, msg: &ParsedMessage, arrival: Arrival<'_>, mark: AgentMark) {
    // A note changes no column of the case, yet it is an update of it (reports' "Date of
    // Last Update").
    txn.stage_touch(case_id, arrival.received_at);
    insert_message(txn, case_id, msg, arrival, None, Author::Agent(mark));
}

/// Staged in the transaction, written at its commit (see `storage::Tx`).
fn insert_message(
    txn: &Tx,
    case_id: i64,
    msg: &ParsedMessage,
    arrival: Arrival<'_>,
    no_ack_reason: Option<String>,
    author: Author,
) {
    let agent = match &author {
        Author::Agent(mark) => Some(mark),
        Author::Customer | Author::Crm | Author::Team(_) => None,
    };
    let list =
        |parties: &[crate::mail::Party]| parties.iter().map(|p| p.address.to_string()).collect::<Vec<_>>().join(", ");
    let mut flags = msg.flags.clone();
    flags.extend(agent.and_then(|a| a.flag.clone()));
    match &author {
        Author::Crm => flags.push("a note from the company's CRM".into()),
        Author::Team(flag) => flags.push(flag.clone()),
        Author::Customer | Author::Agent(_) => {}
    }
    let row = message::ActiveModel {
        case_id: Set(case_id),
        direction: Set(if agent.is_some() { "agent" } else { "in" }.into()),
        message_id: Set(msg.message_id.clone()),
        in_reply_to: Set((!msg.in_reply_to.is_empty()).then(|| msg.in_reply_to.join(" "))),
        references: Set((!msg.references.is_empty()).then(|| msg.references.join(" "))),
        from_addr: Set(msg.from.address.to_string()),
        from_name: Set(msg.from.name.clone()),
        to_addrs: Set(list(&msg.to)),
        cc_addrs: Set(list(&msg.cc)),
        subject: Set(msg.subject.clone()),
        text_body: Set(msg.text_body.clone()),
        html_body: Set(msg.html_body.clone()),
        received_at: Set(arrival.received_at),
        mailbox: Set(Some(arrival.mailbox.to_owned())),
        dedup_key: Set(Some(msg.dedup_key.clone())),
        no_ack_reason: Set(no_ack_reason),
        flags: Set((!flags.is_empty()).then(|| flags.join("; "))),
        agent_id: Set(agent.map(|a| a.agent_id)),
        internal: Set(agent.is_some_and(|a| a.internal) || matches!(author, Author::Crm | Author::Team(_))),
        ..Default::default()
    };
    let attachments = msg
        .attachments
        .iter()
        .map(|a| attachment::ActiveModel {
            // Set when written: the message has no id before.
            message_id: Set(0),
            filename: Set(a.filename.clone()),
            content_type: Set(a.content_type.clone()),
            size: Set(a.data.len() as i64),
            sha256: Set(crate::mail::sha256_hex(&a.data)),
            data: Set(a.data.clone()),
            ..Default::default()
        })
        .collect();
    txn.stage_message(row, arrival.raw.to_vec(), attachments);
}

/// Cc'd addresses are remembered on the case, so replies to the customer include them.
async fn remember_cc(db: &impl ConnectionTrait, case_id: i64, cc: &[&Party]) -> Result<(), DbErr> {
    for p in cc {
        let row = case_participant::ActiveModel {
            case_id: Set(case_id),
            email: Set(p.address.to_string()),
            name: Set(p.name.clone()),
            role: Set("cc".into()),
            ..Default::default()
        };
        case_participant::Entity::insert(row)
            .on_conflict_do_nothing_on([case_participant::Column::CaseId, case_participant::Column::Email])
            .exec(db)
            .await?;
    }
    Ok(())
}

/// A follow-up from the customer side. A case waiting on the customer (pending), resolved,
/// or closed within the reopen window is open again; a resolved or closed one starts its
/// SLA afresh from this message (`change::reopen`). `automated` mail (an out-of-office, a
/// bounce: the reason is given) is recorded on the case but changes nothing: a robot is no reply.
pub async fn append_message(
    txn: &Tx,
    config: &Config,
    case: &case::Model,
    actor: &Actor,
    automated: Option<&str>,
    received_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if let Some(reason) = automated {
        record_event(txn, case.id, now, actor, "message", (None, None), Some(format!("automated: {reason}")));
        return Ok(());
    }
    let status: Status = case.status;
    if status == Status::Pending {
        // The customer answered: the resolution clock runs again from here.
        record_event(txn, case.id, now, actor, "message", (None, None), None);
        return super::set_status(txn, config, case, Status::Open, actor, now).await.map(|_| ());
    }
    let mut update: case::ActiveModel = case.clone().into();
    update.updated_at = Set(now);
    if matches!(status, Status::Resolved | Status::Closed) {
        update.status = Set(Status::Open);
        super::change::reopen(&mut update, config, case, received_at);
        update.next_alert_at = Set(Some(now));
    }
    update.update(txn).await?;
    record_event(txn, case.id, now, actor, "message", (None, None), None);
    if !matches!(status, Status::New | Status::Open) {
        let change = (Some(status.to_string()), Some(Status::Open.to_string()));
        record_event(txn, case.id, now, actor, "status", change, Some("customer replied".into()));
    }
    Ok(())
}

/// A closed case takes replies for `window_days` after closing; later ones open a new case.
pub fn closed_too_long(case: &case::Model, window_days: u32, now: DateTime<Utc>) -> bool {
    case.status == Status::Closed
        && case.closed_at.is_some_and(|closed| now - closed > chrono::Duration::days(i64::from(window_days)))
}
