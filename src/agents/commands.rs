//! Commands at the top of an agent's reply: `#word value` lines before any text. Parsing
//! is pure; every problem is collected so the agent hears of all of them in one email.

use crate::domain::{CaseType, Priority, Severity, Status, WorkTime};

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Status(Status),
    Severity(Severity),
    Type(CaseType),
    Priority(Priority),
    Assign(Assignee),
    Category(String),
    /// The case's company, by slug or name: for a case from an unknown sender.
    Company(String),
    /// Caused by client-side configuration: no resolution target (`#client-config off` clears it).
    ClientConfig(bool),
    Time {
        minutes: u32,
        rate: Rate,
    },
    Solution(String),
    /// The whole message is an internal note: nothing is relayed.
    Note,
    /// `#escalate hosting Database server unreachable`: a team by its `[[team]]` name.
    Escalate {
        team: String,
        reason: String,
    },
    /// `#deescalate [team]`: ends the escalation (to that team, or every one open).
    Deescalate(Option<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    Me,
    /// A name, an address or the local part of one, matched against the agents.
    Named(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Rate {
    Standard,
    Consultancy,
}

impl Rate {
    pub fn as_str(self) -> &'static str {
        match self {
            Rate::Standard => "standard",
            Rate::Consultancy => "consultancy",
        }
    }
}

/// A reply split into its commands and the text that follows them.
#[derive(Debug, Default)]
pub struct Commands {
    pub commands: Vec<Command>,
    /// One line per bad command, quoting it.
    pub problems: Vec<String>,
    /// The text after the command lines, trimmed.
    pub text: String,
}

impl Commands {
    pub fn is_note(&self) -> bool {
        self.commands.contains(&Command::Note)
    }
}

const KNOWN: &str = "#status, #severity, #type, #priority, #assign, #category, #company, #client-config, #time, \
                     #solution, #note, #escalate, #deescalate";

/// Reads the command lines at the top of `text` (blank lines between them allowed).
pub fn parse(text: &str) -> Commands {
    let mut out = Commands::default();
    let mut rest = text;
    loop {
        let (line, after) = rest.split_once('\n').unwrap_or((rest, ""));
        let trimmed = line.trim();
        if trimmed.is_empty() && !after.is_empty() {
            rest = after;
            continue;
        }
        let Some(word) = command_word(trimmed) else { break };
        let value = trimmed[word.len() + 1..].trim();
        match command(word, value) {
            Ok(c) => out.commands.push(c),
            Err(why) => out.problems.push(format!("{trimmed}: {why}")),
        }
        rest = after;
        if rest.is_empty() {
            break;
        }
    }
    out.text = rest.trim().to_owned();
    out
}

/// `status` of `#status open`; `None` for a line that is not a command (`#1 priority`).
fn command_word(line: &str) -> Option<&str> {
    let body = line.strip_prefix('#')?;
    let word = body.split(|c: char| c.is_whitespace()).next().unwrap_or_default();
    word.chars().next().filter(|c| c.is_ascii_alphabetic())?;
    Some(word)
}

fn command(word: &str, value: &str) -> Result<Command, String> {
    let required = || if value.is_empty() { Err("needs a value".to_owned()) } else { Ok(value.to_owned()) };
    match word.to_ascii_lowercase().as_str() {
        "status" => match value.parse::<Status>() {
            Ok(Status::New) => Err("expected open, pending, resolved or closed, got \"new\"".into()),
            other => other.map(Command::Status).map_err(|e| e.to_string()),
        },
        "severity" => value.parse().map(Command::Severity).map_err(|e: crate::domain::ParseError| e.to_string()),
        "type" => value.parse().map(Command::Type).map_err(|e: crate::domain::ParseError| e.to_string()),
        "priority" => value.parse().map(Command::Priority).map_err(|e: crate::domain::ParseError| e.to_string()),
        "assign" => match value {
            "" => Err("needs an agent (a name or address) or \"me\"".into()),
            v if v.eq_ignore_ascii_case("me") => Ok(Command::Assign(Assignee::Me)),
            v => Ok(Command::Assign(Assignee::Named(v.to_owned()))),
        },
        "category" => required().map(Command::Category),
        "company" => required().map(Command::Company),
        "client-config" => match value.to_ascii_lowercase().as_str() {
            "" | "yes" | "on" | "true" => Ok(Command::ClientConfig(true)),
            "no" | "off" | "false" => Ok(Command::ClientConfig(false)),
            _ => Err(format!("expected nothing, or off, got {value:?}")),
        },
        "time" => time(value),
        "solution" => required().map(Command::Solution),
        "note" => Ok(Command::Note),
        "escalate" => escalate(value),
        "deescalate" => Ok(Command::Deescalate(value.split_whitespace().next().map(str::to_ascii_lowercase))),
        _ => Err(format!("unknown command (known: {KNOWN})")),
    }
}

/// A team's name, then the reason in the agent's words.
fn escalate(value: &str) -> Result<Command, String> {
    let (team, reason) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
    if team.is_empty() {
        return Err("needs a team, as in #escalate hosting Database server unreachable".into());
    }
    Ok(Command::Escalate { team: team.to_ascii_lowercase(), reason: reason.trim().to_owned() })
}

/// A `WorkTime` (`45m`, `1h30m`, `1.5h`, plain minutes; at most 24 hours), then an optional
/// `standard|consultancy`.
fn time(value: &str) -> Result<Command, String> {
    let mut words = value.split_whitespace();
    let amount = words.next().ok_or("needs a duration such as 45m or 1h30m")?;
    let minutes = amount.parse::<WorkTime>().map_err(|e| e.to_string())?.minutes();
    let rate = match words.next().map(str::to_ascii_lowercase).as_deref() {
        None | Some("standard") => Rate::Standard,
        Some("consultancy") => Rate::Consultancy,
        Some(other) => return Err(format!("expected standard or consultancy, got {other:?}")),
    };
    if let Some(extra) = words.next() {
        return Err(format!("unexpected {extra:?} after the rate"));
    }
    Ok(Command::Time { minutes, rate })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_at_the_top_are_read_and_removed_from_the_text() {
        let c = parse("#status pending\n#severity s2\n\n#time 1h30m consultancy\nHello Jane,\n#not a command\n");
        assert_eq!(
            c.commands,
            [
                Command::Status(Status::Pending),
                Command::Severity(Severity::S2),
                Command::Time { minutes: 90, rate: Rate::Consultancy }
            ]
        );
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.text, "Hello Jane,\n#not a command");
    }

    #[test]
    fn every_command_parses() {
        let c = parse(
            "#type Site refresh\n#priority urgent\n#assign me\n#assign Bob Jones\n#category Data\n\
             #client-config\n#client-config off\n#time 45m\n#solution Restarted the cache\n#note",
        );
        assert_eq!(
            c.commands,
            [
                Command::Type(CaseType::SiteRefresh),
                Command::Priority(Priority::Urgent),
                Command::Assign(Assignee::Me),
                Command::Assign(Assignee::Named("Bob Jones".into())),
                Command::Category("Data".into()),
                Command::ClientConfig(true),
                Command::ClientConfig(false),
                Command::Time { minutes: 45, rate: Rate::Standard },
                Command::Solution("Restarted the cache".into()),
                Command::Note,
            ]
        );
        assert!(c.is_note());
        assert_eq!(c.text, "");
    }

    #[test]
    fn every_bad_command_is_reported_with_its_line() {
        let c = parse("#status sleeping\n#severity S9\n#time soon\n#frobnicate\n#solution\n#status new\nText");
        assert!(c.commands.is_empty());
        assert_eq!(c.problems.len(), 6, "{:?}", c.problems);
        assert!(c.problems[0].starts_with("#status sleeping: expected a status"), "{}", c.problems[0]);
        assert!(c.problems[3].contains("unknown command"), "{}", c.problems[3]);
        assert_eq!(c.text, "Text");
    }

    #[test]
    fn text_without_commands_is_kept_whole() {
        let c = parse("\n\nThanks, the fix is live.\n#1 is the ticket number");
        assert!(c.commands.is_empty() && c.problems.is_empty());
        assert_eq!(c.text, "Thanks, the fix is live.\n#1 is the ticket number");
    }

    #[test]
    fn escalations_name_a_team_and_a_reason() {
        let c = parse(
            "#escalate Hosting Database server unreachable
#escalate account
#deescalate
#deescalate hosting",
        );
        assert_eq!(
            c.commands,
            [
                Command::Escalate { team: "hosting".into(), reason: "Database server unreachable".into() },
                Command::Escalate { team: "account".into(), reason: String::new() },
                Command::Deescalate(None),
                Command::Deescalate(Some("hosting".into())),
            ]
        );
        let c = parse(
            "#escalate
Text",
        );
        assert!(c.commands.is_empty());
        assert!(c.problems[0].starts_with("#escalate: needs a team"), "{:?}", c.problems);
    }

    #[test]
    fn time_entries() {
        assert_eq!(time("1.5h consultancy"), Ok(Command::Time { minutes: 90, rate: Rate::Consultancy }));
        assert_eq!(time("30"), Ok(Command::Time { minutes: 30, rate: Rate::Standard }));
        assert!(time("0m").is_err());
        assert!(time("45m hourly").is_err());
        let e = time("1e10h60m").expect_err("an exponent is no duration");
        assert!(e.contains("\"1e10h60m\""), "the agent sees what was refused: {e}");
        let e = time("25h").expect_err("more than a day");
        assert!(e.contains("at most 24 hours"), "{e}");
    }
}
