//! `/?section=…`: one list of the live view on its own, a page at a time, each page linking
//! to the next (keyset: no page repeats or skips a case that stays where it was).

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

use super::sections::{self, ListRequest, link};
use super::words::when;
use crate::cases::{Section, section_counts};
use crate::desk::Desk;
use crate::domain::Status;
use crate::storage::entities::{agent, case};
use crate::templates::ListPage;

/// The page `request` names; `None` when it names an agent there is not.
pub async fn page(desk: &Desk, request: ListRequest, now: DateTime<Utc>) -> Result<Option<ListPage>, DbErr> {
    let Some((heading, count)) = heading_and_count(desk, request.section, now).await? else { return Ok(None) };
    let list = sections::page(desk, now, request.section, request.after, count).await?;
    Ok(Some(ListPage {
        title: format!("supportd: {heading}"),
        // The live view, `/` or wherever a proxy serves it: "./" from `/?section=…`.
        root: "./".into(),
        refresh_seconds: 0,
        generated: when(desk.config.calendar.time_zone, now),
        first: if request.after.is_some() { link(request.section) } else { String::new() },
        heading,
        list,
    }))
}

async fn heading_and_count(desk: &Desk, section: Section, now: DateTime<Utc>) -> Result<Option<(String, u64)>, DbErr> {
    let db = &desk.db;
    let counts = || section_counts(db, &desk.config.calendar, now);
    let queue = |assignee| {
        case::Entity::find()
            .filter(case::Column::Status.is_in([Status::New, Status::Open, Status::Pending]))
            .filter(assignee)
            .count(db)
    };
    Ok(Some(match section {
        Section::Breached => ("Breached".into(), counts().await?.breached as u64),
        Section::AtRisk => ("At risk".into(), counts().await?.at_risk as u64),
        Section::Open => ("Open cases".into(), counts().await?.open as u64),
        Section::Queue(None) => ("Unassigned".into(), queue(case::Column::AssigneeId.is_null()).await?),
        Section::Queue(Some(id)) => {
            let name: Option<String> =
                agent::Entity::find_by_id(id).select_only().column(agent::Column::Name).into_tuple().one(db).await?;
            let Some(name) = name else { return Ok(None) };
            (format!("{name}'s queue"), queue(case::Column::AssigneeId.eq(id)).await?)
        }
    }))
}
