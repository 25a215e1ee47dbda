//! How a case did against its targets, as reports count it: the business time to its first
//! response and to its resolution, and whether each target was met, breached, still running,
//! or did not apply (`sla::Outcome` decides; this only adds why a case has no target). Pure arithmetic over the stored case, so reports and tests agree.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::packed;
use crate::config::Config;
use crate::domain::{CaseType, Severity, Status};
use crate::sla::{CaseClocks, Outcome};
use crate::storage::entities::case;

/// Where a case stands against one target: the target's `Outcome`, or why it has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attainment {
    /// No resolution target for this case: a Bug, a change Request, or caused by
    /// client-side configuration.
    Exempt,
    /// Its severity has no resolution target (S4 by default).
    NoTarget,
    /// Serialized as the outcome itself (`met`, `breached`, `missed`, `running`, `paused`).
    #[serde(untagged)]
    Target(Outcome),
}

impl Attainment {
    /// As a report's cell reads it: the reason a target was missed though not breached.
    pub fn as_str(self) -> &'static str {
        match self {
            Attainment::Target(Outcome::ClosedWithoutResponse) => "missed (closed without response)",
            _ => self.word(),
        }
    }

    /// One word, for a narrow column: `met`, `breached`, `missed`, `running`, `paused`,
    /// `exempt`, `no target`.
    pub fn word(self) -> &'static str {
        match self {
            Attainment::Target(outcome) => outcome.as_str(),
            Attainment::Exempt => "exempt",
            Attainment::NoTarget => "no target",
        }
    }

    /// Counted in a share of targets met: decided one way or the other.
    pub fn decided(self) -> bool {
        matches!(self, Attainment::Target(o) if o.decided())
    }
}

impl From<Outcome> for Attainment {
    fn from(o: Outcome) -> Attainment {
        Attainment::Target(o)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attainment_reads_as_its_outcome_or_why_there_is_none() {
        let json = |a: Attainment| serde_json::to_value(a).unwrap();
        assert_eq!(json(Outcome::ClosedWithoutResponse.into()), "missed", "as the outcome serializes");
        assert_eq!(json(Outcome::Met.into()), "met");
        assert_eq!((json(Attainment::Exempt), json(Attainment::NoTarget)), ("exempt".into(), "no_target".into()));
        let missed = Attainment::from(Outcome::ClosedWithoutResponse);
        assert_eq!((missed.as_str(), missed.word()), ("missed (closed without response)", "missed"));
        assert!(missed.decided() && !Attainment::Exempt.decided() && !Attainment::from(Outcome::Paused).decided());
    }
}
