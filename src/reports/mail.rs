//! A company's report as mail: rendered with the `report` template, the files attached, one
//! mail per recipient through the outbox (in the caller's transaction).

use crate::agents::reply_address;
use crate::config::Config;
use crate::domain::EmailAddress;
use crate::outbound::{Composed, MailError, new_message_id, queue_mail};
use crate::storage::Tx;
use crate::storage::entities::company;
use crate::templates::{Audience, Templates};

use super::CompanyReport;

/// Queues `report` to each of `to`; how many mails.
pub async fn queue_report(
    txn: &Tx,
    config: &Config,
    templates: &Templates,
    c: &company::Model,
    report: &CompanyReport,
    to: &[(Option<&str>, &EmailAddress)],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, MailError> {
    let rendered =
        templates.render("report", Audience { company_slug: Some(&c.slug), mailbox: None }, &report.context)?;
    let support = config.mailboxes.first().map_or(&config.outbound.from, |m| &m.address);
    // The CRM's and CSM's copies carry the company's token, so a `#report` they send back
    // by replying is verified as theirs.
    let theirs = config.company(&c.slug).map(|cc| [cc.crm_email.clone(), cc.csm_email.clone()]);
    let is_theirs = |a: &EmailAddress| theirs.iter().flatten().flatten().any(|t| t == a);
    let uses_token = config.agent_desk.verify.uses_token();
    let token_reply = c.report_token.as_deref().filter(|_| uses_token).map(|t| reply_address(support, t));
    for recipient in to {
        let reply_to = match &token_reply {
            Some(token) if is_theirs(recipient.1) => token,
            _ => support,
        };
        let message_id = new_message_id("report", None, support.domain());
        let mail = Composed {
            from: (config.outbound.from_name.as_deref(), support),
            reply_to,
            also_reply_to: None,
            to: vec![*recipient],
            cc: Vec::new(),
            message_id: &message_id,
            in_reply_to: None,
            references: Vec::new(),
            auto_submitted: Some("auto-generated"),
            rendered: &rendered,
            attachments: &report.attachments,
        };
        queue_mail(txn, "report", None, &mail, now).await?;
    }
    Ok(to.len())
}
