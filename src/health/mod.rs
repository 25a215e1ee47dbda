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
    pub last_ok: Option<DateTime<Utc>>,
    /// The error of the last failed pass, until one succeeds.
    pub error: Option<String>,
}

static MAILBOXES: LazyLock<Mutex<HashMap<String, MailboxHealth>>> = LazyLock::new(Default::default);

/// When this process started serving: a mailbox that never fetched is silent from then.
static STARTED: LazyLock<Mutex<Option<DateTime<Utc>>>> = LazyLock::new(Default::default);

pub fn started(at: DateTime<Utc>) {
    STARTED.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(at);
}

pub fn started_at() -> Option<DateTime<Utc>> {
    *STARTED.lock().unwrap_or_else(|e| e.into_inner())
}

/// A pass of `mailbox` succeeded at `at`.
pub fn fetched(mailbox: &str, at: DateTime<Utc>) {
    crate::metrics::metrics().fetched(mailbox, at);
    let mut all = MAILBOXES.lock().unwrap_or_else(|e| e.into_inner());
    *all.entry(mailbox.to_owned()).or_default() = MailboxHealth { last_ok: Some(at), error: None };
}

/// A pass or a connection of `mailbox` failed.
pub fn failed(mailbox: &str, error: &str) {
    let mut all = MAILBOXES.lock().unwrap_or_else(|e| e.into_inner());
    all.entry(mailbox.to_owned()).or_default().error = Some(error.to_owned());
}

pub fn mailbox(mailbox: &str) -> MailboxHealth {
    MAILBOXES.lock().unwrap_or_else(|e| e.into_inner()).get(mailbox).cloned().unwrap_or_default()
}
