//! Mail as supportd reads it: a raw message parsed once into `ParsedMessage` (sender, ids,
//! subject, text, attachments, the headers loop protection looks at), bounded in size and
//! never panicking. Ingest, cases, agents and outbound all take it from here.

mod parse;
mod preview;
mod sender;

pub use parse::{Attachment, ParseError, ParsedMessage, Party, parse};
pub use preview::{AttachmentLine, Preview, headers as preview_headers, preview};

use sha2::{Digest, Sha256};

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lower-case hex digits of `bytes`: hashes and tokens are written this way.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A raw message's header section (up to the first blank line), as text: what says who sent
/// a kept message and how it came.
pub fn header_section(raw: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(&raw[..header_section_len(raw)])
}

/// Where the header section ends: the first blank line, else the end (no body at all).
pub fn header_section_len(raw: &[u8]) -> usize {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").or_else(|| raw.windows(2).position(|w| w == b"\n\n"));
    end.unwrap_or(raw.len())
}
