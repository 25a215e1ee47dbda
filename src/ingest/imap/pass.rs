//! One pass over an IMAP folder: everything not yet processed, in UID batches.

use std::collections::BTreeSet;

use async_imap::Session;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::connect::{ImapError, Io};
use super::state;
use crate::config::{AfterProcessing, ImapConfig, MailboxConfig};
use crate::desk::Desk;
use crate::ingest::maildir::PassStats;
use crate::ingest::{Incoming, IngestError, ingest_batch};

/// What the server can do, asked once per connection (after login, when it is complete).
#[derive(Debug, Clone, Copy, Default)]
pub struct Capabilities {
    pub idle: bool,
    pub move_: bool,
    pub uidplus: bool,
}

pub async fn capabilities(session: &mut Session<Io>) -> Result<Capabilities, ImapError> {
    let caps = session.capabilities().await?;
    Ok(Capabilities { idle: caps.has_str("IDLE"), move_: caps.has_str("MOVE"), uidplus: caps.has_str("UIDPLUS") })
}

/// Processes every message of the folder that is not yet processed. Which ones those are:
/// with `\Seen` marking, UIDs above the last processed one plus any still unseen (a crash
/// between commit and STORE leaves one unseen; the duplicate check then only marks it);
/// with moving, everything still in the folder.
pub async fn pass(
    desk: &Desk,
    mailbox: &MailboxConfig,
    cfg: &ImapConfig,
    caps: Capabilities,
    session: &mut Session<Io>,
    cancel: &CancellationToken,
) -> Result<PassStats, ImapError> {
    let selected = session.select(&cfg.folder).await?;
    let uid_validity = selected.uid_validity.unwrap_or(0);
    let mut last_uid = match state::load(&desk.db, &mailbox.name).await? {
        Some((v, last)) if v == uid_validity => last,
        Some((v, _)) => {
            warn!(mailbox = %mailbox.name, old = v, new = uid_validity, "UIDVALIDITY changed: rescanning the folder (duplicates are recognised)");
            0
        }
        None => 0,
    };
    let uids = candidates(session, cfg, last_uid).await?;
    if !uids.is_empty() {
        info!(mailbox = %mailbox.name, messages = uids.len(), "messages to process");
    }
    let mut stats = PassStats::default();
    for chunk in batches(session, &uids, cfg.batch_size.max(1) as usize).await? {
        let chunk = chunk.as_slice();
        if cancel.is_cancelled() {
            break;
        }
        let (done, left, unavailable) = fetch_and_ingest(desk, mailbox, cfg, session, chunk).await?;
        let t = std::time::Instant::now();
        mark_processed(session, cfg, caps, &done).await?;
        debug!(elapsed = ?t.elapsed(), messages = done.len(), "batch marked processed on the server");
        stats.processed += done.len();
        stats.left += left;
        last_uid = done.iter().copied().chain([last_uid]).max().unwrap_or(last_uid);
        let t = std::time::Instant::now();
        state::save(&desk.db, &mailbox.name, uid_validity, last_uid, desk.now()).await?;
        debug!(elapsed = ?t.elapsed(), last_uid, "mailbox state saved");
        if let Some(e) = unavailable {
            return Err(ImapError::Unavailable(e));
        }
    }
    drain_unsolicited(session);
    Ok(stats)
}

/// Fetching whole messages costs memory: a batch holds at most `count` messages and, past
/// its first message, at most `BATCH_BYTES`, whatever the backlog. Sizes are asked first.
const BATCH_BYTES: u64 = 16 * 1024 * 1024;

async fn batches(session: &mut Session<Io>, uids: &[u32], count: usize) -> Result<Vec<Vec<u32>>, ImapError> {
    let mut out: Vec<Vec<u32>> = Vec::new();
    for ids in uids.chunks(1000) {
        let sizes: Vec<_> = session.uid_fetch(uid_set(ids), "(UID RFC822.SIZE)").await?.try_collect().await?;
        let mut sized: Vec<(u32, u64)> =
            sizes.iter().filter_map(|f| Some((f.uid?, u64::from(f.size.unwrap_or(0))))).collect();
        sized.sort_unstable();
        let mut bytes = 0;
        for (uid, size) in sized {
            match out.last_mut() {
                Some(batch) if batch.len() < count && bytes + size <= BATCH_BYTES => {
                    batch.push(uid);
                    bytes += size;
                }
                _ => {
                    out.push(vec![uid]);
                    bytes = size;
                }
            }
        }
    }
    drain_unsolicited(session);
    Ok(out)
}

async fn candidates(session: &mut Session<Io>, cfg: &ImapConfig, last_uid: u32) -> Result<Vec<u32>, ImapError> {
    let mut uids = BTreeSet::new();
    match cfg.after_processing {
        AfterProcessing::MoveTo(_) => uids.extend(session.uid_search("ALL").await?),
        AfterProcessing::MarkSeen => {
            // `n:*` also matches the highest UID when it is below n, hence the filter.
            let newer = session.uid_search(format!("UID {}:*", last_uid + 1)).await?;
            uids.extend(newer.into_iter().filter(|u| *u > last_uid));
            uids.extend(session.uid_search("UNSEEN").await?);
        }
    }
    drain_unsolicited(session);
    Ok(uids.into_iter().collect())
}

/// Fetches and ingests one batch (one transaction); returns the UIDs now processed, how many were left for
/// the next pass, and the error that stopped the batch when the database went away.
async fn fetch_and_ingest(
    desk: &Desk,
    mailbox: &MailboxConfig,
    cfg: &ImapConfig,
    session: &mut Session<Io>,
    chunk: &[u32],
) -> Result<(Vec<u32>, usize, Option<IngestError>), ImapError> {
    let set = uid_set(chunk);
    let t = std::time::Instant::now();
    let fetches: Vec<_> = session.uid_fetch(&set, "(UID INTERNALDATE BODY.PEEK[])").await?.try_collect().await?;
    debug!(elapsed = ?t.elapsed(), messages = fetches.len(), "batch fetched");
    let items: Vec<(u32, &[u8], DateTime<Utc>)> = fetches
        .iter()
        .filter_map(|f| {
            Some((f.uid?, f.body()?, f.internal_date().map(|d| d.with_timezone(&Utc)).unwrap_or_else(|| desk.now())))
        })
        .collect();
    let batch: Vec<Incoming<'_>> = items
        .iter()
        .map(|(uid, raw, received_at)| Incoming {
            raw,
            mailbox,
            received_at: *received_at,
            source_ref: format!("imap:{}/{}:{uid}", mailbox.name, cfg.folder),
            declared_size: None,
            declared_sha256: None,
        })
        .collect();
    let mut done = Vec::new();
    let mut left = 0;
    for ((uid, _, _), result) in items.iter().zip(ingest_batch(desk, &batch).await) {
        match result {
            Ok(outcome) => {
                debug!(uid, ?outcome, "processed");
                done.push(*uid);
            }
            Err(e @ IngestError::Unavailable(_)) => return Ok((done, left, Some(e))),
            Err(e) => {
                warn!(uid, error = %e, "left unseen for the next pass");
                left += 1;
            }
        }
    }
    Ok((done, left, None))
}

/// `\Seen`, or MOVE (COPY + `\Deleted` + EXPUNGE where MOVE is missing), for one batch at once.
async fn mark_processed(
    session: &mut Session<Io>,
    cfg: &ImapConfig,
    caps: Capabilities,
    uids: &[u32],
) -> Result<(), ImapError> {
    if uids.is_empty() {
        return Ok(());
    }
    let set = uid_set(uids);
    match &cfg.after_processing {
        AfterProcessing::MarkSeen => {
            let _: Vec<_> = session.uid_store(&set, "+FLAGS.SILENT (\\Seen)").await?.try_collect().await?;
        }
        AfterProcessing::MoveTo(folder) if caps.move_ => session.uid_mv(&set, folder).await?,
        AfterProcessing::MoveTo(folder) => {
            session.uid_copy(&set, folder).await?;
            let _: Vec<_> = session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)").await?.try_collect().await?;
            if caps.uidplus {
                let _: Vec<_> = session.uid_expunge(&set).await?.try_collect().await?;
            } else {
                let _: Vec<_> = session.expunge().await?.try_collect().await?;
            }
        }
    }
    drain_unsolicited(session);
    Ok(())
}

/// The unsolicited channel is bounded and silently drops when full; nothing here needs
/// what it carries (EXISTS, EXPUNGE, COPYUID), so it is emptied after each command.
fn drain_unsolicited(session: &mut Session<Io>) {
    while session.unsolicited_responses.try_recv().is_ok() {}
}

/// `1:3,7,9:10`.
fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        while i + 1 < sorted.len() && sorted[i + 1] == sorted[i] + 1 {
            i += 1;
        }
        parts.push(if start == sorted[i] { start.to_string() } else { format!("{start}:{}", sorted[i]) });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(super::uid_set(&[9, 1, 2, 3, 7, 10]), "1:3,7,9:10");
        assert_eq!(super::uid_set(&[5]), "5");
    }
}
