use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::load::{ReadDesk, fail, open, open_read_only};
use super::output::{self, Format, errln, outln};
use super::{Exit, QuarantineCommand, describe};
use crate::app::AppError;
use crate::ingest::quarantine::{self, Listed, RetryError};

#[derive(Serialize)]
struct Row {
    id: i64,
    mailbox: Option<String>,
    source: Option<String>,
    reason: String,
    /// Bytes kept: the whole message, or only its first part when it was over the size limit.
    bytes: i64,
    /// The whole message as it came (rows from before sizes were recorded have none).
    full_size: Option<i64>,
    sha256: Option<String>,
    received_at: DateTime<Utc>,
    released: bool,
    retried_at: Option<DateTime<Utc>>,
}

impl From<Listed> for Row {
    fn from(q: Listed) -> Row {
        Row {
            id: q.id,
            mailbox: q.mailbox,
            source: q.source_ref,
            reason: q.reason,
            bytes: q.kept,
            full_size: q.full_size,
            sha256: q.sha256,
            received_at: q.received_at,
            released: q.released,
            retried_at: q.retried_at,
        }
    }
}

/// `quarantine show`: the row and the kept part's header section, which says who sent it.
#[derive(Serialize)]
struct Detail {
    #[serde(flatten)]
    row: Row,
    headers: String,
}

pub async fn quarantine(config: &Path, command: QuarantineCommand) -> Exit {
    match command {
        QuarantineCommand::Retry { id } => match open(config).await {
            Ok(desk) => retry(&desk, id).await,
            Err(code) => code,
        },
        QuarantineCommand::List { format } => match open_read_only(config).await {
            Ok(desk) => list(&desk, format).await,
            Err(code) => code,
        },
        QuarantineCommand::Show { id, format } => match open_read_only(config).await {
            Ok(desk) => show(&desk, id, format).await,
            Err(code) => code,
        },
    }
}

async fn list(desk: &ReadDesk, format: Format) -> Exit {
    let rows = match quarantine::list(&desk.db).await {
        Ok(rows) => rows,
        Err(e) => return fail(&AppError::Database(e)),
    };
    let zone = desk.zone();
    let rows: Vec<Row> = rows.into_iter().map(Row::from).collect();
    let header = ["ID", "STATE", "RECEIVED", "BYTES", "FULL SIZE", "SOURCE", "REASON"];
    output::rows(format, &rows, &header, |r| {
        vec![
            r.id.to_string(),
            state(r.released).into(),
            zone.time(Some(r.received_at)),
            r.bytes.to_string(),
            r.full_size.map_or_else(|| "-".into(), |n| n.to_string()),
            r.source.clone().unwrap_or_default(),
            r.reason.clone(),
        ]
    });
    Exit::Ok
}

fn state(released: bool) -> &'static str {
    if released { "released" } else { "held" }
}

async fn show(desk: &ReadDesk, id: i64, format: Format) -> Exit {
    let zone = desk.zone();
    let q = match quarantine::find(&desk.db, id).await {
        Ok(Some(q)) => q,
        Ok(None) => {
            errln!("error: no quarantined message #{id}");
            return Exit::Usage;
        }
        Err(e) => return fail(&AppError::Database(e)),
    };
    let headers = crate::mail::header_section(&q.raw).into_owned();
    let row = Row {
        id: q.id,
        mailbox: q.mailbox,
        source: q.source_ref,
        reason: q.reason,
        bytes: q.raw.len() as i64,
        full_size: q.full_size,
        sha256: q.sha256,
        received_at: q.received_at,
        released: q.released,
        retried_at: q.retried_at,
    };
    if format == Format::Json {
        output::json(&Detail { row, headers });
        return Exit::Ok;
    }
    outln!("quarantine #{} ({}) · mailbox {}", row.id, state(row.released), row.mailbox.as_deref().unwrap_or("-"));
    outln!("  received {} from {}", zone.time(Some(row.received_at)), row.source.as_deref().unwrap_or("-"));
    outln!("  reason   {}", row.reason);
    let full = row.full_size.map_or_else(|| "unknown".into(), |n| n.to_string());
    outln!("  kept     {} bytes of {full}", row.bytes);
    outln!("  sha256   {}", row.sha256.as_deref().unwrap_or("-"));
    outln!("\n{headers}");
    Exit::Ok
}

async fn retry(desk: &crate::desk::Desk, id: i64) -> Exit {
    match quarantine::retry(desk, id).await {
        Ok(outcome) => {
            outln!("quarantine #{id}: {}", describe(&outcome));
            Exit::Ok
        }
        Err(e @ (RetryError::NotFound(_) | RetryError::AlreadyReleased(_))) => {
            errln!("error: {e}");
            Exit::Usage
        }
        Err(RetryError::StillFails(reason)) => {
            errln!("error: quarantine #{id} still cannot be processed: {reason}");
            Exit::DataErr
        }
        Err(e @ RetryError::Partial { .. }) => {
            errln!("error: {e}");
            Exit::DataErr
        }
        Err(e) => {
            errln!("error: {e}");
            Exit::TempFail
        }
    }
}
