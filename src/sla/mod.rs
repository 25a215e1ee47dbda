//! Service-level targets: the business calendar and the policy that turns a severity and
//! type into due times.

mod alerts;
mod calendar;
mod outcome;
pub mod outcome_sql;
mod policy;
#[cfg(test)]
mod props;
mod state;

pub use alerts::{AlertPoint, TargetKind, WarnPoint, alert_points, case_alert_points};
pub use calendar::{BusinessCalendar, Opening};
pub use outcome::{CaseClocks, Outcome, TargetFacts};
pub use policy::{Classification, DueTimes, SlaPolicy, Target};
pub use state::{TargetState, TargetView, span, target_view};
