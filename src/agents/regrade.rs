//! The customer is told when an agent re-grades her case (`#severity`, `#type`, or `cases
//! update`), as the acknowledgement promises: one line carried by the agent's relayed reply,
//! or, when nothing else goes to her, a short notice of its own in the case's thread. Routes
//! never re-grade: they only assign a case as it opens, before its acknowledgement.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::Ctx;
use crate::config::{CompanyConfig, Config};
use crate::domain::{EmailAddress, Status};
use crate::outbound::{Composed, MailError, format_due, new_message_id, queue_mail};
use crate::sla::CaseClocks;
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

    /// The due times the customer is still owed, in her company's zone: (response,
    /// resolution), each "" when nothing is promised (see `owed`), "(overdue)" after one that
    /// has passed.
    fn due(
        &self,
        config: &Config,
        company: Option<&CompanyConfig>,
        carrier: Carrier,
        at: DateTime<Utc>,
    ) -> (String, String) {
        let tz = config.zone_of(company);
        let shown = |d: &Due<DateTime<Utc>>| match d {
            Due::By(t) => format_due(*t, tz),
            Due::Overdue(t) => format!("{} (overdue)", format_due(*t, tz)),
        };
        let owed = owed(&CaseClocks::from(self.now), carrier, at);
        let resolve = match &owed.resolve {
            Resolve::Due(due) => shown(due),
            Resolve::NoneApplies | Resolve::Reached => String::new(),
        };
        (owed.respond.as_ref().map(shown).unwrap_or_default(), resolve)
    }

    /// The line the customer reads, in the relay or the notice: "We have re-graded this case
    /// to severity S1 (Critical – …); we will respond by Monday 7 December 2026, 10:00 EST."
    pub fn line(
        &self,
        config: &Config,
        company: Option<&CompanyConfig>,
        carrier: Carrier,
        at: DateTime<Utc>,
    ) -> String {
        let tz = config.zone_of(company);
        let owed = owed(&CaseClocks::from(self.now), carrier, at).map(|d| format_due(d, tz));
        match promise(&owed) {
            Some(promise) => format!("We have re-graded this case to {}; {promise}.", self.what()),
            None => format!("We have re-graded this case to {}.", self.what()),
        }
    }
}

/// Where the customer reads of the re-grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// In the agent's relayed reply: the reply is itself a response (it is recorded as one
    /// once queued), so it promises none.
    Relay,
    /// In a notice of its own: nothing of the agent's reached her.
    Notice,
}

/// What the customer is still owed after the re-grade: a target already reached promises
/// nothing, and a resolved or closed case promises neither (its targets are settled). A higher
/// severity counts from the case's start, so a due time may already have passed: the customer
/// is told so, never promised a time in the past.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owed<T> {
    /// The response due, while none was given.
    respond: Option<Due<T>>,
    resolve: Resolve<T>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Due<T> {
    By(T),
    /// The due time has passed.
    Overdue(T),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Resolve<T> {
    Due(Due<T>),
    /// No resolution target for this severity or type (S4, Bug, Request, client-side).
    NoneApplies,
    /// The case is resolved or closed.
    Reached,
}

impl<T> Due<T> {
    fn map<U>(self, f: impl Fn(T) -> U) -> Due<U> {
        match self {
            Due::By(t) => Due::By(f(t)),
            Due::Overdue(t) => Due::Overdue(f(t)),
        }
    }
}

impl<T> Owed<T> {
    fn map<U>(self, f: impl Fn(T) -> U) -> Owed<U> {
        let resolve = match self.resolve {
            Resolve::Due(d) => Resolve::Due(d.map(&f)),
            Resolve::NoneApplies => Resolve::NoneApplies,
            Resolve::Reached => Resolve::Reached,
        };
        Owed { respond: self.respond.map(|d| d.map(&f)), resolve }
    }
}

fn owed(c: &CaseClocks, carrier: Carrier, at: DateTime<Utc>) -> Owed<DateTime<Utc>> {
    if matches!(c.status, Status::Resolved | Status::Closed) {
        return Owed { respond: None, resolve: Resolve::Reached };
    }
    let due = |t: DateTime<Utc>| if t <= at { Due::Overdue(t) } else { Due::By(t) };
    let answered = c.first_response_at.is_some() || carrier == Carrier::Relay;
    let resolve = c.resolution_due.map_or(Resolve::NoneApplies, |t| Resolve::Due(due(t)));
    Owed { respond: c.first_response_due.filter(|_| !answered).map(due), resolve }
}

/// What the due times still owed promise; `None` when nothing is.
fn promise(owed: &Owed<String>) -> Option<String> {
    let respond = owed.respond.as_ref().map(|d| match d {
        Due::By(r) => format!("we will respond by {r}"),
        Due::Overdue(r) => format!("a response was due by {r}: we will answer as soon as we can"),
    });
    let then = respond.is_some();
    let resolve = match &owed.resolve {
        Resolve::Due(Due::By(by)) if then => format!(" and aim to resolve it by {by}"),
        Resolve::Due(Due::By(by)) => format!("we aim to resolve it by {by}"),
        Resolve::Due(Due::Overdue(by)) if then => {
            format!("; its resolution was due by {by}, and we are working to resolve it as soon as we can")
        }
        Resolve::Due(Due::Overdue(by)) => {
            format!("its resolution was due by {by}: we are working to resolve it as soon as we can")
        }
        Resolve::NoneApplies if then => "; no resolution time applies to it".to_owned(),
        Resolve::NoneApplies => "no resolution time applies to it".to_owned(),
        Resolve::Reached if then => String::new(),
        Resolve::Reached => return None,
    };
    Some(format!("{}{resolve}", respond.unwrap_or_default()))
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
    let (response_due, resolution_due) = regrade.due(config, company, Carrier::Notice, ctx.now);
    let context = RegradeContext {
        case_number: c.number.to_string(),
        case_tag: config.intake.case_tag.render(c.number),
        subject: c.summary.clone(),
        severity: c.severity.to_string(),
        severity_meaning: c.severity.meaning().to_owned(),
        case_type: c.case_type.to_string(),
        was: regrade.was(),
        regraded: regrade.line(config, company, Carrier::Notice, ctx.now),
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
    use chrono::TimeZone;

    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, h, 0, 0).unwrap()
    }

    /// An S1 case opened at 09:00, unanswered: respond by 10:00, resolve by 17:00.
    fn case(status: Status) -> CaseClocks {
        CaseClocks {
            status,
            first_response_due: Some(at(10)),
            first_response_at: None,
            resolution_due: Some(at(17)),
            paused_since: None,
            resolved_at: None,
            closed_at: None,
        }
    }

    /// The line's promise for `c` told by `carrier`, due times shown as their hour.
    fn told(c: &CaseClocks, carrier: Carrier) -> Option<String> {
        told_at(c, carrier, at(9))
    }

    fn told_at(c: &CaseClocks, carrier: Carrier, now: DateTime<Utc>) -> Option<String> {
        promise(&owed(c, carrier, now).map(|d| d.format("%H:%M").to_string()))
    }

    /// Re-graded after its new due times (a higher severity counts from the case's start):
    /// the customer is told they have passed, never promised a time in the past.
    #[test]
    fn a_due_time_already_passed_is_said_to_be_overdue() {
        let c = case(Status::Open);
        assert_eq!(
            told_at(&c, Carrier::Notice, at(11)).as_deref(),
            Some("a response was due by 10:00: we will answer as soon as we can and aim to resolve it by 17:00")
        );
        assert_eq!(
            told_at(&c, Carrier::Relay, at(18)).as_deref(),
            Some("its resolution was due by 17:00: we are working to resolve it as soon as we can")
        );
        assert_eq!(
            told_at(&c, Carrier::Notice, at(18)).as_deref(),
            Some(
                "a response was due by 10:00: we will answer as soon as we can; its resolution was due by 17:00, \
                 and we are working to resolve it as soon as we can"
            )
        );
    }

    #[test]
    fn a_notice_on_an_unanswered_open_case_promises_both_targets() {
        let both = told(&case(Status::Open), Carrier::Notice);
        assert_eq!(both.as_deref(), Some("we will respond by 10:00 and aim to resolve it by 17:00"));
        let mut bug = case(Status::New);
        bug.resolution_due = None;
        let respond = told(&bug, Carrier::Notice);
        assert_eq!(respond.as_deref(), Some("we will respond by 10:00; no resolution time applies to it"));
    }

    #[test]
    fn a_relayed_reply_is_itself_the_response_and_promises_none() {
        assert_eq!(told(&case(Status::New), Carrier::Relay).as_deref(), Some("we aim to resolve it by 17:00"));
        let mut bug = case(Status::New);
        bug.resolution_due = None;
        assert_eq!(told(&bug, Carrier::Relay).as_deref(), Some("no resolution time applies to it"));
    }

    #[test]
    fn a_notice_after_the_first_response_promises_only_the_resolution() {
        let mut answered = case(Status::Open);
        answered.first_response_at = Some(at(9));
        assert_eq!(told(&answered, Carrier::Notice).as_deref(), Some("we aim to resolve it by 17:00"));
        answered.status = Status::Pending;
        assert_eq!(told(&answered, Carrier::Notice).as_deref(), Some("we aim to resolve it by 17:00"));
    }

    #[test]
    fn a_resolved_or_closed_case_promises_nothing_answered_or_not() {
        for status in [Status::Resolved, Status::Closed] {
            for carrier in [Carrier::Notice, Carrier::Relay] {
                let mut c = case(status);
                assert_eq!(told(&c, carrier), None, "{status} by {carrier:?}, unanswered");
                c.first_response_at = Some(at(9));
                assert_eq!(told(&c, carrier), None, "{status} by {carrier:?}, answered");
            }
        }
    }
}
