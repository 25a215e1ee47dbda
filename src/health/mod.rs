//! How the daemon's own parts are doing, as `/readyz` reports it and `alarms` mails it:
//! when each mailbox last fetched without an error, and the last error since. Written by
//! the mailbox tasks.

mod alarms;

pub use alarms::alarm_tick;

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Default)]
pub struct MailboxHealth {
    /// When this process began reading the mailbox (its first task, not a reload's).
    pub watched_since: Option<DateTime<Utc>>,
    pub last_ok: Option<DateTime<Utc>>,
    /// The error of the last failed pass, until one succeeds.
    pub error: Option<String>,
}

static MAILBOXES: LazyLock<Mutex<HashMap<String, MailboxHealth>>> = LazyLock::new(Default::default);

/// A task begins reading `mailbox`: one that never fetched is silent from its first start
/// (a mailbox added by a reload, from the reload).
pub fn watching(mailbox: &str, at: DateTime<Utc>) {
    let mut all = MAILBOXES.lock().unwrap_or_else(|e| e.into_inner());
    all.entry(mailbox.to_owned()).or_default().watched_since.get_or_insert(at);
}

/// A pass of `mailbox` succeeded at `at`.
pub fn fetched(mailbox: &str, at: DateTime<Utc>) {
    crate::metrics::metrics().fetched(mailbox, at);
    let mut all = MAILBOXES.lock().unwrap_or_else(|e| e.into_inner());
    let health = all.entry(mailbox.to_owned()).or_default();
    health.watched_since.get_or_insert(at);
    (health.last_ok, health.error) = (Some(at), None);
}

/// A pass or a connection of `mailbox` failed.
pub fn failed(mailbox: &str, error: &str) {
    let mut all = MAILBOXES.lock().unwrap_or_else(|e| e.into_inner());
    all.entry(mailbox.to_owned()).or_default().error = Some(error.to_owned());
}

pub fn mailbox(mailbox: &str) -> MailboxHealth {
    MAILBOXES.lock().unwrap_or_else(|e| e.into_inner()).get(mailbox).cloned().unwrap_or_default()
}

/// A span of wall-clock time for people: "45 s", "12 min", "3 h 5 min".
pub fn age(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}
