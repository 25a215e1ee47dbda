//! A case's audit trail as people read it: who did what, agents named by their names (the
//! trail keeps the address, and JSON shows it as written), customers by their address as
//! every other view shows them.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use crate::storage::entities::{agent, case_event};

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub at: DateTime<Utc>,
    /// As the trail writes it: `agent:alice@example.com`, `customer:…`, `team:…`, `system`.
    pub actor: String,
    /// As people are shown the actor: an agent's name, else the address, or `system`.
    pub actor_name: String,
    pub kind: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub detail: Option<String>,
    /// The values as people read them: an assignee by name (JSON keeps the address).
    #[serde(skip)]
    pub shown_change: (Option<String>, Option<String>),
}

impl EventView {
    /// The agent's address when the actor is shown by name (the page's hover).
    pub fn named_address(&self) -> Option<&str> {
        named_address(&self.actor, &self.actor_name)
    }
}

/// The address of the actor `written` when people are shown `name` instead of it (an agent
/// named by `actor_name`): what a page shows on hover.
pub fn named_address<'a>(written: &'a str, name: &str) -> Option<&'a str> {
    let (_, address) = written.split_once(':')?;
    (name != address).then_some(address)
}

/// The case's latest `latest` events (all without), oldest first.
pub async fn events_of(
    db: &impl ConnectionTrait,
    case_id: i64,
    agents: &[agent::Model],
    latest: Option<u64>,
) -> Result<Vec<EventView>, DbErr> {
    let rows = case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(case_id))
        .order_by_desc(case_event::Column::Id)
        .limit(latest)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .rev()
        .map(|e| EventView {
            at: e.at,
            shown_change: match e.kind.as_str() {
                "assignee" => {
                    (e.old_value.as_deref().map(|a| agent(a, agents)), e.new_value.as_deref().map(|a| agent(a, agents)))
                }
                _ => (e.old_value.clone(), e.new_value.clone()),
            },
            actor_name: actor_name(&e.actor, agents),
            actor: e.actor,
            kind: e.kind,
            old_value: e.old_value,
            new_value: e.new_value,
            detail: e.detail,
        })
        .collect())
}

/// The agent with address `address` by name, else the address.
fn agent(address: &str, agents: &[agent::Model]) -> String {
    actor_name(&crate::cases::Actor::agent(address), agents)
}

/// How the actor `written` (see `Actor`'s `Display`) is shown: an agent, active or not, by
/// name (found by address or alias); anyone else by the bare address. Escalations name
/// who escalated and who ended it with it too.
pub fn actor_name(written: &str, agents: &[agent::Model]) -> String {
    let Some((kind, address)) = written.split_once(':') else { return written.to_owned() };
    let owns = |a: &&agent::Model| {
        a.email.eq_ignore_ascii_case(address) || a.aliases.split(',').any(|x| x.trim().eq_ignore_ascii_case(address))
    };
    match kind {
        "agent" => agents.iter().find(owns).map_or_else(|| address.to_owned(), |a| a.name.clone()),
        _ => address.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> agent::Model {
        agent::Model {
            id: 1,
            email: "alice@example.com".into(),
            name: "Alice Smith".into(),
            aliases: "a.smith@example.com".into(),
            active: false,
            token: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn agents_are_named_and_customers_keep_their_address() {
        let agents = [alice()];
        assert_eq!(actor_name("agent:alice@example.com", &agents), "Alice Smith");
        assert_eq!(actor_name("agent:Alice@Example.com", &agents), "Alice Smith", "as agents are matched");
        assert_eq!(actor_name("agent:a.smith@example.com", &agents), "Alice Smith", "an alias");
        assert_eq!(actor_name("agent:bob@example.com", &agents), "bob@example.com", "not an agent any more");
        assert_eq!(actor_name("customer:jane@acme.example", &agents), "jane@acme.example");
        assert_eq!(actor_name("team:hosting@example.com", &agents), "hosting@example.com");
        assert_eq!(actor_name("system", &agents), "system");
        assert_eq!(agent("alice@example.com", &agents), "Alice Smith");
        assert_eq!(agent("agent #3", &agents), "agent #3", "an assignee the trail could not name");
    }
}
