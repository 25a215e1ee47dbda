//! How a case did against its targets, as reports count it: the business time to its first
//! response and to its resolution, and whether each target was met, breached, still running,
//! or did not apply. Pure arithmetic over the stored case, so reports and tests agree.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::packed;
use crate::config::Config;
use crate::domain::{CaseType, Severity, Status};
use crate::storage::entities::case;

/// Where a case stands against one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attainment {
    Met,
    Breached,
    /// Not reached yet, and not lapsed.
    Running,
    /// The resolution clock stands still: the case waits on the customer.
    Paused,
    /// No resolution target for this case: a Bug, a change Request, or caused by
    /// client-side configuration.
    Exempt,
    /// Its severity has no resolution target (S4 by default).
    NoTarget,
}

impl Attainment {
    pub fn as_str(self) -> &'static str {
        match self {
            Attainment::Met => "met",
            Attainment::Breached => "breached",
            Attainment::Running => "running",
            Attainment::Paused => "paused",
            Attainment::Exempt => "exempt",
            Attainment::NoTarget => "no target",
        }
    }

    /// Counted in a share of targets met: decided one way or the other.
    pub fn decided(self) -> bool {
        matches!(self, Attainment::Met | Attainment::Breached)
    }
}

/// A case against its two targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseSla {
    /// Business minutes from the SLA clock's start to the first response.
    pub first_response_minutes: Option<i64>,
    /// Business minutes from the start to resolution, less the time spent pending.
    pub resolution_minutes: Option<i64>,
    pub response: Attainment,
    pub resolution: Attainment,
}

/// What of a case its targets depend on: the columns an SLA report reads, and no more.
/// `Deserialize` reads it from `packed`'s JSON array, in `COLUMNS` order.
#[derive(Debug, Clone, PartialEq, sea_orm::FromQueryResult, serde::Deserialize)]
pub struct SlaFacts {
    pub company_id: Option<i64>,
    #[serde(deserialize_with = "packed::parsed")]
    pub severity: Severity,
    #[serde(deserialize_with = "packed::parsed")]
    pub case_type: CaseType,
    #[serde(deserialize_with = "packed::parsed")]
    pub status: Status,
    #[serde(deserialize_with = "packed::flag")]
    pub client_config: bool,
    #[serde(deserialize_with = "packed::time")]
    pub sla_started_at: DateTime<Utc>,
    #[serde(deserialize_with = "packed::maybe_time")]
    pub first_response_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "packed::maybe_time")]
    pub first_response_due: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "packed::maybe_time")]
    pub resolution_due: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "packed::maybe_time")]
    pub paused_since: Option<DateTime<Utc>>,
    pub paused_seconds: i64,
    #[serde(deserialize_with = "packed::maybe_time")]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "packed::maybe_time")]
    pub closed_at: Option<DateTime<Utc>>,
}

impl SlaFacts {
    /// The columns, in the struct's order, for a query that selects only them.
    pub const COLUMNS: [case::Column; 13] = [
        case::Column::CompanyId,
        case::Column::Severity,
        case::Column::CaseType,
        case::Column::Status,
        case::Column::ClientConfig,
        case::Column::SlaStartedAt,
        case::Column::FirstResponseAt,
        case::Column::FirstResponseDue,
        case::Column::ResolutionDue,
        case::Column::PausedSince,
        case::Column::PausedSeconds,
        case::Column::ResolvedAt,
        case::Column::ClosedAt,
    ];

    /// When the case was resolved, if it is resolved or closed now (a reopened case is not).
    pub fn resolved(&self) -> Option<DateTime<Utc>> {
        matches!(self.status, Status::Resolved | Status::Closed).then(|| self.resolved_at.or(self.closed_at)).flatten()
    }
}

pub fn case_sla(config: &Config, c: &SlaFacts, now: DateTime<Utc>) -> CaseSla {
    let cal = &config.calendar;
    let start = c.sla_started_at;
    let resolved = c.resolved();
    let business = |end: DateTime<Utc>| cal.business_between(start, end.max(start));
    let first_response_minutes = c.first_response_at.map(|t| business(t).num_minutes());
    let response = match (c.first_response_due, c.first_response_at) {
        (None, _) => Attainment::NoTarget,
        (Some(due), Some(at)) => met_by(at, due),
        // Resolved without a word from us (the customer solved it): the resolution answered.
        (Some(due), None) => match resolved {
            Some(at) => met_by(at, due),
            None => running_until(now, due),
        },
    };
    let paused = Duration::seconds(c.paused_seconds.max(0));
    let resolution_minutes = resolved.map(|t| (business(t) - paused).num_minutes().max(0));
    let resolution = match (c.resolution_due, resolved) {
        (None, _) if c.client_config || config.sla.resolve_exempt_types.contains(&c.case_type) => Attainment::Exempt,
        (None, _) => Attainment::NoTarget,
        (Some(due), Some(at)) => met_by(at, due),
        // Pending stops the clock, unless the target had lapsed before it stopped.
        (Some(due), None) if c.status == Status::Pending => match c.paused_since {
            Some(since) if since > due => Attainment::Breached,
            _ => Attainment::Paused,
        },
        (Some(due), None) => running_until(now, due),
    };
    CaseSla { first_response_minutes, resolution_minutes, response, resolution }
}

fn met_by(at: DateTime<Utc>, due: DateTime<Utc>) -> Attainment {
    if at <= due { Attainment::Met } else { Attainment::Breached }
}

fn running_until(now: DateTime<Utc>, due: DateTime<Utc>) -> Attainment {
    if now <= due { Attainment::Running } else { Attainment::Breached }
}
