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

    /// `subject` with every tag replaced by a space.
    pub fn strip(&self, subject: &str) -> String {
        let mut out = String::with_capacity(subject.len());
        let mut from = 0;
        for (start, end, _) in self.spans(subject) {
            out.push_str(&subject[from..start]);
            out.push(' ');
            from = end;
        }
        out.push_str(&subject[from..]);
        out
    }

    /// (start, end, number) of each well-formed tag, as byte offsets into `subject` itself.
    /// Matching compares character by character: offsets found in a lower-cased copy would
    /// be wrong wherever lower-casing changes a length (`İ`, `ẞ`).
    fn spans(&self, subject: &str) -> Vec<(usize, usize, CaseNumber)> {
        let mut found = Vec::new();
        let mut pos = 0;
        while pos < subject.len() {
            match self.tag_at(subject, pos) {
                Some((end, n)) => {
                    found.push((pos, end, n));
                    pos = end;
                }
                None => pos += subject[pos..].chars().next().map_or(1, char::len_utf8),
            }
        }
        found
    }

    /// The end and number of a tag that starts at byte `start`.
    fn tag_at(&self, subject: &str, start: usize) -> Option<(usize, CaseNumber)> {
        let digits_at = start + matches_at(&subject[start..], &self.prefix)?;
        let digits = subject[digits_at..].bytes().take_while(u8::is_ascii_digit).count();
        let n = subject[digits_at..digits_at + digits].parse::<CaseNumber>().ok()?;
        let end = digits_at + digits + matches_at(&subject[digits_at + digits..], &self.suffix)?;
        Some((end, n))
    }
}

/// The byte length of `text`'s start when it is `pattern`, ignoring case.
fn matches_at(text: &str, pattern: &str) -> Option<usize> {
    let mut len = 0;
    let mut chars = text.chars();
    for p in pattern.chars() {
        let c = chars.next()?;
        if c != p && !c.to_lowercase().eq(p.to_lowercase()) {
            return None;
        }
        len += c.len_utf8();
    }
    Some(len)
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

    #[test]
    fn case_mappings_that_change_length_keep_offsets_right() {
        let tag = CaseTag::default();
        // `İ` lower-cases to three bytes, `ẞ` to two: together the same length, shifted.
        for s in ["İ [CASE #000012] ẞ", "ẞİ[Case #12]", "[case #12]İİİİ", "İ[CASE #12]ẞẞẞ"] {
            assert_eq!(tag.find(s).map(CaseNumber::get), Some(12), "{s}");
            let stripped = tag.strip(s);
            assert!(!stripped.contains('#') && !stripped.contains("12"), "{s} -> {stripped}");
        }
        let custom: CaseTag = "İD-{number}".parse().unwrap();
        assert_eq!(custom.find("re: i̇d-5 x").map(CaseNumber::get), None);
        assert_eq!(custom.find("re: İD-5 x").map(CaseNumber::get), Some(5));
    }
}
