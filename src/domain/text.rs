//! Text from mail that becomes a label: a display name, a file name, a subject line.

/// Display names and file names longer than this are cut: they label, they do not inform.
const MAX_PHRASE_CHARS: usize = 200;

/// Control characters (CR and LF included) become spaces, runs of white space one space, and
/// the text is trimmed: an encoded word that decodes to CR LF must not end a header.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A subject quoted back to someone who is not yet a party (a stranger's reply) is cut here:
/// it reminds them which message, and must not carry a sender's text to a third party.
const MAX_QUOTED_SUBJECT_CHARS: usize = 100;

/// A display name or file name: one line without bidi controls, at most `MAX_PHRASE_CHARS`
/// characters.
pub fn phrase(text: &str) -> String {
    bounded(text, MAX_PHRASE_CHARS)
}

/// A sender's subject as a reply to a stranger quotes it: one line without bidi controls, at
/// most `MAX_QUOTED_SUBJECT_CHARS` characters and an ellipsis; `(no subject)` when there is none.
pub fn quoted_subject(text: &str) -> String {
    match bounded(text, MAX_QUOTED_SUBJECT_CHARS) {
        s if s.is_empty() => "(no subject)".to_owned(),
        s => s,
    }
}

/// Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) reorder what
/// follows them: in a label, "invoice\u{202E}fdp.exe" shows as "invoiceexe.pdf".
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn bounded(text: &str, max_chars: usize) -> String {
    let line = one_line(&text.replace(is_bidi_control, ""));
    match line.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", line[..cut].trim_end()),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_one_space() {
        assert_eq!(one_line("Jane\r\nBcc: evil@x.example"), "Jane Bcc: evil@x.example");
        assert_eq!(one_line("  a\t\u{0}b \u{7f} "), "a b");
        assert_eq!(phrase(&"x".repeat(500)).chars().count(), MAX_PHRASE_CHARS + 1);
    }

    #[test]
    fn labels_and_quoted_subjects_lose_bidi_controls() {
        assert_eq!(phrase("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        let every: String = ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{2069}').collect();
        assert_eq!(quoted_subject(&format!("a{every}b")), "ab");
        assert_eq!(quoted_subject("\u{200F}שלום"), "\u{200F}שלום", "a mark is not an override: kept");
    }

    #[test]
    fn a_quoted_subject_is_short_and_never_empty() {
        let long = quoted_subject(&format!("{}\r\nBcc: x@example.com", "ab ".repeat(5000)));
        assert_eq!(long.chars().count(), MAX_QUOTED_SUBJECT_CHARS + 1, "and the ellipsis");
        assert!(long.ends_with('…') && !long.contains('\n'), "{long}");
        assert_eq!(quoted_subject(" \u{202E}\t "), "(no subject)");
        assert_eq!(quoted_subject("Printer offline"), "Printer offline");
    }
}
