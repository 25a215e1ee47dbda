//! Where open cases stand against their targets, for people: `sla status` (every open
//! case), `/api/sla` (a page of them by number) and the live view's lists (a page chosen by
//! `urgency`). Names and warnings are read for the cases shown only.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::view::{CaseView, CasesPage, Names, cases_page, names_of, party_names, sla_of, view};
use crate::config::Config;
use crate::domain::Status;
use crate::sla::TargetView;
use crate::storage::entities::{alert_sent, case};

/// One line of `sla status`: a case that is not closed, with its targets.
#[derive(Debug, Clone, Serialize)]
pub struct SlaLine {
    #[serde(flatten)]
    pub case: CaseView,
    pub sla: Vec<TargetView>,
}

/// Cases not resolved or closed, with where they stand against their targets: four queries,
/// whatever the number of cases (`sla status` prints them all).
pub async fn sla_status(db: &impl ConnectionTrait, config: &Config, now: DateTime<Utc>) -> Result<Vec<SlaLine>, DbErr> {
    let open = [Status::New, Status::Open, Status::Pending];
    let cases = case::Entity::find()
        .filter(case::Column::Status.is_in(open))
        .order_by_asc(case::Column::Number)
        .all(db)
        .await?;
    let names = party_names(db, Some(&open)).await?;
    let open_ids = case::Entity::find().select_only().column(case::Column::Id).filter(case::Column::Status.is_in(open));
    let warned =
        alerts_by_case(db, alert_sent::Column::CaseId.in_subquery(sea_orm::QueryTrait::into_query(open_ids))).await?;
    Ok(lines(config, cases, &names, &warned, now))
}

/// A page of `sla status` by case number (`/api/sla`): the cases of `page.statuses` (the
/// open ones) numbered after `page.after`, at most `page.limit`; names and warnings are read
/// for those cases only.
pub async fn sla_page(
    db: &impl ConnectionTrait,
    config: &Config,
    page: &CasesPage,
    now: DateTime<Utc>,
) -> Result<Vec<SlaLine>, DbErr> {
    let cases = cases_page(db, page).await?;
    sla_lines(db, config, cases, now).await
}

/// `cases` with where they stand against their targets, reading the names and warnings of
/// those cases only: what a page of the live view shows.
pub async fn sla_lines(
    db: &impl ConnectionTrait,
    config: &Config,
    cases: Vec<case::Model>,
    now: DateTime<Utc>,
) -> Result<Vec<SlaLine>, DbErr> {
    let names = names_of(db, &cases).await?;
    let ids: Vec<i64> = cases.iter().map(|c| c.id).collect();
    let warned = alerts_by_case(db, alert_sent::Column::CaseId.is_in(ids)).await?;
    Ok(lines(config, cases, &names, &warned, now))
}

async fn alerts_by_case(
    db: &impl ConnectionTrait,
    which: sea_orm::sea_query::SimpleExpr,
) -> Result<HashMap<i64, Vec<alert_sent::Model>>, DbErr> {
    let mut warned: HashMap<i64, Vec<alert_sent::Model>> = HashMap::new();
    for a in alert_sent::Entity::find().filter(which).all(db).await? {
        warned.entry(a.case_id).or_default().push(a);
    }
    Ok(warned)
}

fn lines(
    config: &Config,
    cases: Vec<case::Model>,
    names: &Names,
    warned: &HashMap<i64, Vec<alert_sent::Model>>,
    now: DateTime<Utc>,
) -> Vec<SlaLine> {
    cases
        .into_iter()
        .map(|c| {
            let sla = sla_of(config, &c, warned.get(&c.id).map_or(&[], Vec::as_slice), now);
            SlaLine { case: view(c, names), sla }
        })
        .collect()
}
