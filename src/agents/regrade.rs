//! The customer is told when an agent re-grades her case (`#severity`, `#type`, or `cases
//! update`), as the acknowledgement promises: one line carried by the agent's relayed reply,
//! or, when nothing else goes to her, a short notice of its own in the case's thread. Routes
//! never re-grade: they only assign a case as it opens, before its acknowledgement.

use sea_orm::{ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::Ctx;
use crate::config::{CompanyConfig, Config};
use crate::domain::EmailAddress;
use crate::outbound::{Composed, MailError, format_due, new_message_id, queue_mail};
use crate::storage::Tx;
use crate::storage::entities::{case, case_event, message};
use crate::templates::{Audience, RegradeContext};

/// A case whose severity or type an agent changed: as it was, and as it is now.
pub struct Regrade<'a> {
    pub was: &'a case::Model,
    pub now: &'a case::Model,
}

impl<'a> Regrade<'a> {
    /// `None` when neither the severity nor the type changed (a `#client-config` alone, or
    /// `#severity` to what it already was).
    pub fn of(was: &'a case::Model, now: &'a case::Model) -> Option<Regrade<'a>> {
        (was.severity != now.severity || was.case_type != now.case_type).then_some(Regrade { was, now })
    }

    /// What it is now, naming only what changed: "severity S1 (Critical – …) and type Bug".
    fn what(&self) -> String {
        self.changed(self.now)
    }

    /// What it was, in the same words: "severity S3 (Medium – …)".
    fn was(&self) -> String {
        self.changed(self.was)
    }

    /// The severity and type of `side` (the case before or after), those that changed.
    fn changed(&self, side: &case::Model) -> String {
        let severity = format!("severity {} ({})", side.severity, side.severity.meaning());
        let kind = format!("type {}", side.case_type);
        match (self.was.severity != self.now.severity, self.was.case_type != self.now.case_type) {
            (true, true) => format!("{severity} and {kind}"),
            (true, false) => severity,
            _ => kind,
        }
    }

    /// The new due times in the customer company's zone: (response, resolution), each "" when
    /// none is left (answered already; no resolution target for this severity or type).
    fn due(&self, config: &Config, company: Option<&CompanyConfig>) -> (String, String) {
        let tz = company.and_then(|c| c.time_zone).unwrap_or(config.calendar.time_zone);
        let c = self.now;
        let respond = c.first_response_due.filter(|_| c.first_response_at.is_none()).map(|d| format_due(d, tz));
        (respond.unwrap_or_default(), c.resolution_due.map(|d| format_due(d, tz)).unwrap_or_default())
    }

    /// The line the customer reads, in the relay or the notice: "We have re-graded this case
    /// to severity S1 (Critical – …); we will respond by Monday 7 December 2026, 10:00 EST."
    pub fn line(&self, config: &Config, company: Option<&CompanyConfig>) -> String {
        let (respond, resolve) = self.due(config, company);
        format!("We have re-graded this case to {}; {}.", self.what(), promise(&respond, &resolve))
    }
}

/// What the new due times promise; each is "" when none is left.
fn promise(respond: &str, resolve: &str) -> String {
    match (respond.is_empty(), resolve.is_empty()) {
        (false, false) => format!("we will respond by {respond} and aim to resolve it by {resolve}"),
        (false, true) => format!("we will respond by {respond}; no resolution time applies to it"),
        (true, false) => format!("we aim to resolve it by {resolve}"),
        (true, true) => "no resolution time applies to it".to_owned(),
    }
}

/// Queues the notice to the case's customer side (To her, her colleagues on the case in Cc),
/// threaded as a relay is; `false` when none goes: the case has no contact mail can reach, or
/// it was opened by automated mail (which was never acknowledged either).
pub async fn queue_regrade(
    txn: &Tx,
    ctx: &Ctx<'_>,
    regrade: &Regrade<'_>,
    support: &EmailAddress,
) -> Result<bool, MailError> {
    let (config, c) = (ctx.config, regrade.now);
    if opened_by_automated_mail(txn, c.id).await? {
        return Ok(false);
    }
    let company = ctx.companies.of(config, c);
    let own: Vec<EmailAddress> =
        config.mailboxes.iter().map(|m| m.address.clone()).chain([config.outbound.from.clone()]).collect();
    let Some(readers) = crate::cases::readers(txn, c, company, &own).await? else { return Ok(false) };
    if let Err(why) = crate::outbound::sendable(&readers.to.address) {
        tracing::warn!(case = %c.number, "{why}; the re-grade notice is not sent");
        return Ok(false);
    }
    let (response_due, resolution_due) = regrade.due(config, company);
    let context = RegradeContext {
        case_number: c.number.to_string(),
        case_tag: config.intake.case_tag.render(c.number),
        subject: c.summary.clone(),
        severity: c.severity.to_string(),
        severity_meaning: c.severity.meaning().to_owned(),
        case_type: c.case_type.to_string(),
        was: regrade.was(),
        regraded: regrade.line(config, company),
        response_due,
        resolution_due,
        contact_name: readers.to.name.clone().unwrap_or_else(|| readers.to.address.to_string()),
        support_address: support.to_string(),
    };
    let who = Audience { company_slug: company.map(|co| co.slug.as_str()), mailbox: Some(&c.mailbox) };
    let rendered = ctx.templates.render("regrade", who, &context)?;
    let message_id = new_message_id("regrade", Some(c.number), support.domain());
    let mail = Composed {
        to: vec![(readers.to.name.as_deref(), &readers.to.address)],
        cc: readers.cc.iter().map(|r| (r.name.as_deref(), &r.address)).collect(),
        in_reply_to: readers.in_reply_to.as_deref(),
        references: readers.references.clone(),
        ..Composed::notice((config.outbound.from_name.as_deref(), support), support, Vec::new(), &message_id, &rendered)
    };
    queue_mail(txn, "regrade", Some(c.id), &mail, ctx.now).await?;
    Ok(true)
}

/// Whether the case's first message was automated mail (an auto-reply released from held
/// mail): it kept a reason for getting no acknowledgement, and no acknowledgement was refused
/// (an `ack_skipped` event marks a person's mail over the hourly limit or to a bad address).
async fn opened_by_automated_mail(txn: &Tx, case_id: i64) -> Result<bool, DbErr> {
    let first: Option<Option<String>> = message::Entity::find()
        .select_only()
        .column(message::Column::NoAckReason)
        .filter(message::Column::CaseId.eq(case_id))
        .filter(message::Column::Direction.eq("in"))
        .order_by_asc(message::Column::ReceivedAt)
        .order_by_asc(message::Column::Id)
        .into_tuple()
        .one(txn)
        .await?;
    if !matches!(first, Some(Some(_))) {
        return Ok(false);
    }
    let refused = case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(case_id))
        .filter(case_event::Column::Kind.eq("ack_skipped"))
        .count(txn)
        .await?;
    Ok(refused == 0)
}

#[cfg(test)]
mod tests {
    use super::promise;

    #[test]
    fn the_promise_names_only_the_targets_still_ahead() {
        assert_eq!(
            promise("Mon 10:00", "Tue 10:00"),
            "we will respond by Mon 10:00 and aim to resolve it by Tue 10:00"
        );
        assert_eq!(promise("Mon 10:00", ""), "we will respond by Mon 10:00; no resolution time applies to it");
        // Answered already: the response target is behind her.
        assert_eq!(promise("", "Tue 10:00"), "we aim to resolve it by Tue 10:00");
        assert_eq!(promise("", ""), "no resolution time applies to it");
    }
}
