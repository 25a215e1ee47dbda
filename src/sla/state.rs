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

/// Business minutes as "1 h 30 min", "2 h", "45 min".
pub fn span(minutes: i64) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::span;

    #[test]
    fn spans_read_as_hours_and_minutes() {
        assert_eq!(span(90), "1 h 30 min");
        assert_eq!(span(120), "2 h");
        assert_eq!(span(45), "45 min");
        assert_eq!(span(0), "0 min");
        assert_eq!(span(19 * 60 + 5), "19 h 5 min");
    }
}
