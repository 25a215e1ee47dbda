//! A company's CRM or CSM answering mail the desk sent them (a report, a budget email, the
//! how-to), about no case: a note for the agents, never a case (no SLA clock, no company-less
//! case) and never acknowledged. Each active agent (or `[agents] notify`'s address) gets the
//! note, whose Reply-To is the CRM: answering it answers them. The reports ledger (kind
//! `crm_reply`, the message's dedup key) passes each message on once.
//!
//! Such a reply is known by the company's token in the address written to (when reports carry
//! it), or by its In-Reply-To/References naming a report, budget or how-to mail the desk sent to
//! that very address (under `auth-results` and `none` the mails carry no token). Either way it
//! is verified as `[agents] verify` verifies the CRM's `#report`; unverified, it is held.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

use super::{ReportError, record_sent};
use crate::config::Config;
use crate::desk::Desk;
use crate::domain::{EmailAddress, LocalPartCase};
use crate::mail::ParsedMessage;
use crate::outbound::{Composed, new_message_id, queue_mail};
use crate::storage::Tx;
use crate::storage::entities::{company, outbox};
use crate::templates::{Audience, CrmReplyContext};

/// The outbox kinds of mail a CRM gets about reports, whose answer is a note.
const ANSWERABLE: [&str; 3] = ["report", "budget", "report_howto"];

/// What a CRM's mail that names no case is.
pub enum CrmMail {
    /// Theirs, as the policy verifies it: a note for the agents.
    Note(Box<company::Model>),
    /// An answer to the desk's mail from their address, not verified: held, never a case.
    Unverified { why: String },
}

/// Whether `msg` answers mail the desk sent a company's CRM or CSM; `None` when it does not
/// (an ordinary message). `vouched`: an agent released it, so it is not verified again.
pub async fn classify(txn: &Tx, config: &Config, msg: &ParsedMessage, vouched: bool) -> Result<Option<CrmMail>, DbErr> {
    let Some(row) = company_answered(txn, config, msg).await? else { return Ok(None) };
    if vouched {
        return Ok(Some(CrmMail::Note(Box::new(row))));
    }
    Ok(Some(match crate::agents::verify(&config.agent_desk, row.report_token.as_deref(), msg) {
        Ok(()) => CrmMail::Note(Box::new(row)),
        Err(why) => CrmMail::Unverified {
            why: format!(
                "a reply to the desk's {} from the CRM of {} could not be verified: {why}",
                replied_to(msg),
                row.name
            ),
        },
    }))
}

/// The company whose CRM or CSM sent `msg`: the one whose token the address written to
/// carries, else the one whose mail (report, budget, how-to) to the sender it answers.
async fn company_answered(txn: &Tx, config: &Config, msg: &ParsedMessage) -> Result<Option<company::Model>, DbErr> {
    let sender = &msg.from.address;
    let theirs = super::request::companies_of(config, sender);
    let mut rows = Vec::with_capacity(theirs.len());
    for c in theirs {
        if let Some(row) = company::Entity::find().filter(company::Column::Slug.eq(&c.slug)).one(txn).await? {
            rows.push(row);
        }
    }
    if let Some(i) =
        rows.iter().position(|r| r.report_token.as_deref().is_some_and(|t| crate::agents::carries_token(msg, t)))
    {
        return Ok(Some(rows.swap_remove(i)));
    }
    let Some(subject) = answered_mail(txn, msg, sender, config.intake.local_part_case).await? else {
        return Ok(None);
    };
    // A CRM of several companies: the mail answered names its company in the subject.
    let named = rows.iter().position(|r| subject.contains(&r.name));
    Ok(match (named, rows.len()) {
        (Some(i), _) => Some(rows.swap_remove(i)),
        (None, 1) => rows.pop(),
        (None, _) => None,
    })
}

/// The subject of the report, budget or how-to mail to `sender` that `msg` names in
/// In-Reply-To or References, if any.
async fn answered_mail(
    txn: &Tx,
    msg: &ParsedMessage,
    sender: &EmailAddress,
    case: LocalPartCase,
) -> Result<Option<String>, DbErr> {
    // Bounded: a hostile References header may list thousands of ids.
    let ids: Vec<&str> =
        msg.in_reply_to.iter().chain(msg.references.iter().rev()).take(50).map(String::as_str).collect();
    if ids.is_empty() {
        return Ok(None);
    }
    // The mail answered may be queued earlier in this transaction.
    txn.flush_for_message_ids(&ids).await?;
    let sent = outbox::Entity::find()
        .filter(outbox::Column::MessageId.is_in(ids))
        .filter(outbox::Column::Kind.is_in(ANSWERABLE))
        .all(txn)
        .await?;
    let to_sender = |row: &outbox::Model| row.envelope_to.split(',').any(|a| case.same_as(sender, a.trim()));
    Ok(sent.into_iter().find(to_sender).map(|row| row.subject))
}

/// Passes the reply on to the agents in the caller's transaction; false when it was passed
/// on before (the same message delivered again).
pub async fn pass_on(
    txn: &Tx,
    desk: &Desk,
    msg: &ParsedMessage,
    support: &EmailAddress,
    c: &company::Model,
    now: DateTime<Utc>,
) -> Result<bool, ReportError> {
    if !record_sent(txn, c.id, "crm_reply", &msg.dedup_key, now).await? {
        return Ok(false);
    }
    let cfg = &desk.config;
    let to = recipients(txn, cfg).await?;
    if to.is_empty() {
        return Ok(true);
    }
    let text = crate::threading::new_text(&msg.text_body, None).trim();
    let (message, message_cut) = crate::agents::excerpt(text, cfg.agent_desk.excerpt_bytes);
    let crm = &msg.from.address;
    let ctx = CrmReplyContext {
        crm_name: msg.from.name.clone().unwrap_or_else(|| crm.to_string()),
        crm_email: crm.to_string(),
        company: c.name.clone(),
        subject: crate::domain::text::one_line(&msg.subject),
        replied_to: replied_to(msg).into(),
        message,
        message_cut,
        attachments: msg.attachments.iter().filter_map(|a| a.filename.clone()).collect::<Vec<_>>().join(", "),
        support_address: support.to_string(),
    };
    let rendered = desk
        .templates
        .render("crm_reply", Audience { company_slug: Some(&c.slug), mailbox: None }, &ctx)
        .map_err(crate::outbound::MailError::from)?;
    for (name, address) in &to {
        let message_id = new_message_id("crm-reply", None, support.domain());
        let from = (cfg.outbound.from_name.as_deref(), support);
        let mail = Composed::notice(from, crm, vec![(name.as_deref(), address)], &message_id, &rendered);
        queue_mail(txn, "crm_reply", None, &mail, now).await?;
    }
    Ok(true)
}

/// `supportd held release` of a CRM's held reply: the agent vouches for it, so it is passed
/// on to the agents as a verified one is. `Err` inside: why it cannot be.
pub async fn release(
    txn: &Tx,
    desk: &Desk,
    msg: &ParsedMessage,
    support: &EmailAddress,
    now: DateTime<Utc>,
) -> Result<Result<super::request::Released, String>, ReportError> {
    let Some(CrmMail::Note(c)) = classify(txn, &desk.config, msg, true).await? else {
        let why = "its first line is no #report request, nor does it answer a report or budget mail to a company's CRM";
        return Ok(Err(why.into()));
    };
    pass_on(txn, desk, msg, support, &c, now).await?;
    Ok(Ok(super::request::Released::Note { company: c.slug }))
}

/// Who hears of it, as `[agents] notify` says for a new case: each active agent, the team
/// address, or nobody.
async fn recipients(txn: &Tx, cfg: &Config) -> Result<Vec<(Option<String>, EmailAddress)>, DbErr> {
    let agents = crate::agents::Directory::load(txn, cfg.intake.local_part_case).await?;
    Ok(crate::agents::listeners(&cfg.agent_desk.notify, &agents).iter().filter_map(|l| l.to()).collect())
}

/// What the CRM answered, from the Message-IDs it names (`supportd.report.…`).
fn replied_to(msg: &ParsedMessage) -> &'static str {
    let named = msg.in_reply_to.iter().chain(&msg.references);
    let kind = |id: &String| match id.strip_prefix("supportd.")?.split('.').next()? {
        "report" => Some("support report"),
        "budget" => Some("budget email"),
        "report-howto" => Some("email on how to ask for a report"),
        _ => None,
    };
    named.filter_map(kind).next().unwrap_or("email")
}
