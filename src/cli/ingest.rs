use std::path::{Path, PathBuf};

use super::Exit;
use super::load::open;
use super::output::{errln, outln};
use crate::ingest::{IngestError, Loaded, Outcome, ingest as ingest_one, read_message};

/// Pipe mode (no files): one message from stdin; exit 75 on a temporary failure so the
/// mail server keeps the message and retries. With files: each one in turn.
pub async fn ingest(config: &Path, mailbox: Option<&str>, files: &[PathBuf]) -> Exit {
    let desk = match open(config).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    let Some(mailbox) = mailbox.map_or(desk.config.mailboxes.first(), |name| desk.config.mailbox(name)).cloned() else {
        errln!("error: no mailbox {:?} (names come from [[mailbox]] in the config)", mailbox.unwrap_or_default());
        return Exit::Usage;
    };
    let (limit, keep) = (desk.config.intake.max_message_size, desk.config.intake.quarantine_keep_bytes);
    // One message at a time: each is read (bounded), stored, and dropped before the next.
    let inputs: Vec<(String, Option<&PathBuf>)> = if files.is_empty() {
        vec![("stdin".into(), None)]
    } else {
        files.iter().map(|f| (f.display().to_string(), Some(f))).collect()
    };
    let mut exit = Exit::Ok;
    for (name, file) in inputs {
        let loaded = match read_input(file, limit, keep) {
            Ok(l) => l,
            Err(e) => {
                errln!("error: cannot read {name}: {e}");
                exit = Exit::NoInput;
                continue;
            }
        };
        let incoming = loaded.incoming(&mailbox, desk.now(), name.clone());
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

/// A file named on the command line, or stdin; see `read_message` for the bound.
fn read_input(file: Option<&PathBuf>, limit: u64, keep: u64) -> std::io::Result<Loaded> {
    match file {
        None => read_message(std::io::stdin().lock(), limit, keep, stdin_file_len()),
        Some(path) => {
            let f = std::fs::File::open(path)?;
            let hint = f.metadata().ok().map(|m| m.len());
            read_message(f, limit, keep, hint)
        }
    }
}

/// The length of stdin when it is a file (`ingest < FILE`), so that the message is read into
/// one allocation of its size instead of a buffer doubled (and copied) as it grows; a pipe
/// has none.
fn stdin_file_len() -> Option<u64> {
    use std::os::fd::AsFd;
    let fd = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
    let meta = std::fs::File::from(fd).metadata().ok()?;
    meta.is_file().then_some(meta.len())
}

/// One line on what became of a message.
pub fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Opened { case, acknowledged: true } => format!("opened case {case}; acknowledgement queued"),
        Outcome::Opened { case, acknowledged: false } => format!("opened case {case}; no acknowledgement"),
        Outcome::Appended { case } => format!("added to case {case}"),
        Outcome::FromAgent { case, what } => format!("agent's email on case {case}: {what}"),
        Outcome::FromTeam { case, what } => format!("a team's email on case {case}: {what}"),
        Outcome::Duplicate => "already stored; skipped".into(),
        Outcome::ReportSent { company, period, to } => format!("the {period} report of {company} queued to {to}"),
        Outcome::CrmNote { company } => format!("a reply from the CRM of {company}, passed on to the agents"),
        Outcome::Quarantined { id, reason } => format!("quarantined as #{id}: {reason}"),
        Outcome::Held { id, kind, reason } => {
            format!("held as #{id} ({}: {reason}); see `supportd held list`", kind.as_str())
        }
    }
}
