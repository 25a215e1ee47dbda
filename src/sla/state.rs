//! Where a case stands against each of its targets, for people (`sla status`, `cases show`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{BusinessCalendar, Outcome, TargetFacts};

/// Where a target stands for people: its `Outcome` (the one judgement of a target), and
/// whether a warning went out for its due time, which shows only while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetState {
    pub outcome: Outcome,
    pub warned: bool,
}

impl TargetState {
    pub const fn new(outcome: Outcome, warned: bool) -> TargetState {
        TargetState { outcome, warned }
    }

    /// Running and warned of: the one state people see that `Outcome` does not name.
    pub fn is_warned(self) -> bool {
        self.outcome == Outcome::Running && self.warned
    }

    /// As in JSON: the outcome's word (`breached`, `met`, `paused`, `missed`), except that a
    /// running target reads `ok`, or `warned` once warned of.
    pub fn as_str(self) -> &'static str {
        match self.outcome {
            Outcome::Running if self.warned => "warned",
            Outcome::Running => "ok",
            settled => settled.as_str(),
        }
    }
}

impl Serialize for TargetState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
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
    let state = TargetState::new(facts.outcome(now), facts.warned);
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
    use super::*;

    #[test]
    fn a_state_reads_as_its_outcome_and_running_reads_ok_or_warned() {
        let json = |o, warned| serde_json::to_value(TargetState::new(o, warned)).unwrap();
        assert_eq!(json(Outcome::Running, false), "ok");
        assert_eq!(json(Outcome::Running, true), "warned");
        for o in Outcome::ALL.into_iter().filter(|o| *o != Outcome::Running) {
            assert_eq!(json(o, false), o.as_str());
            assert_eq!(json(o, true), o.as_str(), "a warning shows only while the target runs");
        }
        assert_eq!(json(Outcome::ClosedWithoutResponse, false), "missed");
    }

    #[test]
    fn spans_read_as_hours_and_minutes() {
        assert_eq!(span(90), "1 h 30 min");
        assert_eq!(span(120), "2 h");
        assert_eq!(span(45), "45 min");
        assert_eq!(span(0), "0 min");
        assert_eq!(span(19 * 60 + 5), "19 h 5 min");
    }
}
