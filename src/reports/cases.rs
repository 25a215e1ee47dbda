//! `report cases`: one row per case with the twelve fields the support terms promise, in
//! their order, then the channel and how the case did against its targets.

use std::borrow::Cow;
use std::io::Write;

use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};
use chrono_tz::Tz;
use futures::TryStreamExt;
use sea_orm::DatabaseConnection;
use serde::Serialize;

use super::attainment::{Attainment, SlaFacts, case_sla};
use super::scope::{self, Companies, Scope};
use super::write::{Column, Format, Rows, column};
use super::{ReportError, packed};
use crate::config::Config;
use crate::domain::{CaseNumber, Channel, Priority};
use crate::storage::entities::case;
use crate::teams::Escalated;

/// The column headers: the terms' twelve, then ours.
pub const HEADERS: [&str; 18] = [
    "Company Name",
    "Customer Name",
    "Case Number",
    "Summary of Issue",
    "Error Category",
    "Case Status",
    "Case Type",
    "Case Severity",
    "Case Priority",
    "Date Created",
    "Date of Last Update",
    "Solution",
    "Channel",
    "First Response (business hours)",
    "Resolution (business hours)",
    "Response Target",
    "Resolution Target",
    "Escalations",
];

/// The columns a terminal table shows, with their widths (seventeen would not fit).
const TABLE: [Column; 10] = [
    column(2, "CASE", 6),
    column(0, "COMPANY", 18),
    column(1, "CUSTOMER", 18),
    column(5, "STATUS", 8),
    column(7, "SEV", 3),
    column(6, "TYPE", 12),
    column(12, "CHANNEL", 7),
    column(9, "CREATED", 23),
    column(15, "RESPONSE", 9),
    column(16, "RESOLUTION", 10),
];

/// What the report reads of a case and its customer: only the columns it shows or needs
/// for the targets (reading fewer columns is most of a report's speed on SQLite).
/// `Deserialize` reads it from `packed`'s JSON array: `COLUMNS`, the contact's two, then
/// the facts as an array of their own.
#[derive(Debug, Clone, sea_orm::FromQueryResult, serde::Deserialize)]
pub struct CaseLine {
    #[serde(deserialize_with = "packed::case_number")]
    pub number: CaseNumber,
    pub summary: String,
    pub error_category: Option<String>,
    #[serde(deserialize_with = "packed::parsed")]
    pub priority: Priority,
    #[serde(deserialize_with = "packed::parsed")]
    pub channel: Channel,
    #[serde(deserialize_with = "packed::time")]
    pub created_at: DateTime<Utc>,
    #[serde(deserialize_with = "packed::time")]
    pub updated_at: DateTime<Utc>,
    pub solution: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    /// What its targets depend on, read from the same row.
    #[sea_orm(nested)]
    pub facts: SlaFacts,
}

impl CaseLine {
    /// The case's own columns it reads (the contact's two are added by `scope::case_lines`).
    pub const COLUMNS: [case::Column; 8] = [
        case::Column::Number,
        case::Column::Summary,
        case::Column::ErrorCategory,
        case::Column::Priority,
        case::Column::Channel,
        case::Column::CreatedAt,
        case::Column::UpdatedAt,
        case::Column::Solution,
    ];
}

/// A case's row, borrowing its text from the case's line and the companies.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRow<'a> {
    pub company: &'a str,
    /// The person who submitted the case: their display name, else their address.
    pub customer: &'a str,
    pub case_number: String,
    pub summary: &'a str,
    pub error_category: &'a str,
    pub status: &'static str,
    pub case_type: &'static str,
    pub severity: &'static str,
    pub priority: &'static str,
    /// In the report's zone (`Companies::report_zone`), with its offset.
    pub created: DateTime<FixedOffset>,
    pub last_update: DateTime<FixedOffset>,
    /// Only once the case is resolved or closed.
    pub solution: &'a str,
    pub channel: &'static str,
    pub first_response_hours: Option<f64>,
    pub resolution_hours: Option<f64>,
    pub response_target: Attainment,
    pub resolution_target: Attainment,
    /// To other teams, current and past, oldest first.
    pub escalations: &'a [Escalated],
    #[serde(skip)]
    zone: Tz,
}

impl<'a> CaseRow<'a> {
    /// The row of case `c`, its times in `zone` (one zone for the whole report).
    pub fn new(
        config: &Config,
        companies: &'a Companies,
        c: &'a CaseLine,
        escalations: &'a [Escalated],
        (zone, now): (Tz, DateTime<Utc>),
    ) -> CaseRow<'a> {
        let facts = &c.facts;
        let sla = case_sla(config, facts, now);
        let customer = match (&c.contact_name, &c.contact_email) {
            (Some(name), _) if !name.trim().is_empty() => name,
            (_, Some(email)) => email,
            _ => "",
        };
        CaseRow {
            company: companies.get(facts.company_id).map_or("", |co| co.name.as_str()),
            customer,
            case_number: c.number.to_string(),
            summary: &c.summary,
            error_category: c.error_category.as_deref().unwrap_or_default(),
            status: facts.status.as_str(),
            case_type: facts.case_type.as_str(),
            severity: facts.severity.as_str(),
            priority: c.priority.as_str(),
            created: in_zone(c.created_at, zone),
            last_update: in_zone(c.updated_at, zone),
            solution: facts.resolved().and(c.solution.as_deref()).unwrap_or_default(),
            channel: c.channel.as_str(),
            first_response_hours: sla.first_response_minutes.map(hours),
            resolution_hours: sla.resolution_minutes.map(hours),
            response_target: sla.response,
            resolution_target: sla.resolution,
            escalations,
            zone,
        }
    }

    /// The row as text, in `HEADERS` order.
    pub fn fields(&self) -> [Cow<'a, str>; 18] {
        let opt = |h: Option<f64>| h.map_or(Cow::Borrowed(""), |h| format!("{h:.2}").into());
        [
            self.company.into(),
            self.customer.into(),
            self.case_number.clone().into(),
            self.summary.into(),
            self.error_category.into(),
            self.status.into(),
            self.case_type.into(),
            self.severity.into(),
            self.priority.into(),
            local_time(self.created).into(),
            local_time(self.last_update).into(),
            self.solution.into(),
            self.channel.into(),
            opt(self.first_response_hours),
            opt(self.resolution_hours),
            self.response_target.as_str().into(),
            self.resolution_target.as_str().into(),
            self.escalations_text(),
        ]
    }

    /// `hosting 2026-11-23 05:00 -05:00 to 2026-11-23 08:30 -05:00 by Jo Smith;
    /// engineering since …`, in the company's zone.
    fn escalations_text(&self) -> Cow<'a, str> {
        if self.escalations.is_empty() {
            return Cow::Borrowed("");
        }
        let at = |t: DateTime<Utc>| local_time(in_zone(t, self.zone));
        let each = self.escalations.iter().map(|e| match e.until {
            Some(until) => format!("{} {} to {} by {}", e.team, at(e.since), at(until), e.by),
            None => format!("{} since {} by {}", e.team, at(e.since), e.by),
        });
        each.collect::<Vec<_>>().join("; ").into()
    }
}

fn in_zone(t: DateTime<Utc>, zone: Tz) -> DateTime<FixedOffset> {
    t.with_timezone(&zone).fixed_offset()
}

/// `2026-11-03 10:00 -05:00`: what a spreadsheet shows, with the offset that makes it exact.
/// Written directly (a report writes two per case; chrono's formatter walks its items for
/// each); chrono formats what that cannot: a five-digit year, an offset of odd seconds.
pub fn local_time(t: DateTime<FixedOffset>) -> String {
    let offset = t.offset().local_minus_utc();
    if !(0..=9999).contains(&t.year()) || offset % 60 != 0 {
        return t.format("%Y-%m-%d %H:%M %:z").to_string();
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let minutes = offset.unsigned_abs() / 60;
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} {sign}{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        minutes / 60,
        minutes % 60
    )
}

/// Business hours, to the hundredth.
fn hours(minutes: i64) -> f64 {
    (minutes as f64 / 60.0 * 100.0).round() / 100.0
}

/// Writes the report; returns how many cases it has.
pub async fn write_cases(
    db: &DatabaseConnection,
    config: &Config,
    scope: &Scope,
    format: Format,
    excel: bool,
    out: &mut (dyn Write + Send),
    now: DateTime<Utc>,
) -> Result<usize, ReportError> {
    let mut rows = Rows::start(format, excel, out, &HEADERS, &TABLE)?;
    let count = each_row(db, config, scope, now, |row| {
        let mut fields = row.fields();
        if format == Format::Table {
            // A terminal's narrow columns take one word; CSV, JSON and HTML keep the reason.
            fields[15] = row.response_target.word().into();
            fields[16] = row.resolution_target.word().into();
        }
        rows.row(row, &fields)
    })
    .await?;
    rows.finish()?;
    Ok(count)
}

/// Calls `f` with each case's row, as the database yields them; how many there were.
pub async fn each_row(
    db: &DatabaseConnection,
    config: &Config,
    scope: &Scope,
    now: DateTime<Utc>,
    mut f: impl FnMut(&CaseRow) -> Result<(), ReportError>,
) -> Result<usize, ReportError> {
    let companies = Companies::load(db, config).await?;
    let zone = companies.report_zone(scope);
    let escalations = crate::teams::by_case_number(db).await?;
    let mut stream = Box::pin(scope::case_lines(db, config, &companies, scope).await?);
    let mut count = 0;
    while let Some(c) = stream.try_next().await? {
        let escalated = escalations.get(&c.number).map_or(&[][..], Vec::as_slice);
        f(&CaseRow::new(config, &companies, &c, escalated, (zone, now)))?;
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, TimeZone};
    use proptest::prelude::*;

    use super::local_time;

    fn chrono_writes(t: chrono::DateTime<FixedOffset>) -> String {
        t.format("%Y-%m-%d %H:%M %:z").to_string()
    }

    #[test]
    fn times_are_written_with_their_offset() {
        let zone = FixedOffset::west_opt(5 * 3600).unwrap();
        assert_eq!(local_time(zone.with_ymd_and_hms(2026, 11, 3, 10, 0, 0).unwrap()), "2026-11-03 10:00 -05:00");
        let india = FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
        assert_eq!(local_time(india.with_ymd_and_hms(2026, 1, 9, 7, 5, 59).unwrap()), "2026-01-09 07:05 +05:30");
        // What only chrono writes: a local mean time's odd seconds, a year past 9999.
        let lmt = FixedOffset::east_opt(-(4 * 3600 + 56 * 60 + 2)).unwrap();
        let old = lmt.with_ymd_and_hms(1880, 1, 1, 12, 0, 0).unwrap();
        assert_eq!(local_time(old), chrono_writes(old));
        let far = FixedOffset::east_opt(0).unwrap().with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(local_time(far), chrono_writes(far));
    }

    proptest! {
        #[test]
        fn times_are_written_as_chrono_writes_them(secs in -2_208_988_800i64..4_102_444_800, quarter_hours in -48i32..=56) {
            let zone = FixedOffset::east_opt(quarter_hours * 900).unwrap();
            let t = chrono::DateTime::from_timestamp(secs, 0).unwrap().with_timezone(&zone);
            prop_assert_eq!(local_time(t), chrono_writes(t));
        }
    }
}
