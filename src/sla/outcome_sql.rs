//! `TargetFacts::outcome` as one SQL expression over a case's columns, for counts that must
//! not read every case into memory (`/metrics` counts open cases at each scrape). It is the
//! same rule, step for step, as `CaseClocks` then `TargetFacts::outcome`; the tests below run
//! it over every combination of the facts and hold it to the function.

use chrono::{DateTime, Utc};
use sea_orm::ColumnTrait;
use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait, Func};

use super::{Outcome, TargetKind};
use crate::domain::Status;
use crate::storage::entities::case;

fn col(c: case::Column) -> Expr {
    Expr::col((case::Entity, c))
}

/// The target's due time: a case without one has no such target (filter on it).
pub fn due_column(target: TargetKind) -> case::Column {
    match target {
        TargetKind::Respond => case::Column::FirstResponseDue,
        TargetKind::Resolve => case::Column::ResolutionDue,
    }
}

/// `CaseClocks::ended`: when the case was resolved, while it is resolved or closed.
fn ended() -> Expr {
    let over = case::Column::Status.is_in([Status::Resolved, Status::Closed]);
    CaseStatement::new().case(over, Func::coalesce([col(case::Column::ResolvedAt), col(case::Column::ClosedAt)])).into()
}

/// When the target was reached, NULL while it is not: the first response, or the end.
fn reached(target: TargetKind) -> Expr {
    match target {
        TargetKind::Respond => col(case::Column::FirstResponseAt),
        TargetKind::Resolve => ended(),
    }
}

/// The target is not reached yet (`TargetFacts::settled_at` is none, for an open case).
pub fn unreached(target: TargetKind) -> Expr {
    reached(target).is_null()
}

/// The target's outcome at `now` is `o`.
pub fn is(target: TargetKind, now: DateTime<Utc>, o: Outcome) -> Expr {
    outcome(target, now).eq(o.as_str())
}

/// The target's outcome at `now` as its `Outcome::as_str` name, for a case that has the
/// target (its due column is not NULL). A NULL fact never passes a comparison, so each
/// `WHEN` reads like the match arm it stands for.
pub fn outcome(target: TargetKind, now: DateTime<Utc>) -> Expr {
    let due = col(due_column(target));
    let name = |o: Outcome| Expr::val(o.as_str());
    let (reached, ended) = (reached(target), ended());
    let mut rule = CaseStatement::new()
        .case(reached.clone().lte(due.clone()), name(Outcome::Met))
        .case(reached.is_not_null(), name(Outcome::Breached))
        .case(ended.clone().lte(due.clone()), name(Outcome::ClosedWithoutResponse))
        .case(ended.is_not_null(), name(Outcome::Breached));
    if target == TargetKind::Resolve {
        // Pending stops the clock, unless the target had lapsed before it stopped.
        let paused: Expr =
            CaseStatement::new().case(case::Column::Status.eq(Status::Pending), col(case::Column::PausedSince)).into();
        rule = rule
            .case(paused.clone().gt(due.clone()), name(Outcome::Breached))
            .case(paused.is_not_null(), name(Outcome::Paused));
    }
    rule.case(due.gte(now), name(Outcome::Running)).finally(name(Outcome::Breached)).into()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use sea_orm::{
        ConnectOptions, Database, DatabaseConnection, EntityTrait, IntoActiveModel, QueryOrder, QuerySelect,
    };

    use super::*;
    use crate::domain::{CaseNumber, CaseType, Channel, Priority, Severity};
    use crate::sla::CaseClocks;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, h, 0, 0).unwrap()
    }

    /// Every combination of the facts around a due time of 12:00 (and a resolution due at
    /// 15:00): before, on and after it, or none.
    fn every_case() -> Vec<case::Model> {
        let times = [None, Some(at(11)), Some(at(12)), Some(at(13)), Some(at(15)), Some(at(16))];
        let statuses = [Status::New, Status::Open, Status::Pending, Status::Resolved, Status::Closed];
        let mut cases = Vec::new();
        for status in statuses {
            for first_response_at in times {
                for resolved_at in times {
                    for closed_at in [None, Some(at(12)), Some(at(16))] {
                        for paused_since in [None, Some(at(14)), Some(at(15)), Some(at(16))] {
                            let id = cases.len() as i64 + 1;
                            let c = clocks(status, first_response_at, resolved_at, closed_at, paused_since);
                            cases.push(row(id, c));
                        }
                    }
                }
            }
        }
        cases
    }

    fn clocks(
        status: Status,
        first_response_at: Option<DateTime<Utc>>,
        resolved_at: Option<DateTime<Utc>>,
        closed_at: Option<DateTime<Utc>>,
        paused_since: Option<DateTime<Utc>>,
    ) -> CaseClocks {
        CaseClocks {
            status,
            first_response_due: Some(at(12)),
            first_response_at,
            resolution_due: Some(at(15)),
            paused_since,
            resolved_at,
            closed_at,
        }
    }

    fn row(id: i64, c: CaseClocks) -> case::Model {
        case::Model {
            id,
            number: CaseNumber::new(id as u64).unwrap(),
            company_id: None,
            contact_id: None,
            mailbox: "support".into(),
            channel: Channel::Email,
            summary: "facts".into(),
            case_type: CaseType::Query,
            severity: Severity::S3,
            priority: Priority::Normal,
            status: c.status,
            error_category: None,
            client_config: false,
            assignee_id: None,
            created_at: at(9),
            updated_at: at(9),
            sla_started_at: at(9),
            first_response_at: c.first_response_at,
            first_response_due: c.first_response_due,
            resolution_due: c.resolution_due,
            next_alert_at: None,
            paused_since: c.paused_since,
            paused_seconds: 0,
            resolved_at: c.resolved_at,
            closed_at: c.closed_at,
            solution: None,
            linked_case_id: None,
            opened_because: None,
        }
    }

    async fn desk() -> DatabaseConnection {
        let mut opts = ConnectOptions::new("sqlite::memory:");
        opts.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None).sqlx_logging(false);
        let db = Database::connect(opts).await.unwrap();
        crate::storage::migrate(&db).await.unwrap();
        db
    }

    #[tokio::test]
    async fn the_sql_outcome_is_the_outcome_function_for_every_combination_of_facts() {
        let db = desk().await;
        let cases = every_case();
        for chunk in cases.chunks(200) {
            case::Entity::insert_many(chunk.iter().cloned().map(IntoActiveModel::into_active_model))
                .exec(&db)
                .await
                .unwrap();
        }
        let mut seen = std::collections::HashSet::new();
        for now in [at(10), at(12), at(13), at(15), at(17)] {
            for target in [TargetKind::Respond, TargetKind::Resolve] {
                let sql: Vec<(i64, String)> = case::Entity::find()
                    .select_only()
                    .column(case::Column::Id)
                    .expr(outcome(target, now))
                    .order_by_asc(case::Column::Id)
                    .into_tuple()
                    .all(&db)
                    .await
                    .unwrap();
                assert_eq!(sql.len(), cases.len());
                for ((id, got), c) in sql.iter().zip(&cases) {
                    let clocks = CaseClocks::from(c);
                    let facts = match target {
                        TargetKind::Respond => clocks.respond(),
                        TargetKind::Resolve => clocks.resolve(),
                    };
                    let want = facts.unwrap().outcome(now);
                    assert_eq!(got, want.as_str(), "case {id} at {now}, {target:?}: {clocks:?}");
                    seen.insert((target, want));
                }
            }
        }
        for target in [TargetKind::Respond, TargetKind::Resolve] {
            for o in Outcome::ALL {
                // A resolution is reached when the case ends, so it is never closed unanswered.
                let possible = !matches!(
                    (target, o),
                    (TargetKind::Resolve, Outcome::ClosedWithoutResponse) | (TargetKind::Respond, Outcome::Paused)
                );
                assert_eq!(seen.contains(&(target, o)), possible, "{target:?} {o:?} was tried");
            }
        }
    }
}
