//! A Maildir folder as a mailbox: each file in `new/` is one message. It moves to `cur/`
//! (flagged seen) only after its case is committed; a failure leaves it in `new/`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::{Incoming, IngestError, Loaded, ingest_batch, read_message};
use crate::config::MailboxConfig;
use crate::desk::Desk;

/// Messages per transaction: one fsync for all of them.
const BATCH: usize = 100;

/// Bytes of mail held per transaction. Each message costs a few times its size while it is
/// parsed and stored (decoded parts, the stored copy, the statement's parameters), so a
/// backlog of large messages must not be loaded a hundred at a time; a message larger than
/// this forms a batch alone. A message over the size limit counts as the part that is kept.
const BATCH_BYTES: u64 = 32 * 1024 * 1024;

/// A file in `new/`: its name, the server's receipt time and its length.
struct Waiting {
    name: String,
    received_at: DateTime<Utc>,
    len: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PassStats {
    pub processed: usize,
    /// Left in `new/` for the next pass.
    pub left: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum MaildirError {
    #[error("maildir {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Unavailable(IngestError),
    /// The pass stopped; what it left in `new/` waits for the next one.
    #[error(transparent)]
    Panicked(#[from] crate::panics::Panicked),
}

/// Processes every message now in `new/`, oldest first. Stops after the message in hand
/// when cancelled, and at once when the database is unavailable (nothing can succeed).
/// A panic in the pass is caught (`panics`): a file leaves `new/` only after its case
/// committed, so the next pass takes up whatever this one did not finish.
pub async fn pass(
    desk: &Desk,
    mailbox: &MailboxConfig,
    root: &Path,
    cancel: &CancellationToken,
) -> Result<PassStats, MaildirError> {
    crate::panics::guarded("maildir", pass_unguarded(desk, mailbox, root, cancel)).await?
}

async fn pass_unguarded(
    desk: &Desk,
    mailbox: &MailboxConfig,
    root: &Path,
    cancel: &CancellationToken,
) -> Result<PassStats, MaildirError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MaildirError::Io { path, source }
    };
    for sub in ["new", "cur", "tmp"] {
        tokio::fs::create_dir_all(root.join(sub)).await.map_err(io(&root.join(sub)))?;
    }
    let mut stats = PassStats::default();
    let files = list_new(&root.join("new")).await.map_err(io(root))?;
    let intake = &desk.config.intake;
    for batch in
        batches(files, |len| if len > intake.max_message_size { len.min(intake.quarantine_keep_bytes) } else { len })
    {
        if cancel.is_cancelled() {
            break;
        }
        let loaded = load(root, batch, intake.max_message_size, intake.quarantine_keep_bytes).await?;
        let incoming: Vec<Incoming<'_>> = loaded
            .iter()
            .map(|(file, message)| message.incoming(mailbox, file.received_at, format!("maildir:{}", file.name)))
            .collect();
        for ((file, _), result) in loaded.iter().zip(ingest_batch(desk, &incoming).await) {
            let name = &file.name;
            match result {
                Ok(outcome) => {
                    debug!(file = %name, ?outcome, "processed");
                    let path = root.join("new").join(name);
                    let seen = root.join("cur").join(format!("{name}:2,S"));
                    tokio::fs::rename(&path, &seen).await.map_err(io(&path))?;
                    stats.processed += 1;
                }
                Err(e @ IngestError::Unavailable(_)) => return Err(MaildirError::Unavailable(e)),
                Err(e) => {
                    warn!(file = %name, error = %e, "left in new/ for the next pass");
                    stats.left += 1;
                }
            }
        }
    }
    Ok(stats)
}

/// Cuts the files into batches of at most `BATCH` messages and, past a batch's first
/// message, at most `BATCH_BYTES` as `held` counts a file of a given length.
fn batches(files: Vec<Waiting>, held: impl Fn(u64) -> u64) -> Vec<Vec<Waiting>> {
    let mut out: Vec<Vec<Waiting>> = Vec::new();
    let mut bytes = 0;
    for file in files {
        let size = held(file.len);
        match out.last_mut() {
            Some(batch) if batch.len() < BATCH && bytes + size <= BATCH_BYTES => {
                bytes += size;
                batch.push(file);
            }
            _ => {
                bytes = size;
                out.push(vec![file]);
            }
        }
    }
    out
}

/// Reads a batch's files (see `read_message` for the bound on each). A file gone meanwhile
/// was taken by another process: not ours to handle.
async fn load(root: &Path, batch: Vec<Waiting>, limit: u64, keep: u64) -> Result<Vec<(Waiting, Loaded)>, MaildirError> {
    let mut loaded = Vec::with_capacity(batch.len());
    for file in batch {
        let path = root.join("new").join(&file.name);
        let read = {
            let path = path.clone();
            let hint = Some(file.len);
            tokio::task::spawn_blocking(move || read_message(std::fs::File::open(path)?, limit, keep, hint)).await
        };
        match read.map_err(std::io::Error::other).and_then(|r| r) {
            Ok(message) => loaded.push((file, message)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(MaildirError::Io { path, source }),
        }
    }
    Ok(loaded)
}

/// The files in `new/` with their modification time (the server's receipt time), oldest first.
async fn list_new(dir: &Path) -> std::io::Result<Vec<Waiting>> {
    let mut entries = tokio::fs::read_dir(dir).await?;
    let mut out = Vec::new();
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let meta = entry.metadata().await?;
        if !meta.is_file() {
            continue;
        }
        let received = meta.modified().map(DateTime::<Utc>::from).unwrap_or_else(|_| Utc::now());
        out.push(Waiting { name, received_at: received, len: meta.len() });
    }
    out.sort_by(|a, b| a.received_at.cmp(&b.received_at).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(lens: &[u64]) -> Vec<Vec<u64>> {
        let files = lens.iter().map(|&len| Waiting { name: String::new(), received_at: Utc::now(), len }).collect();
        batches(files, |len| len).into_iter().map(|b| b.iter().map(|f| f.len).collect()).collect()
    }

    #[test]
    fn batches_are_bounded_by_count_and_by_bytes() {
        const M: u64 = 1024 * 1024;
        assert_eq!(sizes(&[10 * M, 10 * M, 10 * M, 10 * M, 1]), [vec![10 * M; 3], vec![10 * M, 1]]);
        // Larger than a batch may hold: alone, and the next starts afresh.
        assert_eq!(sizes(&[1, 40 * M, 2]), [vec![1], vec![40 * M], vec![2]]);
        assert_eq!(sizes(&[1; 250]).iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 50]);
    }
}
