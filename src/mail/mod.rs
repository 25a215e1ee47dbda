//! Mail as supportd reads it: a raw message parsed once into `ParsedMessage` (sender, ids,
//! subject, text, attachments, the headers loop protection looks at), bounded in size and
//! never panicking. Ingest, cases, agents and outbound all take it from here.

mod parse;

pub use parse::{Attachment, ParseError, ParsedMessage, Party, panic_text, parse};

use sha2::{Digest, Sha256};

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lower-case hex digits of `bytes`: hashes and tokens are written this way.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
