//! An IMAP folder as a mailbox: fetch by UID in batches with `BODY.PEEK[]`, and only after a
//! message's case is committed mark it `\Seen` or move it. UIDVALIDITY and the last UID are
//! kept in the database; IDLE wakes us when the server offers it, polling otherwise.

mod connect;
mod fetch;
mod pass;
mod state;
mod task;
mod timed;

pub use connect::{ImapError, connect};
pub use pass::pass;
pub use task::{once, run_mailbox};
