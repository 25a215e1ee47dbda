//! `/metrics`: the counters of `crate::metrics`, and what the database knows now (the
//! outbox by status and its oldest unsent mail, open cases by severity and status, targets
//! breached and due within the hour, held and quarantined mail), read at each scrape.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

use crate::desk::Desk;
use crate::domain::{Severity, Status};
use crate::storage::entities::outbox::OutboxStatus;
use crate::storage::entities::{case, outbox};

const OPEN: [Status; 3] = [Status::New, Status::Open, Status::Pending];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByStatus {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpenCase {
    severity: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Target {
    /// `respond` or `resolve`.
    target: &'static str,
}

pub async fn metrics(State(desk): State<Desk>) -> Response {
    match render(&desk, desk.now()).await {
        Ok(text) => ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
            .into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("the database cannot be read now: {e}\n")).into_response(),
    }
}

/// What the database holds now, read before any of it is encoded.
struct Figures {
    outbox: Vec<(OutboxStatus, i64)>,
    oldest_unsent_seconds: i64,
    open: Vec<(Severity, Status, i64)>,
    /// (target, breached, due within the hour)
    targets: Vec<(&'static str, u64, u64)>,
    held: u64,
    quarantined: u64,
}

async fn render(desk: &Desk, now: DateTime<Utc>) -> Result<String, DbErr> {
    let db = &desk.db;
    let held = crate::ingest::held::count(db).await?;
    let quarantined = crate::ingest::quarantine::count(db).await?;
    let (outbox, oldest_unsent_seconds) = outbox_figures(db, now).await?;
    let figures = Figures {
        outbox,
        oldest_unsent_seconds,
        open: open_cases(db).await?,
        targets: targets(db, now).await?,
        held,
        quarantined,
    };
    encode(figures).map_err(|_| DbErr::Custom("the metrics could not be written".into()))
}

fn encode(f: Figures) -> Result<String, std::fmt::Error> {
    let mut r = Registry::with_prefix("supportd");
    let depth = Family::<ByStatus, Gauge>::default();
    for (status, n) in f.outbox {
        depth.get_or_create(&ByStatus { status: status.to_string() }).set(n);
    }
    r.register("outbox_mail", "Outbox rows by status", depth);
    r.register(
        "outbox_oldest_unsent_seconds",
        "Age of the oldest mail not yet sent (0: none)",
        gauge(f.oldest_unsent_seconds),
    );
    let open = Family::<OpenCase, Gauge>::default();
    for (severity, status, n) in f.open {
        open.get_or_create(&OpenCase { severity: severity.to_string(), status: status.to_string() }).set(n);
    }
    r.register("open_cases", "Cases not resolved or closed, by severity and status", open);
    let (breached, at_risk) = (Family::<Target, Gauge>::default(), Family::<Target, Gauge>::default());
    for (target, past, soon) in f.targets {
        breached.get_or_create(&Target { target }).set(past as i64);
        at_risk.get_or_create(&Target { target }).set(soon as i64);
    }
    r.register("cases_breached", "Open cases past a target not met", breached);
    r.register("cases_at_risk", "Open cases whose target falls due within the hour", at_risk);
    r.register("held_mail", "Automated mail held for an agent", gauge(f.held as i64));
    r.register("quarantined", "Messages in quarantine", gauge(f.quarantined as i64));
    let mut text = String::new();
    encode_registry(&mut text, crate::metrics::metrics().registry())?;
    encode_registry(&mut text, &r)?;
    encode_eof(&mut text)?;
    Ok(text)
}

fn gauge(n: i64) -> Gauge {
    let g = Gauge::default();
    g.set(n);
    g
}

/// Rows by status, and the age in seconds of the oldest not yet sent (0 when none).
async fn outbox_figures(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<(Vec<(OutboxStatus, i64)>, i64), DbErr> {
    let rows = outbox_by_status(db).await?;
    let oldest = crate::outbound::outbox::unsent(db).await?.map(|u| u.oldest_at);
    Ok((rows, oldest.map_or(0, |t| (now - t).num_seconds().max(0))))
}

/// How many outbox rows each status has.
pub(super) async fn outbox_by_status(db: &impl ConnectionTrait) -> Result<Vec<(OutboxStatus, i64)>, DbErr> {
    outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Status)
        .column_as(outbox::Column::Id.count(), "n")
        .group_by(outbox::Column::Status)
        .into_tuple()
        .all(db)
        .await
}

async fn open_cases(db: &impl ConnectionTrait) -> Result<Vec<(Severity, Status, i64)>, DbErr> {
    case::Entity::find()
        .select_only()
        .columns([case::Column::Severity, case::Column::Status])
        .column_as(case::Column::Id.count(), "n")
        .filter(case::Column::Status.is_in(OPEN))
        .group_by(case::Column::Severity)
        .group_by(case::Column::Status)
        .into_tuple()
        .all(db)
        .await
}

/// Per target: open cases past it unmet, and those due within the hour.
async fn targets(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Vec<(&'static str, u64, u64)>, DbErr> {
    let soon = now + Duration::hours(1);
    let mut out = Vec::new();
    for (target, due, met) in [
        ("respond", case::Column::FirstResponseDue, case::Column::FirstResponseAt),
        ("resolve", case::Column::ResolutionDue, case::Column::ResolvedAt),
    ] {
        let mut waiting = Condition::all().add(case::Column::Status.is_in(OPEN)).add(met.is_null());
        if target == "resolve" {
            // Pending pauses the resolution clock: its due time moves on when it resumes.
            waiting = waiting.add(case::Column::Status.ne(Status::Pending));
        }
        let past = case::Entity::find().filter(waiting.clone().add(due.lte(now))).count(db).await?;
        let within = case::Entity::find().filter(waiting.add(due.gt(now)).add(due.lte(soon))).count(db).await?;
        out.push((target, past, within));
    }
    Ok(out)
}
