//! Each CRM's month: after `[scheduler] monthly_report`'s time on the 1st, the company's
//! report of the month before goes to its CRM, once. The ledger (`reports_sent`) keeps it to
//! one per company and month across restarts and instances; a tick after downtime catches
//! up within a week, and a month already sent is never sent again.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tracing::info;

use crate::desk::Desk;
use crate::domain::EmailAddress;
use crate::reports::{Period, ReportError, company_report, queue_report, record_sent};
use crate::storage::begin_write;
use crate::storage::entities::{company, report_sent};

/// How long after its time a missed report is still sent (supportd was down): longer, and a
/// new installation would mail last month's report at once; `report send` is there for that.
const CATCH_UP: Duration = Duration::days(7);

/// The month whose reports are due at `now`: the one before the latest scheduled time, if
/// that time was within `CATCH_UP`.
pub fn due_month(schedule: &cron::Schedule, zone: chrono_tz::Tz, now: DateTime<Utc>) -> Option<Period> {
    let since = (now - CATCH_UP).with_timezone(&zone);
    let latest = schedule.after(&since).take_while(|t| t.with_timezone(&Utc) <= now).last()?;
    Some(Period::previous_month(latest.date_naive()))
}

/// Queues the reports due now; how many mails.
pub async fn monthly_reports(desk: &Desk) -> Result<usize, ReportError> {
    let cfg = &desk.config;
    let Some(schedule) = &cfg.scheduler.monthly_report else { return Ok(0) };
    let now = desk.now();
    let Some(month) = due_month(schedule, cfg.calendar.time_zone, now) else { return Ok(0) };
    let sent: Vec<i64> = report_sent::Entity::find()
        .filter(report_sent::Column::Kind.eq("monthly"))
        .filter(report_sent::Column::Period.eq(month.key()))
        .all(&desk.db)
        .await?
        .into_iter()
        .map(|r| r.company_id)
        .collect();
    let (mut queued, mut failed) = (0, None);
    for c in company::Entity::find().all(&desk.db).await? {
        if sent.contains(&c.id) || cfg.company(&c.slug).is_none() {
            continue;
        }
        let Some(crm) = c.crm_email.as_deref().and_then(|e| e.parse::<EmailAddress>().ok()) else { continue };
        // One company's failure (a broken template override) must not cost the others theirs.
        match one_company(desk, &c, &crm, &month, now).await {
            Ok(n) => queued += n,
            Err(e) => {
                tracing::error!(company = %c.slug, month = %month.key(), error = %e, "monthly report failed");
                failed.get_or_insert(e);
            }
        }
    }
    failed.map_or(Ok(queued), Err)
}

/// The report's mail and its ledger row commit together, or neither does.
async fn one_company(
    desk: &Desk,
    c: &company::Model,
    crm: &EmailAddress,
    month: &Period,
    now: DateTime<Utc>,
) -> Result<usize, ReportError> {
    let cfg = &desk.config;
    let report = company_report(&desk.db, cfg, c, month, now).await?;
    let quiet = report.cases == 0 && report.time_entries == 0;
    let txn = begin_write(&desk.db).await?;
    if !record_sent(&txn, c.id, "monthly", &month.key(), now).await? {
        return Ok(0);
    }
    // A quiet month is recorded as done, so it is not looked at again.
    let queued = match quiet && !cfg.scheduler.monthly_report_when_quiet {
        true => 0,
        false => queue_report(&txn, cfg, &desk.templates, c, &report, &[(c.crm_name.as_deref(), crm)], now).await?,
    };
    txn.commit().await?;
    info!(company = %c.slug, month = %month.key(), queued, "monthly report");
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_month_before_the_latest_run_is_due() {
        let schedule: cron::Schedule = "0 0 8 1 * *".parse().unwrap();
        let zone = chrono_tz::Europe::London;
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(due_month(&schedule, zone, at("2026-12-01T08:00:00Z")).unwrap().key(), "2026-11");
        assert_eq!(
            due_month(&schedule, zone, at("2026-12-01T07:59:59Z")),
            None,
            "not yet, and November's run is long past"
        );
        assert_eq!(due_month(&schedule, zone, at("2026-12-05T12:00:00Z")).unwrap().key(), "2026-11", "caught up");
        assert_eq!(due_month(&schedule, zone, at("2026-12-15T12:00:00Z")), None, "too late: send it by hand");
        let june = zone.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap().with_timezone(&Utc);
        assert_eq!(due_month(&schedule, zone, june).unwrap().key(), "2026-05", "in summer time");
    }
}
