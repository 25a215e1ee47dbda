//! Due-time benchmark (figures printed, not asserted): response and resolution due times
//! computed per second on one core, on the default calendar with holidays.
//! Run with `cargo bench --bench sla`.

use std::hint::black_box;
use std::time::Instant;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use supportd::domain::{CaseType, Severity};
use supportd::sla::{BusinessCalendar, SlaPolicy};

fn main() {
    let mut cal = BusinessCalendar::office_hours(chrono_tz::Europe::London);
    for (m, d) in [(12, 25), (12, 28), (1, 1), (4, 3), (4, 6), (5, 4), (5, 25), (8, 31)] {
        cal.holidays.insert(NaiveDate::from_ymd_opt(if m == 12 { 2026 } else { 2027 }, m, d).unwrap());
    }
    let policy = SlaPolicy::default();
    // Receipt times spread over a year, at odd minutes, so every path is taken.
    let base = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let starts: Vec<_> = (0..10_000i64).map(|i| base + Duration::minutes(i * 53 % (365 * 24 * 60))).collect();
    let severities = [Severity::S1, Severity::S2, Severity::S3, Severity::S4];

    let n = 2_000_000usize;
    let started = Instant::now();
    for i in 0..n {
        let start = starts[i % starts.len()];
        let severity = severities[i % 4];
        black_box(policy.respond_due(&cal, severity, start));
    }
    let respond = n as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    for i in 0..n {
        let start = starts[i % starts.len()];
        black_box(policy.resolve_due(&cal, severities[i % 3], CaseType::Query, false, start));
    }
    let resolve = n as f64 / started.elapsed().as_secs_f64();
    println!("due times on one core: respond {respond:.0}/s, resolve {resolve:.0}/s (target: 1,000,000/s)");
}
