//! The live view's lists of cases, a page at a time: which list a query names, and a page
//! of it worded for the templates. The order and the counts are SQL's (`cases::urgent_page`);
//! only the rows shown are read, with their names and clocks.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::DbErr;

use super::words::case_line;
use crate::cases::{Cursor, Section, UrgentPage, sla_lines, urgent_page};
use crate::desk::Desk;
use crate::domain::CaseNumber;
use crate::storage::entities::case;
use crate::templates::{CaseLine, CaseSection};

/// What `/?section=…&agent=…&after=…` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListRequest {
    pub section: Section,
    pub after: Option<Cursor>,
}

/// The list a query names; `None` for no query (the live view itself). Anything else is
/// refused, with the reason.
pub fn request(query: &str) -> Result<Option<ListRequest>, String> {
    if query.is_empty() {
        return Ok(None);
    }
    let (mut section, mut agent, mut after) = (None, None, None);
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "section" => section = Some(value.into_owned()),
            "agent" => agent = Some(value.into_owned()),
            "after" => after = Some(value.parse::<Cursor>().map_err(|e| format!("after: {e}"))?),
            other => return Err(format!("unknown parameter {other:?} (section, agent, after)")),
        }
    }
    let section = match (section.as_deref(), agent.as_deref()) {
        (Some("breached"), None) => Section::Breached,
        (Some("at-risk"), None) => Section::AtRisk,
        (Some("open"), None) => Section::Open,
        (Some("queue"), Some("none")) => Section::Queue(None),
        (Some("queue"), Some(id)) => {
            Section::Queue(Some(id.parse().map_err(|_| format!("agent: not an agent: {id:?}"))?))
        }
        (Some("queue"), None) => return Err("section=queue needs agent=ID or agent=none".into()),
        (Some(s @ ("breached" | "at-risk" | "open")), Some(_)) => return Err(format!("section={s} takes no agent")),
        (s, _) => return Err(format!("section: breached, at-risk, open or queue, not {s:?}")),
    };
    Ok(Some(ListRequest { section, after }))
}

/// The first page of `section`'s list, relative to the live view.
pub fn link(section: Section) -> String {
    match section {
        Section::Breached => "?section=breached".into(),
        Section::AtRisk => "?section=at-risk".into(),
        Section::Open => "?section=open".into(),
        Section::Queue(Some(id)) => format!("?section=queue&agent={id}"),
        Section::Queue(None) => "?section=queue&agent=none".into(),
    }
}

/// A page of `section` after `after`, of `[http] page_size` cases, and its count.
pub async fn page(
    desk: &Desk,
    now: DateTime<Utc>,
    section: Section,
    after: Option<Cursor>,
    count: u64,
) -> Result<CaseSection, DbErr> {
    let page = urgent_page(&desk.db, &desk.config.calendar, now, section, after, desk.config.http.page_size).await?;
    let [list] = worded(desk, now, [(section, page, count)]).await?;
    Ok(list)
}

/// Pages of lists worded for the templates, with their counts; the names and clocks of a
/// case on more than one (breached cases head the open list too) are read once.
pub async fn worded<const N: usize>(
    desk: &Desk,
    now: DateTime<Utc>,
    pages: [(Section, UrgentPage, u64); N],
) -> Result<[CaseSection; N], DbErr> {
    let mut shown: Vec<case::Model> = Vec::new();
    let mut seen = HashSet::new();
    for (_, page, _) in &pages {
        shown.extend(page.cases.iter().filter(|c| seen.insert(c.id)).cloned());
    }
    let zone = desk.config.calendar.time_zone;
    let lines: HashMap<CaseNumber, CaseLine> = sla_lines(&desk.db, &desk.config, shown, now)
        .await?
        .into_iter()
        .map(|l| (l.case.number, case_line(zone, &l.case, &l.sla)))
        .collect();
    Ok(pages.map(|(section, page, count)| CaseSection {
        count,
        cases: page.cases.iter().filter_map(|c| lines.get(&c.number).cloned()).collect(),
        more: page.next.map(|c| format!("{}&after={c}", link(section))).unwrap_or_default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_named_by_its_section_and_nothing_else_is_taken() {
        assert_eq!(request("").unwrap(), None);
        let open = request("section=open&after=3__000007").unwrap().unwrap();
        assert_eq!((open.section, open.after.map(|c| c.to_string())), (Section::Open, Some("3__000007".into())));
        assert_eq!(request("section=queue&agent=4").unwrap().unwrap().section, Section::Queue(Some(4)));
        assert_eq!(request("section=queue&agent=none").unwrap().unwrap().section, Section::Queue(None));
        for section in
            [Section::Breached, Section::AtRisk, Section::Open, Section::Queue(Some(9)), Section::Queue(None)]
        {
            assert_eq!(request(&link(section)[1..]).unwrap().unwrap().section, section, "{section:?}");
        }
        for bad in
            ["section=all", "section=queue", "section=queue&agent=ann", "section=open&agent=1", "after=x", "page=2"]
        {
            assert!(request(bad).is_err(), "{bad}");
        }
    }
}
