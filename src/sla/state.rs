//! Where a case stands against each of its targets, for people (`sla status`, `cases show`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{BusinessCalendar, TargetKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetState {
    Ok,
    Warned,
    Breached,
    Met,
    Paused,
}

/// What is known of one target of one case.
pub struct TargetFacts {
    pub target: TargetKind,
    pub due: DateTime<Utc>,
    pub met: bool,
    pub paused: bool,
    /// A warning for this due time was sent.
    pub warned: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetView {
    pub target: &'static str,
    pub due: DateTime<Utc>,
    /// Business minutes left (negative once lapsed: minutes past the due time).
    pub business_minutes_left: i64,
    pub state: TargetState,
}

pub fn target_view(cal: &BusinessCalendar, facts: &TargetFacts, now: DateTime<Utc>) -> TargetView {
    let left = if now <= facts.due {
        cal.business_between(now, facts.due).num_minutes()
    } else {
        -cal.business_between(facts.due, now).num_minutes()
    };
    let state = if facts.met {
        TargetState::Met
    } else if facts.paused {
        TargetState::Paused
    } else if now >= facts.due {
        TargetState::Breached
    } else if facts.warned {
        TargetState::Warned
    } else {
        TargetState::Ok
    };
    TargetView { target: facts.target.as_str(), due: facts.due, business_minutes_left: left, state }
}
