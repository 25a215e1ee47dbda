//! The greeting and the sign-off of an agent's reply. The relay and the resolution add the
//! agent's name (and the resolution its own greeting) only when she wrote none: an agent who
//! signs "Kind regards, Alice" must not reach the customer as "Kind regards, Alice / Alice
//! Smith", nor a "Hi Jane," under the template's "Hello Jane,".

/// Words a greeting line starts with, lower-case, in the languages agents write.
const GREETINGS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "dear",
    "good morning",
    "good afternoon",
    "good evening",
    "greetings",
    "hallo",
    "guten tag",
    "guten morgen",
    "liebe",
    "lieber",
    "sehr geehrte",
    "sehr geehrter",
    "bonjour",
    "salut",
    "hola",
    "buenos días",
    "buongiorno",
    "ciao",
    "hej",
    "beste",
    "goedemorgen",
];

/// Closing phrases, lower-case: a line that is one of them (perhaps with a name after it)
/// ends the letter.
const CLOSINGS: &[&str] = &[
    "kind regards",
    "best regards",
    "warm regards",
    "warmest regards",
    "regards",
    "best wishes",
    "all the best",
    "best",
    "many thanks",
    "thanks again",
    "thanks",
    "thank you",
    "cheers",
    "sincerely",
    "yours sincerely",
    "yours",
    "mit freundlichen grüßen",
    "freundliche grüße",
    "viele grüße",
    "beste grüße",
    "grüße",
    "gruß",
    "cordialement",
    "bien cordialement",
    "saludos",
    "un saludo",
    "cordiali saluti",
    "met vriendelijke groet",
    "groeten",
    "med vänlig hälsning",
    "hälsningar",
];

/// Lines under a closing (a name, a title, a company), and in a `-- ` signature block.
const MAX_UNDER_CLOSING: usize = 3;
const MAX_SIGNATURE_BLOCK: usize = 8;

/// `text` without a greeting line at its start, and that line ("" when there is none).
pub fn greeting(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    if starts_with_word(&normal(first), GREETINGS).is_some() {
        (first.trim(), rest.trim())
    } else {
        ("", text.trim_end())
    }
}

/// `text` without the agent's sign-off at its end, and the sign-off ("" when she wrote
/// none). A closing on its own ("Thanks,") gets her name under it.
pub fn sign_off(text: &str, agent_name: &str) -> (String, String) {
    let text = text.trim_end();
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = sign_off_start(&lines, agent_name) else { return (text.to_owned(), String::new()) };
    let body = lines[..start].join("\n").trim_end().to_owned();
    let mut sign_off = lines[start..].join("\n").trim().to_owned();
    if !sign_off.contains('\n') && closing(&sign_off, agent_name) == Some(false) {
        sign_off = format!("{sign_off}\n{agent_name}");
    }
    (body, sign_off)
}

/// Where the sign-off begins: an RFC 3676 signature block (`-- `) and any closing above it,
/// or the end of the last paragraph when that is a closing and/or the agent's name.
fn sign_off_start(lines: &[&str], agent_name: &str) -> Option<usize> {
    if let Some(delimiter) = lines.iter().rposition(|l| l.trim_end() == "--")
        && lines.len() - delimiter <= MAX_SIGNATURE_BLOCK + 1
    {
        return Some(closing_start(&lines[..delimiter], agent_name).unwrap_or(delimiter));
    }
    closing_start(lines, agent_name)
}

fn closing_start(lines: &[&str], agent_name: &str) -> Option<usize> {
    let end = lines.iter().rposition(|l| !l.trim().is_empty())? + 1;
    let paragraph = lines[..end].iter().rposition(|l| l.trim().is_empty()).map_or(0, |i| i + 1);
    let short = |l: &&str| l.split_whitespace().count() <= 6 && l.chars().count() <= 60;
    // A closing near the end, with at most a name, a title and a company under it.
    for k in end.saturating_sub(MAX_UNDER_CLOSING + 1).max(paragraph)..end {
        let under = &lines[k + 1..end];
        if let Some(named) = closing(lines[k], agent_name)
            && under.iter().all(short)
            && (named || under.is_empty() || under.iter().any(|l| is_name(l, agent_name)))
        {
            return Some(k);
        }
    }
    // Her name as the last line, on its own.
    let last = end - 1;
    if !is_name(lines[last], agent_name) || lines[last].split_whitespace().count() > 3 {
        return None;
    }
    // "Kind regards," then a blank line, then "Alice": the closing belongs to it.
    let above = lines[..last].iter().rposition(|l| !l.trim().is_empty());
    match above {
        Some(i) if last == paragraph && closing(lines[i], agent_name).is_some() => Some(i),
        _ => Some(last),
    }
}

/// `Some(carries her name)` when `line` is a closing phrase ("Kind regards,", "Thanks,
/// Alice"), `None` when it is anything else ("Thanks for the details.").
fn closing(line: &str, agent_name: &str) -> Option<bool> {
    let line = normal(line);
    let rest = starts_with_word(&line, CLOSINGS)?.trim_start_matches([',', ' ']);
    if rest.is_empty() { Some(false) } else { is_name(rest, agent_name).then_some(true) }
}

/// A line that is the agent's name or starts with her first name ("Alice", "- Alice",
/// "Alice S.").
fn is_name(line: &str, agent_name: &str) -> bool {
    let line = normal(line);
    let full = agent_name.trim().to_lowercase();
    let first_word = line.split_whitespace().next();
    line == full || full.split_whitespace().next().is_some_and(|first| first_word == Some(first))
}

/// Lower-case, without leading dashes and trailing punctuation.
fn normal(line: &str) -> String {
    line.trim().trim_start_matches(['-', '–', '—', ' ']).trim_end_matches([',', '.', '!', ' ']).to_lowercase()
}

/// What follows the longest of `words` that `line` starts with as a whole word.
fn starts_with_word<'a>(line: &'a str, words: &[&str]) -> Option<&'a str> {
    words
        .iter()
        .filter_map(|w| line.strip_prefix(w))
        .filter(|rest| rest.is_empty() || rest.starts_with([' ', ',', '!', '.', ':']))
        .min_by_key(|rest| rest.len())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const ALICE: &str = "Alice Smith";

    fn split(text: &str) -> (String, String) {
        sign_off(text, ALICE)
    }

    #[test]
    fn a_closing_and_her_name_is_her_sign_off() {
        let cases = [
            ("Please restart it.\n\nKind regards,\nAlice", "Please restart it.", "Kind regards,\nAlice"),
            ("Done now.\n\nAlice", "Done now.", "Alice"),
            ("Done now.\n\n- Alice", "Done now.", "- Alice"),
            ("Done now.\n\nThanks,\n\nAlice", "Done now.", "Thanks,\n\nAlice"),
            ("Done now.\n\nBest regards, Alice Smith", "Done now.", "Best regards, Alice Smith"),
            (
                "Done now.\n\nKind regards,\nAlice Smith\nSupport Engineer",
                "Done now.",
                "Kind regards,\nAlice Smith\nSupport Engineer",
            ),
            ("Done now.\n\nMit freundlichen Grüßen\nAlice", "Done now.", "Mit freundlichen Grüßen\nAlice"),
            (
                "Done now.\n\nThanks,\nAlice\n-- \nAlice Smith | Example Support",
                "Done now.",
                "Thanks,\nAlice\n-- \nAlice Smith | Example Support",
            ),
            ("Done now.\n-- \nAlice Smith\n+44 20 7946 0000", "Done now.", "-- \nAlice Smith\n+44 20 7946 0000"),
        ];
        for (text, body, sign_off) in cases {
            assert_eq!(split(text), (body.to_owned(), sign_off.to_owned()), "{text:?}");
        }
    }

    #[test]
    fn a_closing_without_a_name_gets_hers() {
        assert_eq!(split("Fixed.\n\nThanks!"), ("Fixed.".to_owned(), "Thanks!\nAlice Smith".to_owned()));
        assert_eq!(split("Kind regards,"), (String::new(), "Kind regards,\nAlice Smith".to_owned()));
    }

    #[test]
    fn text_without_a_sign_off_is_kept_whole() {
        for text in [
            "The printer driver needed an update — done now, please try again.",
            "Please restart the spooler.\nThanks for your patience while we looked into this for you today.",
            "Step one.\n\nAlice will call you tomorrow about the licence and the new printer on floor two.",
            "Best practice is to restart it weekly.\n\nRegards to the whole team from all of us here at Example Support, really.",
            "One.\n\nTwo.\nThree.\nFour.\nFive.\nSix.",
        ] {
            assert_eq!(split(text), (text.to_owned(), String::new()), "{text:?}");
        }
    }

    #[test]
    fn a_greeting_line_is_split_off() {
        assert_eq!(greeting("Hi Jane,\n\nAll done."), ("Hi Jane,", "All done."));
        assert_eq!(greeting("Hello,\nAll done."), ("Hello,", "All done."));
        assert_eq!(greeting("Dear Ms Doe,\n\nAll done."), ("Dear Ms Doe,", "All done."));
        assert_eq!(greeting("Hi Jane, all done now."), ("Hi Jane, all done now.", ""));
        assert_eq!(greeting("Highlights are fixed.\n"), ("", "Highlights are fixed."));
        assert_eq!(greeting(""), ("", ""));
    }

    /// Lines that make letters: closings, names, greetings, delimiters, and anything.
    fn line() -> impl Strategy<Value = String> {
        let pieces = [
            "Kind regards,",
            "Thanks!",
            "Alice",
            "- Alice",
            "Alice Smith",
            "Hi Jane,",
            "-- ",
            "--",
            "",
            " ",
            "İ",
            "ß",
            "Best regards, Alice",
            "Cheers",
            "Alice will call",
            "Regards to all",
        ];
        prop_oneof![proptest::sample::select(pieces.to_vec()).prop_map(str::to_owned), "[A-Za-zİß ,.!-]{0,20}",]
    }

    proptest! {
        /// Nothing is lost, moved or made up: the body is the start of the text, the sign-off
        /// the rest (with her name under a bare closing), the greeting its first line.
        #[test]
        fn a_letter_splits_without_losing_anything(lines in prop::collection::vec(line(), 0..12)) {
            let text = lines.join("\n");
            let (body, sign) = sign_off(&text, ALICE);
            let whole = text.trim_end();
            prop_assert!(whole.starts_with(&body), "{body:?} is not the start of {text:?}");
            let rest = whole[body.len()..].trim();
            prop_assert!(sign == rest || sign == format!("{rest}\n{ALICE}"), "{sign:?} for {rest:?}");
            let (greeting, after) = greeting(&text);
            prop_assert!(text.trim_start().starts_with(greeting));
            prop_assert!(text.trim_end().ends_with(after));
        }
    }
}
