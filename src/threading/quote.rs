//! The new text of a reply: everything above the reply marker or, failing that, above the
//! quoted history (an attribution line, an "Original Message" separator, a block of
//! From:/Sent: headers, or the trailing `>` quote), as the common mail clients write them.

/// Verbs that end an attribution line ("On Mon, Jane wrote:") in the languages clients use.
const WROTE: &[&str] = &[
    "wrote",
    "schrieb",
    "a écrit",
    "escribió",
    "ha scritto",
    "schreef",
    "napisał",
    "escreveu",
    "skrev",
    "kirjoitti",
    "написал",
    "написала",
    "寫道",
    "写道",
    "írta",
    "yazdı",
    "napsal",
    "έγραψε",
];

/// How attribution lines begin ("On …", "Am …", "Le …"), for joining one broken over lines.
const OPENERS: &[&str] =
    &["on ", "am ", "le ", "el ", "il ", "op ", "em ", "w dniu", "den ", "på ", "dne ", "в ", "το "];

/// Separator lines clients put above a quoted or forwarded message.
const SEPARATORS: &[&str] = &[
    "original message",
    "ursprüngliche nachricht",
    "message d'origine",
    "mensaje original",
    "messaggio originale",
    "oorspronkelijk bericht",
    "forwarded message",
    "begin forwarded message",
    "mensagem original",
    "ursprungligt meddelande",
    "oprindelig meddelelse",
];

/// Header names that open an Outlook-style quoted header block.
const FROM_HEADERS: &[&str] = &["from", "von", "de", "van", "från", "fra", "od", "da", "发件人", "寄件者", "от"];
const DATE_HEADERS: &[&str] = &[
    "sent",
    "date",
    "gesendet",
    "datum",
    "envoyé",
    "enviado",
    "enviada",
    "inviato",
    "verzonden",
    "skickat",
    "sendt",
    "wysłano",
    "data",
    "发送时间",
    "日期",
    "отправлено",
    "to",
    "an",
    "à",
    "para",
    "a",
    "aan",
    "till",
    "til",
    "do",
    "subject",
];

/// The writer's new text: above the marker line (when given and present) and above the
/// quoted history (an attribution the client put above the quoted marker, a header block, a
/// trailing quote). A reply written below the quote (bottom-posting) is taken from there.
pub fn new_text<'a>(body: &'a str, marker: Option<&str>) -> &'a str {
    let mut above = body;
    if let Some(m) = marker.filter(|m| !m.is_empty())
        && let Some(at) = body.find(m)
    {
        above = &body[..body[..at].rfind('\n').map_or(0, |i| i + 1)];
    }
    let top = above_history(above);
    if top.is_empty() { below_quote(body) } else { top }
}

fn above_history(body: &str) -> &str {
    let lines: Vec<&str> = body.lines().collect();
    // Whether every line from i on is quoted or blank, computed once from the end: asking
    // it afresh at each quoted line made a long quote quadratic.
    let mut quoted_to_end = vec![true; lines.len() + 1];
    for i in (0..lines.len()).rev() {
        let l = lines[i].trim_start();
        quoted_to_end[i] = quoted_to_end[i + 1] && (l.is_empty() || l.starts_with('>'));
    }
    let cut = (0..lines.len()).find(|&i| starts_history(&lines, i, quoted_to_end[i])).unwrap_or(lines.len());
    // Byte offsets from the raw lines: `lines()` drops "\r\n" as well as "\n".
    let end: usize = body.split_inclusive('\n').take(cut).map(str::len).sum();
    body[..end].trim_end()
}

/// The text after the last quoted line, for replies written under the quote.
fn below_quote(body: &str) -> &str {
    let mut offset = 0;
    let mut after = body.len();
    for line in body.split_inclusive('\n') {
        offset += line.len();
        if line.trim_start().starts_with('>') {
            after = offset;
        }
    }
    body[after..].trim()
}

fn starts_history(lines: &[&str], i: usize, quoted_to_end: bool) -> bool {
    let line = lines[i].trim();
    if line.is_empty() {
        return false;
    }
    let lower = line.to_lowercase();
    // An attribution may be wrapped in dashes, and clients break long ones over three lines.
    let opener = lower.trim_start_matches(['-', ' ']);
    let may_open = OPENERS.iter().any(|o| opener.starts_with(o)) || opener.chars().take(12).any(|c| c.is_ascii_digit());
    let mut joined = String::new();
    for (n, next) in lines[i..].iter().take(3).enumerate() {
        if next.trim().is_empty() || (n > 0 && !may_open) {
            break;
        }
        joined.push_str(&next.trim().to_lowercase());
        if is_attribution(joined.trim_matches(|c: char| c == '-' || c.is_whitespace())) {
            return true;
        }
        joined.push(' ');
    }
    let bare = lower.trim_matches(|c: char| c == '-' || c == '_' || c == '=' || c == '*' || c.is_whitespace());
    if lower.starts_with("--") || lower.starts_with("__") || bare.ends_with(':') {
        let bare = bare.trim_end_matches(':');
        if SEPARATORS.iter().any(|s| bare == *s || bare.ends_with(s)) {
            return true;
        }
    }
    let opens_headers = |at: usize| {
        lines.get(at).is_some_and(|l| is_header(&l.trim().to_lowercase(), FROM_HEADERS))
            && lines[at + 1..].iter().take(4).any(|l| is_header(&l.trim().to_lowercase(), DATE_HEADERS))
    };
    // Outlook's rule of underscores above the header block belongs to the quote.
    if (bare.is_empty() && line.len() >= 10 && opens_headers(i + 1)) || opens_headers(i) {
        return true;
    }
    // The quote that runs to the end (an inline, interleaved reply is kept whole).
    line.starts_with('>') && quoted_to_end
}

/// "On Mon, 23 Nov 2026 at 10:00, Jane <jane@acme.example> wrote:" and its translations,
/// including those that name the writer after the verb ("Am … schrieb Jane <…>:").
fn is_attribution(lower: &str) -> bool {
    let ends_with_colon = lower.ends_with(':') || lower.ends_with('：');
    let trimmed = lower.trim_end_matches([':', '：', ' ']);
    let verb = if ends_with_colon {
        WROTE.iter().any(|w| trimmed.contains(w))
    } else {
        WROTE.iter().any(|w| trimmed.ends_with(w))
    };
    let looks_dated = trimmed.contains('@') || trimmed.chars().any(|c| c.is_ascii_digit());
    trimmed.len() < 300 && verb && (looks_dated || trimmed.split_whitespace().count() >= 3)
}

/// `From: …`, `*From:* …` (Outlook's bold headers in text), `发件人：…`.
fn is_header(lower: &str, names: &[&str]) -> bool {
    let l = lower.trim_start_matches(['*', ' ']);
    names.iter().any(|n| {
        l.strip_prefix(n).is_some_and(|rest| {
            let rest = rest.trim_start_matches('*').trim_start();
            rest.starts_with(':') || rest.starts_with('：')
        })
    })
}

#[cfg(test)]
mod tests {
    use super::new_text;

    #[test]
    fn cuts_at_the_marker() {
        let body = "Fixed it.\n\n##- Please type your reply above this line -##\nOld notification";
        assert_eq!(new_text(body, Some("##- Please type your reply above this line -##")), "Fixed it.");
    }

    #[test]
    fn crlf_bodies_keep_their_last_line() {
        assert_eq!(
            new_text("Kind regards,\r\nAlice\r\n\r\nOn Mon, Support <s@example.com> wrote:\r\n> x", None),
            "Kind regards,\r\nAlice"
        );
    }

    #[test]
    fn cuts_the_attribution_above_a_quoted_marker_and_reads_bottom_posts() {
        let marker = Some("##- Please type your reply above this line -##");
        let top = "Fixed.\n\nOn Mon, 23 Nov 2026, Support <s@example.com> wrote:\n> ##- Please type your reply above this line -##\n> old";
        assert_eq!(new_text(top, marker), "Fixed.");
        let bottom = "On 23/11/2026 10:05, Support wrote:\n> ##- Please type your reply above this line -##\n> old\n\nFixed below.\n";
        assert_eq!(new_text(bottom, marker), "Fixed below.");
    }

    #[test]
    fn cuts_at_the_clients_quote_headers() {
        for (body, want) in [
            ("Thanks!\n\nOn Mon, 23 Nov 2026 at 10:00, Support <support@example.com> wrote:\n> old", "Thanks!"),
            ("Danke\n\nAm 23.11.2026 um 10:00 schrieb Support <support@example.com>:\n> alt", "Danke"),
            ("Done.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\n", "Done."),
            (
                "Done.\n\n________________________________\nVon: Support <s@example.com>\nGesendet: Montag\nAn: Jane\n",
                "Done.",
            ),
            ("Merci\n\nDe : Support <s@example.com>\nEnvoyé : lundi\nÀ : Jane\n", "Merci"),
            ("Answer first\n\n> quoted\n> more\n", "Answer first"),
            (
                "> question?\nanswer inline\n> another?\nsecond answer",
                "> question?\nanswer inline\n> another?\nsecond answer",
            ),
        ] {
            assert_eq!(new_text(body, None), want, "{body:?}");
        }
    }
}
