//! How the pages word times and SLA clocks.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::cases::CaseView;
use crate::sla::{Outcome, TargetView, span};
use crate::templates::{CaseLine, Clock};

/// "Fri 20 Nov 2026 10:00 GMT", in the support time zone.
pub fn when(zone: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&zone).format("%a %-d %b %Y %H:%M %Z").to_string()
}

use crate::cases::SOON_MINUTES;

/// How a clock reads on the pages: the SLA engine's state, with "soon" for an unwarned one
/// within `SOON_MINUTES` of its due time (what makes a case "at risk").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shown {
    Breached,
    Warned,
    Soon,
    Ok,
    Paused,
    /// Settled without being kept: answered or resolved late, or closed with no response.
    /// Nothing can be done about it any more, so it is not what makes a case breached.
    Missed,
    Met,
}

impl Shown {
    pub fn of(t: &TargetView) -> Shown {
        match t.state.outcome {
            Outcome::Breached if t.settled_at.is_some() => Shown::Missed,
            Outcome::Breached => Shown::Breached,
            Outcome::ClosedWithoutResponse => Shown::Missed,
            Outcome::Running if t.state.warned => Shown::Warned,
            Outcome::Running if t.business_minutes_left <= SOON_MINUTES => Shown::Soon,
            Outcome::Running => Shown::Ok,
            Outcome::Paused => Shown::Paused,
            Outcome::Met => Shown::Met,
        }
    }

    /// For a CSS class and the templates' `state`.
    fn name(self) -> &'static str {
        match self {
            Shown::Breached => "breached",
            Shown::Warned => "warned",
            Shown::Soon => "soon",
            Shown::Ok => "ok",
            Shown::Paused => "paused",
            Shown::Missed => "missed",
            Shown::Met => "met",
        }
    }

    /// The state in words, so that it never rests on colour.
    fn label(self) -> &'static str {
        match self {
            Shown::Breached => "Breached",
            Shown::Warned => "Warning",
            Shown::Soon => "Due soon",
            Shown::Ok => "On track",
            Shown::Paused => "Paused",
            Shown::Missed => "Missed",
            Shown::Met => "Met",
        }
    }
}

pub fn clock(zone: Tz, t: &TargetView) -> Clock {
    let target = match t.target {
        "respond" => "first response",
        "resolve" => "resolution",
        other => other,
    };
    let shown = Shown::of(t);
    let left = t.business_minutes_left;
    let left = if left >= 0 { format!("{} left", span(left)) } else { format!("{} over", span(-left)) };
    Clock {
        target: target.into(),
        state: shown.name().into(),
        label: shown.label().into(),
        left: match shown {
            Shown::Met => String::new(),
            Shown::Paused => "paused while pending".into(),
            Shown::Missed if t.state.outcome == Outcome::ClosedWithoutResponse => "closed without a response".into(),
            Shown::Missed => format!("{} late", span(-t.business_minutes_left)),
            _ => left,
        },
        // A paused clock's due time moves when it resumes; a met one's no longer matters.
        due: match shown {
            Shown::Met | Shown::Paused => String::new(),
            _ => when(zone, t.due),
        },
    }
}

/// The most urgent of a case's clocks: breached, warned, due soon, on track, paused, missed,
/// met.
pub fn worst(targets: &[TargetView]) -> Option<Shown> {
    targets.iter().map(Shown::of).min()
}

/// The case as a row of a list, with its clocks.
pub fn case_line(zone: Tz, c: &CaseView, targets: &[TargetView]) -> CaseLine {
    CaseLine {
        number: c.number.to_string(),
        link: format!("cases/{}", c.number),
        summary: c.summary.clone(),
        company: c.company.clone().unwrap_or_default(),
        contact: c.contact.clone().unwrap_or_default(),
        severity: c.severity.clone(),
        status: c.status.clone(),
        assignee: c.assignee_name.clone().or_else(|| c.assignee.clone()).unwrap_or_default(),
        assignee_address: c.assignee.clone().unwrap_or_default(),
        teams: c.with_teams.join(", "),
        clocks: targets.iter().map(|t| clock(zone, t)).collect(),
        state: worst(targets).map_or("none", Shown::name).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::TargetState;
    use chrono::TimeZone;

    fn target(outcome: Outcome, left: i64) -> TargetView {
        TargetView {
            target: "respond",
            due: Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap(),
            business_minutes_left: left,
            state: TargetState::new(outcome, false),
            settled_at: None,
        }
    }

    fn warned(left: i64) -> TargetView {
        TargetView { state: TargetState::new(Outcome::Running, true), ..target(Outcome::Running, left) }
    }

    #[test]
    fn a_clock_says_its_state_in_words_and_the_time_left_or_over() {
        let c = clock(chrono_tz::Europe::London, &target(Outcome::Breached, -45));
        assert_eq!((c.label.as_str(), c.left.as_str(), c.state.as_str()), ("Breached", "45 min over", "breached"));
        let c = clock(chrono_tz::Europe::London, &warned(135));
        assert_eq!((c.label.as_str(), c.left.as_str()), ("Warning", "2 h 15 min left"));
        assert_eq!(c.due, "Fri 20 Nov 2026 10:00 GMT");
    }

    #[test]
    fn the_worst_target_decides_the_row() {
        let t = [target(Outcome::Met, 0), target(Outcome::Breached, -1), warned(5)];
        assert_eq!(worst(&t), Some(Shown::Breached));
        assert_eq!(worst(&t[..1]), Some(Shown::Met));
        assert_eq!(worst(&[]), None);
        let soon = clock(chrono_tz::Europe::London, &target(Outcome::Running, 60));
        assert_eq!((soon.label.as_str(), soon.state.as_str()), ("Due soon", "soon"));
        assert_eq!(clock(chrono_tz::Europe::London, &target(Outcome::Running, 61)).label, "On track");
    }

    #[test]
    fn a_target_settled_without_being_kept_reads_missed_and_is_not_what_breaches_a_row() {
        let late = TargetView { settled_at: Some(Utc::now()), ..target(Outcome::Breached, -30) };
        let c = clock(chrono_tz::Europe::London, &late);
        assert_eq!((c.label.as_str(), c.left.as_str(), c.state.as_str()), ("Missed", "30 min late", "missed"));
        let unanswered = target(Outcome::ClosedWithoutResponse, 400);
        let c = clock(chrono_tz::Europe::London, &unanswered);
        assert_eq!((c.label.as_str(), c.left.as_str()), ("Missed", "closed without a response"));
        assert_eq!(worst(&[late, target(Outcome::Running, 90)]), Some(Shown::Ok));
    }
}
