//! The support budget: time a company bought in advance, in standard hours. The first
//! purchase is `[[company]] budget_hours`; `supportd budget add` records top-ups. Time
//! entries draw it down (a consultancy hour by consultancy_rate / standard_rate standard
//! hours, `cases::add_time`); what is left is purchased − used.

mod alerts;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::JoinType;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set};
use serde::Serialize;

pub use alerts::{BudgetTick, budget_tick, money};

use crate::storage::entities::{budget_purchase, case, company, time_entry};

/// Where a company's budget stands, in standard hours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Standing {
    pub purchased: f64,
    pub used: f64,
}

impl Standing {
    pub fn remaining(&self) -> f64 {
        self.purchased - self.used
    }

    /// What is left as a percentage of what was bought; `None` when nothing was bought.
    pub fn remaining_pct(&self) -> Option<f64> {
        (self.purchased > 0.0).then(|| self.remaining() / self.purchased * 100.0)
    }

    /// `12.5 of 40 h left (31%)`, for people.
    pub fn describe(&self) -> String {
        match self.remaining_pct() {
            Some(pct) => format!("{} of {} h left ({pct:.0}%)", hours(self.remaining()), hours(self.purchased)),
            None => format!("none bought; {} h used", hours(self.used)),
        }
    }
}

/// Hours to the hundredth, without trailing zeros: `12.5`, `40`.
pub fn hours(h: f64) -> String {
    let text = format!("{h:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Every company's standing: three queries, whatever the number of entries.
pub async fn standings(db: &impl ConnectionTrait) -> Result<HashMap<i64, Standing>, DbErr> {
    let companies: Vec<(i64, f64)> = company::Entity::find()
        .select_only()
        .columns([company::Column::Id, company::Column::BudgetHours])
        .into_tuple()
        .all(db)
        .await?;
    let bought: HashMap<i64, f64> = budget_purchase::Entity::find()
        .select_only()
        .column(budget_purchase::Column::CompanyId)
        .column_as(budget_purchase::Column::Hours.sum(), "hours")
        .group_by(budget_purchase::Column::CompanyId)
        .into_tuple::<(i64, Option<f64>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, h)| (id, h.unwrap_or(0.0)))
        .collect();
    let used = used_by_company(db, None).await?;
    Ok(companies
        .into_iter()
        .map(|(id, first)| {
            let purchased = first + bought.get(&id).copied().unwrap_or(0.0);
            (id, Standing { purchased, used: used.get(&id).copied().unwrap_or(0.0) })
        })
        .collect())
}

pub async fn standing(db: &impl ConnectionTrait, company_id: i64) -> Result<Standing, DbErr> {
    Ok(standings(db).await?.remove(&company_id).unwrap_or(Standing { purchased: 0.0, used: 0.0 }))
}

/// Standard hours drawn per company, up to `until` (all when `None`).
async fn used_by_company(db: &impl ConnectionTrait, until: Option<DateTime<Utc>>) -> Result<HashMap<i64, f64>, DbErr> {
    let mut query = time_entry::Entity::find()
        .select_only()
        .column(case::Column::CompanyId)
        .column_as(time_entry::Column::BudgetHours.sum(), "used")
        .join(JoinType::InnerJoin, entry_case())
        .filter(case::Column::CompanyId.is_not_null())
        .group_by(case::Column::CompanyId);
    if let Some(until) = until {
        query = query.filter(time_entry::Column::At.lt(until));
    }
    let rows: Vec<(Option<i64>, Option<f64>)> = query.into_tuple().all(db).await?;
    Ok(rows.into_iter().filter_map(|(id, h)| Some((id?, h.unwrap_or(0.0)))).collect())
}

/// time entry → its case.
pub fn entry_case() -> sea_orm::RelationDef {
    time_entry::Entity::belongs_to(case::Entity).from(time_entry::Column::CaseId).to(case::Column::Id).into()
}

/// Records a top-up of `hours` standard hours, bought `at`.
pub async fn add_purchase(
    db: &impl ConnectionTrait,
    company_id: i64,
    hours: f64,
    note: Option<String>,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    budget_purchase::ActiveModel {
        company_id: Set(company_id),
        hours: Set(hours),
        note: Set(note),
        at: Set(at),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A company's top-ups, oldest first.
pub async fn purchases(db: &impl ConnectionTrait, company_id: i64) -> Result<Vec<budget_purchase::Model>, DbErr> {
    use sea_orm::QueryOrder;
    budget_purchase::Entity::find()
        .filter(budget_purchase::Column::CompanyId.eq(company_id))
        .order_by_asc(budget_purchase::Column::At)
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standing_in_words() {
        let s = Standing { purchased: 40.0, used: 27.5 };
        assert_eq!(s.remaining(), 12.5);
        assert_eq!(s.describe(), "12.5 of 40 h left (31%)");
        assert_eq!(Standing { purchased: 0.0, used: 1.25 }.describe(), "none bought; 1.25 h used");
        assert_eq!(hours(10.0), "10");
    }
}
