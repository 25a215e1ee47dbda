//! The brake on mail to the desk's own people: at most `[agents] mail_limit_per_hour`
//! notifications and "your reply was not applied" emails go to one address (an agent's, or
//! the team's) in any hour, as acknowledgements are limited per customer. A flood of mail
//! (a loop, a mail bomb, a script gone wrong) must not become a flood in the agents' inboxes.
//!
//! The mail that reaches the limit says so; what comes after it is composed and kept in the
//! outbox as `limited` (never sent, visible in `supportd outbox list`, an event on its case),
//! and the next email that does go to that address lists it.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use sea_orm::DbErr;

use crate::cases::{Actor, record_event};
use crate::config::Config;
use crate::domain::EmailAddress;
use crate::outbound::{Composed, MailError, outbox, queue_limited_mail, queue_mail};
use crate::storage::Tx;
use crate::templates::LimitNotes;

/// The kinds of mail the limit counts: alerts are bounded by their ledger, and must get
/// through whatever else is happening.
const LIMITED_KINDS: &[&str] = &["notify", "agent_error"];

/// Held-back mail listed by subject in the next email; the rest are counted.
const LISTED: u64 = 20;

/// Whether one more email may go to an address now.
#[derive(Debug)]
pub enum Allowance {
    /// Send it, saying what the mail must say about the limit.
    Send(LimitNotes),
    /// Keep it unsent, for this reason.
    Hold(String),
}

impl Allowance {
    /// What the email says about the limit (nothing, when it is held back).
    pub fn notes(&self) -> LimitNotes {
        match self {
            Allowance::Send(notes) => notes.clone(),
            Allowance::Hold(_) => LimitNotes::default(),
        }
    }
}

/// Queues `mail` (to one agent) as `allowance` says: for sending, or kept unsent in the
/// outbox with the reason, which its case and the log record too. `true` when queued.
pub async fn queue(
    txn: &Tx,
    kind: &'static str,
    case_id: Option<i64>,
    mail: &Composed<'_>,
    allowance: &Allowance,
    now: DateTime<Utc>,
) -> Result<bool, MailError> {
    let Allowance::Hold(reason) = allowance else {
        queue_mail(txn, kind, case_id, mail, now).await?;
        return Ok(true);
    };
    queue_limited_mail(txn, kind, case_id, mail, reason, now).await?;
    let to = mail.to.iter().map(|(_, a)| a.as_str()).collect::<Vec<_>>().join(", ");
    // A line per held email at info: the warning went out when the limit was reached.
    tracing::info!(kind, case_id, to, "{reason}: kept in the outbox, not sent");
    if let Some(case_id) = case_id {
        let detail = format!("{kind} to {to} not sent: {reason}");
        record_event(txn, case_id, now, &Actor::System, "agent_mail_limited", (None, None), Some(detail));
    }
    Ok(false)
}

/// Decides for one email to `to`, counting what this transaction has staged.
pub async fn allowance(txn: &Tx, config: &Config, to: &EmailAddress, now: DateTime<Utc>) -> Result<Allowance, DbErr> {
    let limit = config.agent_desk.mail_limit_per_hour;
    let tz = config.calendar.time_zone;
    let (sent, staged) = outbox::sent_to_since(txn, to.as_str(), LIMITED_KINDS, now - Duration::hours(1)).await?;
    let mut notes = LimitNotes::default();
    match decide(limit, &sent, staged, now) {
        Decision::Hold => {
            return Ok(Allowance::Hold(format!(
                "{to} already had {limit} emails from the desk within the hour (agents.mail_limit_per_hour)"
            )));
        }
        Decision::SendLast { until } => {
            tracing::warn!(to = %to, limit, "mail to an agent reaches agents.mail_limit_per_hour; later mail is held");
            notes.limit_note = format!(
                "You have now had {limit} emails from the desk within an hour, the most agents.mail_limit_per_hour \
                 allows. Until {}, further notifications and refusals are not sent to you: each is kept in the \
                 outbox (status \"limited\") and the next email you get lists them.",
                clock(until, tz)
            );
        }
        Decision::Send => {}
    }
    let last = outbox::last_sent_to(txn, to.as_str(), LIMITED_KINDS).await?;
    let (count, first) = outbox::limited_to_since(txn, to.as_str(), last, LISTED).await?;
    if let Some((_, since)) = first.first() {
        let listed =
            if count > first.len() as u64 { format!("; the first {} were", first.len()) } else { String::new() };
        notes.held_note = format!(
            "{count} emails to you were not sent since {} because of the hourly limit ({limit}); \
             `supportd outbox list` shows them{listed}:",
            clock(*since, tz)
        );
        notes.held = first.into_iter().map(|(subject, at)| format!("{} {subject}", clock(at, tz))).collect();
    }
    Ok(Allowance::Send(notes))
}

#[derive(Debug, PartialEq, Eq)]
enum Decision {
    Send,
    /// The last one within the limit; a place frees up at `until`.
    SendLast {
        until: DateTime<Utc>,
    },
    Hold,
}

/// `sent`: the times of the emails of the last hour that went out, oldest first; `staged`:
/// those this transaction is about to write (created now).
fn decide(limit: u32, sent: &[DateTime<Utc>], staged: u64, now: DateTime<Utc>) -> Decision {
    let count = sent.len() as u64 + staged;
    let limit = u64::from(limit);
    if count >= limit {
        Decision::Hold
    } else if count + 1 == limit {
        Decision::SendLast { until: sent.first().copied().unwrap_or(now) + Duration::hours(1) }
    } else {
        Decision::Send
    }
}

/// "Mon 11:42 GMT": within a day of now, in the support calendar's zone.
fn clock(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%a %H:%M %Z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        "2026-11-23T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(minute)
    }

    #[test]
    fn the_limit_th_email_is_the_last_and_says_when_a_place_frees_up() {
        let now = at(50);
        assert_eq!(decide(3, &[], 0, now), Decision::Send);
        assert_eq!(decide(3, &[at(10)], 0, now), Decision::Send);
        assert_eq!(decide(3, &[at(10), at(20)], 0, now), Decision::SendLast { until: at(70) });
        assert_eq!(decide(3, &[at(10), at(20), at(30)], 0, now), Decision::Hold);
        // What the transaction has staged counts as sent now.
        assert_eq!(decide(3, &[at(10)], 1, now), Decision::SendLast { until: at(70) });
        assert_eq!(decide(3, &[], 3, now), Decision::Hold);
        assert_eq!(decide(1, &[], 0, now), Decision::SendLast { until: at(110) });
    }

    #[test]
    fn a_flood_gets_at_most_the_limit() {
        let limit = 5;
        let (mut sent, mut held) = (Vec::new(), 0);
        for minute in 0..200 {
            match decide(limit, &sent, 0, at(minute / 10)) {
                Decision::Hold => held += 1,
                _ => sent.push(at(minute / 10)),
            }
        }
        assert_eq!((sent.len(), held), (5, 195));
    }
}
