//! Opening a case, whatever the channel: the next number and its due times, a `[[route]]`'s
//! assignee, the acknowledgement (or why there is none, on the case), the first message, and
//! the agents told.

use crate::agents::{Ctx, Event, Notice, queue_notifications_but};
use crate::cases::{self, Actor, Arrival, Choice, FieldChange, NewCase};
use crate::config::{CompanyConfig, MailboxConfig};
use crate::mail::ParsedMessage;
use crate::outbound::{AckInput, queue_ack};
use crate::storage::Tx;
use crate::storage::entities::{agent, case};

use super::IntakeError;

/// Whether the customer is acknowledged by email.
pub(super) enum Ack {
    /// Yes, unless refused (the hourly limit, an address mail cannot go to, the caps on mail
    /// to strangers): `recent` is how many acknowledgements went to them in the last hour;
    /// `stranger`, whether they are no one we know (`outbound::strangers`).
    Send { recent: u64, stranger: bool },
    /// Never: automated mail, for this reason (kept on the message).
    Never(String),
    /// Not asked for (a phone call).
    NotAsked,
}

/// A request that opens a case, and what it came with.
pub(super) struct Request<'a> {
    pub new: NewCase<'a>,
    pub msg: &'a ParsedMessage,
    pub arrival: Arrival<'a>,
    pub mailbox: &'a MailboxConfig,
    /// The case's company, for the acknowledgement's zone and wording.
    pub company: Option<&'a CompanyConfig>,
    pub choice: &'a Choice,
    pub ack: Ack,
    /// False for mail from our own addresses (a notification come back): it must not notify again.
    pub notify: bool,
    /// The agent who opened it by hand (`cases open --as`): it is hers, and she is not told of it.
    pub taken_by: Option<&'a agent::Model>,
    /// Whom of the message's Cc's the case takes in (`copied::rule`).
    pub cc: cases::CcRule,
}

/// The case opened, and whether the customer is acknowledged.
pub(super) async fn open(txn: &Tx, ctx: &Ctx<'_>, r: Request<'_>) -> Result<(case::Model, bool), IntakeError> {
    let (cfg, now) = (ctx.config, ctx.now);
    let actor = r.new.actor.clone();
    let case = cases::open_case(txn, cfg, r.new, now).await?;
    let case = match r.taken_by {
        Some(agent) => cases::set_field(txn, &case, FieldChange::Assignee(agent), &actor, now).await?,
        // A `[[route]]` may give the case to an agent as it opens.
        None => cases::assign_by_route(txn, cfg, ctx.agents, &case, r.company, now).await?,
    };
    let asked = matches!(r.ack, Ack::Send { .. });
    let (refused, no_ack) = match r.ack {
        Ack::Send { recent, stranger } => {
            let (msg, mailbox, company, choice) = (r.msg, r.mailbox, r.company, r.choice);
            let input = AckInput { case: &case, msg, mailbox, company, choice, stranger };
            let refused = queue_ack(txn, cfg, ctx.templates, input, recent, now).await?;
            if let Some(why) = &refused {
                cases::record_event(txn, case.id, now, &Actor::System, "ack_skipped", (None, None), Some(why.clone()));
            }
            (refused.clone(), refused)
        }
        Ack::Never(why) => (None, Some(why)),
        Ack::NotAsked => (None, None),
    };
    let acknowledged = asked && no_ack.is_none();
    if r.notify {
        let notice = Notice {
            event: Event::NewCase,
            case: &case,
            msg: r.msg,
            mailbox: r.mailbox,
            ack_problem: refused.as_deref(),
            undelivered: None,
        };
        queue_notifications_but(txn, ctx, notice, r.taken_by).await?;
    }
    let left_out = cases::store_message(txn, case.id, r.msg, r.arrival, no_ack, &r.cc).await?;
    super::copied::note_left_out(txn, ctx, &case, &r.msg.from.address, left_out).await?;
    Ok((case, acknowledged))
}
