//! Fetching a batch. Sizes (RFC822.SIZE) are asked first, so that a batch stays within a
//! memory bound and a message over `[intake] max_message_size` is never downloaded whole.

use std::collections::HashMap;

use async_imap::Session;
use async_imap::types::Fetch;
use chrono::{DateTime, Utc};
use tracing::info;

use super::connect::{ImapError, Io};
use super::pass::{drain_unsolicited, uid_set};
use super::timed::{collect, timed};
use crate::config::ImapConfig;

/// `[intake] max_message_size`, and how much of a larger message is fetched: what
/// quarantine keeps (`quarantine_keep_bytes`, never more than the limit).
#[derive(Debug, Clone, Copy)]
pub struct SizeLimits {
    pub max: u64,
    pub keep: u64,
}

/// Fetching whole messages costs memory: a batch holds at most `count` messages and, past
/// its first message, at most `BATCH_BYTES`, whatever the backlog.
const BATCH_BYTES: u64 = 16 * 1024 * 1024;

/// A message's UID and its size as the server declares it.
pub type Sized = (u32, u64);

/// One message as fetched: all of it, or only its first part when it is over the limit.
pub struct Fetched {
    pub uid: u32,
    pub internal_date: Option<DateTime<Utc>>,
    /// The whole message's size (RFC822.SIZE) when `raw` is only its first part.
    pub declared_size: Option<u64>,
    response: Fetch,
}

impl Fetched {
    pub fn raw(&self) -> &[u8] {
        self.response.body().unwrap_or_default()
    }
}

/// Splits `uids` into batches; a message over the limit counts only with the part fetched.
pub async fn batches(
    session: &mut Session<Io>,
    cfg: &ImapConfig,
    uids: &[u32],
    limits: SizeLimits,
) -> Result<Vec<Vec<Sized>>, ImapError> {
    let count = cfg.batch_size.max(1) as usize;
    let mut out: Vec<Vec<Sized>> = Vec::new();
    for ids in uids.chunks(1000) {
        let command = session.uid_fetch(uid_set(ids), "(UID RFC822.SIZE)");
        let sizes = collect("UID FETCH", cfg.timeout, timed("UID FETCH", cfg.timeout, command).await?).await?;
        let mut sized: Vec<Sized> =
            sizes.iter().filter_map(|f| Some((f.uid?, u64::from(f.size.unwrap_or(0))))).collect();
        sized.sort_unstable();
        let mut bytes = 0;
        for (uid, size) in sized {
            let cost = size.min(kept_part(limits));
            match out.last_mut() {
                Some(batch) if batch.len() < count && bytes + cost <= BATCH_BYTES => {
                    batch.push((uid, size));
                    bytes += cost;
                }
                _ => {
                    out.push(vec![(uid, size)]);
                    bytes = cost;
                }
            }
        }
    }
    drain_unsolicited(session);
    Ok(out)
}

fn kept_part(limits: SizeLimits) -> u64 {
    limits.keep.min(limits.max)
}

/// Fetches one batch with `BODY.PEEK[]` (so nothing turns `\Seen` before its commit), in UID
/// order; of a message over the limit only `BODY.PEEK[]<0.N>`.
pub async fn fetch_batch(
    session: &mut Session<Io>,
    cfg: &ImapConfig,
    batch: &[Sized],
    limits: SizeLimits,
) -> Result<Vec<Fetched>, ImapError> {
    let (over, whole): (Vec<Sized>, Vec<Sized>) = batch.iter().partition(|(_, size)| *size > limits.max);
    let mut out = fetch(session, cfg, &whole, "(UID INTERNALDATE BODY.PEEK[])", &HashMap::new()).await?;
    if !over.is_empty() {
        let keep = kept_part(limits);
        for (uid, size) in &over {
            info!(uid, size, kept = keep, limit = limits.max, "over the size limit: fetching only the first part");
        }
        let query = format!("(UID INTERNALDATE BODY.PEEK[]<0.{keep}>)");
        out.extend(fetch(session, cfg, &over, &query, &over.iter().copied().collect()).await?);
    }
    out.sort_unstable_by_key(|f| f.uid);
    Ok(out)
}

/// A response without UID or body is left out: the message stays for the next pass.
async fn fetch(
    session: &mut Session<Io>,
    cfg: &ImapConfig,
    batch: &[Sized],
    query: &str,
    declared: &HashMap<u32, u64>,
) -> Result<Vec<Fetched>, ImapError> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let uids: Vec<u32> = batch.iter().map(|(uid, _)| *uid).collect();
    let command = session.uid_fetch(uid_set(&uids), query);
    let responses = collect("UID FETCH", cfg.timeout, timed("UID FETCH", cfg.timeout, command).await?).await?;
    Ok(responses
        .into_iter()
        .filter_map(|response| {
            let uid = response.uid?;
            response.body()?;
            Some(Fetched {
                uid,
                internal_date: response.internal_date().map(|d| d.with_timezone(&Utc)),
                declared_size: declared.get(&uid).copied(),
                response,
            })
        })
        .collect())
}
