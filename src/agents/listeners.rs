//! Who hears of what concerns the whole desk rather than one agent's case (a new case, a
//! CRM's answer to a report, held mail), as `[agents] notify` says: each active agent in a
//! mail of their own, the team address, or nobody. One answer for every such mail.

use super::Directory;
use crate::config::Notify;
use crate::domain::EmailAddress;
use crate::storage::entities::agent;

/// One who hears.
pub enum Listener<'a> {
    Agent(&'a agent::Model),
    Team(EmailAddress),
}

impl Listener<'_> {
    /// The name and address the mail goes to; None for an agent whose stored address no
    /// longer parses.
    pub fn to(&self) -> Option<(Option<String>, EmailAddress)> {
        match self {
            Listener::Agent(a) => Some((Some(a.name.clone()), a.email.parse().ok()?)),
            Listener::Team(team) => Some((None, team.clone())),
        }
    }
}

pub fn listeners<'a>(notify: &Notify, agents: &'a Directory) -> Vec<Listener<'a>> {
    match notify {
        Notify::Nobody => Vec::new(),
        Notify::Team(team) => vec![Listener::Team(team.clone())],
        Notify::EachAgent => agents.active().map(Listener::Agent).collect(),
    }
}
