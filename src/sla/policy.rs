use chrono::{DateTime, Duration, Utc};

use super::BusinessCalendar;
use crate::domain::{BusinessDuration, CaseType, Severity};

/// The response and resolution targets of one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub respond: BusinessDuration,
    pub resolve: Option<BusinessDuration>,
}

/// Targets per severity, from `[sla.S1]`…`[sla.S4]`.
#[derive(Debug, Clone)]
pub struct SlaPolicy {
    targets: [Target; 4],
    /// Types to which no resolution target applies (Bug and Request by default).
    pub resolve_exempt_types: Vec<CaseType>,
}

impl SlaPolicy {
    /// The support team's published sheet: respond 1/4/8/16 h, resolve 1/2/3 days, S4 none.
    pub fn default_target(severity: Severity) -> Target {
        let (respond_h, resolve_d) = match severity {
            Severity::S1 => (1, Some(1)),
            Severity::S2 => (4, Some(2)),
            Severity::S3 => (8, Some(3)),
            Severity::S4 => (16, None),
        };
        Target { respond: BusinessDuration::Minutes(respond_h * 60), resolve: resolve_d.map(BusinessDuration::Days) }
    }

    pub fn new(targets: [Target; 4], resolve_exempt_types: Vec<CaseType>) -> Self {
        Self { targets, resolve_exempt_types }
    }

    pub fn target(&self, severity: Severity) -> Target {
        self.targets[severity as usize]
    }

    /// The resolution target of a case, if one applies to it at all.
    pub fn resolve_target(
        &self,
        severity: Severity,
        case_type: CaseType,
        client_config: bool,
    ) -> Option<BusinessDuration> {
        if client_config || self.resolve_exempt_types.contains(&case_type) {
            return None;
        }
        self.target(severity).resolve
    }
}

/// What decides a case's targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classification {
    pub severity: Severity,
    pub case_type: CaseType,
    /// Caused by client-side configuration: no resolution target.
    pub client_config: bool,
}

/// When a case's targets lapse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueTimes {
    pub respond: DateTime<Utc>,
    /// `None` when no resolution target applies.
    pub resolve: Option<DateTime<Utc>>,
}

impl SlaPolicy {
    /// When the response to a case received at `start` is due.
    pub fn respond_due(&self, cal: &BusinessCalendar, severity: Severity, start: DateTime<Utc>) -> DateTime<Utc> {
        cal.add_business(start, self.target(severity).respond.minutes(cal.day_minutes()))
    }

    /// When its resolution is due, if a resolution target applies at all.
    pub fn resolve_due(
        &self,
        cal: &BusinessCalendar,
        severity: Severity,
        case_type: CaseType,
        client_config: bool,
        start: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        self.due_times(cal, Classification { severity, case_type, client_config }, start, Duration::zero()).resolve
    }

    /// The due times of a case received at `start` whose resolution clock stood still
    /// (pending) for `paused` business time: each target counted from the start,
    /// the pause added to the target, never to a due time. Intake, `sla due`, a change of
    /// severity or type and leaving pending all come here, so a target that ends exactly at
    /// closing is due at closing on every path (a due time at closing plus nothing is the
    /// next opening, which once moved a change's Thursday 17:00 to Friday 09:00).
    pub fn due_times(
        &self,
        cal: &BusinessCalendar,
        class: Classification,
        start: DateTime<Utc>,
        paused: Duration,
    ) -> DueTimes {
        let resolve = self.resolve_target(class.severity, class.case_type, class.client_config);
        DueTimes {
            respond: self.respond_due(cal, class.severity, start),
            resolve: resolve
                .map(|t| cal.add_business_time(start, Duration::minutes(t.minutes(cal.day_minutes()) as i64) + paused)),
        }
    }
}

impl Default for SlaPolicy {
    fn default() -> Self {
        let targets = [Severity::S1, Severity::S2, Severity::S3, Severity::S4].map(Self::default_target);
        Self::new(targets, vec![CaseType::Bug, CaseType::Request])
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveDateTime, TimeZone};

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        chrono_tz::Europe::London.from_local_datetime(&local).unwrap().with_timezone(&Utc)
    }

    fn respond(severity: Severity, received: &str) -> DateTime<Utc> {
        let cal = BusinessCalendar::office_hours(chrono_tz::Europe::London);
        SlaPolicy::default().respond_due(&cal, severity, at(received))
    }

    // 2026-11-20 is a Friday.
    #[test]
    fn s1_friday_afternoon_is_due_monday_morning() {
        assert_eq!(respond(Severity::S1, "2026-11-20 16:30"), at("2026-11-23 09:30"));
    }

    #[test]
    fn s1_on_saturday_is_due_monday_at_ten() {
        assert_eq!(respond(Severity::S1, "2026-11-21 11:00"), at("2026-11-23 10:00"));
    }

    #[test]
    fn s4_wednesday_morning_is_due_friday_morning() {
        assert_eq!(respond(Severity::S4, "2026-11-18 10:00"), at("2026-11-20 10:00"));
    }

    #[test]
    fn s2_skips_a_holiday() {
        let mut cal = BusinessCalendar::office_hours(chrono_tz::Europe::London);
        cal.holidays.insert(NaiveDate::from_ymd_opt(2026, 11, 20).unwrap());
        let due = SlaPolicy::default().respond_due(&cal, Severity::S2, at("2026-11-19 15:00"));
        assert_eq!(due, at("2026-11-23 11:00"));
    }

    #[test]
    fn a_start_at_closing_counts_from_the_next_opening() {
        assert_eq!(respond(Severity::S1, "2026-11-19 17:00"), at("2026-11-20 10:00"));
    }

    #[test]
    fn s3_thursday_nine_is_due_thursday_at_closing() {
        assert_eq!(respond(Severity::S3, "2026-11-19 09:00"), at("2026-11-19 17:00"));
    }

    /// `#severity S2` on a case received Tuesday 19:00: two business days from Wednesday
    /// 09:00 end at Thursday's closing, as `sla due` says, not at Friday's opening.
    #[test]
    fn a_target_ending_at_closing_is_due_at_closing_after_a_change() {
        let cal = BusinessCalendar::office_hours(chrono_tz::Europe::London);
        let policy = SlaPolicy::default();
        let start = at("2026-11-17 19:00");
        let s2 = Classification { severity: Severity::S2, case_type: CaseType::Query, client_config: false };
        let due = policy.due_times(&cal, s2, start, Duration::zero());
        assert_eq!(due.resolve, Some(at("2026-11-19 17:00")));
        assert_eq!(due.resolve, policy.resolve_due(&cal, Severity::S2, CaseType::Query, false, start));
        assert_eq!(due.respond, at("2026-11-18 13:00"));
        // An hour spent pending moves it an hour on: from closing to Friday 10:00.
        let paused = policy.due_times(&cal, s2, start, Duration::hours(1));
        assert_eq!(paused.resolve, Some(at("2026-11-20 10:00")));
    }

    #[test]
    fn resolution_targets_skip_bugs_requests_and_client_config() {
        let cal = BusinessCalendar::office_hours(chrono_tz::Europe::London);
        let policy = SlaPolicy::default();
        let start = at("2026-11-16 09:00");
        assert_eq!(policy.resolve_due(&cal, Severity::S2, CaseType::Query, false, start), Some(at("2026-11-17 17:00")));
        assert_eq!(policy.resolve_due(&cal, Severity::S2, CaseType::Bug, false, start), None);
        assert_eq!(policy.resolve_due(&cal, Severity::S2, CaseType::Request, false, start), None);
        assert_eq!(policy.resolve_due(&cal, Severity::S2, CaseType::Query, true, start), None);
        assert_eq!(policy.resolve_due(&cal, Severity::S4, CaseType::Query, false, start), None);
    }
}
