//! The alert email, to the recipients configured per level. By default the assigned agent
//! (all active agents when unassigned) and the company's CRM, who hears before the target
//! lapses, not only after; a breach also goes to the escalation address. Queued in the
//! outbox in the tick's transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

use crate::config::Recipient;
use crate::desk::Desk;
use crate::domain::{CaseNumber, EmailAddress, Severity};
use crate::outbound::{Composed, MailError, new_message_id, queue_mail};
use crate::sla::{AlertPoint, TargetKind};
use crate::storage::Tx;
use crate::storage::entities::{agent, case, company, contact};
use crate::templates::{AlertContext, Audience};

/// The companies, contacts and agents a tick's alerts name, read once per tick.
pub struct People {
    companies: HashMap<i64, company::Model>,
    contacts: HashMap<i64, contact::Model>,
    agents: HashMap<i64, agent::Model>,
}

impl People {
    pub async fn load(txn: &Tx, cases: &[case::Model]) -> Result<People, DbErr> {
        let contact_ids: Vec<i64> = cases.iter().filter_map(|c| c.contact_id).collect();
        let contacts = contact::Entity::find().filter(contact::Column::Id.is_in(contact_ids)).all(txn).await?;
        Ok(People {
            companies: company::Entity::find().all(txn).await?.into_iter().map(|c| (c.id, c)).collect(),
            contacts: contacts.into_iter().map(|c| (c.id, c)).collect(),
            agents: agent::Entity::find().all(txn).await?.into_iter().map(|a| (a.id, a)).collect(),
        })
    }
}

pub async fn queue_alert(
    txn: &Tx,
    desk: &Desk,
    people: &People,
    c: &case::Model,
    worst: &AlertPoint,
    all: &[AlertPoint],
    now: DateTime<Utc>,
) -> Result<(), MailError> {
    let company = c.company_id.and_then(|id| people.companies.get(&id));
    let contact = c.contact_id.and_then(|id| people.contacts.get(&id));
    let to = recipients(desk, people, c, company, worst.is_breach());
    if to.is_empty() {
        return Ok(());
    }
    let ctx = context(desk, c, company, contact, worst, all, now);
    let who = Audience { company_slug: company.map(|co| co.slug.as_str()), mailbox: Some(&c.mailbox) };
    let rendered = desk.templates.render("alert", who, &ctx)?;
    let from = &desk.config.outbound.from;
    let message_id =
        new_message_id(&format!("alert-{}", worst.level.replace('%', "pct")), Some(c.number), from.domain());
    let mail = Composed {
        from: (desk.config.outbound.from_name.as_deref(), from),
        reply_to: from,
        also_reply_to: None,
        to: to.iter().map(|a| (None, a)).collect(),
        message_id: &message_id,
        in_reply_to: None,
        references: Vec::new(),
        auto_submitted: Some("auto-generated"),
        rendered: &rendered,
        cc: Vec::new(),
        attachments: &[],
    };
    queue_mail(txn, "alert", Some(c.id), &mail, now).await?;
    Ok(())
}

fn recipients(
    desk: &Desk,
    people: &People,
    c: &case::Model,
    company: Option<&company::Model>,
    breach: bool,
) -> Vec<EmailAddress> {
    let cfg = &desk.config.scheduler;
    let rules = if breach { &cfg.breach_recipients } else { &cfg.warning_recipients };
    let mut to: Vec<EmailAddress> = Vec::new();
    for rule in rules {
        match rule {
            Recipient::Agents => {
                let agents: Vec<&agent::Model> = match c.assignee_id {
                    Some(id) => people.agents.get(&id).into_iter().collect(),
                    None => people.agents.values().filter(|a| a.active).collect(),
                };
                to.extend(agents.iter().filter_map(|a| a.email.parse().ok()));
            }
            Recipient::Crm => to.extend(company.and_then(|co| co.crm_email.as_deref()).and_then(|e| e.parse().ok())),
            Recipient::Escalation => to.extend(cfg.escalation_email.clone()),
            Recipient::Address(a) => to.push(a.clone()),
        }
    }
    to.sort();
    to.dedup();
    to
}

fn context(
    desk: &Desk,
    c: &case::Model,
    company: Option<&company::Model>,
    contact: Option<&contact::Model>,
    worst: &AlertPoint,
    all: &[AlertPoint],
    now: DateTime<Utc>,
) -> AlertContext {
    let cal = &desk.config.calendar;
    let number = CaseNumber::new(c.number as u64).expect("case numbers start at 1");
    let severity: Severity = c.severity.parse().unwrap_or(Severity::S3);
    let target = match worst.target {
        TargetKind::Respond => "first response",
        TargetKind::Resolve => "resolution",
    };
    let left = cal.business_between(now, worst.due).num_minutes();
    let level =
        if worst.is_breach() { "breached".to_owned() } else { format!("warning ({} before the lapse)", worst.level) };
    AlertContext {
        case_number: number.to_string(),
        case_tag: desk.config.intake.case_tag.render(number),
        subject: c.summary.clone(),
        severity: severity.to_string(),
        severity_meaning: severity.meaning().to_owned(),
        company: company.map(|co| co.name.clone()).unwrap_or_default(),
        contact: contact.map(|ct| ct.email.clone()).unwrap_or_default(),
        target: target.to_owned(),
        level,
        due: crate::outbound::format_due(worst.due, cal.time_zone),
        time_left: if left > 0 { format!("{left} business minutes") } else { "none: the target has lapsed".into() },
        levels: all.iter().map(|p| format!("{} {}", p.target.as_str(), p.level)).collect::<Vec<_>>().join(", "),
        reference_notes: company.map(|co| co.notes.clone()).unwrap_or_default(),
    }
}
