//! `report budget`: per company, the support budget bought, used and left, with what the
//! period's time cost; with `--timesheet`, the period's time entries one by one. Hours are
//! standard hours (a consultancy hour counts consultancy_rate / standard_rate of them);
//! money is at the company's rates, in `[budget] currency`.

use std::collections::HashMap;
use std::io::Write;

use futures::TryStreamExt;
use sea_orm::sea_query::JoinType;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::ReportError;
use super::scope::{Companies, Scope};
use super::write::{Column, Format, Rows, column};
use crate::budget::{entry_case, standings};
use crate::config::Config;
use crate::storage::entities::{agent, case, company, time_entry};

pub const HEADERS: [&str; 9] = [
    "Company",
    "Currency",
    "Purchased (h)",
    "Used (h)",
    "Remaining (h)",
    "Remaining %",
    "Used in Period (h)",
    "Cost in Period",
    "Remaining at Standard Rate",
];

const TABLE: [Column; 8] = [
    column(0, "COMPANY", 18),
    column(2, "BOUGHT H", 8),
    column(3, "USED H", 8),
    column(4, "LEFT H", 8),
    column(5, "LEFT %", 6),
    column(6, "PERIOD H", 8),
    column(7, "PERIOD COST", 11),
    column(8, "LEFT AT STANDARD", 16),
];

pub const TIMESHEET_HEADERS: [&str; 9] =
    ["Date", "Company", "Case Number", "Agent", "Kind", "Minutes", "Standard Hours", "Currency", "Cost"];

const TIMESHEET_TABLE: [Column; 8] = [
    column(0, "DATE", 16),
    column(1, "COMPANY", 18),
    column(2, "CASE", 6),
    column(3, "AGENT", 16),
    column(4, "KIND", 11),
    column(5, "MINUTES", 7),
    column(6, "STD H", 6),
    column(8, "COST", 10),
];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetLine {
    pub company: String,
    pub currency: String,
    pub purchased_hours: f64,
    pub used_hours: f64,
    pub remaining_hours: f64,
    pub remaining_pct: Option<f64>,
    pub period_hours: f64,
    pub period_cost: f64,
    pub remaining_at_standard_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimesheetRow {
    /// In the company's zone.
    pub date: String,
    pub company: String,
    pub case_number: String,
    pub agent: String,
    /// `standard` or `consultancy`.
    pub kind: String,
    pub minutes: i32,
    pub standard_hours: f64,
    pub currency: String,
    pub cost: f64,
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The scope's time entries (period and company; statuses and channels do not apply), oldest first.
async fn each_entry(
    db: &DatabaseConnection,
    config: &Config,
    companies: &Companies,
    scope: &Scope,
    mut f: impl FnMut(time_entry::Model, case::Model) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    let mut query = time_entry::Entity::find()
        .join(JoinType::InnerJoin, entry_case())
        .select_also(case::Entity)
        .order_by_asc(time_entry::Column::At)
        .order_by_asc(time_entry::Column::Id);
    if let Some(slug) = &scope.company {
        let c = companies.by_slug(slug).ok_or_else(|| ReportError::NoCompany(slug.clone()))?;
        query = query.filter(case::Column::CompanyId.eq(c.id));
    }
    let (from, to) = scope.bounds(config.calendar.time_zone);
    if let Some(from) = from {
        query = query.filter(time_entry::Column::At.gte(from));
    }
    if let Some(to) = to {
        query = query.filter(time_entry::Column::At.lt(to));
    }
    let mut stream = Box::pin(query.stream(db).await?);
    while let Some((entry, case)) = stream.try_next().await? {
        if let Some(case) = case {
            f(entry, case)?;
        }
    }
    Ok(())
}

/// What an entry cost: its minutes at the company's rate for its kind.
fn cost(config: &Config, company: Option<&company::Model>, e: &time_entry::Model) -> f64 {
    let (standard, consultancy) = crate::cases::rates(config, company);
    let rate = if e.rate_kind == "consultancy" { consultancy } else { standard };
    f64::from(e.minutes) / 60.0 * rate
}

pub async fn budget_lines(
    db: &DatabaseConnection,
    config: &Config,
    scope: &Scope,
) -> Result<Vec<BudgetLine>, ReportError> {
    let companies = Companies::load(db, config).await?;
    let standings = standings(db).await?;
    let mut period: HashMap<i64, (f64, f64)> = HashMap::new();
    each_entry(db, config, &companies, scope, |e, c| {
        let Some(id) = c.company_id else { return Ok(()) };
        let p = period.entry(id).or_default();
        p.0 += e.budget_hours;
        p.1 += cost(config, companies.get(Some(id)), &e);
        Ok(())
    })
    .await?;
    let mut lines = Vec::new();
    for co in companies.all() {
        if scope.company.as_ref().is_some_and(|slug| *slug != co.slug) {
            continue;
        }
        let s = standings.get(&co.id).copied().unwrap_or(crate::budget::Standing { purchased: 0.0, used: 0.0 });
        let (period_hours, period_cost) = period.get(&co.id).copied().unwrap_or_default();
        let (standard, _) = crate::cases::rates(config, Some(co));
        lines.push(BudgetLine {
            company: co.name.clone(),
            currency: config.budget.currency.clone(),
            purchased_hours: round2(s.purchased),
            used_hours: round2(s.used),
            remaining_hours: round2(s.remaining()),
            remaining_pct: s.remaining_pct().map(|p| (p * 10.0).round() / 10.0),
            period_hours: round2(period_hours),
            period_cost: round2(period_cost),
            remaining_at_standard_rate: round2(s.remaining() * standard),
        });
    }
    Ok(lines)
}

pub fn write_budget(
    lines: &[BudgetLine],
    format: Format,
    excel: bool,
    out: &mut (dyn Write + Send),
) -> Result<(), ReportError> {
    let mut rows = Rows::start(format, excel, out, &HEADERS, &TABLE)?;
    for l in lines {
        let fields = [
            l.company.clone(),
            l.currency.clone(),
            format!("{:.2}", l.purchased_hours),
            format!("{:.2}", l.used_hours),
            format!("{:.2}", l.remaining_hours),
            l.remaining_pct.map_or(String::new(), |p| format!("{p:.1}")),
            format!("{:.2}", l.period_hours),
            format!("{:.2}", l.period_cost),
            format!("{:.2}", l.remaining_at_standard_rate),
        ];
        rows.row(l, &fields)?;
    }
    rows.finish()
}

/// The period's time entries, one row each, as they stream.
pub async fn write_timesheet(
    db: &DatabaseConnection,
    config: &Config,
    scope: &Scope,
    format: Format,
    excel: bool,
    out: &mut (dyn Write + Send),
) -> Result<usize, ReportError> {
    let companies = Companies::load(db, config).await?;
    let agents: HashMap<i64, String> =
        agent::Entity::find().all(db).await?.into_iter().map(|a| (a.id, a.name)).collect();
    let mut rows = Rows::start(format, excel, out, &TIMESHEET_HEADERS, &TIMESHEET_TABLE)?;
    let zone = companies.report_zone(scope);
    let mut count = 0;
    each_entry(db, config, &companies, scope, |e, c| {
        let company = companies.get(c.company_id);
        let row = TimesheetRow {
            date: super::cases::local_time(e.at.with_timezone(&zone).fixed_offset()),
            company: company.map_or(String::new(), |co| co.name.clone()),
            case_number: c.number.to_string(),
            agent: e.agent_id.and_then(|id| agents.get(&id).cloned()).unwrap_or_default(),
            kind: e.rate_kind.clone(),
            minutes: e.minutes,
            standard_hours: round2(e.budget_hours),
            currency: config.budget.currency.clone(),
            cost: round2(cost(config, company, &e)),
        };
        let fields = [
            row.date.clone(),
            row.company.clone(),
            row.case_number.clone(),
            row.agent.clone(),
            row.kind.clone(),
            row.minutes.to_string(),
            format!("{:.2}", row.standard_hours),
            row.currency.clone(),
            format!("{:.2}", row.cost),
        ];
        count += 1;
        rows.row(&row, &fields)
    })
    .await?;
    rows.finish()?;
    Ok(count)
}
