//! Whether a case kept a target: the one place that decides it. `cases show`, `sla status`,
//! the pages, `/api/*`, every report and the mail that names a target all ask here, so that
//! no view can call a target met that another calls lapsed (a case closed with no answer
//! once read "met" in reports and "479 business min left" in `cases show`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::TargetKind;
use crate::domain::Status;

/// How a target stands, or how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Reached by its due time.
    Met,
    /// Reached late, or not reached and past due (the case ended late, or is still open).
    Breached,
    /// The case was resolved or closed before the due time with no response at all: the
    /// promise was not kept, though the clock had not run out. Reads as missed.
    #[serde(rename = "missed")]
    ClosedWithoutResponse,
    /// Not reached, not lapsed.
    Running,
    /// The resolution clock stands still: the case waits on the customer.
    Paused,
}

impl Outcome {
    pub const ALL: [Outcome; 5] =
        [Outcome::Met, Outcome::Breached, Outcome::ClosedWithoutResponse, Outcome::Running, Outcome::Paused];

    /// As in JSON and in `/metrics`: `met`, `breached`, `missed`, `running`, `paused`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Met => "met",
            Outcome::Breached => "breached",
            Outcome::ClosedWithoutResponse => "missed",
            Outcome::Running => "running",
            Outcome::Paused => "paused",
        }
    }

    /// Decided one way or the other: counted in a share of targets met.
    pub fn decided(self) -> bool {
        matches!(self, Outcome::Met | Outcome::Breached | Outcome::ClosedWithoutResponse)
    }
}

/// What decides one target of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFacts {
    pub target: TargetKind,
    pub due: DateTime<Utc>,
    /// When the target was reached: the first response, or the resolution.
    pub reached: Option<DateTime<Utc>>,
    /// When the case was resolved or closed, while it is (a reopened case is not).
    pub ended: Option<DateTime<Utc>>,
    /// Since when the clock has stood still, while the case is pending (resolution only).
    pub paused_since: Option<DateTime<Utc>>,
    /// A warning for this due time was sent.
    pub warned: bool,
}

impl TargetFacts {
    /// The target's outcome at `now`.
    pub fn outcome(&self, now: DateTime<Utc>) -> Outcome {
        let due = self.due;
        match (self.reached, self.ended, self.paused_since) {
            (Some(at), _, _) if at <= due => Outcome::Met,
            (Some(_), _, _) => Outcome::Breached,
            (None, Some(end), _) if end <= due => Outcome::ClosedWithoutResponse,
            (None, Some(_), _) => Outcome::Breached,
            // Pending stops the clock, unless the target had lapsed before it stopped.
            (None, None, Some(since)) if since > due => Outcome::Breached,
            (None, None, Some(_)) => Outcome::Paused,
            (None, None, None) if now <= due => Outcome::Running,
            (None, None, None) => Outcome::Breached,
        }
    }

    /// When the outcome was settled for good: the target reached, or the case ended.
    pub fn settled_at(&self) -> Option<DateTime<Utc>> {
        self.reached.or(self.ended)
    }

    /// The outcome once settled for good (met, breached or missed, whatever the time now);
    /// `None` while the target still runs, pauses or has lapsed unanswered.
    pub fn settled(&self) -> Option<Outcome> {
        self.settled_at().map(|at| self.outcome(at))
    }
}

/// A case's clocks, as stored: what both targets' facts are read from.
#[derive(Debug, Clone, Copy)]
pub struct CaseClocks {
    pub status: Status,
    pub first_response_due: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolution_due: Option<DateTime<Utc>>,
    pub paused_since: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl CaseClocks {
    /// When the case was resolved, if it is resolved or closed now (a reopened case is not).
    pub fn ended(&self) -> Option<DateTime<Utc>> {
        matches!(self.status, Status::Resolved | Status::Closed).then(|| self.resolved_at.or(self.closed_at)).flatten()
    }

    /// The response target's facts, if the case has one.
    pub fn respond(&self) -> Option<TargetFacts> {
        Some(TargetFacts {
            target: TargetKind::Respond,
            due: self.first_response_due?,
            reached: self.first_response_at,
            ended: self.ended(),
            paused_since: None,
            warned: false,
        })
    }

    /// The resolution target's facts, if the case has one: reached when the case ended.
    pub fn resolve(&self) -> Option<TargetFacts> {
        let ended = self.ended();
        Some(TargetFacts {
            target: TargetKind::Resolve,
            due: self.resolution_due?,
            reached: ended,
            ended,
            paused_since: if self.status == Status::Pending { self.paused_since } else { None },
            warned: false,
        })
    }
}

impl From<&crate::storage::entities::case::Model> for CaseClocks {
    fn from(c: &crate::storage::entities::case::Model) -> CaseClocks {
        CaseClocks {
            status: c.status,
            first_response_due: c.first_response_due,
            first_response_at: c.first_response_at,
            resolution_due: c.resolution_due,
            paused_since: c.paused_since,
            resolved_at: c.resolved_at,
            closed_at: c.closed_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, h, 0, 0).unwrap()
    }

    fn clocks(status: Status) -> CaseClocks {
        CaseClocks {
            status,
            first_response_due: Some(at(12)),
            first_response_at: None,
            resolution_due: Some(at(16)),
            paused_since: None,
            resolved_at: None,
            closed_at: None,
        }
    }

    #[test]
    fn an_outcome_reads_as_it_serializes() {
        use Outcome::*;
        for o in [Met, Breached, ClosedWithoutResponse, Running, Paused] {
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
    }

    #[test]
    fn a_response_is_met_only_when_given_by_its_due_time() {
        let mut c = clocks(Status::Open);
        c.first_response_at = Some(at(12));
        assert_eq!(c.respond().unwrap().outcome(at(15)), Outcome::Met);
        c.first_response_at = Some(at(12) + Duration::seconds(1));
        assert_eq!(c.respond().unwrap().outcome(at(15)), Outcome::Breached, "answered late");
        assert_eq!(c.respond().unwrap().settled(), Some(Outcome::Breached));
        c.first_response_at = None;
        assert_eq!(c.respond().unwrap().outcome(at(11)), Outcome::Running);
        assert_eq!(c.respond().unwrap().outcome(at(13)), Outcome::Breached);
        assert_eq!(c.respond().unwrap().settled(), None, "lapsed, but it can still be answered");
    }

    #[test]
    fn a_case_ended_without_a_response_never_met_its_response_target() {
        for status in [Status::Closed, Status::Resolved] {
            let mut c = clocks(status);
            c.closed_at = Some(at(10));
            let early = c.respond().unwrap();
            assert_eq!(early.outcome(at(11)), Outcome::ClosedWithoutResponse);
            assert_eq!(early.settled(), Some(Outcome::ClosedWithoutResponse));
            assert_eq!(early.outcome(at(20)), Outcome::ClosedWithoutResponse, "settled, whatever the time now");
            c.closed_at = Some(at(13));
            assert_eq!(c.respond().unwrap().outcome(at(20)), Outcome::Breached, "ended past due");
        }
        let mut reopened = clocks(Status::Open);
        reopened.closed_at = Some(at(10));
        assert_eq!(reopened.respond().unwrap().outcome(at(11)), Outcome::Running, "a reopened case runs again");
    }

    #[test]
    fn a_resolution_is_met_when_the_case_ended_in_time_and_stands_still_while_pending() {
        let mut c = clocks(Status::Resolved);
        c.resolved_at = Some(at(15));
        assert_eq!(c.resolve().unwrap().outcome(at(20)), Outcome::Met);
        c.resolved_at = Some(at(17));
        assert_eq!(c.resolve().unwrap().outcome(at(20)), Outcome::Breached, "resolved late");
        let mut pending = clocks(Status::Pending);
        pending.paused_since = Some(at(14));
        assert_eq!(pending.resolve().unwrap().outcome(at(20)), Outcome::Paused);
        pending.paused_since = Some(at(17));
        assert_eq!(pending.resolve().unwrap().outcome(at(20)), Outcome::Breached, "lapsed before it paused");
        assert!(pending.respond().unwrap().paused_since.is_none(), "a response clock never pauses");
    }
}
