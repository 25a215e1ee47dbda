//! What a customer chose for a new case: the severity and the type, from a token in the
//! subject (`[S1]`, `[Bug]`, `[S2 Request]`, `[Site refresh]`, `[Critical]`) or from lines at
//! the very top of the body (`Severity: S1`, `Type: Site refresh`; a `Priority:` line holding
//! a severity counts as one). Only the first message of a case chooses; what is missing or
//! not understood takes the mailbox's default, and the acknowledgement says which.

use crate::domain::{CaseType, Severity};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choice {
    pub severity: Option<Severity>,
    pub case_type: Option<CaseType>,
    /// What was written but not understood, quoted for the acknowledgement
    /// ("Severity: S9").
    pub invalid: Vec<String>,
    /// Who chose, when not the customer: "Alice Smith of our support team" for a case an
    /// agent opened by hand (the acknowledgement must not say "you chose").
    pub chosen_by: Option<String>,
}

/// Reads the choice and returns the subject without the tokens that made it.
pub fn read_choice(subject: &str, body: &str) -> (Choice, String) {
    let mut choice = Choice::default();
    let summary = subject_tokens(subject, &mut choice);
    body_lines(body, &mut choice);
    (choice, summary)
}

/// The lines a body may start with; only the first few count, and the first other line ends
/// them (a later "Type: …" is part of what the customer wrote).
const MAX_CHOICE_LINES: usize = 5;

fn body_lines(body: &str, choice: &mut Choice) {
    let lines = body.lines().map(str::trim).skip_while(|l| l.is_empty()).take(MAX_CHOICE_LINES);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { break };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "severity" | "priority" => match lenient(value, Severity::from_code_or_level) {
                Some(s) => choice.severity = choice.severity.or(Some(s)),
                None => choice.invalid.push(format!("{}: {value}", capitalised(&name))),
            },
            "type" => match lenient(value, |v| v.parse::<CaseType>().ok()) {
                Some(t) => choice.case_type = choice.case_type.or(Some(t)),
                None => choice.invalid.push(format!("Type: {value}")),
            },
            _ => break,
        }
    }
}

/// The whole value, else its first word: `S1 - Critical`, `Bug (urgent)`.
fn lenient<T>(value: &str, read: impl Fn(&str) -> Option<T>) -> Option<T> {
    read(value).or_else(|| read(value.split(|c: char| !c.is_alphanumeric()).next().unwrap_or_default()))
}

/// Takes each `[…]` group of the subject whose words are all a severity or a type (and
/// `[S9]`-like ones, which are invalid); leaves every other group (a list's `[users]`, a
/// case tag) where it is.
fn subject_tokens(subject: &str, choice: &mut Choice) -> String {
    let mut kept = String::with_capacity(subject.len());
    let mut rest = subject;
    while let Some(open) = rest.find('[') {
        let Some(len) = rest[open..].find(']') else { break };
        let inner = &rest[open + 1..open + len];
        kept.push_str(&rest[..open]);
        if !token(inner, choice) {
            kept.push_str(&rest[open..=open + len]);
        }
        rest = &rest[open + len + 1..];
    }
    kept.push_str(rest);
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `inner` (a bracket group's text) is a choice; if so it is recorded. It is one when
/// every word chooses, or when any word is a severity code (`[S9 Outage]`, `[S1 Outage]`): then
/// the group is named as not understood, and still leaves the summary, like `[S1]` does.
fn token(inner: &str, choice: &mut Choice) -> bool {
    let mut found = Choice::default();
    let words: Vec<&str> = inner.split_whitespace().collect();
    if words.is_empty() || words.len() > 3 {
        return false;
    }
    let mut understood = true;
    let mut i = 0;
    while i < words.len() {
        let two = words.get(i + 1).map(|next| format!("{} {next}", words[i]));
        if let Some(t) = two.as_deref().and_then(|w| w.parse::<CaseType>().ok()) {
            found.case_type = Some(t);
            i += 2;
        } else if let Ok(t) = words[i].parse::<CaseType>() {
            found.case_type = Some(t);
            i += 1;
        } else if let Some(s) = Severity::from_code_or_level(words[i]) {
            found.severity = Some(s);
            i += 1;
        } else {
            understood = false;
            i += 1;
        }
    }
    if !understood {
        if !words.iter().any(|w| looks_like_a_severity(w)) {
            return false;
        }
        found.invalid.push(format!("[{inner}]"));
    }
    choice.severity = choice.severity.or(found.severity);
    choice.case_type = choice.case_type.or(found.case_type);
    choice.invalid.extend(found.invalid);
    true
}

/// `S9`, `s0`, `S1`: written as a severity code, whether or not it is one we have.
fn looks_like_a_severity(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some('s' | 'S')) && word.len() <= 3 && chars.all(|c| c.is_ascii_digit()) && word.len() > 1
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(subject: &str, body: &str) -> (Choice, String) {
        read_choice(subject, body)
    }

    #[test]
    fn subject_tokens_choose_and_leave_the_summary() {
        let (c, s) = read("[S1] Site down", "");
        assert_eq!((c.severity, c.case_type, s.as_str()), (Some(Severity::S1), None, "Site down"));
        let (c, s) = read("Checkout broken [S2 Request]", "");
        assert_eq!((c.severity, c.case_type), (Some(Severity::S2), Some(CaseType::Request)));
        assert_eq!(s, "Checkout broken");
        let (c, s) = read("[Site refresh] Staging from production please", "");
        assert_eq!((c.case_type, s.as_str()), (Some(CaseType::SiteRefresh), "Staging from production please"));
        let (c, _) = read("[critical] [bug] Payments fail", "");
        assert_eq!((c.severity, c.case_type), (Some(Severity::S1), Some(CaseType::Bug)));
    }

    #[test]
    fn other_brackets_stay_and_choose_nothing() {
        let (c, s) = read("[users] Is the printer down?", "");
        assert_eq!((c, s.as_str()), (Choice::default(), "[users] Is the printer down?"));
        let (c, s) = read("Broken [link", "");
        assert_eq!((c, s.as_str()), (Choice::default(), "Broken [link"));
    }

    #[test]
    fn body_lines_at_the_top_choose() {
        let (c, _) = read("Help", "\n  Severity: High\nType: site refresh\n\nPlease refresh staging.");
        assert_eq!((c.severity, c.case_type), (Some(Severity::S2), Some(CaseType::SiteRefresh)));
        let (c, _) = read("Help", "Priority: Critical\nThe shop is down.");
        assert_eq!(c.severity, Some(Severity::S1));
        let (c, _) = read("Help", "Severity: S1 - Critical\nType: Bug (checkout)\n");
        assert_eq!((c.severity, c.case_type), (Some(Severity::S1), Some(CaseType::Bug)));
        // Only the very top: a line of the message ends them.
        let (c, _) = read("Help", "Hello,\nSeverity: S1\n");
        assert_eq!(c, Choice::default());
    }

    #[test]
    fn what_is_not_understood_is_named_and_chooses_nothing() {
        let (c, s) = read("[S9] Down", "Type: Outage\nPriority: urgent\n");
        assert_eq!((c.severity, c.case_type), (None, None));
        assert_eq!(c.invalid, ["[S9]", "Type: Outage", "Priority: urgent"]);
        assert_eq!(s, "Down");
    }

    #[test]
    fn a_group_with_a_severity_code_is_a_choice_even_when_not_understood() {
        let (c, s) = read("[S9 Outage] Checkout down", "");
        assert_eq!((c.severity, c.case_type), (None, None));
        assert_eq!((c.invalid, s.as_str()), (vec!["[S9 Outage]".to_owned()], "Checkout down"));
        let (c, s) = read("Checkout down [S1 Outage]", "");
        assert_eq!(
            (c.severity, c.invalid, s.as_str()),
            (Some(Severity::S1), vec!["[S1 Outage]".to_owned()], "Checkout down")
        );
        // Without a severity code, a group of other words is the customer's own.
        let (c, s) = read("[Critical issue] Checkout down", "");
        assert_eq!((c, s.as_str()), (Choice::default(), "[Critical issue] Checkout down"));
    }

    #[test]
    fn the_subject_wins_over_the_body() {
        let (c, _) = read("[S4] Question", "Severity: S1\n");
        assert_eq!(c.severity, Some(Severity::S4));
    }
}
