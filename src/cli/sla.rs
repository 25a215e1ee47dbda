use std::path::Path;

use chrono::{DateTime, Utc};

use super::load::{fail, load_checked, open_read_only};
use super::output::outln;
use super::output::{self, Format};
use super::{Exit, SlaCommand, SlaTarget};
use crate::app::AppError;
use crate::cases::{SlaLine, sla_status};
use crate::domain::{CaseType, Severity};
use crate::sla::{TargetView, span};

pub async fn sla(config: &Path, command: SlaCommand) -> Exit {
    match command {
        SlaCommand::Status { format } => status(config, format).await,
        SlaCommand::Due { severity, at, target, case_type, client_config } => {
            due_at(config, severity, at, target, case_type, client_config)
        }
    }
}

/// `sla status`: every case not resolved or closed, against its targets.
async fn status(config: &Path, format: Format) -> Exit {
    let desk = match open_read_only(config).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    let lines = match sla_status(&desk.db, &desk.config, desk.now()).await {
        Ok(l) => l,
        Err(e) => return fail(&AppError::Database(e)),
    };
    let zone = desk.zone();
    let header = ["CASE", "SEV", "STATUS", "TARGET", "DUE", "LEFT (business time)", "STATE"];
    let rows: Vec<(&SlaLine, &TargetView)> = lines.iter().flat_map(|l| l.sla.iter().map(move |t| (l, t))).collect();
    match format {
        Format::Json => output::json(&lines),
        Format::Table => output::table(
            &header,
            &rows
                .iter()
                .map(|(l, t)| {
                    vec![
                        l.case.number.to_string(),
                        l.case.severity.clone(),
                        l.case.status.clone(),
                        t.target.to_owned(),
                        zone.time(Some(t.due)),
                        left(t),
                        t.state.as_str().to_owned(),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
    }
    Exit::Ok
}

/// Business time left, as `sla::span` words it ("1 h 30 min", "45 min over"); "-" once settled.
fn left(t: &TargetView) -> String {
    match (t.settled_at, t.business_minutes_left) {
        (Some(_), _) => "-".into(),
        (None, left) if left < 0 => format!("{} over", span(-left)),
        (None, left) => span(left),
    }
}

/// `sla due`: when a target lapses for a case received at a given time. Needs no database.
fn due_at(
    config: &Path,
    severity: Severity,
    at: DateTime<Utc>,
    target: SlaTarget,
    case_type: CaseType,
    client_config: bool,
) -> Exit {
    let (config, _) = match load_checked(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let (cal, policy) = (&config.calendar, &config.sla);
    let due = match target {
        SlaTarget::Respond => Some(policy.respond_due(cal, severity, at)),
        SlaTarget::Resolve => policy.resolve_due(cal, severity, case_type, client_config, at),
    };
    match due {
        None => outln!(
            "no resolution target applies to a {severity} {case_type}{}",
            if client_config { " (client configuration)" } else { "" }
        ),
        Some(due) => {
            let local = due.with_timezone(&cal.time_zone);
            outln!("{}", due.format("%Y-%m-%dT%H:%M:%SZ"));
            outln!("{} ({})", local.format("%Y-%m-%d %H:%M %Z"), cal.time_zone.name());
        }
    }
    Exit::Ok
}
