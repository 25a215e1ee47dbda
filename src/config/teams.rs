//! `[[team]]`: the Engineering, Operations, Hosting and Account teams a case can be
//! escalated to (`#escalate hosting`). A team is reached at its own address; its answers
//! come back to the case through the support address, so that address must not be one of
//! ours or an agent's (the team's mail would be read as ours and loop).

use serde::Deserialize;

use super::Problems;
use super::model::{AgentConfig, MailboxConfig};
use super::raw::Unknown;
use crate::domain::{EmailAddress, LocalPartCase};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamConfig {
    /// What agents write after `#escalate`: lower-case letters, digits and dashes.
    pub name: String,
    /// The team's mailing address: escalations go there.
    pub address: EmailAddress,
    /// Besides the address, who may answer for the team.
    pub members: Vec<EmailAddress>,
    /// How mail names the team ("Hosting team").
    pub title: String,
}

impl TeamConfig {
    /// Whether `sender` writes for the team: its address or one of its members, compared as
    /// every address is (`EmailAddress::key`: `ENGINEERING@EXAMPLE.COM` is the team).
    pub fn speaks_for(&self, sender: &EmailAddress, case: LocalPartCase) -> bool {
        std::iter::once(&self.address).chain(&self.members).any(|a| case.same(a, sender))
    }

    /// The team as a sentence names it: "the Hosting team" for a title that says it is a
    /// team, the title alone otherwise ("escalated to Engineering", never "to the Engineering").
    pub fn in_sentence(&self) -> String {
        let is_team = self.title.rsplit(' ').next().is_some_and(|w| w.eq_ignore_ascii_case("team"));
        match is_team {
            true => format!("the {}", self.title),
            false => self.title.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawTeam {
    pub name: Option<String>,
    pub address: Option<String>,
    pub members: Option<Vec<String>>,
    pub title: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// What a team's addresses must not be.
pub struct Ours<'a> {
    pub mailboxes: &'a [MailboxConfig],
    pub outbound_from: Option<&'a EmailAddress>,
    pub agents: &'a [AgentConfig],
    /// `[agents] notify = "team@…"`: where the agents read their notifications.
    pub agents_address: Option<&'a EmailAddress>,
    /// `[intake] local_part_case`.
    pub case: LocalPartCase,
}

impl Ours<'_> {
    /// Why mail from or to `address` would be read as the desk's or an agent's, if it would.
    fn claims(&self, address: &EmailAddress) -> Option<String> {
        let ours = self.mailboxes.iter().map(|m| &m.address).chain(self.outbound_from);
        if let Some(own) = ours.into_iter().find(|own| same_mailbox(own, address, self.case)) {
            return Some(format!("{address} is a support address ({own}): escalations would come back to the desk"));
        }
        if self.agents_address.is_some_and(|a| self.case.same(a, address)) {
            return Some(format!("{address} is where the agents are notified ([agents] notify)"));
        }
        let agent = self
            .agents
            .iter()
            .find(|a| std::iter::once(&a.email).chain(&a.aliases).any(|x| self.case.same(x, address)));
        agent.map(|a| format!("{address} is agent {}'s address: the team's answers would be read as theirs", a.name))
    }
}

/// `support+x@example.com` is delivered to `support@example.com`.
fn same_mailbox(own: &EmailAddress, address: &EmailAddress, case: LocalPartCase) -> bool {
    let base = |a: &EmailAddress| {
        let local = a.local_part().split('+').next().unwrap_or_default();
        format!("{local}@{}", a.domain()).parse::<EmailAddress>().ok()
    };
    matches!((base(own), base(address)), (Some(x), Some(y)) if case.same(&x, &y))
}

pub fn teams(p: &mut Problems, raw: &[RawTeam], ours: &Ours<'_>) -> Vec<TeamConfig> {
    let mut out: Vec<TeamConfig> = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        let key = format!("team[{i}]");
        let Some(team) = team(p, &key, t, ours) else { continue };
        if out.iter().any(|o| o.name == team.name) {
            p.push(format!("{key}.name"), format!("another [[team]] is named {:?}", team.name));
            continue;
        }
        let speaks = |o: &TeamConfig, a: &EmailAddress| o.speaks_for(a, ours.case);
        let shared = out.iter().find(|o| speaks(o, &team.address) || team.members.iter().any(|m| speaks(o, m)));
        if let Some(other) = shared {
            let why = format!("shares an address with team {:?}: an answer could not be told apart", other.name);
            p.push(key, why);
            continue;
        }
        out.push(team);
    }
    out
}

fn team(p: &mut Problems, key: &str, t: &RawTeam, ours: &Ours<'_>) -> Option<TeamConfig> {
    p.unknown_keys(key, &t.unknown);
    let name = match t.name.as_deref().map(str::trim) {
        None => {
            p.push(format!("{key}.name"), "missing (required)");
            None
        }
        Some(n) if is_team_name(n) => Some(n.to_owned()),
        Some(n) => {
            let why = format!("expected lower-case letters, digits and dashes (as in `#escalate hosting`), got {n:?}");
            p.push(format!("{key}.name"), why);
            None
        }
    };
    let mut checked = |field: String, text: Option<&str>| -> Option<EmailAddress> {
        let address = p.address(&field, text)?;
        match ours.claims(&address) {
            Some(why) => {
                p.push(field, why);
                None
            }
            None => Some(address),
        }
    };
    let address = checked(format!("{key}.address"), t.address.as_deref());
    let members: Vec<Option<EmailAddress>> =
        t.members.iter().flatten().enumerate().map(|(j, m)| checked(format!("{key}.members[{j}]"), Some(m))).collect();
    let (name, address) = (name?, address?);
    let members = members.into_iter().collect::<Option<Vec<_>>>()?;
    let title = t.title.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| default_title(&name));
    Some(TeamConfig { name, address, members, title })
}

fn is_team_name(name: &str) -> bool {
    name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `hosting` → "Hosting team".
fn default_title(name: &str) -> String {
    let mut chars = name.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase()).into_iter();
    format!("{} team", first.chain(chars).collect::<String>().replace('-', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_names() {
        assert_eq!(default_title("hosting"), "Hosting team");
        assert_eq!(default_title("site-ops"), "Site ops team");
    }

    #[test]
    fn a_sentence_says_the_team_only_of_a_team() {
        let team = |title: &str| TeamConfig {
            name: "x".into(),
            address: "x@example.com".parse().unwrap(),
            members: Vec::new(),
            title: title.into(),
        };
        assert_eq!(team("Hosting team").in_sentence(), "the Hosting team");
        assert_eq!(team("Engineering").in_sentence(), "Engineering");
        assert_eq!(team("Account management").in_sentence(), "Account management");
    }

    #[test]
    fn plus_addresses_of_a_support_address_are_ours() {
        let own: EmailAddress = "support@example.com".parse().unwrap();
        let same = |a: &str| same_mailbox(&own, &a.parse().unwrap(), LocalPartCase::Insensitive);
        assert!(same("support+hosting@example.com"));
        assert!(same("Support@EXAMPLE.com"));
        assert!(!same("hosting@example.com"));
        assert!(!same("support@hosting.example.com"));
        assert!(!same("support@ex\u{212A}ample.com"), "a Kelvin sign is not a k");
        assert!(!same_mailbox(&own, &"Support@example.com".parse().unwrap(), LocalPartCase::Exact));
    }

    #[test]
    fn names_are_words_an_agent_can_type() {
        assert!(is_team_name("hosting") && is_team_name("tier-2"));
        assert!(!is_team_name("Hosting") && !is_team_name("2nd") && !is_team_name("a b") && !is_team_name(""));
    }
}
