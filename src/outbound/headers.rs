//! What supportd puts in a header of its own mail comes from customers: display names,
//! subjects, Message-IDs, file names. Each is made safe here, once, so that no input can make
//! lettre panic, inject a header, or write a line longer than RFC 5322 allows.

use lettre::message::header::{Header, HeaderName, HeaderValue};

pub use crate::domain::text::{one_line, phrase};

/// RFC 5322 section 2.1.1: a line is at most 998 octets before its CRLF.
pub const MAX_LINE: usize = 998;

/// Message-IDs kept in `References`: the first (the thread's root) and the last few, as
/// RFC 5322 section 3.6.4 suggests for long threads.
const KEEP_LAST_REFERENCES: usize = 9;

/// A Message-ID we can put between angle brackets in a header of ours: printable ASCII
/// without spaces or brackets, short enough for one line. Anything else is dropped, since it
/// could not thread anyway.
pub fn usable_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 900 && id.bytes().all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
}

/// `References` for a reply: usable ids only, the first and the last few when there are many.
pub fn capped_references(ids: &[String]) -> Vec<String> {
    let usable: Vec<&String> = ids.iter().filter(|id| usable_id(id)).collect();
    if usable.len() <= KEEP_LAST_REFERENCES + 1 {
        return usable.into_iter().cloned().collect();
    }
    let tail = &usable[usable.len() - KEEP_LAST_REFERENCES..];
    std::iter::once(usable[0]).chain(tail.iter().copied()).cloned().collect()
}

/// `Auto-Submitted` (RFC 3834): tells other robots not to answer.
#[derive(Debug, Clone)]
pub struct AutoSubmitted(pub String);

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// The `Subject` header. lettre folds at spaces but leaves a long run without spaces on one
/// line; such a subject is written as RFC 2047 encoded words instead, which fold anywhere.
#[derive(Debug, Clone)]
pub struct Subject(pub String);

impl Header for Subject {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Subject")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        let longest_word = self.0.split(' ').map(str::len).max().unwrap_or(0);
        if longest_word + "Subject: ".len() < 76 {
            return HeaderValue::new(Self::name(), self.0.clone());
        }
        let mut encoded = String::with_capacity(self.0.len() * 2);
        {
            let mut w = email_encoding::headers::writer::EmailWriter::new(&mut encoded, "Subject: ".len(), 0, false);
            // Writing to a String cannot fail.
            let _ = email_encoding::headers::rfc2047::encode(&self.0, &mut w);
        }
        HeaderValue::dangerous_new_pre_encoded(Self::name(), self.0.clone(), encoded)
    }
}

/// Lines over `MAX_LINE` octets, bare CRs and bare LFs in `raw`: what a valid message has none of.
pub fn line_problems(raw: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut start = 0;
    for (i, b) in raw.iter().enumerate() {
        match b {
            b'\n' if i == 0 || raw[i - 1] != b'\r' => problems.push(format!("bare LF at byte {i}")),
            b'\r' if raw.get(i + 1) != Some(&b'\n') => problems.push(format!("bare CR at byte {i}")),
            b'\n' => {
                let len = i - 1 - start;
                if len > MAX_LINE {
                    problems.push(format!("line of {len} octets at byte {start}"));
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    if raw.len() - start > MAX_LINE {
        problems.push(format!("last line of {} octets", raw.len() - start));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_keep_the_root_and_the_latest() {
        let ids: Vec<String> = (0..100).map(|i| format!("{i}@x")).collect();
        let kept = capped_references(&ids);
        assert_eq!(kept.len(), KEEP_LAST_REFERENCES + 1);
        assert_eq!(kept[0], "0@x");
        assert_eq!(kept.last().unwrap(), "99@x");
        let bad = vec!["a b@x".to_owned(), "<x>".to_owned(), "ok@x".to_owned(), "x".repeat(1000)];
        assert_eq!(capped_references(&bad), ["ok@x"]);
    }

    #[test]
    fn finds_long_lines_and_bare_line_ends() {
        assert!(line_problems(b"a\r\nb\r\n").is_empty());
        assert_eq!(line_problems(b"a\nb\r\n").len(), 1);
        assert_eq!(line_problems(b"a\rb\r\n").len(), 1);
        assert_eq!(line_problems(&[b'x'; 999]).len(), 1);
        assert!(line_problems(&[b'x'; 998]).is_empty());
    }
}
