use chrono::{DateTime, Utc};
use sea_orm::Set;

use crate::domain::EmailAddress;
use crate::storage::Tx;
use crate::storage::entities::case_event;

/// Who made a change, as written in the audit trail.
#[derive(Debug, Clone)]
pub enum Actor {
    System,
    Customer(EmailAddress),
    Agent(EmailAddress),
    /// Someone answering for a `[[team]]` the case was escalated to.
    Team(EmailAddress),
}

impl Actor {
    /// How the audit trail writes the agent with address `email`.
    pub fn agent(email: &str) -> String {
        format!("agent:{email}")
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::System => f.write_str("system"),
            Actor::Customer(a) => write!(f, "customer:{a}"),
            Actor::Agent(a) => write!(f, "agent:{a}"),
            Actor::Team(a) => write!(f, "team:{a}"),
        }
    }
}

/// Appends one entry to a case's audit trail: who, when, what changed from what to what.
/// Written with the transaction's other staged rows (see `storage::Tx`).
pub fn record_event(
    tx: &Tx,
    case_id: i64,
    at: DateTime<Utc>,
    actor: &Actor,
    kind: &str,
    change: (Option<String>, Option<String>),
    detail: Option<String>,
) {
    tx.stage_event(case_event::ActiveModel {
        case_id: Set(case_id),
        at: Set(at),
        actor: Set(actor.to_string()),
        kind: Set(kind.to_owned()),
        old_value: Set(change.0),
        new_value: Set(change.1),
        detail: Set(detail),
        ..Default::default()
    });
}
