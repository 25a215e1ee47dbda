//! A kept message shown to an agent in a terminal (`held show`): its text, bounded, and what
//! it carries. The stored bytes may be 25 MB of someone else's making; the screen gets at
//! most `MAX_BYTES` or `MAX_LINES` of text and a note of what was cut; the header section and
//! the list of attachments are bounded the same way, and no escape sequence reaches it.

use super::{ParseError, parse};
use crate::domain::text::phrase;

pub const MAX_BYTES: usize = 8 * 1024;
pub const MAX_LINES: usize = 200;
/// A message of thousands of parts lists the first ones and how many more.
pub const MAX_ATTACHMENTS: usize = 50;

/// The text to show, what was left out ("" when nothing), and the attachments.
#[derive(Debug, PartialEq, Eq)]
pub struct Preview {
    pub text: String,
    pub cut: String,
    pub attachments: Vec<AttachmentLine>,
    /// Attachments not listed (beyond `MAX_ATTACHMENTS`).
    pub more_attachments: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub struct AttachmentLine {
    pub name: String,
    pub content_type: String,
    pub size: usize,
}

/// mail-parser decodes the transfer encoding and charset, and gives HTML-only mail as text.
pub fn preview(raw: &[u8]) -> Result<Preview, ParseError> {
    let msg = parse(raw)?;
    let (text, cut) = bounded(msg.text_body.trim());
    let attachments = msg
        .attachments
        .iter()
        .take(MAX_ATTACHMENTS)
        .map(|a| AttachmentLine {
            name: phrase(a.filename.as_deref().unwrap_or("(no name)")),
            content_type: phrase(&a.content_type),
            size: a.data.len(),
        })
        .collect();
    let more_attachments = msg.attachments.len().saturating_sub(MAX_ATTACHMENTS);
    Ok(Preview { text: printable_text(&text), cut, attachments, more_attachments })
}

/// The header section as a terminal may show it: at most `MAX_BYTES` (a message with no blank
/// line is all header section, up to the size limit), control characters defused, and what was
/// cut ("" when nothing). Works on bytes mail-parser cannot read too.
pub fn headers(raw: &[u8]) -> (String, String) {
    let total = super::header_section_len(raw);
    let section = String::from_utf8_lossy(&raw[..total.min(MAX_BYTES)]);
    let section = section.trim_end();
    let end = section.floor_char_boundary(MAX_BYTES);
    let shown = printable_text(&section[..end]);
    let cut = match total > MAX_BYTES {
        true => format!("[cut: {end} of {total} bytes of the header section shown]"),
        false => String::new(),
    };
    (shown, cut)
}

/// At most `MAX_LINES` lines and `MAX_BYTES` bytes, cut at a character boundary.
fn bounded(text: &str) -> (String, String) {
    let total_lines = text.lines().count();
    let mut end = text.len();
    if let Some((i, _)) = text.match_indices('\n').nth(MAX_LINES - 1) {
        end = i;
    }
    end = text.floor_char_boundary(end.min(MAX_BYTES));
    if end >= text.len() {
        return (text.to_owned(), String::new());
    }
    let shown = &text[..end];
    let cut = format!(
        "[cut: {} of {} lines and {} of {} bytes shown]",
        shown.lines().count(),
        total_lines,
        shown.len(),
        text.len()
    );
    (shown.to_owned(), cut)
}

/// A terminal must not take escape sequences from a sender: control characters but the line
/// breaks and tabs become `?`; the CR of a CRLF line end is dropped (nearly all mail has them,
/// and a `?` at the end of every line reads as damage).
fn printable_text(s: &str) -> String {
    s.replace("\r\n", "\n").chars().map(|c| if c.is_control() && c != '\n' && c != '\t' { '?' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_line_ends_read_as_lines_and_a_lone_cr_is_marked() {
        assert_eq!(printable_text("line one\r\nline two\r\n"), "line one\nline two\n");
        assert_eq!(printable_text("a\rb\x1b[31m"), "a?b?[31m");
    }

    fn mail(headers: &str, body: &str) -> Vec<u8> {
        format!("From: sam@acme.example\r\nTo: support@example.com\r\nSubject: Hi\r\n{headers}\r\n{body}").into_bytes()
    }

    #[test]
    fn a_quoted_printable_body_is_decoded() {
        let raw = mail(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n",
            "Gr=C3=BC=C3=9Fe, the export fails.\r\n",
        );
        let p = preview(&raw).unwrap();
        assert_eq!(p.text, "Grüße, the export fails.");
        assert_eq!(p.cut, "");
        assert!(p.attachments.is_empty());
    }

    #[test]
    fn html_only_mail_is_shown_as_text() {
        let raw = mail(
            "Content-Type: text/html; charset=utf-8\r\n",
            "<html><body><p>The <b>export</b> fails.</p></body></html>\r\n",
        );
        let p = preview(&raw).unwrap();
        assert!(p.text.contains("The export fails."), "{:?}", p.text);
        assert!(!p.text.contains('<'), "{:?}", p.text);
    }

    #[test]
    fn long_text_is_cut_by_lines_and_by_bytes_and_says_so() {
        let many: String = (1..=500).map(|i| format!("line {i}\n")).collect();
        let p = preview(&mail("Content-Type: text/plain\r\n", &many)).unwrap();
        assert_eq!(p.text.lines().count(), MAX_LINES);
        assert!(p.cut.starts_with("[cut: 200 of 500 lines"), "{}", p.cut);
        let wide = "é".repeat(10_000);
        let p = preview(&mail("Content-Type: text/plain; charset=utf-8\r\n", &wide)).unwrap();
        assert_eq!(p.text.len(), MAX_BYTES);
        assert!(p.cut.contains("8192 of 20000 bytes"), "{}", p.cut);
    }

    #[test]
    fn attachments_are_listed_with_name_type_and_size_and_escapes_are_defused() {
        let raw = mail(
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n",
            "--b\r\nContent-Type: text/plain\r\n\r\nSee the log \x1b[31mred\r\n--b\r\n\
             Content-Type: text/csv; name=\"export.csv\"\r\nContent-Disposition: attachment; filename=\"export.csv\"\r\n\r\n\
             a,b\r\n1,2\r\n--b--\r\n",
        );
        let p = preview(&raw).unwrap();
        assert_eq!(p.text, "See the log ?[31mred");
        assert_eq!(p.attachments.len(), 1, "{:?}", p.attachments);
        assert_eq!(p.attachments[0].name, "export.csv");
        assert!(p.attachments[0].content_type.starts_with("text/csv"), "{:?}", p.attachments);
        assert!(p.attachments[0].size >= 7, "{:?}", p.attachments);
    }

    #[test]
    fn headers_are_defused_and_bounded() {
        let raw = mail("X-Evil: \x1b]0;pwned\x07\x1b[2J\r\n", "Hello\r\n");
        let (shown, cut) = headers(&raw);
        assert!(shown.contains("X-Evil: ?]0;pwned??[2J"), "{shown:?}");
        assert!(!shown.contains('\r') && !shown.contains('\x1b'), "{shown:?}");
        assert!(shown.starts_with("From: sam@acme.example\nTo:"), "{shown:?}");
        assert_eq!(cut, "");
        // No blank line: everything is header section, and only 8 KiB of it is shown.
        let endless: Vec<u8> = (0..100_000).flat_map(|i| format!("X-{i}: y\r\n").into_bytes()).collect();
        let (shown, cut) = headers(&endless);
        assert!(shown.len() <= MAX_BYTES, "{}", shown.len());
        assert!(cut.starts_with("[cut: 8192 of "), "{cut}");
    }

    #[test]
    fn attachments_listed_are_at_most_fifty_with_short_names() {
        let part = |i: usize| {
            let name = format!("{i}-{}.txt", "n".repeat(300));
            format!(
                "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\r\nx\r\n"
            )
        };
        let parts: String = (0..120).map(part).collect();
        let body = format!("--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n{parts}--b--\r\n");
        let p = preview(&mail("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n", &body)).unwrap();
        assert_eq!(p.attachments.len(), MAX_ATTACHMENTS);
        assert_eq!(p.more_attachments, 70);
        assert!(p.attachments.iter().all(|a| a.name.chars().count() <= 201), "{:?}", p.attachments[0]);
    }
}
