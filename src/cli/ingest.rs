use std::io::Read;
use std::path::{Path, PathBuf};

use super::Exit;
use super::load::open;
use super::output::{errln, outln};
use crate::ingest::{Incoming, IngestError, Outcome, ingest as ingest_one};

/// Pipe mode (no files): one message from stdin; exit 75 on a temporary failure so the
/// mail server keeps the message and retries. With files: each one in turn.
pub async fn ingest(config: &Path, mailbox: Option<&str>, files: &[PathBuf]) -> Exit {
    let desk = match open(config).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    let mailbox = match mailbox {
        Some(name) => desk.config.mailbox(name),
        None => desk.config.mailboxes.first(),
    };
    let Some(mailbox) = mailbox.cloned() else {
        errln!("error: no such mailbox (names come from [[mailbox]] in the config)");
        return Exit::Usage;
    };
    let inputs: Vec<(String, std::io::Result<Vec<u8>>)> = if files.is_empty() {
        let mut raw = Vec::new();
        vec![("stdin".into(), std::io::stdin().read_to_end(&mut raw).map(|_| raw))]
    } else {
        files.iter().map(|f| (f.display().to_string(), std::fs::read(f))).collect()
    };
    let mut exit = Exit::Ok;
    for (name, raw) in inputs {
        let raw = match raw {
            Ok(r) => r,
            Err(e) => {
                errln!("error: cannot read {name}: {e}");
                exit = Exit::NoInput;
                continue;
            }
        };
        let incoming = Incoming {
            raw: &raw,
            mailbox: &mailbox,
            received_at: desk.now(),
            source_ref: name.clone(),
            declared_size: None,
        };
        match ingest_one(&desk, incoming).await {
            Ok(outcome) => outln!("{name}: {}", describe(&outcome)),
            Err(e) => {
                errln!("error: {name}: {e}");
                exit = match e {
                    IngestError::Unavailable(_) | IngestError::Failed { .. } => Exit::TempFail,
                };
            }
        }
    }
    exit
}

/// One line on what became of a message.
pub fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Opened { case, acknowledged: true } => format!("opened case {case}; acknowledgement queued"),
        Outcome::Opened { case, acknowledged: false } => format!("opened case {case}; no acknowledgement"),
        Outcome::Appended { case } => format!("added to case {case}"),
        Outcome::FromAgent { case, what } => format!("agent's email on case {case}: {what}"),
        Outcome::Duplicate => "already stored; skipped".into(),
        Outcome::Quarantined { id, reason } => format!("quarantined as #{id}: {reason}"),
    }
}
