use crate::domain::CaseTag;

/// Reply and forward prefixes in the languages customers write in, lower-case.
const PREFIXES: &[&str] = &[
    "re", "fwd", "fw", "aw", "wg", "sv", "vs", "antw", "doorst", "réf", "ref", "rif", "r", "odp", "ynt", "tr", "rv",
    "res", "enc", "i", "vl", "pd", "atb", "vá", "отв", "回复", "转发", "答复", "回覆", "轉寄", "返信", "転送",
];

/// The customer's subject without reply/forward prefixes and without any case tag; the
/// acknowledgement puts exactly one tag in front of it.
pub fn clean_subject(subject: &str, tag: &CaseTag) -> String {
    let mut s = tag.strip(subject);
    loop {
        let trimmed = s.trim_start();
        match strip_prefix(trimmed) {
            Some(rest) => s = rest.to_owned(),
            None => {
                s = trimmed.to_owned();
                break;
            }
        }
    }
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() { "(no subject)".to_owned() } else { s }
}

/// `Re: x`, `RE[2]: x`, `AW : x`, `回复：x` → `x`.
fn strip_prefix(s: &str) -> Option<&str> {
    let colon = s.find([':', '：'])?;
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
    }
}
