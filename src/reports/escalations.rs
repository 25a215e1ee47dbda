//! `report escalations`: per team, how often cases went to it and how long they stayed, in
//! business hours of the support calendar (an escalation not ended yet counts until now).
//! An escalation belongs to the period it started in.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::ReportError;
use super::scope::{Companies, Scope};
use super::sla::rank;
use super::write::{Column, Format, Rows, column};
use crate::config::Config;
use crate::storage::entities::{case, escalation};

pub const HEADERS: [&str; 7] =
    ["Team", "Escalations", "Cases", "Current", "Ended", "Median Hours With Team", "P90 Hours With Team"];

const TABLE: [Column; 7] = [
    column(0, "TEAM", 14),
    column(1, "ESCALATIONS", 11),
    column(2, "CASES", 5),
    column(3, "CURRENT", 7),
    column(4, "ENDED", 5),
    column(5, "MEDIAN H", 8),
    column(6, "P90 H", 6),
];

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EscalationLine {
    pub team: String,
    pub escalations: u64,
    /// Distinct cases.
    pub cases: u64,
    pub current: u64,
    pub ended: u64,
    pub median_hours_with_team: Option<f64>,
    pub p90_hours_with_team: Option<f64>,
}

/// A line per team (by name) of the escalations that started in the scope's period, of its
/// company's cases.
pub async fn escalation_figures(
    db: &DatabaseConnection,
    config: &Config,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Vec<EscalationLine>, ReportError> {
    let mut cond = Condition::all();
    let (from, to) = scope.bounds(config.calendar.time_zone);
    if let Some(from) = from {
        cond = cond.add(escalation::Column::StartedAt.gte(from));
    }
    if let Some(to) = to {
        cond = cond.add(escalation::Column::StartedAt.lt(to));
    }
    if let Some(slug) = &scope.company {
        let companies = Companies::load(db, config).await?;
        let company = companies.by_slug(slug).ok_or_else(|| ReportError::NoCompany(slug.clone()))?;
        let of_company = Query::select()
            .column(case::Column::Id)
            .from(case::Entity)
            .and_where(case::Column::CompanyId.eq(company.id))
            .to_owned();
        cond = cond.add(escalation::Column::CaseId.in_subquery(of_company));
    }
    let rows = escalation::Entity::find().filter(cond).order_by_asc(escalation::Column::Id).all(db).await?;
    let mut teams: BTreeMap<String, (EscalationLine, Vec<i64>, Vec<i64>)> = BTreeMap::new();
    for e in rows {
        let (line, cases, minutes) = teams.entry(e.team.clone()).or_default();
        line.escalations += 1;
        match e.ended_at {
            Some(_) => line.ended += 1,
            None => line.current += 1,
        }
        cases.push(e.case_id);
        minutes.push(config.calendar.business_between(e.started_at, e.ended_at.unwrap_or(now)).num_minutes());
    }
    let lines = teams.into_iter().map(|(team, (mut line, mut cases, mut minutes))| {
        cases.sort_unstable();
        cases.dedup();
        line.team = team;
        line.cases = cases.len() as u64;
        line.median_hours_with_team = rank(&mut minutes, 50);
        line.p90_hours_with_team = rank(&mut minutes, 90);
        line
    });
    Ok(lines.collect())
}

pub fn write_escalations(
    lines: &[EscalationLine],
    format: Format,
    excel: bool,
    out: &mut (dyn Write + Send),
) -> Result<(), ReportError> {
    let mut rows = Rows::start(format, excel, out, &HEADERS, &TABLE)?;
    let hours = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.2}"));
    for l in lines {
        let fields = [
            l.team.clone(),
            l.escalations.to_string(),
            l.cases.to_string(),
            l.current.to_string(),
            l.ended.to_string(),
            hours(l.median_hours_with_team),
            hours(l.p90_hours_with_team),
        ];
        rows.row(l, &fields)?;
    }
    rows.finish()
}
