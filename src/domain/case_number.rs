use std::fmt;
use std::str::FromStr;

use super::ParseError;

/// A case's public number. Displayed zero-padded to six digits (wider when needed);
/// this is the one place that format lives.
/// Stored as the database's signed 64-bit integer (`cases.number`), never 0 or negative.
#[derive(sea_orm::DeriveValueType, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseNumber(i64);

impl CaseNumber {
    pub fn new(n: u64) -> Result<Self, ParseError> {
        if n == 0 {
            return Err(ParseError::new("case numbers start at 1"));
        }
        // The database column is a signed 64-bit integer: a larger number names no case.
        let stored = i64::try_from(n).map_err(|_| ParseError::new(format!("case number {n} is too large")))?;
        Ok(Self(stored))
    }

    pub fn get(self) -> u64 {
        self.0.unsigned_abs()
    }

    /// As the database stores it.
    pub fn as_i64(self) -> i64 {
        self.0
    }

    /// The default tag, `[Case #000123]`; subjects use the configured `CaseTag`.
    pub fn tag(self) -> String {
        super::CaseTag::default().render(self)
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

impl FromStr for CaseNumber {
    type Err = ParseError;

    /// Accepts `000123`, `123` and `#000123`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.trim().trim_start_matches('#');
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::new(format!("expected a case number such as 000123, got {s:?}")));
        }
        let n = digits.parse::<u64>().map_err(|_| ParseError::new(format!("case number {s:?} is too large")))?;
        Self::new(n)
    }
}

impl serde::Serialize for CaseNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_to_six_and_grows_when_needed() {
        assert_eq!(CaseNumber::new(123).unwrap().to_string(), "000123");
        assert_eq!(CaseNumber::new(1_234_567).unwrap().to_string(), "1234567");
        assert_eq!(CaseNumber::new(5).unwrap().tag(), "[Case #000005]");
    }

    #[test]
    fn parses_padded_plain_and_hashed() {
        for s in ["000123", "123", "#000123"] {
            assert_eq!(s.parse::<CaseNumber>().unwrap().get(), 123, "{s}");
        }
        for bad in ["", "0", "12a", "-1", "99999999999999999999999", "9223372036854775808"] {
            assert!(bad.parse::<CaseNumber>().is_err(), "{bad}");
        }
        assert_eq!("9223372036854775807".parse::<CaseNumber>().map(CaseNumber::get), Ok(i64::MAX as u64));
    }
}
