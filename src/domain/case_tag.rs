use super::{CaseNumber, ParseError};

/// How a case number is marked in subjects: text around `{number}`, `[Case #{number}]` by
/// default. Matching ignores case, so `RE: [case #000123]` is still the tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseTag {
    prefix: String,
    suffix: String,
}

impl Default for CaseTag {
    fn default() -> Self {
        Self { prefix: "[Case #".into(), suffix: "]".into() }
    }
}

impl std::str::FromStr for CaseTag {
    type Err = ParseError;

    fn from_str(format: &str) -> Result<Self, Self::Err> {
        let (prefix, suffix) = format.split_once("{number}").ok_or_else(|| {
            ParseError::new(format!("expected a format with {{number}}, e.g. \"[Case #{{number}}]\", got {format:?}"))
        })?;
        if prefix.trim().is_empty() || suffix.contains("{number}") || prefix.chars().any(|c| c.is_ascii_digit()) {
            return Err(ParseError::new(format!(
                "{format:?} needs non-empty text before {{number}}, no digits in it, and one {{number}}"
            )));
        }
        Ok(Self { prefix: prefix.to_owned(), suffix: suffix.to_owned() })
    }
}

impl CaseTag {
    pub fn render(&self, number: CaseNumber) -> String {
        format!("{}{number}{}", self.prefix, self.suffix)
    }

    /// The number of the first tag in `subject`.
    pub fn find(&self, subject: &str) -> Option<CaseNumber> {
        self.spans(subject).into_iter().next().map(|(_, _, n)| n)
    }

    /// `subject` with every tag removed.
    pub fn strip(&self, subject: &str) -> String {
        let mut out = subject.to_owned();
        for (start, end, _) in self.spans(subject).into_iter().rev() {
            out.replace_range(start..end, " ");
        }
        out
    }

    /// (start, end, number) of each well-formed tag, as byte offsets into `subject`.
    fn spans(&self, subject: &str) -> Vec<(usize, usize, CaseNumber)> {
        let lower = subject.to_lowercase();
        // Lower-casing can change byte lengths outside ASCII; the offsets must stay valid.
        if lower.len() == subject.len() {
            scan(&lower, &self.prefix.to_lowercase(), &self.suffix.to_lowercase())
        } else {
            scan(subject, &self.prefix, &self.suffix)
        }
    }
}

fn scan(haystack: &str, prefix: &str, suffix: &str) -> Vec<(usize, usize, CaseNumber)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(pos) = haystack[from..].find(prefix) {
        let start = from + pos;
        let digits_at = start + prefix.len();
        let end = digits_at + haystack[digits_at..].bytes().take_while(u8::is_ascii_digit).count();
        if end > digits_at
            && haystack[end..].starts_with(suffix)
            && let Ok(n) = haystack[digits_at..end].parse::<CaseNumber>()
        {
            found.push((start, end + suffix.len(), n));
        }
        from = digits_at;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_custom_formats() {
        let n = CaseNumber::new(123).unwrap();
        assert_eq!(CaseTag::default().render(n), "[Case #000123]");
        let custom: CaseTag = "(Ticket {number})".parse().unwrap();
        assert_eq!(custom.render(n), "(Ticket 000123)");
        assert_eq!(custom.find("Re: (ticket 000123) printer"), Some(n));
        assert_eq!(custom.find("Re: [Case #000123] printer"), None);
        assert_eq!(custom.strip("Re: (Ticket 000123) printer").trim(), "Re:   printer".trim());
        for bad in ["[Case #]", "{number}", "#1{number}", "[{number}{number}]"] {
            assert!(bad.parse::<CaseTag>().is_err(), "{bad}");
        }
    }

    #[test]
    fn finds_with_non_ascii_around() {
        let tag = CaseTag::default();
        assert_eq!(tag.find("回复: [Case #000042] 打印机").map(CaseNumber::get), Some(42));
        assert_eq!(tag.find("Ärger [CASE #7]").map(CaseNumber::get), Some(7));
    }
}
