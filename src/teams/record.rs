//! The escalations of each case: opened by `#escalate`, ended by the team's `#return` or an
//! agent's `#deescalate`. Written directly in the caller's transaction, like the case.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Serialize;

use crate::cases::Actor;
use crate::domain::CaseNumber;
use crate::storage::entities::{agent, case, escalation};

/// One escalation as `cases show` and the reports show it.
#[derive(Debug, Clone, Serialize)]
pub struct Escalated {
    pub team: String,
    /// Who escalated, as the trail writes them (`agent:alice@example.com`).
    pub by: String,
    /// `by` as people are shown it: an agent by name, anyone else by the bare address.
    pub by_name: String,
    pub reason: Option<String>,
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    /// Who ended it (an agent's `#deescalate`, the team's `#return`), as written, and shown.
    pub ended_by: Option<String>,
    pub ended_by_name: Option<String>,
    pub end_note: Option<String>,
}

impl Escalated {
    /// The escalation `e`, its people named as the case's events name theirs.
    pub fn named(e: escalation::Model, agents: &[agent::Model]) -> Escalated {
        Escalated {
            team: e.team,
            by_name: crate::cases::actor_name(&e.escalated_by, agents),
            by: e.escalated_by,
            reason: e.reason,
            since: e.started_at,
            until: e.ended_at,
            ended_by_name: e.ended_by.as_deref().map(|b| crate::cases::actor_name(b, agents)),
            ended_by: e.ended_by,
            end_note: e.end_note,
        }
    }

    /// The agent's address behind `by_name`, when it is a name (a page's hover).
    pub fn by_address(&self) -> Option<&str> {
        crate::cases::named_address(&self.by, &self.by_name)
    }

    pub fn ended_by_address(&self) -> Option<&str> {
        crate::cases::named_address(self.ended_by.as_deref()?, self.ended_by_name.as_deref()?)
    }
}

pub async fn open(
    db: &impl ConnectionTrait,
    case_id: i64,
    team: &str,
    by: &Actor,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = escalation::ActiveModel {
        case_id: Set(case_id),
        team: Set(team.to_owned()),
        escalated_by: Set(by.to_string()),
        reason: Set(reason.map(str::to_owned)),
        started_at: Set(now),
        ..Default::default()
    };
    escalation::Entity::insert(row).exec(db).await?;
    Ok(())
}

/// The case's current escalations, oldest first.
pub async fn current(db: &impl ConnectionTrait, case_id: i64) -> Result<Vec<escalation::Model>, DbErr> {
    escalation::Entity::find()
        .filter(escalation::Column::CaseId.eq(case_id))
        .filter(escalation::Column::EndedAt.is_null())
        .order_by_asc(escalation::Column::Id)
        .all(db)
        .await
}

/// The current escalations of the cases `ids`.
pub async fn current_of(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<escalation::Model>, DbErr> {
    escalation::Entity::find()
        .filter(escalation::Column::CaseId.is_in(ids.iter().copied()))
        .filter(escalation::Column::EndedAt.is_null())
        .order_by_asc(escalation::Column::Id)
        .all(db)
        .await
}

/// The teams each escalated case is with now, by case id.
pub async fn with_teams(db: &impl ConnectionTrait) -> Result<HashMap<i64, Vec<String>>, DbErr> {
    let rows: Vec<(i64, String)> = escalation::Entity::find()
        .select_only()
        .columns([escalation::Column::CaseId, escalation::Column::Team])
        .filter(escalation::Column::EndedAt.is_null())
        .order_by_asc(escalation::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut with: HashMap<i64, Vec<String>> = HashMap::new();
    for (case_id, team) in rows {
        with.entry(case_id).or_default().push(team);
    }
    Ok(with)
}

/// Every escalation there is, by the number of its case, oldest first: what `report cases`
/// shows beside each case, and so the CRMs' reports. `by` and `ended_by` are names there (an
/// agent's, or the team's): the desk's addresses stay inside it. One row per escalation,
/// however many cases there are.
pub async fn by_case_number(db: &impl ConnectionTrait) -> Result<HashMap<CaseNumber, Vec<Escalated>>, DbErr> {
    let escalated = Query::select().column(escalation::Column::CaseId).from(escalation::Entity).to_owned();
    let numbers: HashMap<i64, CaseNumber> = case::Entity::find()
        .select_only()
        .columns([case::Column::Id, case::Column::Number])
        .filter(case::Column::Id.in_subquery(escalated))
        .into_tuple::<(i64, CaseNumber)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let names: HashMap<String, String> =
        agent::Entity::find().all(db).await?.into_iter().map(|a| (Actor::agent(&a.email), a.name)).collect();
    let outside = |written: &str, team: &str| match names.get(written) {
        Some(name) => name.clone(),
        None if written.starts_with("team:") => format!("the {team} team"),
        None => "an agent".into(),
    };
    let rows = escalation::Entity::find().order_by_asc(escalation::Column::Id).all(db).await?;
    let mut by_number: HashMap<CaseNumber, Vec<Escalated>> = HashMap::new();
    for e in rows {
        if let Some(number) = numbers.get(&e.case_id) {
            let mut e = Escalated::named(e, &[]);
            e.by = outside(&e.by, &e.team);
            e.by_name = e.by.clone();
            e.ended_by = e.ended_by.map(|b| outside(&b, &e.team));
            e.ended_by_name = e.ended_by.clone();
            by_number.entry(*number).or_default().push(e);
        }
    }
    Ok(by_number)
}

/// Every escalation of the case, current and past, oldest first, `agents` named.
pub async fn of_case(
    db: &impl ConnectionTrait,
    case_id: i64,
    agents: &[agent::Model],
) -> Result<Vec<Escalated>, DbErr> {
    let rows = escalation::Entity::find()
        .filter(escalation::Column::CaseId.eq(case_id))
        .order_by_asc(escalation::Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|e| Escalated::named(e, agents)).collect())
}

/// Ends `row` unless it has ended meanwhile (another daemon's `#return`); whether this did.
pub async fn end(
    db: &impl ConnectionTrait,
    row: &escalation::Model,
    by: &Actor,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let ended = escalation::ActiveModel {
        ended_at: Set(Some(now)),
        ended_by: Set(Some(by.to_string())),
        end_note: Set(note.filter(|n| !n.is_empty()).map(str::to_owned)),
        ..Default::default()
    };
    let done = escalation::Entity::update_many()
        .set(ended)
        .filter(escalation::Column::Id.eq(row.id))
        .filter(escalation::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}
