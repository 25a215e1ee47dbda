//! The brake on mail to the desk's own people: at most `[agents] mail_limit_per_hour`
//! notifications and "your reply was not applied" emails go to one address (an agent's, or
//! the team's) in any hour, as acknowledgements are limited per customer. A flood of mail
//! (a loop, a mail bomb, a script gone wrong) must not become a flood in the agents' inboxes.
//!
//! The mail that reaches the limit says so; what comes after it is kept in the outbox as
//! `limited` with its recipient and subject, not composed (never sent, visible in `supportd
//! outbox list`, an event on its case; the case holds everything it would have said), and
//! the next email that does go to that address lists it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

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
const LISTED: usize = 20;

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

/// What the limit knows of one address.
#[derive(Debug, Clone, Default)]
struct Tally {
    /// When the mail of the last hour that went out (was not held) was queued, oldest first.
    sent: Vec<DateTime<Utc>>,
    /// Held back since the last one that went out: how many, and the first `LISTED`
    /// (subject, time).
    held: u64,
    first_held: Vec<(String, DateTime<Utc>)>,
}

impl Tally {
    fn record(&mut self, sent: bool, subject: &str, now: DateTime<Utc>) {
        if sent {
            self.sent.push(now);
            self.held = 0;
            self.first_held.clear();
        } else {
            self.held += 1;
            if self.first_held.len() < LISTED {
                self.first_held.push((subject.to_owned(), now));
            }
        }
    }
}

/// The limit's view of the addresses one batch of intake mails: each address is read from
/// the outbox once per batch, then kept up to date with what the batch queues, so a flood
/// costs no query per email. What a message queued counts for the next messages once it is
/// stored (`keep`); a message rolled back leaves nothing (`forget`). Another process mailing
/// the same agent meanwhile is seen from its next batch: on SQLite batches never overlap, on
/// PostgreSQL the limit may be exceeded by what two batches queue at the same moment.
#[derive(Debug, Default)]
pub struct Ledger {
    state: Mutex<LedgerState>,
}

#[derive(Debug, Default)]
struct LedgerState {
    kept: HashMap<String, Tally>,
    /// The tallies the message being stored changed.
    pending: HashMap<String, Tally>,
}

impl Ledger {
    /// The message being stored is stored: what it queued counts from now on.
    pub fn keep(&self) {
        let mut state = self.state();
        let pending = std::mem::take(&mut state.pending);
        state.kept.extend(pending);
    }

    /// The message being stored was rolled back.
    pub fn forget(&self) {
        self.state().pending.clear();
    }

    async fn tally(&self, txn: &Tx, to: &str, now: DateTime<Utc>) -> Result<Tally, DbErr> {
        {
            let state = self.state();
            if let Some(t) = state.pending.get(to).or_else(|| state.kept.get(to)) {
                return Ok(t.clone());
            }
        }
        let tally = load(txn, to, now).await?;
        self.state().kept.insert(to.to_owned(), tally.clone());
        Ok(tally)
    }

    fn record(&self, to: &str, sent: bool, subject: &str, now: DateTime<Utc>) {
        let mut state = self.state();
        let state = &mut *state;
        let tally = match state.pending.get_mut(to) {
            Some(t) => t,
            None => {
                let base = state.kept.get(to).cloned().unwrap_or_default();
                state.pending.entry(to.to_owned()).or_insert(base)
            }
        };
        tally.record(sent, subject, now);
    }

    // Never held across an await, so never poisoned by a cancelled future.
    fn state(&self) -> MutexGuard<'_, LedgerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An address's tally as the outbox holds it, with what this transaction has staged.
async fn load(txn: &Tx, to: &str, now: DateTime<Utc>) -> Result<Tally, DbErr> {
    let (mut sent, staged) = outbox::sent_to_since(txn, to, LIMITED_KINDS, now - Duration::hours(1)).await?;
    sent.extend(std::iter::repeat_n(now, staged as usize));
    let last = outbox::last_sent_to(txn, to, LIMITED_KINDS).await?;
    let (held, first_held) = outbox::limited_to_since(txn, to, last, LISTED as u64).await?;
    Ok(Tally { sent, held, first_held })
}

/// Queues `mail` (to one agent) as `allowance` says: for sending, or kept unsent in the
/// outbox with the reason, which its case and the log record too. `true` when queued.
pub async fn queue(
    txn: &Tx,
    ledger: &Ledger,
    kind: &'static str,
    case_id: Option<i64>,
    mail: &Composed<'_>,
    allowance: &Allowance,
    now: DateTime<Utc>,
) -> Result<bool, MailError> {
    let sent = matches!(allowance, Allowance::Send(_));
    for (_, to) in &mail.to {
        ledger.record(to.as_str(), sent, &mail.rendered.subject, now);
    }
    let Allowance::Hold(reason) = allowance else {
        queue_mail(txn, kind, case_id, mail, now).await?;
        return Ok(true);
    };
    queue_limited_mail(txn, kind, case_id, mail, reason, now);
    let to = mail.to.iter().map(|(_, a)| a.as_str()).collect::<Vec<_>>().join(", ");
    // At debug: the warning went out when the limit was reached, and each held email is an
    // event on its case; a flood must not become a flood of log lines too.
    tracing::debug!(kind, case_id, to, "{reason}: kept in the outbox, not sent");
    if let Some(case_id) = case_id {
        let detail = format!("{kind} to {to} not sent: {reason}");
        record_event(txn, case_id, now, &Actor::System, "agent_mail_limited", (None, None), Some(detail));
    }
    Ok(false)
}

/// Decides for one email to `to`, counting what this batch has queued.
pub async fn allowance(
    txn: &Tx,
    config: &Config,
    ledger: &Ledger,
    to: &EmailAddress,
    now: DateTime<Utc>,
) -> Result<Allowance, DbErr> {
    let limit = config.agent_desk.mail_limit_per_hour;
    let tz = config.calendar.time_zone;
    let tally = ledger.tally(txn, to.as_str(), now).await?;
    let window: Vec<DateTime<Utc>> = tally.sent.iter().copied().filter(|t| *t >= now - Duration::hours(1)).collect();
    let mut notes = LimitNotes::default();
    match decide(limit, &window, now) {
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
    if let Some((_, since)) = tally.first_held.first() {
        let shown = tally.first_held.len();
        let listed = if tally.held > shown as u64 { format!("; the first {shown} were") } else { String::new() };
        notes.held_note = format!(
            "{} emails to you were not sent since {} because of the hourly limit ({limit}); \
             `supportd outbox list` shows them{listed}:",
            tally.held,
            clock(*since, tz)
        );
        notes.held = tally.first_held.iter().map(|(subject, at)| format!("{} {subject}", clock(*at, tz))).collect();
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

/// `sent`: the times of the emails of the last hour that went out, oldest first.
fn decide(limit: u32, sent: &[DateTime<Utc>], now: DateTime<Utc>) -> Decision {
    let count = sent.len() as u64;
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
        assert_eq!(decide(3, &[], now), Decision::Send);
        assert_eq!(decide(3, &[at(10)], now), Decision::Send);
        assert_eq!(decide(3, &[at(10), at(20)], now), Decision::SendLast { until: at(70) });
        assert_eq!(decide(3, &[at(10), at(20), at(30)], now), Decision::Hold);
        assert_eq!(decide(1, &[], now), Decision::SendLast { until: at(110) });
    }

    #[test]
    fn a_flood_gets_at_most_the_limit() {
        let limit = 5;
        let (mut sent, mut held) = (Vec::new(), 0);
        for minute in 0..200 {
            match decide(limit, &sent, at(minute / 10)) {
                Decision::Hold => held += 1,
                _ => sent.push(at(minute / 10)),
            }
        }
        assert_eq!((sent.len(), held), (5, 195));
    }

    fn kept(ledger: &Ledger, to: &str) -> Option<(usize, u64, usize)> {
        ledger.state().kept.get(to).map(|t| (t.sent.len(), t.held, t.first_held.len()))
    }

    #[test]
    fn what_a_rolled_back_message_queued_is_forgotten_and_what_a_stored_one_queued_counts() {
        let ledger = Ledger::default();
        ledger.record("alice@example.com", true, "one", at(0));
        ledger.forget();
        assert_eq!(kept(&ledger, "alice@example.com"), None);
        ledger.record("alice@example.com", true, "one", at(1));
        ledger.record("alice@example.com", false, "two", at(2));
        ledger.keep();
        assert_eq!(kept(&ledger, "alice@example.com"), Some((1, 1, 1)));
        // The next message starts from what was kept, and a rollback keeps that.
        ledger.record("alice@example.com", false, "three", at(3));
        ledger.forget();
        assert_eq!(kept(&ledger, "alice@example.com"), Some((1, 1, 1)));
        // Mail that goes out lists the held ones once: the count starts again after it.
        ledger.record("alice@example.com", true, "four", at(4));
        ledger.keep();
        assert_eq!(kept(&ledger, "alice@example.com"), Some((2, 0, 0)));
    }

    #[test]
    fn only_the_first_held_are_listed_and_all_are_counted() {
        let mut tally = Tally::default();
        for minute in 0..(LISTED as i64 + 5) {
            tally.record(false, "held", at(minute));
        }
        assert_eq!((tally.held, tally.first_held.len()), (LISTED as u64 + 5, LISTED));
    }
}
