//! A company's CRM or CSM answering mail the desk sent them (a report, a budget email) to
//! their personal (token) address, about no case: a note for the agents, never a case (no SLA
//! clock, no company-less case) and never acknowledged. Each active agent (or `[agents]
//! notify`'s address) gets the note, whose Reply-To is the CRM: answering it answers them.
//! The reports ledger (kind `crm_reply`, the message's dedup key) passes each message on once.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

use super::{ReportError, record_sent};
use crate::config::Config;
use crate::desk::Desk;
use crate::domain::EmailAddress;
use crate::mail::ParsedMessage;
use crate::outbound::{Composed, new_message_id, queue_mail};
use crate::storage::Tx;
use crate::storage::entities::company;
use crate::templates::{Audience, CrmReplyContext};

/// The company whose CRM or CSM sent `msg` to their personal address, if it is one: the
/// token in an address written to is what makes it theirs (a From alone is easy to forge).
pub async fn written_by_crm(txn: &Tx, config: &Config, msg: &ParsedMessage) -> Result<Option<company::Model>, DbErr> {
    let sender = &msg.from.address;
    for c in super::request::companies_of(config, sender) {
        let row = company::Entity::find().filter(company::Column::Slug.eq(&c.slug)).one(txn).await?;
        if let Some(row) = row
            && row.report_token.as_deref().is_some_and(|t| crate::agents::carries_token(msg, t))
        {
            return Ok(Some(row));
        }
    }
    Ok(None)
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

/// Who hears of it, as `[agents] notify` says for a new case: each active agent, the team
/// address, or nobody.
async fn recipients(txn: &Tx, cfg: &Config) -> Result<Vec<(Option<String>, EmailAddress)>, DbErr> {
    let agents = crate::agents::Directory::load(txn).await?;
    Ok(crate::agents::listeners(&cfg.agent_desk.notify, &agents).iter().filter_map(|l| l.to()).collect())
}

/// What the CRM answered, from the Message-IDs it names (`supportd.report.…`).
fn replied_to(msg: &ParsedMessage) -> &'static str {
    let named = msg.in_reply_to.iter().chain(&msg.references);
    let kind = |id: &String| match id.strip_prefix("supportd.")?.split('.').next()? {
        "report" => Some("support report"),
        "budget" => Some("budget email"),
        _ => None,
    };
    named.filter_map(kind).next().unwrap_or("email")
}
