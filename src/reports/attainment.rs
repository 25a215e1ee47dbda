//! How a case did against its targets, as reports count it: the business time to its first
//! response and to its resolution, and whether each target was met, breached, still running,
//! or did not apply. Pure arithmetic over the stored case, so reports and tests agree.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::packed;
use crate::config::Config;
use crate::domain::{CaseType, Severity, Status};
use crate::sla::{CaseClocks, Outcome};
use crate::storage::entities::case;

/// Where a case stands against one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attainment {
    Met,
    Breached,
    /// Resolved or closed before the due time with no response: missed all the same.
    #[serde(rename = "missed")]
    ClosedWithoutResponse,
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
            Attainment::ClosedWithoutResponse => "missed (closed without response)",
            Attainment::Running => "running",
            Attainment::Paused => "paused",
            Attainment::Exempt => "exempt",
            Attainment::NoTarget => "no target",
        }
    }

    /// Counted in a share of targets met: decided one way or the other.
    pub fn decided(self) -> bool {
        matches!(self, Attainment::Met | Attainment::Breached | Attainment::ClosedWithoutResponse)
    }
}

impl From<Outcome> for Attainment {
    fn from(o: Outcome) -> Attainment {
        match o {
            Outcome::Met => Attainment::Met,
            Outcome::Breached => Attainment::Breached,
            Outcome::ClosedWithoutResponse => Attainment::ClosedWithoutResponse,
            Outcome::Running => Attainment::Running,
            Outcome::Paused => Attainment::Paused,
        }
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
        self.clocks().ended()
    }

    fn clocks(&self) -> CaseClocks {
        CaseClocks {
            status: self.status,
            first_response_due: self.first_response_due,
            first_response_at: self.first_response_at,
            resolution_due: self.resolution_due,
            paused_since: self.paused_since,
            resolved_at: self.resolved_at,
            closed_at: self.closed_at,
        }
    }
}

pub fn case_sla(config: &Config, c: &SlaFacts, now: DateTime<Utc>) -> CaseSla {
    let cal = &config.calendar;
    let start = c.sla_started_at;
    let resolved = c.resolved();
    let business = |end: DateTime<Utc>| cal.business_between(start, end.max(start));
    let first_response_minutes = c.first_response_at.map(|t| business(t).num_minutes());
    let clocks = c.clocks();
    let response = clocks.respond().map_or(Attainment::NoTarget, |f| f.outcome(now).into());
    let paused = Duration::seconds(c.paused_seconds.max(0));
    let resolution_minutes = resolved.map(|t| (business(t) - paused).num_minutes().max(0));
    let resolution = match clocks.resolve() {
        Some(f) => f.outcome(now).into(),
        None if c.client_config || config.sla.resolve_exempt_types.contains(&c.case_type) => Attainment::Exempt,
        None => Attainment::NoTarget,
    };
    CaseSla { first_response_minutes, resolution_minutes, response, resolution }
}
