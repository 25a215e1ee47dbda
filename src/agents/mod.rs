//! Agents work from their mail client: they hear of cases by email (notifications), reply to
//! them (relayed to the customer), and change cases with `#commands` at the top of a reply.

mod commands;
mod directory;
mod verify;

pub use commands::{Assignee, Command, Commands, Rate, parse as parse_commands};
pub use directory::{Directory, fill_missing_tokens, new_token};
pub use verify::check as verify;
