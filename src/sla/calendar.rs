use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// One opening interval of a weekday, in the calendar's local time; `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// The support team's calendar: a time zone, opening hours per weekday, and holidays.
/// Arithmetic walks whole days (and skips whole weeks when nothing in them is special),
/// never minutes, so a 3-day target costs a handful of steps.
#[derive(Debug, Clone)]
pub struct BusinessCalendar {
    pub time_zone: Tz,
    /// Monday first.
    pub weekly: [Vec<Opening>; 7],
    pub holidays: BTreeSet<NaiveDate>,
}

/// Stops arithmetic on a calendar that never opens in this span (validation prevents it).
const MAX_DAYS: i64 = 366 * 20;

impl BusinessCalendar {
    /// Mon–Fri 09:00–17:00 in `time_zone`.
    pub fn office_hours(time_zone: Tz) -> Self {
        let nine_to_five = vec![Opening { start: hm(9, 0), end: hm(17, 0) }];
        let mut weekly: [Vec<Opening>; 7] = Default::default();
        for day in weekly.iter_mut().take(5) {
            *day = nine_to_five.clone();
        }
        Self { time_zone, weekly, holidays: BTreeSet::new() }
    }

    /// Length of a business day: the longest day's opening hours (8 h by default).
    pub fn day_minutes(&self) -> u32 {
        self.weekly
            .iter()
            .map(|day| day.iter().map(|o| (o.end - o.start).num_minutes()).sum::<i64>())
            .max()
            .unwrap_or(0) as u32
    }

    /// The instant `minutes` of business time after `start`. A target that ends exactly at
    /// closing is due at closing, not at the next opening.
    pub fn add_business(&self, start: DateTime<Utc>, minutes: u64) -> DateTime<Utc> {
        self.add_business_time(start, Duration::minutes(minutes as i64))
    }

    /// `add_business` to the second: time spent pending is counted in seconds.
    pub fn add_business_time(&self, start: DateTime<Utc>, time: Duration) -> DateTime<Utc> {
        let mut remaining = time.max(Duration::zero());
        let first = self.local_date(start);
        let mut date = first;
        let last = date + Duration::days(MAX_DAYS);
        // A whole week is worth skipping only when more than a week's hours remain; the
        // check that the week is plain (holidays, offset changes) costs time-zone look-ups.
        let week = self.week_minutes();
        while date < last {
            if date > first
                && remaining > week
                && let Some(week) = self.plain_week_minutes(date)
                && remaining > week
            {
                remaining -= week;
                date += Duration::days(7);
                continue;
            }
            for (open, close) in self.openings_utc(date) {
                let from = open.max(start);
                if from >= close {
                    continue;
                }
                if remaining <= close - from {
                    return from + remaining;
                }
                remaining -= close - from;
            }
            date += Duration::days(1);
        }
        DateTime::<Utc>::MAX_UTC
    }

    /// Business time between `a` and `b` (zero when `b <= a`).
    pub fn business_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> Duration {
        let mut total = Duration::zero();
        let mut date = self.local_date(a);
        let last = self.local_date(b);
        while date <= last {
            for (open, close) in self.openings_utc(date) {
                let (from, to) = (open.max(a), close.min(b));
                if from < to {
                    total += to - from;
                }
            }
            date += Duration::days(1);
        }
        total
    }

    /// The first open instant at or after `t`.
    pub fn next_open(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        self.add_business(t, 0)
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.time_zone).date_naive()
    }

    /// The day's openings as UTC instants; none on a holiday.
    fn openings_utc(&self, date: NaiveDate) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let day: &[Opening] = if self.holidays.contains(&date) {
            &[]
        } else {
            &self.weekly[date.weekday().num_days_from_monday() as usize]
        };
        day.iter()
            .map(move |o| (self.to_utc(date.and_time(o.start)), self.to_utc(date.and_time(o.end))))
            .filter(|(a, b)| a < b)
    }

    /// Business minutes in the 7 days from `date` when that week is ordinary (no holiday,
    /// no change of UTC offset), so it can be skipped whole; `None` otherwise.
    fn plain_week_minutes(&self, date: NaiveDate) -> Option<Duration> {
        let end = date + Duration::days(7);
        if self.holidays.range(date..end).next().is_some() {
            return None;
        }
        let offset = |d: NaiveDate| self.to_utc(d.and_time(NaiveTime::MIN)) - d.and_time(NaiveTime::MIN).and_utc();
        if offset(date) != offset(end) {
            return None;
        }
        let minutes = self.week_minutes();
        (minutes > Duration::zero()).then_some(minutes)
    }

    /// Business time in an ordinary week.
    fn week_minutes(&self) -> Duration {
        Duration::minutes(self.weekly.iter().flatten().map(|o| (o.end - o.start).num_minutes()).sum())
    }

    /// Local wall time to UTC. An ambiguous time (autumn) takes the earlier instant; a time
    /// that does not exist (spring gap) moves forward by the gap, as clocks do.
    fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.time_zone.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => {
                let mut probe = local;
                for _ in 0..(4 * 24) {
                    probe += Duration::minutes(15);
                    if let Some(t) = self.time_zone.from_local_datetime(&probe).earliest() {
                        return t.with_timezone(&Utc);
                    }
                }
                local.and_utc()
            }
        }
    }
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("valid constant time")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn london() -> BusinessCalendar {
        BusinessCalendar::office_hours(chrono_tz::Europe::London)
    }

    fn at(s: &str) -> DateTime<Utc> {
        let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        chrono_tz::Europe::London.from_local_datetime(&local).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn friday_afternoon_rolls_to_monday() {
        // 2026-11-20 is a Friday.
        assert_eq!(london().add_business(at("2026-11-20 16:30"), 60), at("2026-11-23 09:30"));
        assert_eq!(london().add_business(at("2026-11-21 12:00"), 60), at("2026-11-23 10:00"));
    }

    #[test]
    fn ends_at_closing_not_next_opening() {
        assert_eq!(london().add_business(at("2026-11-19 09:00"), 8 * 60), at("2026-11-19 17:00"));
    }

    #[test]
    fn start_at_closing_counts_from_next_opening() {
        assert_eq!(london().add_business(at("2026-11-19 17:00"), 60), at("2026-11-20 10:00"));
    }

    #[test]
    fn skips_weeks_and_holidays() {
        let mut cal = london();
        assert_eq!(cal.add_business(at("2026-11-02 10:00"), 8 * 60 * 11), at("2026-11-17 10:00"));
        cal.holidays.insert(NaiveDate::from_ymd_opt(2026, 11, 10).unwrap());
        assert_eq!(cal.add_business(at("2026-11-02 10:00"), 8 * 60 * 11), at("2026-11-18 10:00"));
    }

    #[test]
    fn between_counts_only_open_time() {
        let cal = london();
        assert_eq!(cal.business_between(at("2026-11-20 16:00"), at("2026-11-23 10:00")), Duration::hours(2));
        assert_eq!(cal.business_between(at("2026-11-23 10:00"), at("2026-11-20 16:00")), Duration::zero());
    }
}
