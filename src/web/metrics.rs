//! `/metrics`: the counters of `crate::metrics`, and what the database knows now (the
//! outbox by status and its oldest unsent mail, open cases by severity and status, their
//! targets by outcome, breached and due within the hour, held and quarantined mail), read at
//! each scrape. Target outcomes are `TargetFacts::outcome`'s, counted in SQL.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use sea_orm::sea_query::{Alias, CaseStatement, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::exposition;
use crate::desk::Desk;
use crate::domain::{Severity, Status};
use crate::sla::{Outcome, TargetKind, outcome_sql};
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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetOutcome {
    target: &'static str,
    /// `Outcome::as_str`: `met`, `breached`, `running`, `paused`.
    outcome: &'static str,
}

/// One target's counts over the open cases.
struct TargetFigures {
    target: &'static str,
    by_outcome: Vec<(&'static str, i64)>,
    /// Breached and not yet reached: what someone can still act on.
    breached: u64,
    /// Running, and due within the hour (wall-clock: what a pager should wake someone for).
    at_risk: u64,
}

pub async fn metrics(State(desk): State<Desk>, headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok());
    match render(&desk, desk.now()).await {
        Ok(text) if exposition::wants_openmetrics(accept) => {
            ([(header::CONTENT_TYPE, exposition::OPENMETRICS)], text).into_response()
        }
        Ok(text) => ([(header::CONTENT_TYPE, exposition::TEXT)], exposition::classic(&text)).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("the database cannot be read now: {e}\n")).into_response(),
    }
}

/// What the database holds now, read before any of it is encoded.
struct Figures {
    outbox: Vec<(OutboxStatus, i64)>,
    oldest_unsent_seconds: i64,
    open: Vec<(Severity, Status, i64)>,
    targets: Vec<TargetFigures>,
    held: u64,
    quarantined: u64,
    /// Each OAuth2 account's access token expiry (Unix seconds; 0: none stored).
    oauth_expiry: Vec<(String, i64)>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Account {
    account: String,
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
        oauth_expiry: oauth_expiry(desk).await?,
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
    let by_outcome = Family::<TargetOutcome, Gauge>::default();
    for t in f.targets {
        let target = t.target;
        breached.get_or_create(&Target { target }).set(t.breached as i64);
        at_risk.get_or_create(&Target { target }).set(t.at_risk as i64);
        for (outcome, n) in t.by_outcome {
            by_outcome.get_or_create(&TargetOutcome { target, outcome }).set(n);
        }
    }
    r.register("open_case_targets", "Open cases by each target's outcome, as cases show reads it", by_outcome);
    r.register("cases_breached", "Open cases past a target not yet reached", breached);
    r.register("cases_at_risk", "Open cases whose running target falls due within the hour", at_risk);
    r.register(
        "held_mail",
        "Mail held for an agent: automated mail that threads to no case, and people's mail that may not open one",
        gauge(f.held as i64),
    );
    r.register("quarantined", "Messages in quarantine", gauge(f.quarantined as i64));
    let expiry = Family::<Account, Gauge>::default();
    for (account, at) in f.oauth_expiry {
        expiry.get_or_create(&Account { account }).set(at);
    }
    r.register(
        "oauth_access_expires_timestamp_seconds",
        "When each OAuth2 account's access token expires (0: none stored; it is refreshed 5 minutes ahead)",
        expiry,
    );
    let mut text = String::new();
    encode_registry(&mut text, crate::metrics::metrics().registry())?;
    encode_registry(&mut text, &r)?;
    encode_eof(&mut text)?;
    Ok(text)
}

/// The configured OAuth2 accounts, by the name `oauth login` takes, with their token's expiry.
async fn oauth_expiry(desk: &Desk) -> Result<Vec<(String, i64)>, DbErr> {
    Ok(crate::oauth::store::configured(&desk.db, &desk.config)
        .await?
        .into_iter()
        .map(|(a, row)| {
            let at = row.and_then(|r| r.access_expires_at);
            (crate::oauth::tokens::login_name(&a.account).to_owned(), at.map_or(0, |t| t.timestamp()))
        })
        .collect())
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
    Ok((rows, oldest.map_or(0, |t| Ord::max((now - t).num_seconds(), 0))))
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

pub(super) async fn open_cases(db: &impl ConnectionTrait) -> Result<Vec<(Severity, Status, i64)>, DbErr> {
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

/// Per target, from `TargetFacts::outcome` as SQL (`sla::outcome_sql`): open cases by
/// outcome, those breached and not yet reached, and those running and due within the
/// hour. One pass over the open cases, each target's outcome computed once per case,
/// whatever the backlog.
async fn targets(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Vec<TargetFigures>, DbErr> {
    let soon = now + Duration::hours(1);
    const TARGETS: [TargetKind; 2] = [TargetKind::Respond, TargetKind::Resolve];
    let mut outcomes = Query::select();
    outcomes.from(case::Entity).and_where(case::Column::Status.is_in(OPEN));
    for target in TARGETS {
        let t = target.as_str();
        let unreached = CaseStatement::new().case(outcome_sql::unreached(target), 1).finally(0);
        outcomes
            .expr_as(Expr::col((case::Entity, outcome_sql::due_column(target))), Alias::new(format!("{t}_due")))
            .expr_as(outcome_sql::outcome(target, now), Alias::new(format!("{t}_outcome")))
            .expr_as(unreached, Alias::new(format!("{t}_unreached")));
    }
    // The OFFSET keeps the databases from folding this query into the sums, which would
    // evaluate each outcome once per sum (SQLite takes an OFFSET only after a LIMIT).
    outcomes.limit(i64::MAX as u64).offset(0);
    let mut sums = Query::select();
    let count_if =
        |name: String, e: Expr| (Expr::expr(CaseStatement::new().case(e, 1).finally(0)).sum(), Alias::new(name));
    for target in TARGETS {
        let t = target.as_str();
        let col = |what: &str| Expr::col(Alias::new(format!("{t}_{what}")));
        let has = || col("due").is_not_null();
        let is = |o: Outcome| has().and(col("outcome").eq(o.as_str()));
        for o in Outcome::ALL {
            let (e, name) = count_if(format!("{t}_{}", o.as_str()), is(o));
            sums.expr_as(e, name);
        }
        let (e, name) = count_if(format!("{t}_breached_unreached"), is(Outcome::Breached).and(col("unreached").eq(1)));
        sums.expr_as(e, name);
        let (e, name) = count_if(format!("{t}_at_risk"), is(Outcome::Running).and(col("due").lte(soon)));
        sums.expr_as(e, name);
    }
    sums.from_subquery(outcomes, Alias::new("o"));
    let row = db.query_one(&sums).await?;
    // SUM over no rows is NULL.
    let n = |name: String| -> Result<i64, DbErr> {
        Ok(match &row {
            Some(row) => row.try_get::<Option<i64>>("", &name)?.unwrap_or(0),
            None => 0,
        })
    };
    let mut out = Vec::new();
    for target in TARGETS {
        let t = target.as_str();
        let mut by_outcome = Vec::new();
        for &o in possible(target) {
            by_outcome.push((o.as_str(), n(format!("{t}_{}", o.as_str()))?));
        }
        for o in Outcome::ALL.into_iter().filter(|o| !possible(target).contains(o)) {
            let found = n(format!("{t}_{}", o.as_str()))?;
            if found > 0 {
                by_outcome.push((o.as_str(), found));
            }
        }
        out.push(TargetFigures {
            target: t,
            by_outcome,
            breached: n(format!("{t}_breached_unreached"))? as u64,
            at_risk: n(format!("{t}_at_risk"))? as u64,
        });
    }
    Ok(out)
}

/// The outcomes an open case's target can have (a resolution is reached only when the case
/// ends; a response clock never pauses): shown as 0 when no case has them.
fn possible(target: TargetKind) -> &'static [Outcome] {
    match target {
        TargetKind::Respond => &[Outcome::Met, Outcome::Breached, Outcome::Running],
        TargetKind::Resolve => &[Outcome::Breached, Outcome::Running, Outcome::Paused],
    }
}
