//! The alert emails, to the recipients configured per level. By default the assigned agent
//! (all active agents when unassigned) and the company's CRM, who hears before the target
//! lapses, not only after; a breach also goes to the escalation address. Each agent's alert
//! is a mail of their own (its Reply-To carries their token: a reply answers on the case), and
//! so is the CRM's (its Reply-To her company's token, as on her reports: a reply is a note on
//! the case for the agents). Queued in the outbox in the tick's transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

use crate::config::Recipient;
use crate::desk::Desk;
use crate::domain::{EmailAddress, Severity};
use crate::outbound::{Composed, MailError, new_message_id, queue_mail};
use crate::sla::{AlertPoint, BusinessCalendar, TargetKind, WarnPoint, span};
use crate::storage::Tx;
use crate::storage::entities::{agent, case, company, contact, escalation};
use crate::templates::{AlertContext, Audience, Rendered};

/// The companies, contacts, agents and escalations a tick's alerts name, read once per tick.
pub struct People {
    companies: HashMap<i64, company::Model>,
    contacts: HashMap<i64, contact::Model>,
    agents: HashMap<i64, agent::Model>,
    /// The current escalations of the tick's cases, by case id.
    escalations: HashMap<i64, Vec<escalation::Model>>,
}

impl People {
    pub async fn load(txn: &Tx, cases: &[case::Model]) -> Result<People, DbErr> {
        let contact_ids: Vec<i64> = cases.iter().filter_map(|c| c.contact_id).collect();
        let contacts = contact::Entity::find().filter(contact::Column::Id.is_in(contact_ids)).all(txn).await?;
        let case_ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
        let mut escalations: HashMap<i64, Vec<escalation::Model>> = HashMap::new();
        for e in crate::teams::current_of(txn, &case_ids).await? {
            escalations.entry(e.case_id).or_default().push(e);
        }
        Ok(People {
            escalations,
            companies: company::Entity::find().all(txn).await?.into_iter().map(|c| (c.id, c)).collect(),
            contacts: contacts.into_iter().map(|c| (c.id, c)).collect(),
            agents: agent::Entity::find().all(txn).await?.into_iter().map(|a| (a.id, a)).collect(),
        })
    }
}

/// Queues the alert for one case: a mail to each agent (its Reply-To carries the agent's
/// token, so a reply answers on the case as a reply to a notification does), one to the
/// desk's other addresses (escalation, teams, configured addresses), and one to the company's
/// CRM, who is outside the desk: the CRM's carries no reference notes, and none lists
/// another's recipients. Returns how many emails were queued.
pub async fn queue_alert(
    txn: &Tx,
    desk: &Desk,
    people: &People,
    c: &case::Model,
    worst: &AlertPoint,
    all: &[AlertPoint],
    now: DateTime<Utc>,
) -> Result<usize, MailError> {
    let company = c.company_id.and_then(|id| people.companies.get(&id));
    let to = recipients(desk, people, c, company, worst.is_breach());
    let base = context(desk, people, c, worst, all, now);
    let who = Audience { company_slug: company.map(|co| co.slug.as_str()), mailbox: Some(&c.mailbox) };
    let render = |ctx: AlertContext| desk.templates.render("alert", who, &ctx);
    let mailbox = desk.config.mailbox(&c.mailbox).map_or(desk.config.support_address(), |m| &m.address);
    let from = &desk.config.outbound.from;
    let mut queued = 0;
    if !to.agents.is_empty() {
        let marker = desk.config.agent_desk.reply_marker.clone();
        let rendered = render(AlertContext { reply_marker: marker, answer: ANSWER_AGENT.into(), ..base.clone() })?;
        for agent in &to.agents {
            let Ok(address) = agent.email.parse::<EmailAddress>() else { continue };
            let reply_to = crate::agents::agent_reply_to(&desk.config.agent_desk, mailbox, agent);
            let to = [(Some(agent.name.as_str()), &address)];
            queue_one(txn, c, &worst.level, (desk, &reply_to), &to, &rendered, now).await?;
            queued += 1;
        }
    }
    if !to.others.is_empty() {
        let rendered = render(AlertContext { answer: ANSWER_OTHERS.into(), ..base.clone() })?;
        let others: Vec<_> = to.others.iter().map(|a| (None, a)).collect();
        queue_one(txn, c, &worst.level, (desk, from), &others, &rendered, now).await?;
        queued += 1;
    }
    if !to.crm.is_empty() {
        let name = company.and_then(|co| co.crm_name.as_deref()).filter(|n| !n.trim().is_empty());
        let rendered = render(for_crm(desk, people, c, company, worst, name, base))?;
        let crm: Vec<_> = to.crm.iter().map(|a| (name, a)).collect();
        // Her personal address, as on her reports and budget mails: what she answers is
        // known as hers, and lands on the case as a CRM note (`cases::intake`).
        let reply_to = company.and_then(|co| crate::reports::report_reply_to(&desk.config, co));
        queue_one(txn, c, &worst.level, (desk, reply_to.as_ref().unwrap_or(from)), &crm, &rendered, now).await?;
        queued += 1;
    }
    Ok(queued)
}

/// The CRM's copy: addressed to her by name, its times in her company's zone (the desk's copies
/// keep the support calendar's, as notifications do), without the reference notes and the case
/// page, which shows them too and which the CRM may not reach.
fn for_crm(
    desk: &Desk,
    people: &People,
    c: &case::Model,
    company: Option<&company::Model>,
    worst: &AlertPoint,
    name: Option<&str>,
    base: AlertContext,
) -> AlertContext {
    let zone = desk.config.zone_of(company.and_then(|co| desk.config.company(&co.slug)));
    let with = people.escalations.get(&c.id).map_or(&[][..], Vec::as_slice);
    AlertContext {
        greeting: name.map_or_else(|| "Hello,".to_owned(), |n| format!("Hello {n},")),
        due: crate::outbound::format_due(worst.due, zone),
        escalated: escalated(desk, with, zone),
        reference_notes: String::new(),
        case_url: String::new(),
        answer: ANSWER_CRM.into(),
        ..base
    }
}

/// What a reply to each copy does, said in the mail itself.
const ANSWER_AGENT: &str = "Reply above the marker line to answer the customer on this case; #commands on the \
                            first lines of your reply apply (#note keeps the reply internal).";
const ANSWER_OTHERS: &str = "A reply to this copy does not answer on the case: an agent answers by replying to \
                             their own copy of this alert or to the case's notification.";
const ANSWER_CRM: &str = "A reply to this email reaches the support team as a note on the case; the customer \
                          does not see it.";

async fn queue_one(
    txn: &Tx,
    c: &case::Model,
    level: &str,
    (desk, reply_to): (&Desk, &EmailAddress),
    to: &[(Option<&str>, &EmailAddress)],
    rendered: &Rendered,
    now: DateTime<Utc>,
) -> Result<(), MailError> {
    let from = &desk.config.outbound.from;
    let message_id = new_message_id(&format!("alert-{}", level.replace('%', "pct")), Some(c.number), from.domain());
    let from = (desk.config.outbound.from_name.as_deref(), from);
    let mail = Composed::notice(from, reply_to, to.to_vec(), &message_id, rendered);
    queue_mail(txn, "alert", Some(c.id), &mail, now).await?;
    Ok(())
}

/// Who hears of one alert, in a mail per agent and one for each other kind of recipient.
struct Recipients<'p> {
    /// The agents: each gets a mail of their own, which they can answer.
    agents: Vec<&'p agent::Model>,
    /// The escalation address, teams and configured addresses: the desk's, but not agents.
    others: Vec<EmailAddress>,
    /// The company's CRM, unless already among the desk's recipients.
    crm: Vec<EmailAddress>,
}

fn recipients<'p>(
    desk: &Desk,
    people: &'p People,
    c: &case::Model,
    company: Option<&company::Model>,
    breach: bool,
) -> Recipients<'p> {
    let cfg = &desk.config.scheduler;
    let rules = if breach { &cfg.breach_recipients } else { &cfg.warning_recipients };
    let (mut agents, mut to, mut crm): (Vec<&agent::Model>, Vec<EmailAddress>, Vec<EmailAddress>) =
        (Vec::new(), Vec::new(), Vec::new());
    for rule in rules {
        match rule {
            Recipient::Agents => match c.assignee_id {
                Some(id) => agents.extend(people.agents.get(&id)),
                None => agents.extend(people.agents.values().filter(|a| a.active)),
            },
            Recipient::Crm => crm.extend(company.and_then(|co| co.crm_email.as_deref()).and_then(|e| e.parse().ok())),
            Recipient::Escalation => to.extend(cfg.escalation_email.clone()),
            Recipient::Team => {
                let with = people.escalations.get(&c.id).into_iter().flatten();
                to.extend(with.filter_map(|e| desk.config.team(&e.team)).map(|t| t.address.clone()))
            }
            Recipient::Address(a) => to.push(a.clone()),
        }
    }
    agents.sort_by_key(|a| a.id);
    agents.dedup_by_key(|a| a.id);
    let is_agent = |a: &EmailAddress| agents.iter().any(|ag| ag.email.parse::<EmailAddress>().is_ok_and(|e| e == *a));
    to.retain(|a| !is_agent(a));
    to.sort();
    to.dedup();
    crm.retain(|a| !to.contains(a) && !is_agent(a));
    crm.dedup();
    Recipients { agents, others: to, crm }
}

fn context(
    desk: &Desk,
    people: &People,
    c: &case::Model,
    worst: &AlertPoint,
    all: &[AlertPoint],
    now: DateTime<Utc>,
) -> AlertContext {
    let cal = &desk.config.calendar;
    let company = c.company_id.and_then(|id| people.companies.get(&id));
    let contact = c.contact_id.and_then(|id| people.contacts.get(&id));
    let number = c.number;
    let severity: Severity = c.severity;
    let target = target_words(worst.target);
    let left = cal.business_between(now, worst.due).num_minutes();
    let headline = match worst.warn {
        None => match cal.business_between(worst.due, now).num_minutes() {
            0 => format!("{severity}: {target} target breached"),
            over => format!("{severity}: {target} target breached, overdue by {}", span(over)),
        },
        Some(WarnPoint::Elapsed(p)) => format!("{severity}: {target} due in {} ({p}% of the target used)", span(left)),
        Some(WarnPoint::Left(_)) => format!("{severity}: {target} due in {}", span(left)),
    };
    AlertContext {
        case_number: number.to_string(),
        case_tag: desk.config.intake.case_tag.render(number),
        subject: c.summary.clone(),
        severity: severity.to_string(),
        severity_meaning: severity.meaning().to_owned(),
        company: company.map(|co| co.name.clone()).unwrap_or_default(),
        contact: contact.map(|ct| ct.email.clone()).unwrap_or_default(),
        headline,
        target: target.to_owned(),
        level: level_words(cal, worst),
        due: crate::outbound::format_due(worst.due, cal.time_zone),
        time_left: if left > 0 { span(left) } else { "none: the target has lapsed".into() },
        levels: all
            .iter()
            .map(|p| format!("{} {}", target_words(p.target), level_words(cal, p)))
            .collect::<Vec<_>>()
            .join(", "),
        reference_notes: company.map(|co| co.notes.clone()).unwrap_or_default(),
        escalated: escalated(desk, people.escalations.get(&c.id).map_or(&[], Vec::as_slice), cal.time_zone),
        case_url: desk.config.http.case_url(number),
        reply_marker: String::new(),
        answer: String::new(),
        greeting: String::new(),
    }
}

/// "the Hosting team (since …) and the company's CRM (since …)", the times in `zone`.
fn escalated(desk: &Desk, with: &[escalation::Model], zone: chrono_tz::Tz) -> String {
    let whom = |e: &escalation::Model| match desk.config.team(&e.team) {
        Some(t) => t.in_sentence(),
        None if e.team == crate::teams::ACCOUNT => "the company's CRM (account matters)".to_owned(),
        None => format!("{} (no [[team]] by that name now)", e.team),
    };
    let each: Vec<String> = with
        .iter()
        .map(|e| format!("{} (since {})", whom(e), crate::outbound::format_due(e.started_at, zone)))
        .collect();
    each.join(" and ")
}

fn target_words(target: TargetKind) -> &'static str {
    match target {
        TargetKind::Respond => "first response",
        TargetKind::Resolve => "resolution",
    }
}

/// "75% of the target used", "15 min left", "breached".
fn level_words(cal: &BusinessCalendar, p: &AlertPoint) -> String {
    match p.warn {
        Some(WarnPoint::Elapsed(percent)) => format!("{percent}% of the target used"),
        Some(WarnPoint::Left(d)) => format!("{} left", span(d.minutes(cal.day_minutes()) as i64)),
        None => "breached".to_owned(),
    }
}
