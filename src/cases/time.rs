//! Time spent on a case, drawn from the company's pre-purchased budget. The budget is kept
//! in standard hours: a consultancy hour draws consultancy_rate / standard_rate of them.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DbErr, EntityTrait, Set};

use super::{Actor, record_event};
use crate::agents::Rate;
use crate::config::Config;
use crate::storage::Tx;
use crate::storage::entities::{agent, case, company, time_entry};

/// Records `minutes` at `rate` and returns the standard hours it draws from the budget.
pub async fn add_time(
    txn: &Tx,
    config: &Config,
    c: &case::Model,
    by: &agent::Model,
    minutes: u32,
    rate: Rate,
    now: DateTime<Utc>,
) -> Result<f64, DbErr> {
    let company = match c.company_id {
        Some(id) => company::Entity::find_by_id(id).one(txn).await?,
        None => None,
    };
    let (standard, consultancy) = rates(config, company.as_ref());
    let factor = match rate {
        Rate::Standard => 1.0,
        Rate::Consultancy => consultancy / standard,
    };
    let budget_hours = f64::from(minutes) / 60.0 * factor;
    time_entry::ActiveModel {
        case_id: Set(c.id),
        agent_id: Set(Some(by.id)),
        minutes: Set(minutes as i32),
        rate_kind: Set(rate.as_str().to_owned()),
        budget_hours: Set(budget_hours),
        at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    txn.stage_touch(c.id, now);
    let detail = format!(
        "{budget_hours:.2} standard hours from the budget at {} per hour",
        match rate {
            Rate::Standard => standard,
            Rate::Consultancy => consultancy,
        }
    );
    let actor = Actor::Agent(by.email.parse().map_err(|e| DbErr::Custom(format!("agent address: {e}")))?);
    record_event(txn, c.id, now, &actor, "time", (None, Some(format!("{minutes}m {}", rate.as_str()))), Some(detail));
    Ok(budget_hours)
}

/// (standard, consultancy) money per hour: the company's overrides, else `[budget]`.
pub fn rates(config: &Config, company: Option<&company::Model>) -> (f64, f64) {
    let b = &config.budget;
    (
        company.and_then(|c| c.standard_rate).filter(|r| *r > 0.0).unwrap_or(b.standard_rate),
        company.and_then(|c| c.consultancy_rate).unwrap_or(b.consultancy_rate),
    )
}
