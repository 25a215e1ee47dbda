use std::fmt;
use std::str::FromStr;

use super::ParseError;

/// A span of business time: minutes, hours, or business days. A business day is that
/// day's opening hours (8 h on the default calendar), so days stay days until the
/// calendar turns them into time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusinessDuration {
    Minutes(u32),
    Days(u32),
}

impl BusinessDuration {
    /// The span in minutes, counting a business day as `day_minutes`.
    pub fn minutes(self, day_minutes: u32) -> u64 {
        match self {
            BusinessDuration::Minutes(m) => u64::from(m),
            BusinessDuration::Days(d) => u64::from(d) * u64::from(day_minutes),
        }
    }

    /// "within 4 business hours", "within 1 business day".
    pub fn in_words(self) -> String {
        let plural = |n: u32, one: &str| if n == 1 { format!("{n} {one}") } else { format!("{n} {one}s") };
        match self {
            BusinessDuration::Days(d) => plural(d, "business day"),
            BusinessDuration::Minutes(m) if m % 60 == 0 => plural(m / 60, "business hour"),
            BusinessDuration::Minutes(m) => plural(m, "business minute"),
        }
    }
}

/// The longest SLA target or warning offset: a year of business days, or of business
/// hours. More is a typo (`4000h` for `40h`), and the calendar only looks 20 years ahead.
const MAX_BUSINESS_DAYS: u64 = 366;
const MAX_BUSINESS_MINUTES: u64 = 366 * 24 * 60;

impl FromStr for BusinessDuration {
    type Err = ParseError;

    /// `45m`, `4h`, `1d`, `1h30m`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let examples = "45m, 4h or 2d";
        let text = s.trim();
        let (amount, max, unit) = match text.strip_suffix('d') {
            Some(days) => (number(days.trim()), MAX_BUSINESS_DAYS, "business days"),
            None => (hours_minutes(text, false), MAX_BUSINESS_MINUTES, "business hours"),
        };
        let limit = if unit == "business days" { format!("{max} {unit}") } else { format!("{} {unit}", max / 60) };
        match amount {
            Err(refusal) => Err(refusal.explain(s, examples, &limit)),
            Ok(0) => Err(ParseError::new(format!("expected a duration above zero, such as {examples}, got {s:?}"))),
            Ok(n) if n > max => Err(Refusal::TooLarge.explain(s, examples, &limit)),
            Ok(n) => {
                let n = u32::try_from(n).expect("at most the maximum, which fits");
                Ok(if text.ends_with('d') { BusinessDuration::Days(n) } else { BusinessDuration::Minutes(n) })
            }
        }
    }
}

/// The most one `#time` entry may record. A support lead reads a single entry above a day's
/// work as a typo (`#time 80h` for `8h`); longer work is recorded as several entries.
pub const MAX_WORK_MINUTES: u32 = 24 * 60;

/// Minutes of work in one time entry, 1 minute to `MAX_WORK_MINUTES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkTime(u32);

impl WorkTime {
    pub fn minutes(self) -> u32 {
        self.0
    }
}

impl FromStr for WorkTime {
    type Err = ParseError;

    /// `45m`, `2h`, `1h30m`, `1.5h` (up to 6 decimals, rounded to the minute) or plain
    /// minutes (`30`). Digits only, no sign, exponent or `inf`, and every step checked:
    /// `1e10h60m` is refused, not wrapped round to 59 minutes.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let examples = "45m, 1h30m or 1.5h";
        let text = s.trim().to_ascii_lowercase();
        let amount = if text.bytes().all(|b| b.is_ascii_digit()) { number(&text) } else { hours_minutes(&text, true) };
        let max = "24 hours, the most one time entry may record";
        match amount {
            Err(refusal) => Err(refusal.explain(s, examples, max)),
            Ok(0) => Err(ParseError::new(format!("expected at least 1 minute, got {s:?}"))),
            Ok(n) if n > u64::from(MAX_WORK_MINUTES) => Err(Refusal::TooLarge.explain(s, examples, max)),
            Ok(n) => Ok(WorkTime(u32::try_from(n).expect("at most MAX_WORK_MINUTES"))),
        }
    }
}

/// Why an amount of time was refused, before the caller names its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Malformed,
    TooLarge,
}

impl Refusal {
    fn explain(self, input: &str, examples: &str, max: &str) -> ParseError {
        ParseError::new(match self {
            Refusal::Malformed => format!("expected a duration such as {examples}, got {input:?}"),
            Refusal::TooLarge => format!("{input:?} is too long: at most {max}"),
        })
    }
}

/// `[H[.F]h][Mm]` in minutes, at least one part; decimals only when `fraction`.
fn hours_minutes(text: &str, fraction: bool) -> Result<u64, Refusal> {
    let (hours, rest) = match text.split_once('h') {
        Some((h, rest)) => (Some(h), rest),
        None => (None, text),
    };
    let minutes = match rest {
        "" if hours.is_some() => 0,
        m => number(m.strip_suffix('m').ok_or(Refusal::Malformed)?)?,
    };
    let from_hours = match hours {
        None => 0,
        Some(h) => hours_in_minutes(h, fraction)?,
    };
    from_hours.checked_add(minutes).ok_or(Refusal::TooLarge)
}

fn hours_in_minutes(h: &str, fraction: bool) -> Result<u64, Refusal> {
    let (whole, part) = match h.split_once('.') {
        Some((whole, part)) if fraction => (whole, fraction_of_hour(part)?),
        Some(_) => return Err(Refusal::Malformed),
        None => (h, 0),
    };
    // `.5h` is half an hour; `.h` and `h` are nothing.
    let whole = if whole.is_empty() && h.contains('.') { 0 } else { number(whole)? };
    whole.checked_mul(60).and_then(|m| m.checked_add(part)).ok_or(Refusal::TooLarge)
}

/// `5` of `1.5h` is 30 minutes: the decimals as a share of an hour, rounded half up. Six
/// decimals are finer than a second, and keep the arithmetic far from overflow.
fn fraction_of_hour(digits: &str) -> Result<u64, Refusal> {
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::Malformed);
    }
    let scale = 10u64.pow(digits.len() as u32);
    let n = number(digits)?;
    Ok((n * 120 + scale) / (2 * scale))
}

/// ASCII digits as a number; overflow is `TooLarge`, never a wrap.
fn number(digits: &str) -> Result<u64, Refusal> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::Malformed);
    }
    digits.bytes().try_fold(0u64, |n, b| n.checked_mul(10)?.checked_add(u64::from(b - b'0'))).ok_or(Refusal::TooLarge)
}

impl fmt::Display for BusinessDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BusinessDuration::Days(d) => write!(f, "{d}d"),
            BusinessDuration::Minutes(m) if m % 60 == 0 => write!(f, "{}h", m / 60),
            BusinessDuration::Minutes(m) => write!(f, "{m}m"),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!("45m".parse(), Ok(BusinessDuration::Minutes(45)));
        assert_eq!("4h".parse(), Ok(BusinessDuration::Minutes(240)));
        assert_eq!("1h30m".parse(), Ok(BusinessDuration::Minutes(90)));
        assert_eq!("2d".parse(), Ok(BusinessDuration::Days(2)));
        for bad in ["", "4", "h", "0h", "-1h", "4x", "1.5h", "1e3h", "m", "1h2", "d", "+1d"] {
            assert!(bad.parse::<BusinessDuration>().is_err(), "{bad}");
        }
    }

    #[test]
    fn business_durations_beyond_a_year_or_u64_are_refused_by_name() {
        assert_eq!("366d".parse(), Ok(BusinessDuration::Days(366)));
        for too_long in ["367d", "8785h", "99999999999999999999999d", "99999999999999999999h", "18446744073709551615h"]
        {
            let e = too_long.parse::<BusinessDuration>().expect_err(too_long);
            assert!(e.to_string().contains("too long"), "{too_long}: {e}");
        }
    }

    #[test]
    fn work_time_forms() {
        let minutes = |s: &str| s.parse::<WorkTime>().map(WorkTime::minutes);
        assert_eq!(minutes("45m"), Ok(45));
        assert_eq!(minutes("2H"), Ok(120));
        assert_eq!(minutes("1.5h"), Ok(90));
        assert_eq!(minutes(".25h"), Ok(15));
        assert_eq!(minutes("0.3333h"), Ok(20));
        assert_eq!(minutes("1h15m"), Ok(75));
        assert_eq!(minutes("30"), Ok(30));
        assert_eq!(minutes("24h"), Ok(MAX_WORK_MINUTES));
        // Exponents, signs and float words are not durations: `1e10h60m` is no longer 59 minutes.
        for bad in
            ["soon", "", "h", "1.h", "1.5.5h", "1e10h60m", "1e1h", "-1h", "+5m", "inf", "NaNh", "1h30", "1.1234567h"]
        {
            let e = minutes(bad).expect_err(bad);
            assert!(e.to_string().starts_with("expected a duration"), "{bad}: {e}");
        }
        assert!(minutes("0m").expect_err("zero").to_string().contains("at least 1 minute"));
    }

    #[test]
    fn work_time_overflow_is_refused_not_wrapped() {
        for too_long in ["24h1m", "1441", "4294967296m", "71582789h", "99999999999999999999999h60m"] {
            let e = too_long.parse::<WorkTime>().expect_err(too_long);
            assert!(e.to_string().contains("at most 24 hours"), "{too_long}: {e}");
        }
    }

    proptest! {
        /// `HhMm` is H * 60 + M, whatever the size: in range it parses to that; beyond it,
        /// even past u64, it is refused, never wrapped.
        #[test]
        fn work_time_agrees_with_reference(h in prop_oneof![0u64..30, any::<u64>()], m in prop_oneof![0u64..2000, any::<u64>()]) {
            let expected = h.checked_mul(60).and_then(|x| x.checked_add(m));
            let parsed = format!("{h}h{m}m").parse::<WorkTime>().map(WorkTime::minutes);
            if let Some(n) = expected.filter(|n| (1..=u64::from(MAX_WORK_MINUTES)).contains(n)) {
                prop_assert_eq!(parsed, Ok(n as u32));
            } else {
                prop_assert!(parsed.is_err());
            }
        }

        /// Decimal hours with two places round to the nearest minute, as f64 arithmetic does
        /// for such small numbers.
        #[test]
        fn decimal_hours_round_to_the_minute(hundredths in 0u32..2400) {
            let text = format!("{}.{:02}h", hundredths / 100, hundredths % 100);
            let expected = (f64::from(hundredths) * 0.6).round() as u32;
            let parsed = text.parse::<WorkTime>().map(WorkTime::minutes);
            if expected == 0 { prop_assert!(parsed.is_err()) } else { prop_assert_eq!(parsed, Ok(expected)) }
        }

        #[test]
        fn any_text_is_refused_or_in_range(s in "\\PC{0,24}") {
            if let Ok(w) = s.parse::<WorkTime>() {
                prop_assert!((1..=MAX_WORK_MINUTES).contains(&w.minutes()));
            }
            if let Ok(d) = s.parse::<BusinessDuration>() {
                prop_assert!(d.minutes(24 * 60) <= MAX_BUSINESS_DAYS * 24 * 60);
            }
        }

        #[test]
        fn business_days_agree_with_reference(d in 0u64..u64::MAX) {
            let parsed = format!("{d}d").parse::<BusinessDuration>();
            if (1..=MAX_BUSINESS_DAYS).contains(&d) {
                prop_assert_eq!(parsed, Ok(BusinessDuration::Days(d as u32)));
            } else {
                prop_assert!(parsed.is_err());
            }
        }
    }

    #[test]
    fn words() {
        assert_eq!(BusinessDuration::Minutes(240).in_words(), "4 business hours");
        assert_eq!(BusinessDuration::Minutes(60).in_words(), "1 business hour");
        assert_eq!(BusinessDuration::Days(1).in_words(), "1 business day");
    }
}
