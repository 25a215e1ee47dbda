//! Agents work from their mail client: they hear of cases by email (notifications), reply to
//! them (relayed to the customer), and change cases with `#commands` at the top of a reply.

mod auth_results;
mod commands;
mod directory;
mod letter;
mod limit;
mod listeners;
mod notify;
mod regrade;
mod relay;
mod reply;
mod verify;

pub use commands::{Assignee, Command, Commands, Rate, parse as parse_commands};
pub use directory::{Directory, fill_missing_tokens, new_token};
pub use limit::Ledger;
pub use listeners::{Listener, listeners};
pub use notify::{
    Event, Notice, agent_reply_to, excerpt, human_size, queue_notifications, queue_notifications_but, reply_address,
};
pub use relay::{Refusal, Relay, ToCustomer, queue_refusal, queue_relay};
pub use reply::{AgentMail, Ctx, Handled, apply_commands, handle_agent_mail};
pub use verify::{carries_token, check as verify};
