//! Reports of the desk's work, for customers and the support lead: every case with the twelve
//! fields the support terms promise (`cases`), SLA attainment (`sla`), the support budget
//! and its timesheet (`budget`), escalations to other teams (`escalations`). Each reads the cases
//! as the database yields them and writes to any `io::Write`, so the same report goes to a
//! terminal, a file or a mail's attachment.

mod attainment;
mod budget;
mod cases;
mod chart;
mod company;
pub mod crm_reply;
mod escalations;
pub mod howto;
mod mail;
mod packed;
mod period;
pub mod request;
mod scope;
mod sla;
mod write;

pub use attainment::{Attainment, CaseSla, SlaFacts, case_sla};
pub use budget::{BudgetLine, TimesheetRow, budget_lines, write_budget, write_timesheet};
pub use cases::{CaseRow, HEADERS as CASE_HEADERS, write_cases};
pub use chart::Chart;
pub use company::{CompanyReport, company_report};
pub use escalations::{EscalationLine, escalation_figures, write_escalations};
pub use mail::{queue_report, record_sent, report_reply_to};
pub use period::Period;
pub use request::fill_report_tokens;
pub use scope::{Companies, Scope, start_of};
pub use sla::{SlaLine, sla_figures, write_sla};
pub use write::{Format, Rows};

use sea_orm::DbErr;

/// A duration in a report's words: under an hour in minutes (`3 min`, never `0 h`), else
/// hours and minutes (`2 h 15 min`). Every duration a report shows in words goes through it.
pub fn duration(hours: f64) -> String {
    crate::sla::span((hours * 60.0).round() as i64)
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("no company has slug {0:?}")]
    NoCompany(String),
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("cannot write the report: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot write the report: {0}")]
    Csv(#[from] csv::Error),
    /// The report's mail could not be queued (a template failed, say).
    #[error(transparent)]
    Mail(#[from] crate::outbound::MailError),
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_under_an_hour_read_as_minutes() {
        assert_eq!(duration(0.02), "1 min");
        assert_eq!(duration(0.05), "3 min");
        assert_eq!(duration(0.75), "45 min");
        assert_eq!(duration(1.0), "1 h");
        assert_eq!(duration(17.5), "17 h 30 min");
    }
}
