//! A Maildir folder as a mailbox: each file in `new/` is one message. It moves to `cur/`
//! (flagged seen) only after its case is committed; a failure leaves it in `new/`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::{Incoming, IngestError, ingest_batch};
use crate::config::MailboxConfig;
use crate::desk::Desk;

/// Messages per transaction: one fsync for all of them.
const BATCH: usize = 100;

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
}

/// Processes every message now in `new/`, oldest first. Stops after the message in hand
/// when cancelled, and at once when the database is unavailable (nothing can succeed).
pub async fn pass(
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
    for chunk in files.chunks(BATCH) {
        if cancel.is_cancelled() {
            break;
        }
        let mut loaded = Vec::with_capacity(chunk.len());
        for (name, received_at) in chunk {
            let path = root.join("new").join(name);
            match tokio::fs::read(&path).await {
                Ok(raw) => loaded.push((name, raw, *received_at)),
                // Taken by another process meanwhile: not ours to handle.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(MaildirError::Io { path, source: e }),
            }
        }
        let batch: Vec<Incoming<'_>> = loaded
            .iter()
            .map(|(name, raw, received_at)| Incoming {
                raw,
                mailbox,
                received_at: *received_at,
                source_ref: format!("maildir:{name}"),
                declared_size: None,
            })
            .collect();
        for ((name, _, _), result) in loaded.iter().zip(ingest_batch(desk, &batch).await) {
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

/// File names in `new/` with their modification time (the server's receipt time), oldest first.
async fn list_new(dir: &Path) -> std::io::Result<Vec<(String, DateTime<Utc>)>> {
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
        out.push((name, received));
    }
    out.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    Ok(out)
}
