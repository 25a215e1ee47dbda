//! Mail from the customer's side that joins an existing case.

use crate::agents::{Ctx, Event, Notice, queue_notifications};
use crate::cases::{self, Actor, CcRule};
use crate::outbound::loop_guard::Automated;
use crate::storage::Tx;
use crate::storage::entities::case;
use crate::storage::entities::held_mail::Kind as HeldKind;

use super::{Email, IntakeError, Outcome};

/// A message that joins an existing case, and what it is.
pub(super) struct OnCase<'a> {
    pub case: &'a case::Model,
    /// Whom of its Cc's the case takes in (`copied::rule`; none from a stranger's server
    /// reporting on our own mail, or a message an agent added).
    pub cc: CcRule,
    /// Why it is automated mail (an out-of-office, a bounce), which changes nothing.
    pub automated: Option<&'a Automated>,
}

/// A customer-side message on its case: stored, the case moved on, the agents told (the
/// case's company and notes, not the sender's).
pub(super) async fn follow_up(txn: &Tx, ctx: &Ctx<'_>, e: &Email<'_>, on: OnCase<'_>) -> Result<Outcome, IntakeError> {
    let (cfg, now, case, msg) = (ctx.config, ctx.now, on.case, e.msg);
    let actor = Actor::Customer(msg.from.address.clone());
    let reason = on.automated.map(|a| a.reason.clone());
    cases::append_message(txn, cfg, case, &actor, reason.as_deref(), e.arrival.received_at, now).await?;
    let left_out = cases::store_message(txn, case.id, msg, e.arrival, reason, &on.cc).await?;
    super::copied::note_left_out(txn, ctx, case, &msg.from.address, left_out).await?;
    // Automated mail changes nothing and tells no one, except that mail we sent bounced.
    let (event, undelivered) = match on.automated {
        None => (Event::FollowUp, None),
        Some(a) if a.kind == HeldKind::Bounce => {
            let what = msg.delivery_status.as_deref().unwrap_or("see the bounce below");
            (Event::Undelivered, Some(what))
        }
        Some(_) => return Ok(Outcome::Appended { case: case.number }),
    };
    let notice = Notice { event, case, msg, mailbox: e.mailbox, ack_problem: None, undelivered };
    queue_notifications(txn, ctx, notice).await?;
    Ok(Outcome::Appended { case: case.number })
}

/// The company's CRM writing on a case (a reply to an alert or a report): an internal note
/// for the assigned agent (all agents when unassigned). No new case, no acknowledgement.
pub(super) async fn crm_note(
    txn: &Tx,
    ctx: &Ctx<'_>,
    e: &Email<'_>,
    case: &case::Model,
) -> Result<Outcome, IntakeError> {
    let msg = e.msg;
    cases::store_crm_note(txn, case.id, msg, e.arrival);
    let actor = Actor::Customer(msg.from.address.clone());
    cases::record_event(txn, case.id, ctx.now, &actor, "crm_note", (None, None), None);
    crate::teams::crm_answer(txn, ctx, case, msg).await?;
    let notice = Notice { event: Event::CrmNote, case, msg, mailbox: e.mailbox, ack_problem: None, undelivered: None };
    queue_notifications(txn, ctx, notice).await?;
    Ok(Outcome::Appended { case: case.number })
}
