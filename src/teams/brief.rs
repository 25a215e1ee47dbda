//! The mail that escalates a case: everything the team needs without opening the desk (the
//! case, its SLA clocks, the company's reference notes, why, and the customer's messages so
//! far within `[agents] excerpt_bytes`), with a Reply-To that carries the team's token so
//! its answer comes back to the case and proves it answers our mail.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};

use crate::agents::{Ctx, excerpt, human_size, reply_address};
use crate::config::Config;
use crate::domain::EmailAddress;
use crate::outbound::{Composed, MailError, format_due, new_message_id, queue_mail};
use crate::storage::Tx;
use crate::storage::entities::{agent, attachment, case, message};
use crate::templates::{Audience, BriefMessage, EscalationContext};

/// How many of the customer's latest messages a brief quotes.
const MESSAGES: u64 = 20;

/// Whom the brief goes to: a team (answers verified by its token) or the company's CRM
/// (whose answers are already theirs: see `cases::Standing::Crm`).
pub struct Brief<'a> {
    pub case: &'a case::Model,
    pub to: &'a EmailAddress,
    /// "Hosting team", or the CRM's name: the To's display name.
    pub title: &'a str,
    /// How the brief's sentences name the team: "the Hosting team", "Engineering", the CRM's name.
    pub in_sentence: String,
    pub token: Option<&'a str>,
    /// A team, inside the desk: only a team's brief has the company's reference notes (the
    /// CRM's has none, as the CRM's alerts have none).
    pub team: bool,
    pub by: &'a agent::Model,
    pub reason: Option<&'a str>,
    pub support: &'a EmailAddress,
}

pub async fn queue_brief(txn: &Tx, ctx: &Ctx<'_>, b: Brief<'_>) -> Result<(), MailError> {
    let (config, c) = (ctx.config, b.case);
    // The customer's message of this batch may still be staged.
    txn.flush_for_case(c.id).await?;
    let company = ctx.companies.of(config, c);
    let quoted = customer_messages(txn, config, c.id).await?;
    let severity = c.severity;
    let assignee = c.assignee_id.and_then(|id| ctx.agents.by_id(id)).map_or("unassigned".into(), |a| a.name.clone());
    let view = EscalationContext {
        reply_marker: config.agent_desk.reply_marker.clone(),
        team: b.in_sentence.clone(),
        case_number: c.number.to_string(),
        case_tag: config.intake.case_tag.render(c.number),
        subject: c.summary.clone(),
        company: company.map(|co| co.name.clone()).unwrap_or_else(|| "no known company".into()),
        customer: quoted.messages.first().map(|m| m.from.clone()).unwrap_or_else(|| "unknown".into()),
        case_type: c.case_type.to_string(),
        severity: severity.to_string(),
        severity_meaning: severity.meaning().to_owned(),
        priority: c.priority.to_string(),
        status: c.status.to_string(),
        assignee,
        escalated_by: b.by.name.clone(),
        reason: b.reason.unwrap_or_default().to_owned(),
        response: clock(config, crate::sla::CaseClocks::from(c).respond(), "no response target"),
        resolution: clock(config, crate::sla::CaseClocks::from(c).resolve(), "no resolution target applies"),
        reference_notes: company.filter(|_| b.team).map(|co| co.notes.trim().to_owned()).unwrap_or_default(),
        messages: quoted.messages,
        messages_cut: quoted.cut,
        attachments: quoted.attachments,
        support_address: b.support.to_string(),
    };
    let who = Audience { company_slug: company.map(|co| co.slug.as_str()), mailbox: Some(&c.mailbox) };
    let rendered = ctx.templates.render("escalation", who, &view)?;
    let reply_to = b.token.map_or_else(|| b.support.clone(), |t| reply_address(b.support, t));
    let message_id = new_message_id("escalation", Some(c.number), b.support.domain());
    let from = (config.outbound.from_name.as_deref(), b.support);
    let mail = Composed::notice(from, &reply_to, vec![(Some(b.title), b.to)], &message_id, &rendered);
    queue_mail(txn, "escalation", Some(c.id), &mail, ctx.now).await
}

/// "met Monday …" once reached in time, "missed …" once not, "due …" before, `none` when
/// there is no target.
fn clock(config: &Config, facts: Option<crate::sla::TargetFacts>, none: &str) -> String {
    use crate::sla::Outcome;
    let zone = config.calendar.time_zone;
    let Some(f) = facts else { return none.to_owned() };
    let due = format_due(f.due, zone);
    match (f.settled_at(), f.reached) {
        (Some(at), _) if f.outcome(at) == Outcome::Met => format!("met {} (was due {due})", format_due(at, zone)),
        (Some(_), Some(at)) => format!("missed: reached late, {} (was due {due})", format_due(at, zone)),
        (Some(at), None) => format!("missed: closed {} without a response (was due {due})", format_due(at, zone)),
        (None, _) => format!("due {due}"),
    }
}

/// A message of the customer's, as much as a brief shows of it.
#[derive(FromQueryResult)]
struct Said {
    id: i64,
    from_addr: String,
    from_name: Option<String>,
    received_at: DateTime<Utc>,
    text_body: String,
}

/// What a brief quotes of the case.
struct Quoted {
    messages: Vec<BriefMessage>,
    /// "" when nothing was cut.
    cut: String,
    /// Names and sizes of their attachments.
    attachments: String,
}

/// The customer side's latest messages, oldest first, their new text only, within
/// `excerpt_bytes` in all; and the names and sizes of their attachments (never the data).
async fn customer_messages(db: &impl ConnectionTrait, config: &Config, case_id: i64) -> Result<Quoted, DbErr> {
    use message::Column as M;
    let customer_side =
        Condition::all().add(M::CaseId.eq(case_id)).add(M::Direction.eq("in")).add(M::Internal.eq(false));
    // A follow-up with a `no_ack_reason` is automated (a bounce, an out-of-office): left out,
    // but for the message that opened the case (its ack may have been refused).
    let opening: Option<i64> = message::Entity::find()
        .select_only()
        .column(M::Id)
        .filter(customer_side.clone())
        .order_by_asc(M::Id)
        .into_tuple()
        .one(db)
        .await?;
    let by_people = Condition::any().add(M::NoAckReason.is_null()).add(M::Id.eq(opening.unwrap_or_default()));
    let rows = message::Entity::find()
        .select_only()
        .columns([M::Id, M::FromAddr, M::FromName, M::ReceivedAt, M::TextBody])
        .filter(customer_side)
        .filter(by_people)
        .order_by_desc(M::ReceivedAt)
        .order_by_desc(M::Id)
        .limit(MESSAGES)
        .into_model::<Said>()
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut left = config.agent_desk.excerpt_bytes;
    let mut cut = false;
    let zone = config.calendar.time_zone;
    // The newest first: the budget goes to what the customer said last.
    let mut messages: Vec<BriefMessage> = rows
        .into_iter()
        .map(|m| {
            let (text, note) = excerpt(crate::threading::new_text(&m.text_body, None).trim(), left);
            left = left.saturating_sub(text.len());
            cut |= !note.is_empty();
            let from = m.from_name.map_or_else(|| m.from_addr.clone(), |n| format!("{n} <{}>", m.from_addr));
            BriefMessage { from, at: format_due(m.received_at, zone), text }
        })
        .collect();
    messages.reverse();
    let files: Vec<(Option<String>, i64)> = attachment::Entity::find()
        .select_only()
        .columns([attachment::Column::Filename, attachment::Column::Size])
        .filter(attachment::Column::MessageId.is_in(ids))
        .order_by_asc(attachment::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let attachments = files
        .into_iter()
        .map(|(name, size)| {
            format!("{} ({})", name.unwrap_or_else(|| "unnamed".into()), human_size(size.max(0) as u64))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let cut = if cut {
        "(some messages are cut short; the whole messages are kept on the case)".into()
    } else {
        String::new()
    };
    Ok(Quoted { messages, cut, attachments })
}
