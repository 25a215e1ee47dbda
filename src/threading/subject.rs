use crate::domain::CaseTag;

/// Reply and forward prefixes in the languages customers write in, lower-case.
const PREFIXES: &[&str] = &[
    "re", "fwd", "fw", "aw", "wg", "sv", "vs", "antw", "doorst", "réf", "ref", "rif", "r", "odp", "ynt", "tr", "rv",
    "res", "enc", "i", "vl", "pd", "atb", "vá", "отв", "回复", "转发", "答复", "回覆", "轉寄", "返信", "転送",
];

/// The longest prefix word in `PREFIXES`, in bytes, with room for `[2]` and spaces: a colon
/// further in ends no prefix, so no scan goes beyond this.
const MAX_PREFIX_BYTES: usize = 32;

/// The customer's subject without reply/forward prefixes and without any case tag; the
/// acknowledgement puts exactly one tag in front of it. Linear in the subject's length: a
/// megabyte of `Re: ` must not stall a mailbox.
pub fn clean_subject(subject: &str, tag: &CaseTag) -> String {
    let stripped = tag.strip(subject);
    let mut s = stripped.trim_start();
    while let Some(rest) = strip_prefix(s) {
        s = rest.trim_start();
    }
    let s = crate::domain::text::one_line(s);
    if s.is_empty() { "(no subject)".to_owned() } else { s }
}

/// `Re: x`, `RE[2]: x`, `AW : x`, `回复：x` → `x`.
fn strip_prefix(s: &str) -> Option<&str> {
    let window = &s[..s.floor_char_boundary(MAX_PREFIX_BYTES)];
    let colon = window.find([':', '：'])?;
    let head = s[..colon].trim_end();
    let head = match head.find('[') {
        Some(b) if head.ends_with(']') && head[b + 1..head.len() - 1].chars().all(|c| c.is_ascii_digit()) => &head[..b],
        _ => head,
    };
    let word = head.trim().to_lowercase();
    let sep_len = s[colon..].chars().next().map(char::len_utf8).unwrap_or(1);
    PREFIXES.contains(&word.as_str()).then(|| &s[colon + sep_len..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tag_under_any_prefix() {
        for s in
            ["[Case #000123] Printer", "Re: AW: [Case #000123] Printer", "回复: [case #123]", "Fwd: x [CASE #000123]"]
        {
            assert_eq!(CaseTag::default().find(s).map(|n| n.get()), Some(123), "{s}");
        }
        for s in ["Printer", "[Case #] x", "[Case #abc] x", "Case #000123"] {
            assert_eq!(CaseTag::default().find(s), None, "{s}");
        }
    }

    #[test]
    fn cleans_prefixes_and_tags() {
        assert_eq!(clean_subject("Re: AW: Fwd: Printer down", &CaseTag::default()), "Printer down");
        assert_eq!(clean_subject("RE[2]: [Case #000007] Printer down", &CaseTag::default()), "Printer down");
        assert_eq!(clean_subject("回复：打印机", &CaseTag::default()), "打印机");
        assert_eq!(clean_subject("Regarding: invoices", &CaseTag::default()), "Regarding: invoices");
        assert_eq!(clean_subject("  ", &CaseTag::default()), "(no subject)");
        assert_eq!(clean_subject("Re:", &CaseTag::default()), "(no subject)");
        assert_eq!(clean_subject("Re: line\r\n\u{0}break", &CaseTag::default()), "line break");
        assert_eq!(clean_subject("İ Re: [CASE #1] ẞ", &CaseTag::default()), "İ Re: ẞ");
        assert_eq!(clean_subject(&"Re: ".repeat(10_000), &CaseTag::default()), "(no subject)");
    }
}
