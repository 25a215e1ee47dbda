//! Case notifications to agents: a new case goes to every active agent (or the team
//! address), a customer's follow-up to the assigned agent. Each starts with the reply marker,
//! carries the case tag, and its Reply-To is the support mailbox, with the agent's token
//! (`support+<token>@…`) when the desk verifies replies by token.

use super::limit::{self, Allowance};
use super::{Ctx, Directory};
use crate::config::{AgentDesk, CompanyConfig, Config, MailboxConfig, Notify, RouteNotify};
use crate::domain::{EmailAddress, Severity};
use crate::mail::ParsedMessage;
use crate::outbound::{Composed, MailError, format_due, new_message_id};
use crate::storage::Tx;
use crate::storage::entities::{agent, case};
use crate::templates::{Audience, LimitNotes, NotifyContext, Rendered};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    NewCase,
    FollowUp,
    /// The company's CRM wrote on the case (kept as an internal note).
    CrmNote,
    /// Mail we sent on the case (an acknowledgement, a reply) bounced.
    Undelivered,
    /// A team the case is escalated to answered (kept as an internal note).
    TeamAnswer,
}

/// What happened on a case. The notification shows the case's company (its name, reference
/// notes and template overrides), looked up from the case: a follow-up may come from a Cc'd
/// partner of another company, or of none.
pub struct Notice<'a> {
    pub event: Event,
    pub case: &'a case::Model,
    pub msg: &'a ParsedMessage,
    pub mailbox: &'a MailboxConfig,
    /// Why the customer could not be acknowledged, when that is what happened.
    pub ack_problem: Option<&'a str>,
    /// For `Event::Undelivered`: what the bounce says went wrong.
    pub undelivered: Option<&'a str>,
}

/// One recipient of a notification and the address their reply should go to.
struct Recipient<'a> {
    to: EmailAddress,
    name: Option<&'a str>,
    reply_to: EmailAddress,
}

/// Queues the notifications in the caller's transaction; returns how many go out (the rest
/// are held back by `[agents] mail_limit_per_hour`).
pub async fn queue_notifications(txn: &Tx, desk: &Ctx<'_>, notice: Notice<'_>) -> Result<usize, MailError> {
    queue_notifications_but(txn, desk, notice, None).await
}

/// As `queue_notifications`, but never to `caller`: the agent who opened the case by hand
/// needs no news of her own call.
pub async fn queue_notifications_but(
    txn: &Tx,
    desk: &Ctx<'_>,
    notice: Notice<'_>,
    caller: Option<&agent::Model>,
) -> Result<usize, MailError> {
    let (config, templates, agents, now) = (desk.config, desk.templates, desk.agents, desk.now);
    let company = desk.companies.of(config, notice.case);
    let mut recipients = recipients(config, agents, &notice, company);
    if let Some(caller) = caller {
        recipients.retain(|r| agents.by_address(&r.to).is_none_or(|a| a.id != caller.id));
    }
    if recipients.is_empty() {
        return Ok(0);
    }
    let mut ctx = context(config, agents, &notice, company, now);
    ctx.budget = desk.companies.budget_of(notice.case).map(|s| s.describe()).unwrap_or_default();
    let who = Audience { company_slug: company.map(|c| c.slug.as_str()), mailbox: Some(&notice.mailbox.name) };
    // Rendered once for every recipient whose mail says nothing of the limit, when one does.
    let mut plain: Option<Rendered> = None;
    let from = &notice.mailbox.address;
    let mut queued = 0;
    for r in &recipients {
        let allowance = limit::allowance(txn, config, desk.limits, &r.to, now).await?;
        let notes = allowance.notes();
        let rendered = match &allowance {
            // Kept, never sent: its subject is all anyone will see of it.
            Allowance::Hold(_) => {
                Rendered { subject: templates.render_subject("notify", who, &ctx)?, ..Rendered::default() }
            }
            Allowance::Send(_) if notes != LimitNotes::default() => {
                templates.render("notify", who, &NotifyContext { limit: notes, ..ctx.clone() })?
            }
            Allowance::Send(_) => match &plain {
                Some(p) => p.clone(),
                None => plain.insert(templates.render("notify", who, &ctx)?).clone(),
            },
        };
        let message_id = new_message_id("notify", Some(notice.case.number), from.domain());
        let from = (config.outbound.from_name.as_deref(), from);
        let mail = Composed::notice(from, &r.reply_to, vec![(r.name, &r.to)], &message_id, &rendered);
        queued +=
            usize::from(limit::queue(txn, desk.limits, "notify", Some(notice.case.id), &mail, &allowance, now).await?);
    }
    Ok(queued)
}

/// A follow-up goes to the assigned agent; a new case, or a follow-up on an unassigned
/// case, to the agents the first matching `[[route]]` names, else to every active agent (or
/// the team address).
fn recipients<'a>(
    config: &Config,
    agents: &'a Directory,
    notice: &Notice<'_>,
    company: Option<&CompanyConfig>,
) -> Vec<Recipient<'a>> {
    let desk = &config.agent_desk;
    let assigned = notice.case.assignee_id.and_then(|id| agents.by_id(id)).filter(|a| a.active);
    let personal = |a: &'a agent::Model| {
        let to = a.email.parse::<EmailAddress>().ok()?;
        let reply_to = agent_reply_to(desk, &notice.mailbox.address, a);
        Some(Recipient { to, name: Some(a.name.as_str()), reply_to })
    };
    let named = match crate::cases::route_of(config, notice.case, company).map(|r| &r.notify) {
        Some(RouteNotify::Agents(list)) => Some(list),
        Some(RouteNotify::All) | None => None,
    };
    match (notice.event, assigned, &desk.notify) {
        (_, _, Notify::Nobody) => Vec::new(),
        (Event::FollowUp | Event::CrmNote | Event::Undelivered | Event::TeamAnswer, Some(a), _) => {
            personal(a).into_iter().collect()
        }
        (_, _, _) if let Some(list) = named => agents
            .active()
            .filter(|a| list.iter().any(|x| config.intake.local_part_case.same_as(x, &a.email)))
            .filter_map(personal)
            .collect(),
        (_, _, notify) => super::listeners(notify, agents)
            .into_iter()
            .filter_map(|l| match l {
                super::Listener::Agent(a) => personal(a),
                super::Listener::Team(team) => {
                    Some(Recipient { to: team, name: None, reply_to: notice.mailbox.address.clone() })
                }
            })
            .collect(),
    }
}

/// Where `agent`'s reply to mail the desk sent them from `mailbox` goes: the mailbox with the
/// agent's token when the desk verifies replies by token (without it the reply is refused as
/// not sent to their personal address), else the mailbox itself. Every mail an agent may
/// answer (notifications, alerts) takes its Reply-To from here.
pub fn agent_reply_to(desk: &AgentDesk, mailbox: &EmailAddress, agent: &agent::Model) -> EmailAddress {
    match (&agent.token, desk.verify.uses_token()) {
        (Some(token), true) => reply_address(mailbox, token),
        _ => mailbox.clone(),
    }
}

/// `support+<token>@example.com`: replies to it prove they answer this agent's notification.
pub fn reply_address(support: &EmailAddress, token: &str) -> EmailAddress {
    let local = support.local_part().split('+').next().unwrap_or_default();
    format!("{local}+{token}@{}", support.domain()).parse().unwrap_or_else(|_| support.clone())
}

fn context(
    config: &Config,
    agents: &Directory,
    notice: &Notice<'_>,
    company: Option<&CompanyConfig>,
    now: chrono::DateTime<chrono::Utc>,
) -> NotifyContext {
    let c = notice.case;
    let number = c.number;
    let severity: Severity = c.severity;
    let msg = notice.msg;
    let message = match notice.event {
        Event::NewCase => msg.text_body.trim(),
        Event::FollowUp | Event::CrmNote => crate::threading::new_text(&msg.text_body, None).trim(),
        Event::TeamAnswer => crate::threading::new_text(&msg.text_body, Some(&config.agent_desk.reply_marker)).trim(),
        Event::Undelivered => msg.text_body.trim(),
    };
    let (message, message_cut) = excerpt(message, config.agent_desk.excerpt_bytes);
    // Always a due time (the templates put "due" before it), with the outcome once settled,
    // or "(breached)" once it has passed unanswered.
    let response_due = match crate::sla::CaseClocks::from(c).respond() {
        None => "none".to_owned(),
        Some(f) => {
            let due = format_due(f.due, config.calendar.time_zone);
            match f.settled_at().map(|at| f.outcome(at)) {
                Some(crate::sla::Outcome::Met) => format!("{due} (met)"),
                Some(_) => format!("{due} (missed)"),
                None if f.due <= now => format!("{due} (breached)"),
                None => due,
            }
        }
    };
    let customer = match &msg.from.name {
        Some(name) => format!("{name} <{}>", msg.from.address),
        None => msg.from.address.to_string(),
    };
    NotifyContext {
        reply_marker: config.agent_desk.reply_marker.clone(),
        event: match notice.event {
            Event::NewCase => "New case".into(),
            Event::FollowUp => "Customer reply".into(),
            Event::CrmNote => "CRM note".into(),
            Event::Undelivered => "Delivery failure".into(),
            Event::TeamAnswer => "Team answer".into(),
        },
        case_number: number.to_string(),
        case_tag: config.intake.case_tag.render(number),
        subject: c.summary.clone(),
        customer,
        company: company.map(|co| co.name.clone()).unwrap_or_else(|| "no known company".into()),
        case_type: c.case_type.to_string(),
        severity: severity.to_string(),
        severity_meaning: severity.meaning().to_owned(),
        priority: c.priority.to_string(),
        status: c.status.to_string(),
        assignee: c.assignee_id.and_then(|id| agents.by_id(id)).map_or("unassigned".into(), |a| a.name.clone()),
        response_target: format!("within {}", config.sla.target(severity).respond.in_words()),
        response_due,
        reference_notes: company.map(|co| co.notes.trim().to_owned()).unwrap_or_default(),
        budget: String::new(),
        message,
        message_cut,
        ack_problem: notice.ack_problem.unwrap_or_default().to_owned(),
        undelivered: notice.undelivered.unwrap_or_default().to_owned(),
        case_url: config.http.case_url(number),
        message_heading: match notice.event {
            Event::NewCase | Event::FollowUp => "Customer's message",
            Event::CrmNote => "The CRM's note",
            Event::Undelivered => "The bounce",
            Event::TeamAnswer => "The team's answer",
        }
        .into(),
        attachments: msg.attachments.iter().filter_map(|a| a.filename.clone()).collect::<Vec<_>>().join(", "),
        limit: LimitNotes::default(),
    }
}

/// At most `max` bytes of `text`, cut at a character boundary, and a note of what was left
/// out ("" when nothing was): a 24 MB message must not make a 50 MB notification.
pub fn excerpt(text: &str, max: usize) -> (String, String) {
    if text.len() <= max {
        return (text.to_owned(), String::new());
    }
    let cut = text.floor_char_boundary(max);
    let note = format!(
        "(first {} of {} shown; the whole message is kept on the case)",
        human_size(cut as u64),
        human_size(text.len() as u64)
    );
    (text[..cut].to_owned(), note)
}

pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{} kB", b / 1024),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_at_a_character_boundary_and_say_so() {
        let text = "é".repeat(100_000);
        let (cut, note) = excerpt(&text, 64 * 1024 + 1);
        assert_eq!(cut.len(), 64 * 1024);
        assert!(note.contains("first 64 kB of 195 kB"), "{note}");
        assert_eq!(excerpt("short", 10), ("short".to_owned(), String::new()));
    }
}
