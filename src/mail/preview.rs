//! A kept message shown to an agent in a terminal (`held show`): its text, bounded, and what
//! it carries. The stored bytes may be 25 MB of someone else's making; the screen gets at
//! most `MAX_BYTES` or `MAX_LINES` of text and a note of what was cut.

use super::{ParseError, parse};

pub const MAX_BYTES: usize = 8 * 1024;
pub const MAX_LINES: usize = 200;

/// The text to show, what was left out ("" when nothing), and the attachments.
#[derive(Debug, PartialEq, Eq)]
pub struct Preview {
    pub text: String,
    pub cut: String,
    pub attachments: Vec<AttachmentLine>,
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
        .map(|a| AttachmentLine {
            name: printable(a.filename.as_deref().unwrap_or("(no name)")),
            content_type: printable(&a.content_type),
            size: a.data.len(),
        })
        .collect();
    Ok(Preview { text: printable_text(&text), cut, attachments })
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

/// A terminal must not take escape sequences from a sender: control characters become `?`.
fn printable(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

fn printable_text(s: &str) -> String {
    s.chars().map(|c| if c.is_control() && c != '\n' && c != '\t' { '?' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
