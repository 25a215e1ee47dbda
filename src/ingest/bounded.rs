//! Reading one message from a file or a pipe without trusting its size: at most the size
//! limit plus one byte is held to decide, and of a message over the limit only the first
//! part is kept while the rest streams through SHA-256, so that its full size and hash are
//! known without it ever being in memory whole (a 150 MB pipe once peaked at 1.4 GB).

use std::io::{ErrorKind, Read};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::Incoming;
use crate::config::MailboxConfig;

/// The bytes of the rest of an oversize message are hashed in pieces of this size.
const CHUNK: usize = 64 * 1024;

/// A message as read: whole, or its first part with what the whole was.
pub struct Loaded {
    pub raw: Vec<u8>,
    pub oversize: Option<Whole>,
}

/// The full size and SHA-256 (hex) of a message of which only the first part was kept.
pub struct Whole {
    pub size: u64,
    pub sha256: String,
}

impl Loaded {
    pub fn incoming<'a>(
        &'a self,
        mailbox: &'a MailboxConfig,
        received_at: DateTime<Utc>,
        source_ref: String,
    ) -> Incoming<'a> {
        Incoming {
            raw: &self.raw,
            mailbox,
            received_at,
            source_ref,
            declared_size: self.oversize.as_ref().map(|w| w.size),
            declared_sha256: self.oversize.as_ref().map(|w| w.sha256.clone()),
            released: None,
        }
    }
}

/// Reads `source` to its end. A message of at most `limit` bytes comes back whole; a larger
/// one as its first `keep` bytes with its full size and hash. `size_hint` (a file's length)
/// only saves re-allocations.
pub fn read_message(source: impl Read, limit: u64, keep: u64, size_hint: Option<u64>) -> std::io::Result<Loaded> {
    let mut source = source;
    let decide = limit.saturating_add(1);
    let capacity = size_hint.map_or(CHUNK as u64, |h| h.min(decide));
    let mut raw = Vec::with_capacity(usize::try_from(capacity).unwrap_or(CHUNK));
    (&mut source).take(decide).read_to_end(&mut raw)?;
    if raw.len() as u64 <= limit {
        return Ok(Loaded { raw, oversize: None });
    }
    let mut hash = Sha256::new();
    hash.update(&raw);
    let mut size = raw.len() as u64;
    raw.truncate(usize::try_from(keep).unwrap_or(usize::MAX));
    // Give the decision's buffer back: a batch may hold many such first parts.
    raw.shrink_to_fit();
    let mut chunk = vec![0u8; CHUNK];
    loop {
        match source.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                hash.update(&chunk[..n]);
                size += n as u64;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    let sha256 = crate::mail::hex(&hash.finalize());
    Ok(Loaded { raw, oversize: Some(Whole { size, sha256 }) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(data: &[u8], limit: u64, keep: u64) -> Loaded {
        read_message(data, limit, keep, None).expect("reading a slice cannot fail")
    }

    #[test]
    fn a_message_up_to_the_limit_comes_back_whole() {
        let data = vec![b'a'; 1000];
        for len in [0, 1, 999, 1000] {
            let loaded = read(&data[..len], 1000, 10);
            assert_eq!(loaded.raw, &data[..len]);
            assert!(loaded.oversize.is_none());
        }
    }

    #[test]
    fn one_byte_over_keeps_the_first_part_with_the_whole_size_and_hash() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        for len in [1001, 70_000, 200_000] {
            let loaded = read(&data[..len], 1000, 100);
            assert_eq!(loaded.raw, &data[..100]);
            let whole = loaded.oversize.expect("over the limit");
            assert_eq!(whole.size, len as u64);
            assert_eq!(whole.sha256, crate::mail::sha256_hex(&data[..len]));
        }
    }
}
