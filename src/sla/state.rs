//! Where a case stands against each of its targets, for people (`sla status`, `cases show`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{BusinessCalendar, Outcome, TargetFacts};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    Ok,
    Warned,
    Breached,
    Met,
    Paused,
    /// Resolved or closed before the due time with no response: missed all the same.
    #[serde(rename = "missed")]
    ClosedWithoutResponse,
}

impl TargetState {
    /// As in JSON: `ok`, `warned`, `breached`, `met`, `paused`, `missed`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::Ok => "ok",
            TargetState::Warned => "warned",
            TargetState::Breached => "breached",
            TargetState::Met => "met",
            TargetState::Paused => "paused",
            TargetState::ClosedWithoutResponse => "missed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetView {
    pub target: &'static str,
    pub due: DateTime<Utc>,
    /// Business minutes left (negative once lapsed: minutes past the due time), counted to
    /// when the outcome was settled, else to now.
    pub business_minutes_left: i64,
    pub state: TargetState,
    /// When the outcome was settled for good (the target reached, or the case ended).
    pub settled_at: Option<DateTime<Utc>>,
}

/// How one target stands for people, from `TargetFacts::outcome`.
pub fn target_view(cal: &BusinessCalendar, facts: &TargetFacts, now: DateTime<Utc>) -> TargetView {
    let settled_at = facts.settled_at();
    let until = settled_at.unwrap_or(now);
    let left = if until <= facts.due {
        cal.business_between(until, facts.due).num_minutes()
    } else {
        -cal.business_between(facts.due, until).num_minutes()
    };
    let state = match facts.outcome(now) {
        Outcome::Met => TargetState::Met,
        Outcome::Breached => TargetState::Breached,
        Outcome::ClosedWithoutResponse => TargetState::ClosedWithoutResponse,
        Outcome::Paused => TargetState::Paused,
        Outcome::Running if facts.warned => TargetState::Warned,
        Outcome::Running => TargetState::Ok,
    };
    TargetView { target: facts.target.as_str(), due: facts.due, business_minutes_left: left, state, settled_at }
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
