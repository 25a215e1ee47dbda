//! What an agent's reply sends: the reply itself (or the resolution notice) to the customer
//! and their remembered Cc's from the support address, threaded under the customer's last
//! message; or, when the reply did nothing, an email telling the agent why.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use crate::config::Config;
use crate::domain::{CaseNumber, EmailAddress};
use crate::ingest::Attachment;
use crate::outbound::{Composed, MailError, new_message_id, queue_mail};
use crate::storage::Tx;
use crate::storage::entities::{agent, case, case_participant, contact, message};
use crate::templates::{AgentErrorContext, Audience, RelayContext, ResolutionContext, Templates};

/// What goes to the customer.
pub enum ToCustomer<'a> {
    Reply {
        text: &'a str,
    },
    /// `#status resolved` with a solution: the resolution notice, carrying any text too.
    Resolution {
        text: &'a str,
        solution: &'a str,
    },
}

pub struct Relay<'a> {
    pub case: &'a case::Model,
    pub agent: &'a agent::Model,
    pub support: &'a EmailAddress,
    pub what: ToCustomer<'a>,
    pub attachments: &'a [Attachment],
}

/// Queues the email to the customer; `false` when the case has no contact to send to.
pub async fn queue_relay(
    txn: &Tx,
    config: &Config,
    templates: &Templates,
    relay: Relay<'_>,
    now: DateTime<Utc>,
) -> Result<bool, MailError> {
    let c = relay.case;
    let Some(customer) = (match c.contact_id {
        Some(id) => contact::Entity::find_by_id(id).one(txn).await?,
        None => None,
    }) else {
        return Ok(false);
    };
    let Ok(customer_addr) = customer.email.parse::<EmailAddress>() else { return Ok(false) };
    if let Err(why) = crate::outbound::sendable(&customer_addr) {
        tracing::warn!(case = c.number, "{why}; the reply is kept as a note");
        return Ok(false);
    }
    let cc = case_participant::Entity::find().filter(case_participant::Column::CaseId.eq(c.id)).all(txn).await?;
    let cc: Vec<(Option<String>, EmailAddress)> = cc
        .into_iter()
        .filter_map(|p| Some((p.name, p.email.parse::<EmailAddress>().ok()?)))
        .filter(|(_, a)| a != &customer_addr && a != relay.support)
        .collect();
    let number = CaseNumber::new(c.number as u64).expect("case numbers start at 1");
    let contact_name = customer.name.clone().unwrap_or_else(|| customer.email.clone());
    let who = Audience { company_slug: None, mailbox: Some(&c.mailbox) };
    let (kind, rendered) = match relay.what {
        ToCustomer::Reply { text } => {
            let ctx = RelayContext {
                case_number: number.to_string(),
                case_tag: config.intake.case_tag.render(number),
                subject: c.summary.clone(),
                message: text.to_owned(),
                agent_name: relay.agent.name.clone(),
                contact_name,
                support_address: relay.support.to_string(),
            };
            ("relay", templates.render("relay", who, &ctx)?)
        }
        ToCustomer::Resolution { text, solution } => {
            let ctx = ResolutionContext {
                case_number: number.to_string(),
                case_tag: config.intake.case_tag.render(number),
                subject: c.summary.clone(),
                solution: solution.to_owned(),
                message: text.to_owned(),
                agent_name: relay.agent.name.clone(),
                contact_name,
                support_address: relay.support.to_string(),
                close_after_days: config.scheduler.auto_close_after_days,
            };
            ("resolution", templates.render("resolution", who, &ctx)?)
        }
    };
    let (parent, references) = thread_parent(txn, c.id).await?;
    let agent_addr = relay.agent.email.parse::<EmailAddress>().ok();
    let display = config.agent_desk.relay_name.replace("{name}", &relay.agent.name);
    let message_id = new_message_id(kind, Some(c.number), relay.support.domain());
    let mail = Composed {
        from: (Some(&display), relay.support),
        reply_to: relay.support,
        also_reply_to: agent_addr.as_ref().filter(|_| config.agent_desk.expose_address),
        to: vec![(customer.name.as_deref(), &customer_addr)],
        cc: cc.iter().map(|(n, a)| (n.as_deref(), a)).collect(),
        message_id: &message_id,
        in_reply_to: parent.as_deref(),
        references,
        auto_submitted: None,
        rendered: &rendered,
        attachments: relay.attachments,
    };
    queue_mail(txn, kind, Some(c.id), &mail, now).await?;
    Ok(true)
}

/// The customer's latest message: the relay answers it (In-Reply-To, References).
async fn thread_parent(txn: &Tx, case_id: i64) -> Result<(Option<String>, Vec<String>), DbErr> {
    // The customer's message may have been stored earlier in this transaction.
    txn.flush().await?;
    let last = message::Entity::find()
        .filter(message::Column::CaseId.eq(case_id))
        .filter(message::Column::Direction.eq("in"))
        .filter(message::Column::MessageId.is_not_null())
        .order_by_desc(message::Column::ReceivedAt)
        .order_by_desc(message::Column::Id)
        .one(txn)
        .await?;
    let Some(last) = last else { return Ok((None, Vec::new())) };
    let mut references: Vec<String> =
        last.references.as_deref().unwrap_or_default().split_whitespace().map(str::to_owned).collect();
    references.extend(last.message_id.clone());
    Ok((last.message_id, references))
}

/// Why the agent's email did nothing, sent to the agent's own address (not the From of the
/// email, which may be forged).
pub struct Refusal<'a> {
    pub case: Option<&'a case::Model>,
    pub agent: &'a agent::Model,
    pub subject: &'a str,
    pub problems: Vec<String>,
    pub outcome: &'a str,
    pub support: &'a EmailAddress,
}

pub async fn queue_refusal(
    txn: &Tx,
    config: &Config,
    templates: &Templates,
    r: Refusal<'_>,
    now: DateTime<Utc>,
) -> Result<(), MailError> {
    let Ok(to) = r.agent.email.parse::<EmailAddress>() else { return Ok(()) };
    let number = r.case.and_then(|c| CaseNumber::new(c.number as u64).ok());
    let ctx = AgentErrorContext {
        case_number: number.map(|n| n.to_string()).unwrap_or_default(),
        case_tag: number.map(|n| config.intake.case_tag.render(n)).unwrap_or_default(),
        subject: r.case.map_or_else(|| r.subject.to_owned(), |c| c.summary.clone()),
        agent_name: r.agent.name.clone(),
        problems: r.problems,
        outcome: r.outcome.to_owned(),
        support_address: r.support.to_string(),
    };
    let rendered = templates.render("agent_error", Audience::default(), &ctx)?;
    let message_id = new_message_id("agent-error", r.case.map(|c| c.number), r.support.domain());
    let mail = Composed {
        from: (config.outbound.from_name.as_deref(), r.support),
        reply_to: r.support,
        also_reply_to: None,
        to: vec![(Some(&r.agent.name), &to)],
        cc: Vec::new(),
        message_id: &message_id,
        in_reply_to: None,
        references: Vec::new(),
        auto_submitted: Some("auto-replied"),
        rendered: &rendered,
        attachments: &[],
    };
    queue_mail(txn, "agent_error", r.case.map(|c| c.id), &mail, now).await?;
    Ok(())
}
