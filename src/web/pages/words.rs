//! How the pages word times and SLA clocks.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::cases::CaseView;
use crate::sla::{TargetState, TargetView, span};
use crate::templates::{CaseLine, Clock};

/// "Fri 20 Nov 2026 10:00 GMT", in the support time zone.
pub fn when(zone: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&zone).format("%a %-d %b %Y %H:%M %Z").to_string()
}

pub fn clock(zone: Tz, t: &TargetView) -> Clock {
    let target = match t.target {
        "respond" => "first response",
        "resolve" => "resolution",
        other => other,
    };
    let left = t.business_minutes_left;
    let left = if left >= 0 { format!("{} left", span(left)) } else { format!("{} over", span(-left)) };
    Clock {
        target: target.into(),
        state: state_name(t.state).into(),
        label: label(t.state).into(),
        left: match t.state {
            TargetState::Met => String::new(),
            TargetState::Paused => "paused while pending".into(),
            _ => left,
        },
        // A paused clock's due time moves when it resumes; a met one's no longer matters.
        due: match t.state {
            TargetState::Met | TargetState::Paused => String::new(),
            _ => when(zone, t.due),
        },
    }
}

fn state_name(s: TargetState) -> &'static str {
    match s {
        TargetState::Ok => "ok",
        TargetState::Warned => "warned",
        TargetState::Breached => "breached",
        TargetState::Met => "met",
        TargetState::Paused => "paused",
    }
}

fn label(s: TargetState) -> &'static str {
    match s {
        TargetState::Ok => "On track",
        TargetState::Warned => "Warning",
        TargetState::Breached => "Breached",
        TargetState::Met => "Met",
        TargetState::Paused => "Paused",
    }
}

/// The most urgent state among a case's targets: breached, then warned, on track, paused, met.
pub fn worst(targets: &[TargetView]) -> &'static str {
    let rank = |s: TargetState| match s {
        TargetState::Breached => 0,
        TargetState::Warned => 1,
        TargetState::Ok => 2,
        TargetState::Paused => 3,
        TargetState::Met => 4,
    };
    targets.iter().map(|t| t.state).min_by_key(|s| rank(*s)).map_or("none", state_name)
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
        assignee: c.assignee.clone().unwrap_or_default(),
        teams: c.with_teams.join(", "),
        clocks: targets.iter().map(|t| clock(zone, t)).collect(),
        state: worst(targets).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn target(state: TargetState, left: i64) -> TargetView {
        TargetView {
            target: "respond",
            due: Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap(),
            business_minutes_left: left,
            state,
        }
    }

    #[test]
    fn a_clock_says_its_state_in_words_and_the_time_left_or_over() {
        let c = clock(chrono_tz::Europe::London, &target(TargetState::Breached, -45));
        assert_eq!((c.label.as_str(), c.left.as_str(), c.state.as_str()), ("Breached", "45 min over", "breached"));
        let c = clock(chrono_tz::Europe::London, &target(TargetState::Warned, 135));
        assert_eq!((c.label.as_str(), c.left.as_str()), ("Warning", "2 h 15 min left"));
        assert_eq!(c.due, "Fri 20 Nov 2026 10:00 GMT");
    }

    #[test]
    fn the_worst_target_decides_the_row() {
        let t = [target(TargetState::Met, 0), target(TargetState::Breached, -1), target(TargetState::Warned, 5)];
        assert_eq!(worst(&t), "breached");
        assert_eq!(worst(&t[..1]), "met");
        assert_eq!(worst(&[]), "none");
    }
}
