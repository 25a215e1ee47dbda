//! One pass over an IMAP folder: everything not yet processed, in UID batches.

use std::collections::BTreeSet;
use std::time::Duration;

use async_imap::Session;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::connect::{ImapError, Io};
use super::fetch::{Fetched, SizeLimits, batches, fetch_batch};
use super::state;
use super::timed::{collect, timed};
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

pub async fn capabilities(session: &mut Session<Io>, cfg: &ImapConfig) -> Result<Capabilities, ImapError> {
    let caps = timed("CAPABILITY", cfg.timeout, session.capabilities()).await?;
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
    let selected = timed("SELECT", cfg.timeout, session.select(&cfg.folder)).await?;
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
    let intake = &desk.config.intake;
    let limits = SizeLimits { max: intake.max_message_size, keep: intake.quarantine_keep_bytes };
    for chunk in batches(session, cfg, &uids, limits).await? {
        if cancel.is_cancelled() {
            break;
        }
        let fetched = fetch_batch(session, cfg, &chunk, limits).await?;
        let (done, left, unavailable) = ingest_fetched(desk, mailbox, cfg, &fetched).await;
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

async fn candidates(session: &mut Session<Io>, cfg: &ImapConfig, last_uid: u32) -> Result<Vec<u32>, ImapError> {
    let mut uids = BTreeSet::new();
    let t = cfg.timeout;
    match cfg.after_processing {
        AfterProcessing::MoveTo(_) => uids.extend(timed("UID SEARCH", t, session.uid_search("ALL")).await?),
        AfterProcessing::MarkSeen => {
            // `n:*` also matches the highest UID when it is below n, hence the filter.
            let newer = timed("UID SEARCH", t, session.uid_search(format!("UID {}:*", last_uid + 1))).await?;
            uids.extend(newer.into_iter().filter(|u| *u > last_uid));
            uids.extend(timed("UID SEARCH", t, session.uid_search("UNSEEN")).await?);
        }
    }
    drain_unsolicited(session);
    Ok(uids.into_iter().collect())
}

/// Ingests one fetched batch (one transaction); returns the UIDs now processed, how many were
/// left for the next pass, and the error that stopped the batch when the database went away.
async fn ingest_fetched(
    desk: &Desk,
    mailbox: &MailboxConfig,
    cfg: &ImapConfig,
    fetched: &[Fetched],
) -> (Vec<u32>, usize, Option<IngestError>) {
    let batch: Vec<Incoming<'_>> = fetched
        .iter()
        .map(|f| Incoming {
            raw: f.raw(),
            mailbox,
            received_at: f.internal_date.unwrap_or_else(|| desk.now()),
            source_ref: format!("imap:{}/{}:{}", mailbox.name, cfg.folder, f.uid),
            declared_size: f.declared_size,
            declared_sha256: None,
            released: None,
        })
        .collect();
    let mut done = Vec::new();
    let mut left = 0;
    for (f, result) in fetched.iter().zip(ingest_batch(desk, &batch).await) {
        match result {
            Ok(outcome) => {
                debug!(uid = f.uid, ?outcome, "processed");
                done.push(f.uid);
            }
            Err(e @ IngestError::Unavailable(_)) => return (done, left, Some(e)),
            Err(e) => {
                warn!(uid = f.uid, error = %e, "left unseen for the next pass");
                left += 1;
            }
        }
    }
    (done, left, None)
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
    let (set, t) = (uid_set(uids), cfg.timeout);
    match &cfg.after_processing {
        AfterProcessing::MarkSeen => store(session, &set, "+FLAGS.SILENT (\\Seen)", t).await?,
        AfterProcessing::MoveTo(folder) if caps.move_ => timed("UID MOVE", t, session.uid_mv(&set, folder)).await?,
        AfterProcessing::MoveTo(folder) => {
            timed("UID COPY", t, session.uid_copy(&set, folder)).await?;
            store(session, &set, "+FLAGS.SILENT (\\Deleted)", t).await?;
            if caps.uidplus {
                collect("UID EXPUNGE", t, timed("UID EXPUNGE", t, session.uid_expunge(&set)).await?).await?;
            } else {
                collect("EXPUNGE", t, timed("EXPUNGE", t, session.expunge()).await?).await?;
            }
        }
    }
    drain_unsolicited(session);
    Ok(())
}

async fn store(session: &mut Session<Io>, set: &str, flags: &str, t: Duration) -> Result<(), ImapError> {
    collect("UID STORE", t, timed("UID STORE", t, session.uid_store(set, flags)).await?).await?;
    Ok(())
}

/// The unsolicited channel is bounded and silently drops when full; nothing here needs
/// what it carries (EXISTS, EXPUNGE, COPYUID), so it is emptied after each command.
pub(super) fn drain_unsolicited(session: &mut Session<Io>) {
    while session.unsolicited_responses.try_recv().is_ok() {}
}

/// `1:3,7,9:10`.
pub(super) fn uid_set(uids: &[u32]) -> String {
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
