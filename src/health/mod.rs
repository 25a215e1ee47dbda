//! How the daemon's own parts are doing, as `/readyz` reports it and `alarms` mails it:
//! when each mailbox last fetched without an error, and the last error since (written by
//! the mailbox tasks), and when the scheduler last ticked (written by the scheduler).

mod alarms;

pub use alarms::{alarm_tick, run_alarms};

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

impl MailboxHealth {
    /// How long the mailbox has gone without a good fetch: since the last one, or since this
    /// process began reading it.
    pub fn quiet(&self, now: DateTime<Utc>) -> std::time::Duration {
        let since = self.last_ok.or(self.watched_since).unwrap_or(now);
        (now - since).to_std().unwrap_or_default()
    }
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

/// The scheduler's ticks, as the alarms judge whether it is late.
#[derive(Debug, Clone, Default)]
pub struct SchedulerHealth {
    /// When the running scheduler task started (a reload's start anew, perhaps on another
    /// schedule: its first tick is due from then).
    pub started: Option<DateTime<Utc>>,
    pub last_ok: Option<DateTime<Utc>>,
    /// Why the last tick failed, until one succeeds.
    pub error: Option<String>,
}

static SCHEDULER: LazyLock<Mutex<SchedulerHealth>> = LazyLock::new(Default::default);

fn scheduler_board() -> std::sync::MutexGuard<'static, SchedulerHealth> {
    SCHEDULER.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn scheduler_started(at: DateTime<Utc>) {
    scheduler_board().started = Some(at);
}

/// A tick finished: `error` says what failed in it.
pub fn scheduler_ticked(at: DateTime<Utc>, error: Option<String>) {
    let mut board = scheduler_board();
    match error {
        None => (board.last_ok, board.error) = (Some(at), None),
        Some(e) => board.error = Some(e),
    }
}

pub fn scheduler() -> SchedulerHealth {
    scheduler_board().clone()
}

/// How long `mailbox` may go without a good fetch before it counts as silent:
/// `[health] mailbox_silent_after`, or two poll intervals when longer (IDLE renews only then).
pub fn silent_limit(config: &crate::config::Config, mailbox: &crate::config::MailboxConfig) -> std::time::Duration {
    config.health.mailbox_silent_after.max(mailbox.poll_interval * 2)
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

/// This machine's name, for what each instance judges of itself: `/proc`'s hostname, or
/// `this host`.
pub fn host() -> &'static str {
    static HOST: LazyLock<String> = LazyLock::new(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "this host".to_owned())
    });
    &HOST
}
