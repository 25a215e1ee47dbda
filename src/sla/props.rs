//! Property tests: the closed-form calendar arithmetic agrees with a naive reference that
//! steps minute by minute, for random starts and durations across DST transitions (London and
//! New York) and holidays.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::{BusinessCalendar, Opening};

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
