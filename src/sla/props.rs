//! Property tests: the closed-form calendar arithmetic agrees with a naive reference that
//! steps minute by minute, for random starts and durations across DST transitions (London and
//! New York) and holidays; so do the policy's due times, with or without time spent pending.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::{BusinessCalendar, Classification, Opening, SlaPolicy};
use crate::domain::{CaseType, Severity};

/// Is the minute starting at `t` open? The definition, in wall-clock terms.
fn open_minute(cal: &BusinessCalendar, t: DateTime<Utc>) -> bool {
    let local = t.with_timezone(&cal.time_zone);
    let (date, time) = (local.date_naive(), local.time());
    !cal.holidays.contains(&date)
        && cal.weekly[date.weekday().num_days_from_monday() as usize].iter().any(|o| o.start <= time && time < o.end)
}

fn naive_add(cal: &BusinessCalendar, start: DateTime<Utc>, minutes: u64) -> DateTime<Utc> {
    let mut t = start;
    if minutes == 0 {
        while !open_minute(cal, t) {
            t += Duration::minutes(1);
        }
        return t;
    }
    let mut left = minutes;
    loop {
        if open_minute(cal, t) {
            left -= 1;
            if left == 0 {
                return t + Duration::minutes(1);
            }
        }
        t += Duration::minutes(1);
    }
}

fn naive_between(cal: &BusinessCalendar, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    let mut t = a;
    let mut n = 0;
    while t < b {
        n += i64::from(open_minute(cal, t));
        t += Duration::minutes(1);
    }
    n
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

/// Office hours, or a split day with a Saturday morning, with holidays near the transitions.
fn calendar(tz: Tz, split: bool) -> BusinessCalendar {
    let mut cal = BusinessCalendar::office_hours(tz);
    if split {
        let day = vec![Opening { start: hm(8, 0), end: hm(12, 30) }, Opening { start: hm(13, 15), end: hm(18, 0) }];
        for d in 0..5 {
            cal.weekly[d] = day.clone();
        }
        cal.weekly[5] = vec![Opening { start: hm(10, 0), end: hm(14, 0) }];
    }
    for (m, d) in [(3, 27), (3, 11), (10, 27), (11, 2), (12, 25), (12, 28)] {
        cal.holidays.insert(NaiveDate::from_ymd_opt(2026, m, d).unwrap());
    }
    cal
}

/// Minute-aligned instants in windows around the 2026 DST changes of both zones
/// (8 and 29 March, 25 October and 1 November) and an ordinary December, five weeks each.
fn start() -> impl Strategy<Value = DateTime<Utc>> {
    let windows = [(2026, 3, 1), (2026, 10, 18), (2026, 12, 1)];
    (0..windows.len(), 0i64..(24 * 60 * 35)).prop_map(move |(w, minutes)| {
        let (y, m, d) = windows[w];
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap() + Duration::minutes(minutes)
    })
}

fn class() -> impl Strategy<Value = Classification> {
    let severity = prop_oneof![Just(Severity::S1), Just(Severity::S2), Just(Severity::S3), Just(Severity::S4)];
    let case_type =
        prop_oneof![Just(CaseType::Query), Just(CaseType::Request), Just(CaseType::Bug), Just(CaseType::SiteRefresh)];
    (severity, case_type, any::<bool>()).prop_map(|(severity, case_type, client_config)| Classification {
        severity,
        case_type,
        client_config,
    })
}

fn zone() -> impl Strategy<Value = (Tz, bool)> {
    (prop_oneof![Just(chrono_tz::Europe::London), Just(chrono_tz::America::New_York)], any::<bool>())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn add_business_agrees_with_minute_stepping((tz, split) in zone(), start in start(), minutes in 0u64..(5 * 8 * 60)) {
        let cal = calendar(tz, split);
        prop_assert_eq!(cal.add_business(start, minutes), naive_add(&cal, start, minutes));
    }

    #[test]
    fn business_between_agrees_with_minute_stepping((tz, split) in zone(), a in start(), span in 0i64..(8 * 24 * 60)) {
        let cal = calendar(tz, split);
        let b = a + Duration::minutes(span);
        prop_assert_eq!(cal.business_between(a, b).num_minutes(), naive_between(&cal, a, b));
    }

    #[test]
    fn adding_then_measuring_gives_the_duration_back((tz, split) in zone(), start in start(), minutes in 1u64..(10 * 8 * 60)) {
        let cal = calendar(tz, split);
        let due = cal.add_business(start, minutes);
        prop_assert_eq!(cal.business_between(start, due).num_minutes(), minutes as i64);
    }
}

proptest! {
    // Fewer cases: the reference steps through up to two weeks of minutes for each.
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// A change of classification (and leaving pending) recomputes with `due_times`, as
    /// intake and `sla due` compute fresh: each target, plus any pause, counted from the start,
    /// ending where minute stepping ends: at closing when the last minute is the day's last.
    /// Half the cases have no pause, where a due time at closing once became the next opening.
    #[test]
    fn recomputing_after_a_change_equals_computing_fresh(
        (tz, split) in zone(), start in start(), class in class(),
        paused in prop_oneof![Just(0i64), 0i64..(2 * 8 * 60)],
    ) {
        let (cal, policy) = (calendar(tz, split), SlaPolicy::default());
        let due = policy.due_times(&cal, class, start, Duration::minutes(paused));
        let respond = policy.target(class.severity).respond.minutes(cal.day_minutes());
        prop_assert_eq!(due.respond, naive_add(&cal, start, respond));
        prop_assert_eq!(due.respond, policy.respond_due(&cal, class.severity, start));
        let resolve = policy.resolve_target(class.severity, class.case_type, class.client_config);
        let reference = resolve.map(|t| naive_add(&cal, start, t.minutes(cal.day_minutes()) + paused as u64));
        prop_assert_eq!(due.resolve, reference);
        if paused == 0 {
            let fresh = policy.resolve_due(&cal, class.severity, class.case_type, class.client_config, start);
            prop_assert_eq!(due.resolve, fresh);
        }
    }

    /// Counting the pause into the target from the start keeps the business time that was
    /// left when the case was set pending, whenever it was set pending before the lapse.
    #[test]
    fn leaving_pending_keeps_the_time_that_was_left(
        (tz, split) in zone(), start in start(), class in class(), pause_at in 0u64..(3 * 8 * 60),
        pause_for in 0i64..(6 * 24 * 60),
    ) {
        let (cal, policy) = (calendar(tz, split), SlaPolicy::default());
        let fresh = policy.due_times(&cal, class, start, Duration::zero());
        let Some(due) = fresh.resolve else { return Ok(()) };
        let since = cal.add_business(start, pause_at);
        prop_assume!(since < due);
        let resumed = since + Duration::minutes(pause_for);
        let paused = cal.business_between(since, resumed);
        let left = cal.business_between(since, due);
        let after = policy.due_times(&cal, class, start, paused).resolve;
        prop_assert_eq!(after, Some(cal.add_business_time(resumed, left)));
    }
}
