//! From raw bytes to a stored case: sources (Maildir, pipe; IMAP later) hand each message to
//! the one pipeline, which parses, threads and stores it in a single transaction.

mod bounded;
pub mod held;
pub mod imap;
pub mod maildir;
mod parse;
mod pipeline;
pub mod quarantine;

pub use bounded::{Loaded, Whole, read_message};
pub use parse::{Attachment, ParseError, ParsedMessage, Party, panic_text, parse};
pub use pipeline::{Incoming, IngestError, Outcome, Release, ingest, ingest_batch};

use sha2::{Digest, Sha256};

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lower-case hex digits of `bytes`: hashes and tokens are written this way.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
