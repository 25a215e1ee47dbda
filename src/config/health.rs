//! `[health]`: when the desk itself counts as sick. `/readyz` is unready, and (in time) the
//! operators are mailed, when a mailbox has not fetched successfully for
//! `mailbox_silent_after` (or two of its poll intervals, when that is longer: IDLE renews
//! only then).

use std::time::Duration;

use serde::Deserialize;

use super::Problems;
use super::raw::Unknown;

#[derive(Debug, Clone)]
pub struct HealthConfig {
    pub mailbox_silent_after: Duration,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawHealth {
    pub mailbox_silent_after: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

pub fn health(p: &mut Problems, raw: &RawHealth) -> HealthConfig {
    p.unknown_keys("health", &raw.unknown);
    let silent = raw.mailbox_silent_after.as_deref();
    let mailbox_silent_after =
        super::validate::interval(p, "health.mailbox_silent_after", silent, Duration::from_secs(600));
    HealthConfig { mailbox_silent_after }
}
