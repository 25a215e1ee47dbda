//! Which cases a report covers, and the companies it names.

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use sea_orm::sea_query::JoinType;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbBackend, DbErr, EntityTrait, FromQueryResult, IdenStatic,
    QueryFilter, QueryOrder, QuerySelect, RelationDef, Select,
};

use serde::de::DeserializeOwned;

use super::attainment::SlaFacts;
use super::cases::CaseLine;
use super::{ReportError, packed};
use crate::config::Config;
use crate::domain::{CaseNumber, Channel, Status};
use crate::storage::entities::{case, company, contact};

/// What a report covers. A case is in the period when it was created in it; dates are days
/// of the support calendar's zone, `to` included.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// A company's slug.
    pub company: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Only these statuses (all when empty).
    pub statuses: Vec<Status>,
    /// Only these channels (all when empty).
    pub channels: Vec<Channel>,
}

/// The stored companies, by id, with the zone each one's times are shown in.
pub struct Companies {
    by_id: HashMap<i64, (company::Model, Tz)>,
    /// The support calendar's zone, for cases of no company.
    default_zone: Tz,
}

impl Companies {
    pub async fn load(db: &DatabaseConnection, config: &Config) -> Result<Companies, DbErr> {
        let default_zone = config.calendar.time_zone;
        let by_id = company::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|c| {
                let zone = config.zone_of(config.company(&c.slug));
                (c.id, (c, zone))
            })
            .collect();
        Ok(Companies { by_id, default_zone })
    }

    pub fn get(&self, id: Option<i64>) -> Option<&company::Model> {
        id.and_then(|id| self.by_id.get(&id)).map(|(c, _)| c)
    }

    pub fn zone(&self, id: Option<i64>) -> Tz {
        id.and_then(|id| self.by_id.get(&id)).map_or(self.default_zone, |(_, z)| *z)
    }

    /// The one zone a report's times are shown in, so that a column never mixes zones: the
    /// company's when the report is of one company, else the support calendar's.
    pub fn report_zone(&self, scope: &Scope) -> Tz {
        let company = scope.company.as_deref().and_then(|slug| self.by_slug(slug));
        self.zone(company.map(|c| c.id))
    }

    pub fn by_slug(&self, slug: &str) -> Option<&company::Model> {
        self.by_id.values().map(|(c, _)| c).find(|c| c.slug == slug)
    }

    /// Every company, by name.
    pub fn all(&self) -> Vec<&company::Model> {
        let mut all: Vec<&company::Model> = self.by_id.values().map(|(c, _)| c).collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }
}

/// The first instant of `day` in `zone` (the next one that exists, across a DST gap).
pub fn start_of(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    // Midnight may fall in a clock change's gap (America/Santiago): the day starts at the
    // first local time that exists.
    (0..=8)
        .find_map(|half_hours| {
            zone.from_local_datetime(&(midnight + chrono::Duration::minutes(30 * half_hours))).earliest()
        })
        .map_or_else(|| zone.from_utc_datetime(&midnight).with_timezone(&Utc), |t| t.with_timezone(&Utc))
}

impl Scope {
    /// `[from, to)` as instants.
    pub fn bounds(&self, zone: Tz) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let from = self.from.map(|d| start_of(d, zone));
        let to = self.to.and_then(|d| d.checked_add_days(Days::new(1))).map(|d| start_of(d, zone));
        (from, to)
    }

    fn condition(&self, config: &Config, companies: &Companies) -> Result<Condition, ReportError> {
        let mut cond = Condition::all();
        if let Some(slug) = &self.company {
            let c = companies.by_slug(slug).ok_or_else(|| ReportError::NoCompany(slug.clone()))?;
            cond = cond.add(case::Column::CompanyId.eq(c.id));
        }
        let (from, to) = self.bounds(config.calendar.time_zone);
        if let Some(from) = from {
            cond = cond.add(case::Column::CreatedAt.gte(from));
        }
        if let Some(to) = to {
            cond = cond.add(case::Column::CreatedAt.lt(to));
        }
        if !self.statuses.is_empty() {
            cond = cond.add(case::Column::Status.is_in(self.statuses.iter().map(|s| s.as_str())));
        }
        if !self.channels.is_empty() {
            cond = cond.add(case::Column::Channel.is_in(self.channels.iter().map(|c| c.as_str())));
        }
        Ok(cond)
    }
}

fn contact_of_case() -> RelationDef {
    case::Entity::belongs_to(contact::Entity).from(case::Column::ContactId).to(contact::Column::Id).into()
}

/// On SQLite cases are read a page of case numbers at a time, each page as one row
/// (`packed`), [`AHEAD`] pages at once on separate connections so SQLite builds one page
/// while the report writes another; memory stays bounded by `PAGE * AHEAD` rows. Other
/// databases hand rows over cheaply and stream them one by one (on PostgreSQL, decoding
/// them on a task of their own while the report writes saved nothing on two cores).
const PAGE: i64 = 2_000;
const AHEAD: usize = 2;

/// How a report reads cases: the query for a condition; on SQLite, the JSON array each
/// row is read as (`packed`), and what a page's rows are put in order by (`packed` gives
/// them in no order).
struct Read<F, M> {
    select: F,
    packed_row: String,
    order_by: Option<fn(&M) -> CaseNumber>,
}

/// The scope's cases, as `read` reads them, in the order its query gives.
async fn read<'a, M, F>(
    db: &'a DatabaseConnection,
    cond: Condition,
    read: Read<F, M>,
) -> Result<BoxStream<'a, Result<M, DbErr>>, DbErr>
where
    M: FromQueryResult + DeserializeOwned + Send + 'a,
    F: Fn(Condition) -> Select<case::Entity> + Send + 'a,
{
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(Box::pin((read.select)(cond).into_model::<M>().stream(db).await?));
    }
    let range = case::Entity::find()
        .select_only()
        .column_as(case::Column::Number.min(), "lo")
        .column_as(case::Column::Number.max(), "hi")
        .filter(cond.clone())
        .into_tuple::<(Option<i64>, Option<i64>)>()
        .one(db)
        .await?;
    let (lo, hi) = match range {
        Some((Some(lo), Some(hi))) => (lo, hi),
        _ => (1, 0),
    };
    let pages = (lo..=hi).step_by(PAGE as usize).map(move |first| (first, (first + PAGE - 1).min(hi)));
    let page = move |(first, last)| {
        let query = (read.select)(cond.clone().add(case::Column::Number.between(first, last)));
        let row = read.packed_row.clone();
        async move {
            let mut rows = packed::page::<M>(db, query, &row).await?;
            if let Some(key) = read.order_by {
                rows.sort_unstable_by_key(key);
            }
            Ok::<_, DbErr>(rows)
        }
    };
    Ok(Box::pin(
        futures::stream::iter(pages)
            .map(page)
            .buffered(AHEAD)
            .map_ok(|rows| futures::stream::iter(rows.into_iter().map(Ok)))
            .try_flatten(),
    ))
}

/// The scope's cases with their customers, by case number, as the database yields them:
/// memory stays flat however many there are.
pub async fn case_lines<'a>(
    db: &'a DatabaseConnection,
    config: &Config,
    companies: &Companies,
    scope: &Scope,
) -> Result<impl Stream<Item = Result<CaseLine, DbErr>> + 'a, ReportError> {
    let cond = scope.condition(config, companies)?;
    let select = |cond| {
        case::Entity::find()
            .select_only()
            .columns(CaseLine::COLUMNS)
            .columns(SlaFacts::COLUMNS)
            .column_as(contact::Column::Name, "contact_name")
            .column_as(contact::Column::Email, "contact_email")
            .join(JoinType::LeftJoin, contact_of_case())
            .filter(cond)
            .order_by_asc(case::Column::Number)
    };
    let columns = CaseLine::COLUMNS.iter().map(|c| c.as_str()).chain(["contact_name", "contact_email"]);
    let packed_row = packed::json_array(columns, Some(sla_facts_row()));
    Ok(read(db, cond, Read { select, packed_row, order_by: Some(|c: &CaseLine| c.number) }).await?)
}

/// The scope's cases, only what their targets depend on: the SLA report's read.
pub async fn sla_facts<'a>(
    db: &'a DatabaseConnection,
    config: &Config,
    companies: &Companies,
    scope: &Scope,
) -> Result<impl Stream<Item = Result<SlaFacts, DbErr>> + 'a, ReportError> {
    let cond = scope.condition(config, companies)?;
    let select = |cond| case::Entity::find().select_only().columns(SlaFacts::COLUMNS).filter(cond);
    Ok(read(db, cond, Read { select, packed_row: sla_facts_row(), order_by: None }).await?)
}

fn sla_facts_row() -> String {
    packed::json_array(SlaFacts::COLUMNS.iter().map(|c| c.as_str()), None)
}
