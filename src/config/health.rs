//! `[health]`: when the desk itself counts as sick. `/readyz` is unready, and the operators
//! in `notify` are mailed once per incident and once on recovery, when a mailbox has not
//! fetched successfully for `mailbox_silent_after` (or two of its poll intervals, when that
//! is longer: IDLE renews only then), or mail has waited unsent for `outbox_stuck_after`.

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
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawHealth {
    pub notify: Option<Vec<String>>,
    pub mailbox_silent_after: Option<String>,
    pub outbox_stuck_after: Option<String>,
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
    }
}
