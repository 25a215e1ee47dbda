use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::load::{fail, open};
use super::output;
use super::output::{errln, outln};
use super::{Exit, QuarantineCommand, describe};
use crate::app::AppError;
use crate::ingest::quarantine::{self, RetryError};

#[derive(Serialize)]
struct Row {
    id: i64,
    mailbox: Option<String>,
    source: Option<String>,
    reason: String,
    bytes: usize,
    received_at: DateTime<Utc>,
    released: bool,
    retried_at: Option<DateTime<Utc>>,
}

pub async fn quarantine(config: &Path, command: QuarantineCommand) -> Exit {
    let desk = match open(config).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    match command {
        QuarantineCommand::List { format } => {
            let rows = match quarantine::list(&desk.db).await {
                Ok(r) => r,
                Err(e) => return fail(&AppError::Database(e)),
            };
            let rows: Vec<Row> = rows
                .into_iter()
                .map(|q| Row {
                    id: q.id,
                    mailbox: q.mailbox,
                    source: q.source_ref,
                    reason: q.reason,
                    bytes: q.raw.len(),
                    received_at: q.received_at,
                    released: q.released,
                    retried_at: q.retried_at,
                })
                .collect();
            output::rows(format, &rows, &["ID", "STATE", "RECEIVED", "BYTES", "SOURCE", "REASON"], |r| {
                vec![
                    r.id.to_string(),
                    if r.released { "released".into() } else { "held".into() },
                    output::time(Some(r.received_at)),
                    r.bytes.to_string(),
                    r.source.clone().unwrap_or_default(),
                    r.reason.clone(),
                ]
            });
            Exit::Ok
        }
        QuarantineCommand::Retry { id } => match quarantine::retry(&desk, id).await {
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
            Err(e) => {
                errln!("error: {e}");
                Exit::TempFail
            }
        },
    }
}
