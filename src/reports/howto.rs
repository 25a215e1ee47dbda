//! The one reply a company's CRM or CSM gets when their `#report` cannot be verified (written
//! to the support address, not to their personal one): how to ask so that it can be. At most
//! one a day per address, kept in the reports ledger (`reports_sent`, kind `howto`), whose
//! unique key holds across restarts and between two processes. Anyone else's `#report` is
//! held silently: an answer would be backscatter to whoever a forger names.
//!
//! It goes only to the address configured for the company, so only the real CRM reads it:
//! that is why it may carry their personal (token) address as its Reply-To, and the easiest
//! way to ask is to reply to it.

use chrono::{DateTime, Utc};

use super::{ReportError, record_sent};
use crate::config::{Config, Verify};
use crate::domain::EmailAddress;
use crate::mail::ParsedMessage;
use crate::outbound::{Composed, MailError, new_message_id, sendable, strangers};
use crate::storage::Tx;
use crate::storage::entities::company;
use crate::templates::{Audience, Rendered, ReportHowtoContext, Templates};

/// What came of a how-to.
#[derive(Debug, PartialEq, Eq)]
pub enum Howto {
    Queued,
    /// None goes: one went to this address today, or it cannot be mailed.
    NotNeeded,
    /// Over the caps on mail to people not yet parties of a case (`outbound::strangers`):
    /// why, for the held request. It counts as the day's how-to, so a flood holds back one.
    HeldBack(String),
}

/// Queues the how-to in the transaction that holds the request.
pub async fn queue_howto(
    txn: &Tx,
    (config, templates): (&Config, &Templates),
    msg: &ParsedMessage,
    support: &EmailAddress,
    c: &company::Model,
    example: String,
    now: DateTime<Utc>,
) -> Result<Howto, ReportError> {
    // Her address and name as configured: the how-to goes there and nowhere else, and never
    // greets by the display name of a mail anyone could have forged.
    let Some((to, name)) = config
        .company(&c.slug)
        .and_then(|co| super::request::reporter_as(co, &msg.from.address, config.intake.local_part_case))
    else {
        return Ok(Howto::NotNeeded);
    };
    if sendable(to).is_err() {
        return Ok(Howto::NotNeeded);
    }
    // A day of the support calendar: the key is a date, so two processes agree on it.
    let day = now.with_timezone(&config.calendar.time_zone).date_naive();
    let key = format!("{} {day}", to.as_str().to_lowercase());
    if !record_sent(txn, c.id, "howto", &key, now).await? {
        return Ok(Howto::NotNeeded);
    }
    let reply_to = super::report_reply_to(config, c);
    // The subject quoted short and clean, as in every reply to a sender not yet verified.
    let ctx = ReportHowtoContext {
        contact_name: name.map_or_else(|| to.to_string(), str::to_owned),
        subject: crate::domain::text::quoted_subject(&msg.subject),
        company: c.name.clone(),
        example,
        support_address: support.to_string(),
        by_reply: reply_to.is_some(),
        signed: matches!(config.agent_desk.verify, Verify::AuthResults | Verify::All),
    };
    let who = Audience { company_slug: Some(&c.slug), mailbox: None };
    let admitted = strangers::admit(txn, config, to, now).await?;
    let rendered = match &admitted {
        Ok(_) => templates.render("report_howto", who, &ctx),
        // Only the subject: what is never sent is not rendered.
        Err(_) => templates.render_subject("report_howto", who, &ctx).map(|subject| Rendered {
            subject,
            text: String::new(),
            html: String::new(),
        }),
    }
    .map_err(MailError::from)?;
    let message_id = new_message_id("report-howto", None, support.domain());
    let parent = msg.message_id.as_deref();
    let mut references = msg.references.clone();
    references.extend(parent.map(str::to_owned));
    let mail = Composed {
        in_reply_to: parent,
        references,
        auto_submitted: Some("auto-replied"),
        ..Composed::notice(
            (config.outbound.from_name.as_deref(), support),
            reply_to.as_ref().unwrap_or(support),
            vec![(name, to)],
            &message_id,
            &rendered,
        )
    };
    match admitted {
        Ok(stranger) => {
            strangers::queue(txn, "report_howto", None, &mail, stranger, now)?;
            Ok(Howto::Queued)
        }
        Err(why) => {
            strangers::hold_back(txn, "report_howto", None, &mail, &why, now);
            Ok(Howto::HeldBack(why))
        }
    }
}
