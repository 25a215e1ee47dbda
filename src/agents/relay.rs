//! What an agent's reply sends: the reply itself (or the resolution notice) from the support
//! address to the customer, with her side of the case in Cc, threaded for her (see
//! `cases::readers`); or, when the reply did nothing, an email telling the agent why.

use sea_orm::{ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};

use super::{Ctx, letter, limit};
use crate::cases::{Actor, record_event};
use crate::domain::EmailAddress;
use crate::mail::Attachment;
use crate::outbound::{Composed, MailError, new_message_id, queue_mail};
use crate::storage::Tx;
use crate::storage::entities::{agent, case, case_event};
use crate::templates::{AgentErrorContext, Audience, RelayContext, ResolutionContext};

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
    /// "" or the line telling of a re-grade the same reply made (`regrade`).
    pub regraded: &'a str,
    pub attachments: &'a [Attachment],
}

/// Queues the email to the customer (To) and everyone else of her side on the case (Cc);
/// `false` when the case has no contact to send to.
pub async fn queue_relay(txn: &Tx, ctx: &Ctx<'_>, relay: Relay<'_>) -> Result<bool, MailError> {
    let (config, templates, now) = (ctx.config, ctx.templates, ctx.now);
    let c = relay.case;
    let company = ctx.companies.of(config, c);
    let own: Vec<EmailAddress> =
        config.mailboxes.iter().map(|m| m.address.clone()).chain([config.outbound.from.clone()]).collect();
    let Some(readers) = crate::cases::readers(txn, c, company, &own).await? else { return Ok(false) };
    if let Err(why) = crate::outbound::sendable(&readers.to.address) {
        tracing::warn!(case = %c.number, "{why}; the reply is kept as a note");
        return Ok(false);
    }
    let number = c.number;
    let contact_name = readers.to.name.clone().unwrap_or_else(|| readers.to.address.to_string());
    let agent_name = relay.agent.name.clone();
    let who = Audience { company_slug: company.map(|co| co.slug.as_str()), mailbox: Some(&c.mailbox) };
    let (kind, rendered) = match relay.what {
        ToCustomer::Reply { text } => {
            let (message, sign_off) = letter::sign_off(text, &agent_name);
            let ctx = RelayContext {
                case_number: number.to_string(),
                case_tag: config.intake.case_tag.render(number),
                subject: c.summary.clone(),
                message,
                sign_off,
                agent_name,
                contact_name,
                support_address: relay.support.to_string(),
                regraded: relay.regraded.to_owned(),
            };
            ("relay", templates.render("relay", who, &ctx)?)
        }
        ToCustomer::Resolution { text, solution } => {
            let (greeting, text) = letter::greeting(text);
            let (message, sign_off) = letter::sign_off(text, &agent_name);
            let ctx = ResolutionContext {
                case_number: number.to_string(),
                case_tag: config.intake.case_tag.render(number),
                subject: c.summary.clone(),
                solution: solution.to_owned(),
                greeting: greeting.to_owned(),
                message,
                sign_off,
                agent_name,
                contact_name,
                support_address: relay.support.to_string(),
                close_after_days: config.scheduler.auto_close_after_days,
                regraded: relay.regraded.to_owned(),
            };
            ("resolution", templates.render("resolution", who, &ctx)?)
        }
    };
    let agent_addr = relay.agent.email.parse::<EmailAddress>().ok();
    let display = config.agent_desk.relay_name.replace("{name}", &relay.agent.name);
    let message_id = new_message_id(kind, Some(c.number), relay.support.domain());
    let mail = Composed {
        from: (Some(&display), relay.support),
        reply_to: relay.support,
        also_reply_to: agent_addr.as_ref().filter(|_| config.agent_desk.expose_address),
        to: vec![(readers.to.name.as_deref(), &readers.to.address)],
        cc: readers.cc.iter().map(|r| (r.name.as_deref(), &r.address)).collect(),
        message_id: &message_id,
        in_reply_to: readers.in_reply_to.as_deref(),
        references: readers.references.clone(),
        auto_submitted: None,
        rendered: &rendered,
        attachments: relay.attachments,
        inline_images: &[],
    };
    queue_mail(txn, kind, Some(c.id), &mail, now).await?;
    Ok(true)
}

/// The kinds of mail that carry an agent's reply to the customer.
const RELAYED: [&str; 2] = ["relay", "resolution"];

/// `Some(why)` when case `c`'s customer already got `[agents] relays_per_case_per_hour`
/// replies within the hour: two auto-responders that write no `Auto-Submitted` (the
/// customer's answering each relay, the agent's each notification) would go on for ever.
pub async fn relay_limit_reached(txn: &Tx, ctx: &Ctx<'_>, c: &case::Model) -> Result<Option<String>, DbErr> {
    let limit = ctx.config.agent_desk.relays_per_case_per_hour;
    let since = ctx.now - chrono::Duration::hours(1);
    let relayed = crate::outbound::outbox::relays_to_case_since(txn, c.id, &RELAYED, since).await?;
    Ok((relayed >= u64::from(limit)).then(|| {
        format!(
            "held back: the customer of case {} got {limit} replies in the last hour ([agents] \
             relays_per_case_per_hour), the sign of two auto-responders answering each other",
            ctx.config.intake.case_tag.render(c.number)
        )
    }))
}

/// A reply held back by the per-case limit: an event on the case, and the agent told once
/// an hour per case (the notice itself could feed her auto-responder otherwise).
pub async fn hold_back_relay(txn: &Tx, ctx: &Ctx<'_>, held: Refusal<'_>, why: &str) -> Result<(), MailError> {
    let Some(c) = held.case else { return Ok(()) };
    // The batch's own events are staged: written first, so that a second reply in it sees them.
    txn.flush().await?;
    let told = case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(c.id))
        .filter(case_event::Column::Kind.eq(RELAY_HELD_BACK))
        .filter(case_event::Column::At.gte(ctx.now - chrono::Duration::hours(1)))
        .count(txn)
        .await?;
    record_event(txn, c.id, ctx.now, &Actor::System, RELAY_HELD_BACK, (None, None), Some(why.to_owned()));
    if told == 0 {
        queue_refusal(txn, ctx, held).await?;
    }
    Ok(())
}

/// The event of a reply held back by the per-case limit.
const RELAY_HELD_BACK: &str = "relay_held_back";

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

pub async fn queue_refusal(txn: &Tx, desk: &Ctx<'_>, r: Refusal<'_>) -> Result<(), MailError> {
    let (config, templates, now) = (desk.config, desk.templates, desk.now);
    let Ok(to) = r.agent.email.parse::<EmailAddress>() else { return Ok(()) };
    let allowance = limit::allowance(txn, config, desk.limits, &to, now).await?;
    let number = r.case.map(|c| c.number);
    let ctx = AgentErrorContext {
        case_number: number.map(|n| n.to_string()).unwrap_or_default(),
        case_tag: number.map(|n| config.intake.case_tag.render(n)).unwrap_or_default(),
        subject: r.case.map_or_else(|| r.subject.to_owned(), |c| c.summary.clone()),
        agent_name: r.agent.name.clone(),
        problems: r.problems,
        outcome: r.outcome.to_owned(),
        support_address: r.support.to_string(),
        limit: allowance.notes(),
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
        inline_images: &[],
    };
    limit::queue(txn, desk.limits, "agent_error", r.case.map(|c| c.id), &mail, &allowance, now).await?;
    Ok(())
}
