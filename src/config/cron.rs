//! Cron expressions as `daemon.toml` holds them. Six (or seven) fields keep the `cron` crate's
//! own meaning: seconds first, weekdays 1–7 counted from Sunday. Classic five-field expressions
//! are read as POSIX cron reads them — weekdays 0–7 with 0 and 7 Sunday — and translated to the
//! crate's numbering day by day, so `0 8 * * 1-5` runs Monday to Friday, not Sunday to Thursday.

use std::fmt;
use std::ops::Deref;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// A schedule that parsed, with the expression as it was written (for `check-config`).
#[derive(Debug, Clone)]
pub struct CronSchedule {
    written: String,
    schedule: cron::Schedule,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    /// `reason` says which rule it breaks, in the operator's terms (the crate's own message
    /// points into the translated form and misstates the ranges).
    #[error("invalid cron expression {expr:?}: {reason}")]
    Invalid { expr: String, reason: String },
    #[error("invalid cron expression {expr:?}: day of week {field:?}: {why}")]
    Weekday { expr: String, field: String, why: String },
    /// POSIX runs on a day that matches either field when both are restricted; the crate
    /// wants both to match. No single crate expression says "either", so it is refused.
    #[error(
        "cron expression {expr:?} restricts both the day of month and the day of week: classic cron \
         runs on days matching either, supportd's scheduler only on days matching both; leave one of \
         them as * (or use 6 fields, where both must match)"
    )]
    BothDays { expr: String },
    /// `0 8 30 2 *` parses, but no 30 February comes: a job that never runs is a typo.
    #[error("cron expression {expr:?} never runs (no date matches it)")]
    Never { expr: String },
}

impl CronSchedule {
    pub fn parse(expr: &str) -> Result<Self, CronError> {
        let fields: Vec<&str> = expr.split_whitespace().collect();
        let crate_form = if fields.len() == 5 { classic(expr, &fields)? } else { expr.trim().to_owned() };
        let schedule: cron::Schedule = crate_form.parse().map_err(|e: cron::error::Error| CronError::Invalid {
            expr: expr.to_owned(),
            reason: invalid(fields.len(), &e),
        })?;
        if schedule.upcoming(Utc).next().is_none() {
            return Err(CronError::Never { expr: expr.to_owned() });
        }
        Ok(CronSchedule { written: expr.to_owned(), schedule })
    }

    /// The expression as the operator wrote it.
    pub fn written(&self) -> &str {
        &self.written
    }

    /// The expression in the crate's form (differs from `written` for 5 fields).
    pub fn read_as(&self) -> &str {
        self.schedule.source()
    }

    /// The next `n` times it fires after `after`, in `zone`.
    pub fn next_runs(&self, zone: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Tz>> {
        self.schedule.after(&after.with_timezone(&zone)).take(n).collect()
    }
}

impl Deref for CronSchedule {
    type Target = cron::Schedule;
    fn deref(&self) -> &cron::Schedule {
        &self.schedule
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

/// Why the crate refused an expression, in words about what the operator wrote.
fn invalid(fields: usize, e: &cron::error::Error) -> String {
    if !(5..=7).contains(&fields) {
        return format!("{fields} fields; expected 5, or 6 with seconds first, e.g. \"0 * * * * *\"");
    }
    // The crate names the value it choked on: "('60' specified.)".
    let crate_says = e.to_string();
    let value = crate_says.split("('").nth(1).and_then(|rest| rest.split('\'').next());
    let ranges = "minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of week 0-7 or SUN-SAT \
                  (1-7 from Sunday in 6 fields)";
    match value {
        Some(v) => format!("{v:?} is out of range or malformed ({ranges})"),
        None => format!("a field is out of range or malformed ({ranges})"),
    }
}

/// `m h dom mon dow` -> `0 m h dom mon dow'` with the weekdays renumbered.
fn classic(expr: &str, fields: &[&str]) -> Result<String, CronError> {
    let [minute, hour, dom, month, dow] = fields else { unreachable!("called with five fields") };
    let any = |f: &str| f == "*" || f == "?";
    if !any(dom) && !any(dow) {
        return Err(CronError::BothDays { expr: expr.to_owned() });
    }
    let weekdays = if any(dow) {
        "*".to_owned()
    } else {
        let days = posix_weekdays(dow).map_err(|why| CronError::Weekday {
            expr: expr.to_owned(),
            field: (*dow).to_owned(),
            why,
        })?;
        // POSIX 0 (Sunday) is the crate's 1.
        (0..7u8).filter(|&d| days[d as usize]).map(|d| (d + 1).to_string()).collect::<Vec<_>>().join(",")
    };
    Ok(format!("0 {minute} {hour} {dom} {month} {weekdays}"))
}

/// The days (index 0 = Sunday) a POSIX day-of-week field names: lists of values, ranges and
/// steps over a range or `*`; numbers 0–7 or names.
fn posix_weekdays(field: &str) -> Result<[bool; 7], String> {
    let mut days = [false; 7];
    for part in field.split(',') {
        let (base, step) = match part.split_once('/') {
            Some((base, step)) => (base, Some(step_of(step)?)),
            None => (part, None),
        };
        let (from, to) = match base.split_once('-') {
            _ if base == "*" => (0, 6),
            Some((a, b)) => (weekday(a)?, weekday(b)?),
            None if step.is_some() => return Err(format!("{part:?}: a step needs a range or *, e.g. 1-5/2")),
            None => (weekday(base)?, weekday(base)?),
        };
        // `FRI-SUN`: a range ending on Sunday's name ends on its 7. A number means what it
        // says, so `6-0` is backward (write `6-7`), as the README promises.
        let named_sunday = base.split_once('-').is_some_and(|(_, b)| b.parse::<usize>().is_err());
        let to = if to == 0 && from > 0 && named_sunday { 7 } else { to };
        if from > to {
            return Err(format!("{base:?}: a range must go forward; write e.g. 5-7,0-1 for Friday to Monday"));
        }
        for d in (from..=to).step_by(step.unwrap_or(1)) {
            days[d % 7] = true;
        }
    }
    Ok(days)
}

fn step_of(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=7).contains(&n) => Ok(n),
        _ => Err(format!("step {text:?} must be 1..7")),
    }
}

/// 0–7 (0 and 7 both Sunday) or a day's name, as POSIX numbers it.
fn weekday(text: &str) -> Result<usize, String> {
    const NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    if let Ok(n) = text.parse::<usize>() {
        return if n <= 7 { Ok(n) } else { Err(format!("{text:?} is not a weekday (0-7, 0 and 7 are Sunday)")) };
    }
    let lower = text.to_ascii_lowercase();
    let full = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
    NAMES
        .iter()
        .zip(full)
        .position(|(short, long)| lower == *short || lower == long)
        .ok_or_else(|| format!("{text:?} is not a weekday (0-7 with 0 and 7 Sunday, or SUN..SAT)"))
}

#[cfg(test)]
mod tests {
    use chrono::{Datelike, TimeZone, Timelike, Weekday};

    use super::*;

    fn read_as(expr: &str) -> String {
        CronSchedule::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}")).read_as().to_owned()
    }

    #[test]
    fn weekdays_one_to_five_fire_monday_to_friday_only() {
        let s = CronSchedule::parse("0 8 * * 1-5").unwrap();
        let zone = chrono_tz::Europe::London;
        // Two whole weeks from Sunday 2026-12-06 00:00.
        let start = zone.with_ymd_and_hms(2026, 12, 6, 0, 0, 0).unwrap().with_timezone(&Utc);
        let end = start + chrono::Duration::days(14);
        let fires: Vec<_> = s.next_runs(zone, start, 100).into_iter().take_while(|t| *t < end).collect();
        assert_eq!(fires.len(), 10, "{fires:?}");
        for t in &fires {
            assert!(!matches!(t.weekday(), Weekday::Sat | Weekday::Sun), "fired on {t}");
            assert_eq!((t.hour(), t.minute()), (8, 0), "{t}");
        }
        let days: std::collections::BTreeSet<_> = fires.iter().map(|t| t.date_naive()).collect();
        assert_eq!(days.len(), 10, "every weekday of both weeks fires once: {fires:?}");
    }

    #[test]
    fn classic_weekdays_are_translated_day_by_day() {
        let table = [
            ("0 8 * * 1-5", "0 0 8 * * 2,3,4,5,6"),
            ("0 8 * * 0", "0 0 8 * * 1"),
            ("0 8 * * 7", "0 0 8 * * 1"),
            ("0 8 * * 5-7", "0 0 8 * * 1,6,7"),
            ("0 8 * * 0-6", "0 0 8 * * 1,2,3,4,5,6,7"),
            ("0 8 * * 0-7", "0 0 8 * * 1,2,3,4,5,6,7"),
            ("0 8 * * */2", "0 0 8 * * 1,3,5,7"),
            ("0 8 * * 1-5/2", "0 0 8 * * 2,4,6"),
            ("0 8 * * MON-FRI", "0 0 8 * * 2,3,4,5,6"),
            ("0 8 * * mon,wed,Friday", "0 0 8 * * 2,4,6"),
            ("0 8 * * MON-5", "0 0 8 * * 2,3,4,5,6"),
            ("0 8 * * FRI-SUN", "0 0 8 * * 1,6,7"),
            ("0 8 * * 6,0", "0 0 8 * * 1,7"),
            ("*/5 * * * *", "0 */5 * * * *"),
            ("0 8 1 * *", "0 0 8 1 * *"),
            ("0 8 * JAN-MAR ?", "0 0 8 * JAN-MAR *"),
        ];
        for (classic, crate_form) in table {
            assert_eq!(read_as(classic), crate_form, "{classic}");
        }
    }

    #[test]
    fn six_fields_keep_the_crates_meaning() {
        for expr in ["0 * * * * *", "0 0 * * * *", "0 0 8 1 * *", "0 0 8 * * 2-6", "0 0 8 * * Mon-Fri"] {
            assert_eq!(read_as(expr), expr);
        }
        // The crate's Sunday is 1: "0" stays refused in 6 fields.
        assert!(CronSchedule::parse("0 0 8 * * 0").is_err());
    }

    #[test]
    fn what_cannot_be_translated_is_refused_in_words() {
        let refused = [
            ("0 8 * * 8", "\"8\" is not a weekday"),
            ("0 8 * * 5-1", "a range must go forward"),
            ("0 8 * * 6-0", "a range must go forward"),
            ("0 8 * * 1/2", "a step needs a range or *"),
            ("0 8 * * */0", "step \"0\" must be 1..7"),
            ("0 8 * * MON-XYZ", "\"XYZ\" is not a weekday"),
            ("0 8 * * 1,,2", "is not a weekday"),
            ("0 8 1 * 1-5", "restricts both the day of month and the day of week"),
            ("0 8 * *", "4 fields; expected 5"),
            ("61 * * * *", "\"61\" is out of range or malformed (minute 0-59"),
            ("0 25 * * *", "\"25\" is out of range or malformed"),
            ("0 0 8 * * 0", "\"0\" is out of range or malformed"),
            ("0 8 30 2 *", "never runs"),
            ("0 0 8 31 4 *", "never runs"),
        ];
        for (expr, words) in refused {
            let e = CronSchedule::parse(expr).expect_err(expr).to_string();
            assert!(e.contains(words), "{expr}: {e}");
            assert!(e.contains(&format!("{expr:?}")), "names the expression: {e}");
        }
    }
}
