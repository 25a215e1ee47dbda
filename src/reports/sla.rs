//! `report sla`: per company and severity, how many targets were met. A share counts only
//! targets decided: met, breached, or missed by a case closed before its due time without a
//! response, which is not a breach (the clock had not run out) and is counted apart. Cases with
//! no resolution target (exempt types, client-side configuration, a severity without one) are
//! left out of the share and counted apart.
//! Times are business hours over the cases that have them; percentiles by nearest rank.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sea_orm::DatabaseConnection;
use serde::Serialize;

use super::ReportError;
use super::attainment::{Attainment, case_sla};
use super::scope::{self, Companies, Scope};
use super::write::{Column, Format, Rows, column};
use crate::config::Config;
use crate::domain::Severity;
use crate::sla::Outcome;

pub const HEADERS: [&str; 17] = [
    "Company",
    "Severity",
    "Cases",
    "Responses Met",
    "Responses Decided",
    "Responses Met %",
    "Resolutions Met",
    "Resolutions Decided",
    "Resolutions Met %",
    "Exempt",
    "No Target",
    "Median First Response (h)",
    "P90 First Response (h)",
    "Median Resolution (h)",
    "P90 Resolution (h)",
    "Breaches",
    "Closed Unanswered",
];

const TABLE: [Column; 11] = [
    column(0, "COMPANY", 18),
    column(1, "SEV", 3),
    column(2, "CASES", 5),
    column(5, "RESPONDED %", 11),
    column(8, "RESOLVED %", 10),
    column(9, "EXEMPT", 6),
    column(11, "MEDIAN 1ST H", 12),
    column(12, "P90 1ST H", 9),
    column(13, "MEDIAN RES H", 12),
    column(15, "BREACHES", 8),
    column(16, "CLOSED UNANSWERED", 17),
];

/// One company's cases of one severity.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SlaLine {
    pub company: String,
    pub severity: String,
    pub cases: u64,
    pub responses_met: u64,
    pub responses_decided: u64,
    /// Percent, to the tenth; `None` when nothing was decided.
    pub responses_met_pct: Option<f64>,
    pub resolutions_met: u64,
    pub resolutions_decided: u64,
    pub resolutions_met_pct: Option<f64>,
    /// No resolution target because of the type or client-side configuration.
    pub exempt: u64,
    /// No resolution target for the severity.
    pub no_target: u64,
    pub median_first_response_hours: Option<f64>,
    pub p90_first_response_hours: Option<f64>,
    pub median_resolution_hours: Option<f64>,
    pub p90_resolution_hours: Option<f64>,
    /// Targets breached, response and resolution: reached late, or not reached by the due time.
    pub breaches: u64,
    /// Response targets missed by a case resolved or closed before its due time without a
    /// response: not met, not breached.
    pub closed_unanswered: u64,
}

#[derive(Default)]
struct Tally {
    line: SlaLine,
    response_minutes: Vec<i64>,
    resolution_minutes: Vec<i64>,
}

impl Tally {
    fn add(&mut self, response: Attainment, resolution: Attainment, first: Option<i64>, resolved: Option<i64>) {
        let l = &mut self.line;
        l.cases += 1;
        count(response, &mut l.responses_met, &mut l.responses_decided, &mut l.breaches, &mut l.closed_unanswered);
        count(
            resolution,
            &mut l.resolutions_met,
            &mut l.resolutions_decided,
            &mut l.breaches,
            &mut l.closed_unanswered,
        );
        match resolution {
            Attainment::Exempt => l.exempt += 1,
            Attainment::NoTarget => l.no_target += 1,
            _ => self.resolution_minutes.extend(resolved),
        }
        self.response_minutes.extend(first);
    }

    fn finish(mut self) -> SlaLine {
        let mut l = self.line;
        l.responses_met_pct = pct(l.responses_met, l.responses_decided);
        l.resolutions_met_pct = pct(l.resolutions_met, l.resolutions_decided);
        l.median_first_response_hours = rank(&mut self.response_minutes, 50);
        l.p90_first_response_hours = rank(&mut self.response_minutes, 90);
        l.median_resolution_hours = rank(&mut self.resolution_minutes, 50);
        l.p90_resolution_hours = rank(&mut self.resolution_minutes, 90);
        l
    }
}

fn count(a: Attainment, met: &mut u64, decided: &mut u64, breaches: &mut u64, unanswered: &mut u64) {
    if a.decided() {
        *decided += 1;
    }
    match a {
        Attainment::Target(Outcome::Met) => *met += 1,
        Attainment::Target(Outcome::Breached) => *breaches += 1,
        Attainment::Target(Outcome::ClosedWithoutResponse) => *unanswered += 1,
        _ => {}
    }
}

fn pct(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// The `p`th percentile by nearest rank, in hours to the hundredth.
pub(super) fn rank(minutes: &mut [i64], p: usize) -> Option<f64> {
    if minutes.is_empty() {
        return None;
    }
    minutes.sort_unstable();
    let index = (p * minutes.len()).div_ceil(100).max(1) - 1;
    Some((minutes[index] as f64 / 60.0 * 100.0).round() / 100.0)
}

/// The figures of the scope's cases: a line per company (by name; cases of no company last,
/// as "(no company)") and severity.
pub async fn sla_figures(
    db: &DatabaseConnection,
    config: &Config,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Vec<SlaLine>, ReportError> {
    let companies = Companies::load(db, config).await?;
    let mut tallies: BTreeMap<(bool, String, Severity), Tally> = BTreeMap::new();
    let mut stream = Box::pin(scope::sla_facts(db, config, &companies, scope).await?);
    while let Some(c) = stream.try_next().await? {
        let name = companies.get(c.company_id).map(|co| co.name.clone());
        let key = (name.is_none(), name.unwrap_or_else(|| "(no company)".into()), c.severity);
        let sla = case_sla(config, &c, now);
        let tally = tallies.entry(key).or_insert_with_key(|(_, company, severity)| Tally {
            line: SlaLine { company: company.clone(), severity: severity.as_str().into(), ..SlaLine::default() },
            ..Tally::default()
        });
        tally.add(sla.response, sla.resolution, sla.first_response_minutes, sla.resolution_minutes);
    }
    Ok(tallies.into_values().map(Tally::finish).collect())
}

pub fn write_sla(
    lines: &[SlaLine],
    format: Format,
    excel: bool,
    out: &mut (dyn Write + Send),
) -> Result<(), ReportError> {
    let mut rows = Rows::start(format, excel, out, &HEADERS, &TABLE)?;
    let num = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.1}"));
    let hours = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.2}"));
    for l in lines {
        let fields = [
            l.company.clone(),
            l.severity.clone(),
            l.cases.to_string(),
            l.responses_met.to_string(),
            l.responses_decided.to_string(),
            num(l.responses_met_pct),
            l.resolutions_met.to_string(),
            l.resolutions_decided.to_string(),
            num(l.resolutions_met_pct),
            l.exempt.to_string(),
            l.no_target.to_string(),
            hours(l.median_first_response_hours),
            hours(l.p90_first_response_hours),
            hours(l.median_resolution_hours),
            hours(l.p90_resolution_hours),
            l.breaches.to_string(),
            l.closed_unanswered.to_string(),
        ];
        rows.row(l, &fields)?;
    }
    rows.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_by_nearest_rank() {
        let mut m = vec![600, 60, 120, 180, 240, 300, 360, 420, 480, 540];
        assert_eq!(rank(&mut m, 50), Some(5.0), "the 5th of 10");
        assert_eq!(rank(&mut m, 90), Some(9.0), "the 9th of 10");
        assert_eq!(rank(&mut [90], 90), Some(1.5));
        assert_eq!(rank(&mut [], 50), None);
    }

    #[test]
    fn shares_count_only_decided_targets() {
        use Outcome::*;
        let target = Attainment::Target;
        let mut t = Tally::default();
        t.add(target(Met), target(Met), Some(30), Some(300));
        t.add(target(Breached), target(Running), Some(90), None);
        t.add(target(Met), Attainment::Exempt, Some(60), Some(999));
        t.add(target(Running), target(Paused), None, None);
        t.add(target(ClosedWithoutResponse), target(Met), None, Some(60));
        let l = t.finish();
        assert_eq!((l.cases, l.responses_met, l.responses_decided, l.responses_met_pct), (5, 2, 4, Some(50.0)));
        assert_eq!((l.resolutions_met, l.resolutions_decided, l.resolutions_met_pct), (2, 2, Some(100.0)));
        assert_eq!((l.exempt, l.no_target, l.breaches), (1, 0, 1), "closed unanswered is not a breach");
        assert_eq!(l.closed_unanswered, 1, "but it is counted, and not met");
        assert_eq!(l.median_first_response_hours, Some(1.0));
        assert_eq!(l.median_resolution_hours, Some(1.0), "the exempt case's time is left out");
    }
}
