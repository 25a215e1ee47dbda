//! `supportd members list|add|remove`: a company's key members, who may open cases when
//! `who_may_open = "members"`. Those in `[[company]] members` are listed as `config`; those
//! added here are kept in the database and survive restarts.

use std::path::Path;

use serde::Serialize;

use super::load::{fail, open, open_read_only};
use super::output::{self, Format, errln, outln};
use super::{Exit, MembersCommand};
use crate::app::AppError;
use crate::cases::{self, StoredMember};
use crate::desk::Desk;
use crate::domain::EmailAddress;

#[derive(Serialize)]
struct Row {
    company: String,
    member: String,
    /// `config` (`[[company]] members`) or `added` (`supportd members add`).
    source: &'static str,
}

pub async fn members(config: &Path, command: MembersCommand) -> Exit {
    match command {
        MembersCommand::List { company, format } => match open_read_only(config).await {
            Ok(desk) => match cases::stored_members(&desk.db).await {
                Ok(stored) => list(&desk.config, stored, company.as_deref(), format),
                Err(e) => fail(&AppError::Database(e)),
            },
            Err(code) => code,
        },
        MembersCommand::Add { company, address } => match open(config).await {
            Ok(desk) => change(&desk, &company, &address, true).await,
            Err(code) => code,
        },
        MembersCommand::Remove { company, address } => match open(config).await {
            Ok(desk) => change(&desk, &company, &address, false).await,
            Err(code) => code,
        },
    }
}

fn list(config: &crate::config::Config, stored: Vec<StoredMember>, only: Option<&str>, format: Format) -> Exit {
    let mut rows: Vec<Row> = config
        .companies
        .iter()
        .flat_map(|c| c.members.iter().map(|m| Row { company: c.slug.clone(), member: m.clone(), source: "config" }))
        .chain(stored.into_iter().map(|m| Row { company: m.company, member: m.email, source: "added" }))
        .filter(|r| only.is_none_or(|slug| r.company == slug))
        .collect();
    rows.sort_by(|a, b| (&a.company, &a.member).cmp(&(&b.company, &b.member)));
    output::rows(format, &rows, &["COMPANY", "MEMBER", "SOURCE"], |r| {
        vec![r.company.clone(), r.member.clone(), r.source.into()]
    });
    Exit::Ok
}

async fn change(desk: &Desk, slug: &str, address: &EmailAddress, add: bool) -> Exit {
    let Some(id) = desk.company_ids.get(slug).copied().filter(|_| desk.config.company(slug).is_some()) else {
        errln!("error: no [[company]] has slug {slug:?}");
        return Exit::Usage;
    };
    let case = desk.config.intake.local_part_case;
    let result = if add {
        cases::add_member(&desk.db, case, id, address, desk.now()).await
    } else {
        cases::remove_member(&desk.db, case, id, address).await.map_err(cases::MemberError::from)
    };
    match (result, add) {
        (Ok(true), true) => outln!("{address} is now a key member of {slug}"),
        (Ok(false), true) => outln!("{address} was a key member of {slug} already"),
        (Ok(true), false) => outln!("{address} is no longer a key member of {slug}"),
        (Ok(false), false) => {
            errln!("error: {address} is no member of {slug} added with `members add` (see `members list`)");
            return Exit::Usage;
        }
        // The address exists as written; it is the data that cannot be used (EX_DATAERR).
        (Err(e @ (cases::MemberError::NoKey(_) | cases::MemberError::Wildcard(_))), _) => {
            errln!("error: {e}");
            return Exit::DataErr;
        }
        (Err(cases::MemberError::Db(e)), _) => return fail(&AppError::Database(e)),
    }
    Exit::Ok
}
