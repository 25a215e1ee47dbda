//! When a target's alerts fall due: warnings at points before the lapse, and the breach.

use chrono::{DateTime, Utc};

use super::BusinessCalendar;
use crate::domain::BusinessDuration;

/// A point before a lapse at which to warn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarnPoint {
    /// When this percentage of the target's business time has elapsed.
    Elapsed(u8),
    /// When this much business time is left.
    Left(BusinessDuration),
}

/// Which promise an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetKind {
    Respond,
    Resolve,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Respond => "respond",
            TargetKind::Resolve => "resolve",
        }
    }
}

/// One alert of one target: its level name (`75%`, `15m`, `breach`: the ledger's word), when
/// it falls due, and how severe it is (later is more severe; the breach is the most severe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertPoint {
    pub target: TargetKind,
    pub level: String,
    /// The warning this point stands for; `None` for the breach.
    pub warn: Option<WarnPoint>,
    pub at: DateTime<Utc>,
    pub due: DateTime<Utc>,
}

impl AlertPoint {
    pub fn is_breach(&self) -> bool {
        self.level == "breach"
    }
}

/// Every alert of a target that started at `start` and lapses at `due`, `total` business
/// minutes later, in order of time. Warnings that would fall before the start are dropped.
pub fn alert_points(
    cal: &BusinessCalendar,
    warn_at: &[WarnPoint],
    target: TargetKind,
    start: DateTime<Utc>,
    due: DateTime<Utc>,
) -> Vec<AlertPoint> {
    let total = cal.business_between(start, due).num_minutes().max(0) as u64;
    let mut points: Vec<AlertPoint> = warn_at
        .iter()
        .filter_map(|w| {
            let (level, elapsed) = match *w {
                WarnPoint::Elapsed(p) => (format!("{p}%"), total * u64::from(p) / 100),
                WarnPoint::Left(d) => {
                    let left = d.minutes(cal.day_minutes());
                    (BusinessDuration::Minutes(left as u32).to_string(), total.checked_sub(left)?)
                }
            };
            let warn = Some(*w);
            (elapsed > 0).then(|| AlertPoint { target, level, warn, at: cal.add_business(start, elapsed), due })
        })
        .collect();
    points.push(AlertPoint { target, level: "breach".into(), warn: None, at: due, due });
    points.sort_by_key(|p| (p.at, p.is_breach()));
    points.dedup_by(|b, a| a.level == b.level);
    points
}

/// The alert points of a case's open targets: the response while unanswered, the resolution
/// while unresolved and not paused. Each is (start, due).
pub fn case_alert_points(
    cal: &BusinessCalendar,
    warn_at: &[WarnPoint],
    respond: Option<(DateTime<Utc>, DateTime<Utc>)>,
    resolve: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Vec<AlertPoint> {
    let mut points = Vec::new();
    if let Some((start, due)) = respond {
        points.extend(alert_points(cal, warn_at, TargetKind::Respond, start, due));
    }
    if let Some((start, due)) = resolve {
        points.extend(alert_points(cal, warn_at, TargetKind::Resolve, start, due));
    }
    points
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDateTime, TimeZone};

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        chrono_tz::Europe::London.from_local_datetime(&local).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn s2_warns_at_75_percent_and_15_minutes_then_breaches() {
        let cal = BusinessCalendar::office_hours(chrono_tz::Europe::London);
        let warn = [WarnPoint::Elapsed(75), WarnPoint::Left(BusinessDuration::Minutes(15))];
        let points = alert_points(&cal, &warn, TargetKind::Respond, at("2026-11-19 15:00"), at("2026-11-20 11:00"));
        let got: Vec<(&str, DateTime<Utc>)> = points.iter().map(|p| (p.level.as_str(), p.at)).collect();
        assert_eq!(
            got,
            [("75%", at("2026-11-20 10:00")), ("15m", at("2026-11-20 10:45")), ("breach", at("2026-11-20 11:00"))]
        );
    }
}
