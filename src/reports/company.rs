//! A company's report for a period, as its CRM receives it by mail: a summary (cases by
//! channel and status, SLA attainment per severity, the budget), the SLA chart as a PNG, and
//! the cases and the timesheet as CSV attachments. The monthly report and `report send` both
//! build it here.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use super::cases::{CaseRow, HEADERS, each_row};
use super::chart::Chart;
use super::period::Period;
use super::{ReportError, Rows, Scope, budget_lines, sla_figures, write_timesheet};
use crate::budget::{hours, money};
use crate::config::Config;
use crate::domain::Severity;
use crate::mail::Attachment;
use crate::storage::entities::company;
use crate::templates::{ReportContext, ReportSlaLine};

/// What goes in the mail: the template's values, the chart the HTML shows and the files.
pub struct CompanyReport {
    /// `chart_cid` is left empty: each mail gets its own (see `queue_report`).
    pub context: ReportContext,
    /// The SLA chart as a PNG, shown in place in the HTML.
    pub chart: Attachment,
    /// The cases and the timesheet as CSV.
    pub attachments: Vec<Attachment>,
    /// Cases created in the period and time entries in it: a quiet month has neither.
    pub cases: usize,
    pub time_entries: usize,
}

fn scope_of(c: &company::Model, p: &Period) -> Scope {
    Scope { company: Some(c.slug.clone()), from: Some(p.from), to: Some(p.to), ..Scope::default() }
}

pub async fn company_report(
    db: &DatabaseConnection,
    config: &Config,
    c: &company::Model,
    period: &Period,
    now: DateTime<Utc>,
) -> Result<CompanyReport, ReportError> {
    let scope = scope_of(c, period);
    let mut csv = Vec::new();
    let mut by_channel: BTreeMap<&'static str, u64> = BTreeMap::new();
    let (mut resolved, mut open) = (0u64, 0u64);
    let mut tally = |row: &CaseRow| {
        *by_channel.entry(row.channel).or_default() += 1;
        match row.status {
            "resolved" | "closed" => resolved += 1,
            _ => open += 1,
        }
    };
    let cases = {
        let mut rows = Rows::start(super::Format::Csv, false, &mut csv, &HEADERS, &[])?;
        let n = each_row(db, config, &scope, now, |row| {
            tally(row);
            rows.row(row, &row.fields())
        })
        .await?;
        rows.finish()?;
        n
    };
    let mut timesheet = Vec::new();
    let time_entries = write_timesheet(db, config, &scope, super::Format::Csv, false, &mut timesheet).await?;
    let sla = sla_figures(db, config, &scope, now).await?;
    let chart = Chart {
        company: c.name.clone(),
        month: period.from,
        by_severity: by_severity(&sla),
        trend: trend(db, config, c, period, now).await?,
    };
    let budget = budget_lines(db, config, &scope).await?.into_iter().next();
    let key = period.key();
    let attachments = vec![
        Attachment {
            filename: Some(format!("cases-{key}.csv")),
            content_type: "text/csv; charset=utf-8".into(),
            data: csv,
        },
        Attachment {
            filename: Some(format!("timesheet-{key}.csv")),
            content_type: "text/csv; charset=utf-8".into(),
            data: timesheet,
        },
    ];
    let (chart_width, chart_height) = Chart::SIZE;
    let chart = Attachment {
        filename: Some(format!("sla-{key}.png")),
        content_type: "image/png".into(),
        data: chart.png().map_err(|e| ReportError::Io(std::io::Error::other(e)))?,
    };
    let channels: Vec<String> = by_channel.iter().map(|(ch, n)| format!("{n} by {ch}")).collect();
    let currency = &config.budget.currency;
    let context = ReportContext {
        company: c.name.clone(),
        period: period.label(),
        cases: cases as u64,
        by_channel: channels.join(", "),
        resolved,
        open,
        sla: sla.iter().map(sla_line).collect(),
        budget: budget.as_ref().filter(|b| b.purchased_hours > 0.0).map_or(String::new(), |b| {
            format!(
                "{} of {} h left, {}",
                hours(b.remaining_hours),
                hours(b.purchased_hours),
                money(currency, b.remaining_at_standard_rate)
            )
        }),
        budget_used: budget
            .as_ref()
            .map_or(String::new(), |b| format!("{} h ({})", hours(b.period_hours), money(currency, b.period_cost))),
        chart: format!("sla-{key}.png"),
        chart_cid: String::new(),
        chart_width,
        chart_height,
        crm_name: c.crm_name.clone().unwrap_or_default(),
        support_address: config.support_address().to_string(),
    };
    Ok(CompanyReport { context, chart, attachments, cases, time_entries })
}

fn share(met: u64, decided: u64, pct: Option<f64>) -> String {
    match pct {
        Some(p) => format!("{met} of {decided} ({p:.0}%)"),
        None => "none decided".into(),
    }
}

fn sla_line(l: &super::SlaLine) -> ReportSlaLine {
    let h = |v: Option<f64>| v.map_or("-".into(), super::duration);
    ReportSlaLine {
        severity: l.severity.clone(),
        cases: l.cases,
        responses: share(l.responses_met, l.responses_decided, l.responses_met_pct),
        resolutions: share(l.resolutions_met, l.resolutions_decided, l.resolutions_met_pct),
        exempt: l.exempt + l.no_target,
        median_response: h(l.median_first_response_hours),
        median_resolution: h(l.median_resolution_hours),
        breaches: l.breaches,
        closed_unanswered: l.closed_unanswered,
    }
}

fn by_severity(lines: &[super::SlaLine]) -> [(Option<f64>, Option<f64>); 4] {
    let mut out = [(None, None); 4];
    for (i, s) in Severity::ALL.iter().enumerate() {
        if let Some(l) = lines.iter().find(|l| l.severity == s.as_str()) {
            out[i] = (l.responses_met_pct, l.resolutions_met_pct);
        }
    }
    out
}

/// The share of first responses within target in each of the six months up to the period's.
async fn trend(
    db: &DatabaseConnection,
    config: &Config,
    c: &company::Model,
    period: &Period,
    now: DateTime<Utc>,
) -> Result<Vec<Option<f64>>, ReportError> {
    let mut months = vec![Period::previous_month(period.to.succ_opt().unwrap_or(period.to))];
    while months.len() < 6 {
        let before = months.last().expect("one at least").month_before();
        months.push(before);
    }
    months.reverse();
    let mut shares = Vec::new();
    for m in months {
        let lines = sla_figures(db, config, &scope_of(c, &m), now).await?;
        let (met, decided) = lines.iter().fold((0, 0), |(m, d), l| (m + l.responses_met, d + l.responses_decided));
        shares.push((decided > 0).then(|| met as f64 * 100.0 / decided as f64));
    }
    Ok(shares)
}
