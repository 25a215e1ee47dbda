//! `[health]`: when the desk itself counts as sick. The operators in `notify` are mailed
//! once per incident and once on recovery, checked every `check_interval`, when a mailbox has
//! not fetched successfully for `mailbox_silent_after` (or two of its poll intervals, when
//! that is longer: IDLE renews only then; `/readyz` is unready too), mail has waited unsent
//! for `outbox_stuck_after`, mail failed permanently within the day, the quarantine holds
//! more than `quarantine_limit` messages or the held mail more than `held_limit`, or the
//! scheduler is `scheduler_late_after` late for a tick.

use std::time::Duration;

use serde::Deserialize;

use super::Problems;
use super::raw::Unknown;
use crate::domain::EmailAddress;

#[derive(Debug, Clone)]
pub struct HealthConfig {
    /// Who hears of the desk's incidents; none by default.
    pub notify: Vec<EmailAddress>,
    pub mailbox_silent_after: Duration,
    pub outbox_stuck_after: Duration,
    pub check_interval: Duration,
    pub quarantine_limit: u64,
    pub held_limit: u64,
    pub scheduler_late_after: Duration,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawHealth {
    pub notify: Option<Vec<String>>,
    pub mailbox_silent_after: Option<String>,
    pub outbox_stuck_after: Option<String>,
    pub check_interval: Option<String>,
    pub quarantine_limit: Option<i64>,
    pub held_limit: Option<i64>,
    pub scheduler_late_after: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

pub fn health(p: &mut Problems, raw: &RawHealth) -> HealthConfig {
    p.unknown_keys("health", &raw.unknown);
    let interval = |p: &mut Problems, key: &str, value: &Option<String>, minutes: u64| {
        super::validate::interval(p, &format!("health.{key}"), value.as_deref(), Duration::from_secs(minutes * 60))
    };
    let notify = raw
        .notify
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, a)| match a.parse::<EmailAddress>() {
            Ok(a) => Some(a),
            Err(e) => {
                p.push(format!("health.notify[{i}]"), e.to_string());
                None
            }
        })
        .collect();
    HealthConfig {
        notify,
        mailbox_silent_after: interval(p, "mailbox_silent_after", &raw.mailbox_silent_after, 10),
        outbox_stuck_after: interval(p, "outbox_stuck_after", &raw.outbox_stuck_after, 30),
        check_interval: super::validate::interval(
            p,
            "health.check_interval",
            raw.check_interval.as_deref(),
            Duration::from_secs(30),
        ),
        quarantine_limit: p.in_range("health.quarantine_limit", raw.quarantine_limit, 0, 1_000_000, 20) as u64,
        held_limit: p.in_range("health.held_limit", raw.held_limit, 0, 1_000_000, 200) as u64,
        scheduler_late_after: interval(p, "scheduler_late_after", &raw.scheduler_late_after, 5),
    }
}
