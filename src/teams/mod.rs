//! Escalation of a case to another team (`[[team]]`: Engineering, Operations, Hosting,
//! Account). An agent's `#escalate hosting why` sends the team a brief of the case; the
//! team's answers come back to the case as internal notes for the agent, and `#return` (the
//! team) or `#deescalate` (an agent) ends it. Support's SLA targets keep running meanwhile.

mod answer;
mod brief;
mod directory;
mod escalate;
mod record;

pub use answer::{TeamMail, crm_answer, handle_team_mail};
pub use brief::{Brief, queue_brief};
pub use directory::{Team, Teams, sync_teams};
pub use escalate::{Asked, Escalation, Planned, Target, deescalate, escalate, plan};
pub use record::{Escalated, by_case_number, current, current_of, end, of_case, open, with_teams};

/// `#escalate account` with no `[[team]] name = "account"`: the company's CRM is the
/// customer's contact for account matters.
pub const ACCOUNT: &str = "account";
