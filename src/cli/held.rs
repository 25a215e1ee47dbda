//! `supportd held list|show|release|discard`: automated mail that threaded to no case.

use crate::cases::MemberError;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::load::{ReadDesk, fail, open, open_read_only};
use super::output::{self, Format, errln, outln};
use super::{Exit, HeldCommand, describe};
use crate::app::AppError;
use crate::ingest::held::{self, HeldError, Listed, ReleaseOptions};
use crate::storage::entities::held_mail::{Kind, State};

#[derive(Serialize)]
struct Row {
    id: i64,
    mailbox: String,
    kind: Kind,
    reason: String,
    from: String,
    subject: String,
    received_at: DateTime<Utc>,
    state: State,
    settled_at: Option<DateTime<Utc>>,
}

impl From<Listed> for Row {
    fn from(h: Listed) -> Row {
        Row {
            id: h.id,
            mailbox: h.mailbox,
            kind: h.kind,
            reason: h.reason,
            from: h.from_addr,
            subject: h.subject,
            received_at: h.received_at,
            state: h.state,
            settled_at: h.settled_at,
        }
    }
}

pub async fn held(config: &Path, command: HeldCommand) -> Exit {
    match command {
        HeldCommand::List { all, format } => match open_read_only(config).await {
            Ok(desk) => list(&desk, all, format).await,
            Err(code) => code,
        },
        HeldCommand::Show { id } => match open_read_only(config).await {
            Ok(desk) => show(&desk, id).await,
            Err(code) => code,
        },
        HeldCommand::Release { id, company, add_member, to_case, make_party } => match open(config).await {
            Ok(desk) => {
                let options = ReleaseOptions { company, add_member, to_case, make_party };
                match held::release(&desk, id, options).await {
                    Ok(outcome) => {
                        outln!("held #{id} released: {}", describe(&outcome));
                        match to_case {
                            Some(number) => readers(&desk, number).await,
                            None => Exit::Ok,
                        }
                    }
                    Err(e) => refused(id, &e),
                }
            }
            Err(code) => code,
        },
        HeldCommand::Discard { id } => match open(config).await {
            Ok(desk) => match held::discard(&desk.db, id, desk.now()).await {
                Ok(()) => {
                    outln!("held #{id} discarded");
                    Exit::Ok
                }
                Err(e) => refused(id, &e),
            },
            Err(code) => code,
        },
    }
}

fn refused(id: i64, e: &HeldError) -> Exit {
    errln!("error: {e}");
    match e {
        HeldError::NotFound(_)
        | HeldError::Settled { .. }
        | HeldError::NoCompany(_)
        | HeldError::NoCase(_)
        | HeldError::NotForReport { .. }
        | HeldError::Stored(_)
        | HeldError::NotOfCompany { .. }
        | HeldError::MemberOfNothing
        | HeldError::Member(MemberError::NoKey(_) | MemberError::Wildcard(_)) => Exit::Usage,
        HeldError::NoMailbox { .. } => Exit::Config,
        HeldError::StillFails { .. } => Exit::DataErr,
        HeldError::Ingest(_) | HeldError::Database(_) | HeldError::Member(MemberError::Db(_)) => {
            errln!("held #{id} is unchanged; try again");
            Exit::TempFail
        }
    }
}

/// Who the case's mail goes to now that the message joined it: the agent sees at once
/// whom they made a party.
async fn readers(desk: &crate::desk::Desk, number: crate::domain::CaseNumber) -> Exit {
    match held::readers_of(desk, number).await {
        Ok(to) if to.is_empty() => outln!("case {number}'s mail goes to no one on the customer's side"),
        Ok(to) => outln!("case {number}'s mail goes to, from now on: {}", to.join(", ")),
        Err(e) => return fail(&AppError::Database(e)),
    }
    Exit::Ok
}

async fn list(desk: &ReadDesk, all: bool, format: Format) -> Exit {
    let rows = match held::list(&desk.db, all).await {
        Ok(rows) => rows,
        Err(e) => return fail(&AppError::Database(e)),
    };
    let zone = desk.zone();
    let rows: Vec<Row> = rows.into_iter().map(Row::from).collect();
    let header = ["ID", "STATE", "RECEIVED", "KIND", "FROM", "SUBJECT", "REASON"];
    output::rows(format, &rows, &header, |r| {
        vec![
            r.id.to_string(),
            r.state.as_str().into(),
            zone.time(Some(r.received_at)),
            r.kind.as_str().into(),
            r.from.clone(),
            r.subject.clone(),
            r.reason.clone(),
        ]
    });
    Exit::Ok
}

/// The row, the message's header section (which says where it came from), its text and its
/// attachments.
async fn show(desk: &ReadDesk, id: i64) -> Exit {
    let h = match held::find(&desk.db, id).await {
        Ok(Some(h)) => h,
        Ok(None) => {
            errln!("error: no held message #{id}");
            return Exit::Usage;
        }
        Err(e) => return fail(&AppError::Database(e)),
    };
    let zone = desk.zone();
    let (headers, cut) = crate::mail::preview_headers(&h.raw);
    outln!("held #{} ({}) · {} · mailbox {}", h.id, h.state.as_str(), h.kind.as_str(), h.mailbox);
    outln!("  received {} from {}", zone.time(Some(h.received_at)), h.source_ref.as_deref().unwrap_or("-"));
    outln!("  reason   {}", h.reason);
    outln!("\n{headers}");
    if !cut.is_empty() {
        outln!("{cut}");
    }
    body(&h.raw);
    Exit::Ok
}

/// The decoded text, bounded, and the attachments; a message mail-parser cannot read shows
/// its headers only (the raw bytes stay in the database).
fn body(raw: &[u8]) {
    match crate::mail::preview(raw) {
        Ok(p) => {
            outln!("\n{}", p.text);
            if !p.cut.is_empty() {
                outln!("\n{}", p.cut);
            }
            if !p.attachments.is_empty() {
                outln!("\nattachments:");
            }
            for a in &p.attachments {
                outln!("  {} ({}, {})", a.name, a.content_type, crate::agents::human_size(a.size as u64));
            }
            if p.more_attachments > 0 {
                outln!("  +{} more", p.more_attachments);
            }
        }
        Err(e) => outln!("\n(the body cannot be shown: {e})"),
    }
}
