//! From raw bytes to a stored case: sources (Maildir, pipe; IMAP later) hand each message to
//! the one pipeline, which parses, threads and stores it in a single transaction.

mod bounded;
pub mod by_hand;
pub mod held;
pub mod imap;
pub mod maildir;
mod pipeline;
pub mod quarantine;

pub use bounded::{Loaded, Whole, read_message};
pub use pipeline::{Incoming, IngestError, Outcome, Release, ingest, ingest_batch};
