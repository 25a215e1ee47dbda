//! The alert emails, to the recipients configured per level. By default the assigned agent
//! (all active agents when unassigned) and the company's CRM, who hears before the target
//! lapses, not only after; a breach also goes to the escalation address. The CRM's alert is
//! a mail of its own. Queued in the outbox in the tick's transaction.

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

/// Queues the alert for one case: one email to the desk (agents, escalation, configured
/// addresses) and a separate one to the company's CRM, who is outside the desk: the CRM's
/// carries no reference notes, and neither lists the other's recipients. Returns how many
/// emails were queued (0, 1 or 2).
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
    let for_desk = context(desk, people, c, worst, all, now);
    // The case page shows the reference notes too, and the CRM may not reach the desk's pages.
    let for_crm = AlertContext { reference_notes: String::new(), case_url: String::new(), ..for_desk.clone() };
    let mut queued = 0;
    for (to, ctx) in [(&to.desk, &for_desk), (&to.crm, &for_crm)] {
        if to.is_empty() {
            continue;
        }
        let who = Audience { company_slug: company.map(|co| co.slug.as_str()), mailbox: Some(&c.mailbox) };
        let rendered = desk.templates.render("alert", who, ctx)?;
        queue_one(txn, desk, c, &worst.level, to, &rendered, now).await?;
        queued += 1;
    }
    Ok(queued)
}

async fn queue_one(
    txn: &Tx,
    desk: &Desk,
    c: &case::Model,
    level: &str,
    to: &[EmailAddress],
    rendered: &Rendered,
    now: DateTime<Utc>,
) -> Result<(), MailError> {
    let from = &desk.config.outbound.from;
    let message_id = new_message_id(&format!("alert-{}", level.replace('%', "pct")), Some(c.number), from.domain());
    let to = to.iter().map(|a| (None, a)).collect();
    let mail = Composed::notice((desk.config.outbound.from_name.as_deref(), from), from, to, &message_id, rendered);
    queue_mail(txn, "alert", Some(c.id), &mail, now).await?;
    Ok(())
}

/// Who hears of one alert, in two mails.
struct Recipients {
    /// Agents, the escalation address and configured addresses: the desk's own people.
    desk: Vec<EmailAddress>,
    /// The company's CRM, unless already among the desk's recipients.
    crm: Vec<EmailAddress>,
}

fn recipients(
    desk: &Desk,
    people: &People,
    c: &case::Model,
    company: Option<&company::Model>,
    breach: bool,
) -> Recipients {
    let cfg = &desk.config.scheduler;
    let rules = if breach { &cfg.breach_recipients } else { &cfg.warning_recipients };
    let (mut to, mut crm): (Vec<EmailAddress>, Vec<EmailAddress>) = (Vec::new(), Vec::new());
    for rule in rules {
        match rule {
            Recipient::Agents => {
                let agents: Vec<&agent::Model> = match c.assignee_id {
                    Some(id) => people.agents.get(&id).into_iter().collect(),
                    None => people.agents.values().filter(|a| a.active).collect(),
                };
                to.extend(agents.iter().filter_map(|a| a.email.parse().ok()));
            }
            Recipient::Crm => crm.extend(company.and_then(|co| co.crm_email.as_deref()).and_then(|e| e.parse().ok())),
            Recipient::Escalation => to.extend(cfg.escalation_email.clone()),
            Recipient::Team => {
                let with = people.escalations.get(&c.id).into_iter().flatten();
                to.extend(with.filter_map(|e| desk.config.team(&e.team)).map(|t| t.address.clone()))
            }
            Recipient::Address(a) => to.push(a.clone()),
        }
    }
    to.sort();
    to.dedup();
    crm.retain(|a| !to.contains(a));
    crm.dedup();
    Recipients { desk: to, crm }
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
        escalated: escalated(desk, people.escalations.get(&c.id).map_or(&[], Vec::as_slice)),
        case_url: desk.config.http.case_url(number),
    }
}

/// "the Hosting team (since …) and the company's CRM (since …)".
fn escalated(desk: &Desk, with: &[escalation::Model]) -> String {
    let zone = desk.config.calendar.time_zone;
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
