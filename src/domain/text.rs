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

/// A display name or file name: one line, at most `MAX_PHRASE_CHARS` characters.
pub fn phrase(text: &str) -> String {
    let line = one_line(text);
    match line.char_indices().nth(MAX_PHRASE_CHARS) {
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
}
