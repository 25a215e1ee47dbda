//! The polite reply to someone who may not open a case (`[intake] who_may_open`): their
//! message is held, and they hear once a day at most who may open cases and whom to ask
//! (their company's CRM). Never to automated mail, which is held before it gets here.

use chrono::{DateTime, Duration, Utc};

use super::compose::{Composed, new_message_id};
use super::{MailError, outbox, strangers};
use crate::config::{CompanyConfig, Config, MailboxConfig, WhoMayOpen};
use crate::mail::ParsedMessage;
use crate::storage::Tx;
use crate::templates::{Audience, NotMemberContext, Rendered, Templates};

pub struct NotMemberInput<'a> {
    pub msg: &'a ParsedMessage,
    pub mailbox: &'a MailboxConfig,
    /// The company the sender's domain belongs to, if any: its CRM is whom to ask.
    pub company: Option<&'a CompanyConfig>,
}

/// One reply per sender per day: a second message the same day is held without one.
const ONCE_PER: Duration = Duration::hours(24);

/// Why no reply went.
#[derive(Debug)]
pub struct NoReply {
    pub reason: String,
    /// By the caps on mail to strangers (`strangers`): the held message should say so.
    pub held_back: bool,
}

/// Queues the reply; `Some` when none is sent.
pub async fn queue_not_member(
    txn: &Tx,
    config: &Config,
    templates: &Templates,
    input: NotMemberInput<'_>,
    now: DateTime<Utc>,
) -> Result<Option<NoReply>, MailError> {
    let to = &input.msg.from.address;
    let not = |reason| Ok(Some(NoReply { reason, held_back: false }));
    if let Err(why) = super::sendable(to) {
        return not(why);
    }
    if outbox::mailed_since(txn, "not_member", to.as_str(), now - ONCE_PER).await? {
        return not(format!("{to} had a reply (or one held back) about who may open cases within the last day"));
    }
    let policy = input.mailbox.who_may_open.unwrap_or(config.intake.who_may_open);
    // Whoever wrote may have put anything in the subject and the display name (an advert, a
    // forged victim's address): the reply quotes a short clean subject and never the name.
    let ctx = NotMemberContext {
        contact_name: to.to_string(),
        subject: crate::domain::text::quoted_subject(&input.msg.subject),
        who_may_open: match policy {
            WhoMayOpen::Members => "key members of our customers' teams".into(),
            _ => "our customers' teams".into(),
        },
        company: input.company.map(|c| c.name.clone()).unwrap_or_default(),
        crm_name: input.company.and_then(|c| c.crm_name.clone()).unwrap_or_default(),
        crm_email: input.company.and_then(|c| c.crm_email.as_ref()).map(|e| e.to_string()).unwrap_or_default(),
        support_address: input.mailbox.address.to_string(),
    };
    let who = Audience { company_slug: input.company.map(|c| c.slug.as_str()), mailbox: Some(&input.mailbox.name) };
    let message_id = new_message_id("not-member", None, input.mailbox.address.domain());
    let stranger = match strangers::admit(txn, config, to, now).await? {
        Ok(stranger) => stranger,
        Err(why) => {
            // Only the subject: what is never sent is not rendered.
            let subject = templates.render_subject("not_member", who, &ctx)?;
            let rendered = Rendered { subject, text: String::new(), html: String::new() };
            strangers::hold_back(txn, "not_member", None, &composed(config, &input, &rendered, &message_id), &why, now);
            return Ok(Some(NoReply { reason: why, held_back: true }));
        }
    };
    let rendered = templates.render("not_member", who, &ctx)?;
    strangers::queue(txn, "not_member", None, &composed(config, &input, &rendered, &message_id), stranger, now)?;
    Ok(None)
}

fn composed<'a>(
    config: &'a Config,
    input: &'a NotMemberInput<'_>,
    rendered: &'a Rendered,
    message_id: &'a str,
) -> Composed<'a> {
    let parent = input.msg.message_id.as_deref();
    let mut references = input.msg.references.clone();
    references.extend(parent.map(str::to_owned));
    Composed {
        from: (config.outbound.from_name.as_deref(), &input.mailbox.address),
        reply_to: &input.mailbox.address,
        also_reply_to: None,
        to: vec![(None, &input.msg.from.address)],
        cc: Vec::new(),
        message_id,
        in_reply_to: parent,
        references,
        auto_submitted: Some("auto-replied"),
        rendered,
        attachments: &[],
        inline_images: &[],
    }
}
