//! From raw bytes to a stored case: sources (Maildir, pipe; IMAP later) hand each message to
//! the one pipeline, which parses, threads and stores it in a single transaction.

mod bounded;
pub mod held;
pub mod imap;
pub mod maildir;
mod pipeline;
pub mod quarantine;

pub use crate::cases::intake::Release;
pub use bounded::{Loaded, Whole, read_message};
pub use pipeline::{Incoming, IngestError, Outcome, ingest, ingest_batch};
