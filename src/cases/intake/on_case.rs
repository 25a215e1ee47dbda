//! Mail from the customer's side that joins an existing case.

use crate::agents::{Ctx, Event, Notice, queue_notifications};
use crate::cases::{self, Actor, Standing};
use crate::domain::EmailAddress;
use crate::mail::ParsedMessage;
use crate::outbound::loop_guard::Automated;
use crate::storage::Tx;
use crate::storage::entities::case;
use crate::storage::entities::held_mail::Kind as HeldKind;

use super::{Email, IntakeError, Outcome};

/// A message that joins an existing case, and what it is.
pub(super) struct OnCase<'a> {
    pub case: &'a case::Model,
    /// The sender's standing on the case (a stranger's server reporting on our own mail).
    pub standing: Standing,
    /// An agent added it to the case (`held release --to-case`): it brings its sender at
    /// most, never its Cc's.
    pub added: bool,
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
    let brings_cc = on.standing.brings_cc() && !on.added;
    cases::store_message(txn, case.id, msg, e.arrival, reason, brings_cc).await?;
    if on.standing == Standing::Colleague && !on.added {
        cc_left_out(txn, ctx, case, msg).await?;
    }
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

/// Notes on the case whom a colleague by domain copied and the case did not take in, so that
/// an agent can see why they get no replies and ask the contact to bring them in.
async fn cc_left_out(txn: &Tx, ctx: &Ctx<'_>, case: &case::Model, msg: &ParsedMessage) -> Result<(), IntakeError> {
    let own = ctx.config.own_addresses();
    let parties = cases::party_addresses(txn, case).await?;
    let rule = ctx.config.intake.local_part_case;
    let known = |a: &EmailAddress| own.iter().chain(&parties).any(|p| rule.same(p, a));
    let left_out: Vec<String> = msg.cc.iter().filter(|p| !known(&p.address)).map(|p| p.address.to_string()).collect();
    if left_out.is_empty() {
        return Ok(());
    }
    let shown = left_out.iter().take(CC_SHOWN).cloned().collect::<Vec<_>>().join(", ");
    let more = match left_out.len().saturating_sub(CC_SHOWN) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let detail = format!(
        "not added to the case, so replies do not go to them: {shown}{more}. {} is of the company only by its \
         domain, which anyone can write in a From; the case's contact or a key member brings people in by \
         copying them",
        msg.from.address
    );
    cases::record_event(txn, case.id, ctx.now, &Actor::System, "cc_not_added", (None, None), Some(detail));
    Ok(())
}

/// How many left-out addresses the note names.
const CC_SHOWN: usize = 10;

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
