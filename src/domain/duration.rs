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

impl FromStr for BusinessDuration {
    type Err = ParseError;

    /// `45m`, `4h`, `1d`, `1h30m`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseError::new(format!("expected a duration such as 45m, 4h or 2d, got {s:?}"));
        let text = s.trim();
        if let Some(days) = text.strip_suffix('d') {
            let d = days.trim().parse::<u32>().map_err(|_| bad())?;
            return if d == 0 { Err(bad()) } else { Ok(BusinessDuration::Days(d)) };
        }
        let minutes = parse_hours_minutes(text).ok_or_else(bad)?;
        if minutes == 0 {
            return Err(bad());
        }
        Ok(BusinessDuration::Minutes(minutes))
    }
}

fn parse_hours_minutes(text: &str) -> Option<u32> {
    let mut total: u32 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        match c {
            '0'..='9' => digits.push(c),
            'h' | 'm' => {
                let n: u32 = digits.parse().ok()?;
                digits.clear();
                total = total.checked_add(if c == 'h' { n.checked_mul(60)? } else { n })?;
            }
            _ => return None,
        }
    }
    digits.is_empty().then_some(total)
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
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!("45m".parse(), Ok(BusinessDuration::Minutes(45)));
        assert_eq!("4h".parse(), Ok(BusinessDuration::Minutes(240)));
        assert_eq!("1h30m".parse(), Ok(BusinessDuration::Minutes(90)));
        assert_eq!("2d".parse(), Ok(BusinessDuration::Days(2)));
        for bad in ["", "4", "h", "0h", "-1h", "4x", "1.5h"] {
            assert!(bad.parse::<BusinessDuration>().is_err(), "{bad}");
        }
    }

    #[test]
    fn words() {
        assert_eq!(BusinessDuration::Minutes(240).in_words(), "4 business hours");
        assert_eq!(BusinessDuration::Minutes(60).in_words(), "1 business hour");
        assert_eq!(BusinessDuration::Days(1).in_words(), "1 business day");
    }
}
