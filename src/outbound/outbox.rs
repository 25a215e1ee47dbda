//! The durable queue of outgoing mail. A row is written in the transaction that caused it,
//! claimed (with a lease) before sending, and marked sent right after the server's 250.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::storage::Tx;
use crate::storage::entities::outbox::{self, Column, Entity};

pub use crate::storage::entities::outbox::OutboxStatus;

pub const QUEUED: OutboxStatus = OutboxStatus::Queued;
pub const SENDING: OutboxStatus = OutboxStatus::Sending;
pub const SENT: OutboxStatus = OutboxStatus::Sent;
pub const FAILED: OutboxStatus = OutboxStatus::Failed;
/// Never to be sent: mail to an agent over `[agents] mail_limit_per_hour`, kept so that the
/// operator can see it and the agent's next email can list it.
pub const LIMITED: OutboxStatus = OutboxStatus::Limited;
/// Every status but `limited`, as a list: `status IN (…)` walks `idx_outbox_recipient_status`
/// past the held rows, where `status != 'limited'` would read every one of them (a flood
/// holds thousands, and each new mail to that agent would read them all again).
const NOT_HELD: [OutboxStatus; 4] = [QUEUED, SENDING, SENT, FAILED];

pub struct NewRow {
    pub case_id: Option<i64>,
    pub kind: &'static str,
    pub message_id: String,
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    pub subject: String,
    pub raw: Vec<u8>,
    /// Set on mail to someone not yet a party of a case, which the hourly caps count.
    pub stranger: Option<super::strangers::Stranger>,
}

/// Staged in the transaction, written at its commit (see `storage::Tx`).
pub fn enqueue(tx: &Tx, row: NewRow, now: DateTime<Utc>) {
    tx.stage_mail(active(row, QUEUED, None, now));
}

/// Staged like `enqueue`, as `LIMITED` with the reason: the sender never claims it.
pub fn enqueue_limited(tx: &Tx, row: NewRow, reason: &str, now: DateTime<Utc>) {
    tx.stage_mail(active(row, LIMITED, Some(reason.to_owned()), now));
}

fn active(row: NewRow, status: OutboxStatus, last_error: Option<String>, now: DateTime<Utc>) -> outbox::ActiveModel {
    // Always set, even when empty: a batch's rows are written in one multi-row INSERT.
    let (stranger_to, stranger_domain) = row.stranger.map(|s| (s.address, s.domain)).unzip();
    outbox::ActiveModel {
        stranger_to: Set(stranger_to),
        stranger_domain: Set(stranger_domain),
        case_id: Set(row.case_id),
        kind: Set(row.kind.to_owned()),
        message_id: Set(row.message_id),
        envelope_from: Set(row.envelope_from),
        envelope_to: Set(row.envelope_to.join(",")),
        subject: Set(row.subject),
        raw: Set(row.raw),
        status: Set(status),
        attempts: Set(0),
        last_error: Set(last_error),
        next_attempt_at: Set(now),
        created_at: Set(now),
        queued_at: Set(Some(now)),
        ..Default::default()
    }
}

/// Claims the oldest row that is due (or whose sender's lease ran out) and counts the
/// attempt before sending. The status is checked again in the UPDATE itself, so two
/// senders racing for one row cannot both win.
pub async fn claim_next(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Option<outbox::Model>, DbErr> {
    let due = || {
        Expr::col(Column::Status).eq(QUEUED).and(Expr::col(Column::NextAttemptAt).lte(now)).or(Expr::col(
            Column::Status,
        )
        .eq(SENDING)
        .and(Expr::col(Column::ClaimedUntil).lt(now)))
    };
    // Two index-friendly look-ups instead of one OR: with the OR, SQLite walked every row
    // (sent ones included) in id order on each claim, quadratic in the size of the table.
    let expired = Entity::find()
        .filter(Column::Status.eq(SENDING))
        .filter(Column::ClaimedUntil.lt(now))
        .order_by_asc(Column::ClaimedUntil)
        .one(db)
        .await?;
    let candidate = match expired {
        Some(row) => Some(row),
        None => {
            Entity::find()
                .filter(Column::Status.eq(QUEUED))
                .filter(Column::NextAttemptAt.lte(now))
                .order_by_asc(Column::NextAttemptAt)
                .order_by_asc(Column::Id)
                .one(db)
                .await?
        }
    };
    let Some(row) = candidate else { return Ok(None) };
    let claimed = Query::update()
        .table(Entity)
        .value(Column::Status, SENDING)
        .value(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .value(Column::ClaimedUntil, now + lease)
        .and_where(Expr::col(Column::Id).eq(row.id))
        .and_where(due())
        .to_owned();
    let result = db.execute(&claimed).await?;
    if result.rows_affected() == 0 {
        // Another sender took it between our read and our update; try the next one.
        return Box::pin(claim_next(db, now, lease)).await;
    }
    Entity::find_by_id(row.id).one(db).await
}

/// The one statement after the server's 250: the window for a duplicate is this UPDATE.
pub async fn mark_sent(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<(), DbErr> {
    set(
        db,
        id,
        [
            (Column::Status, Expr::value(SENT)),
            (Column::SentAt, Expr::value(now)),
            (Column::LastError, Expr::value(Option::<String>::None)),
        ],
    )
    .await
}

pub async fn mark_retry(db: &impl ConnectionTrait, id: i64, error: &str, next: DateTime<Utc>) -> Result<(), DbErr> {
    set(
        db,
        id,
        [
            (Column::Status, Expr::value(QUEUED)),
            (Column::NextAttemptAt, Expr::value(next)),
            (Column::LastError, Expr::value(error)),
        ],
    )
    .await
}

/// As `mark_retry`, but the attempt the claim counted is given back: the mail waits for a
/// person, not for the server.
pub async fn mark_waiting(db: &impl ConnectionTrait, id: i64, error: &str, next: DateTime<Utc>) -> Result<(), DbErr> {
    set(
        db,
        id,
        [
            (Column::Status, Expr::value(QUEUED)),
            (Column::NextAttemptAt, Expr::value(next)),
            (Column::LastError, Expr::value(error)),
            (Column::Attempts, Expr::col(Column::Attempts).sub(1)),
        ],
    )
    .await
}

pub async fn mark_failed(db: &impl ConnectionTrait, id: i64, error: &str, now: DateTime<Utc>) -> Result<(), DbErr> {
    set(
        db,
        id,
        [
            (Column::Status, Expr::value(FAILED)),
            (Column::LastError, Expr::value(error)),
            (Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None)),
            (Column::FailedAt, Expr::value(now)),
        ],
    )
    .await
}

async fn set<const N: usize>(db: &impl ConnectionTrait, id: i64, values: [(Column, Expr); N]) -> Result<(), DbErr> {
    let mut q = Query::update();
    q.table(Entity).and_where(Expr::col(Column::Id).eq(id));
    for (col, value) in values {
        q.value(col, value);
    }
    db.execute(&q.to_owned()).await.map(|_| ())
}

/// Acknowledgements to each of `addresses` (a batch's senders) created since `since`, in one
/// query, by lower-case address; rows staged in `tx` are not counted, so call it before the
/// batch stages any. Absent addresses got none.
pub async fn acks_to_each_since(
    tx: &Tx,
    addresses: &[&str],
    since: DateTime<Utc>,
) -> Result<Vec<(String, u64)>, DbErr> {
    if addresses.is_empty() {
        return Ok(Vec::new());
    }
    let lower: Vec<String> = addresses.iter().map(|a| a.to_ascii_lowercase()).collect();
    let counts: Vec<(String, i64)> = Entity::find()
        .select_only()
        .expr_as(recipient_lower(), "recipient")
        .column_as(Column::Id.count(), "n")
        .filter(Column::Kind.eq("ack"))
        .filter(recipient_lower().is_in(lower))
        .filter(Column::CreatedAt.gte(since))
        .group_by(recipient_lower())
        .into_tuple()
        .all(tx)
        .await?;
    Ok(counts.into_iter().map(|(to, n)| (to, u64::try_from(n).unwrap_or(0))).collect())
}

/// Whether mail of `kind` went to `address` (compared without case) since `since`, stored
/// or staged in this transaction; mail held back by a limit counts too (one held row, not
/// one per message of a flood).
pub async fn mailed_since(tx: &Tx, kind: &str, address: &str, since: DateTime<Utc>) -> Result<bool, DbErr> {
    let lower = address.to_ascii_lowercase();
    let staged = tx.count_staged_mail(|row| {
        row.kind.is_set_and(|k| k == kind) && row.envelope_to.is_set_and(|to| to.to_ascii_lowercase() == lower)
    });
    if staged > 0 {
        return Ok(true);
    }
    let stored = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Kind.eq(kind))
        .filter(recipient_lower().eq(lower))
        .filter(Column::CreatedAt.gte(since))
        .into_tuple::<i64>()
        .one(tx)
        .await?;
    Ok(stored.is_some())
}

/// Mail to people not yet parties of a case since `since` (`strangers`): in all, to the
/// recipient's domain, and to the recipient folded.
#[derive(Debug, Default, Clone, Copy)]
pub struct StrangerCounts {
    pub all: u64,
    pub domain: u64,
    pub person: u64,
}

/// What the caps count: the rows written (each count served by its own index, migration
/// 15) and those this transaction staged.
/// `all` leaves out mail to `company_domains`, which has a pool of its own.
pub async fn stranger_mail_since(
    tx: &Tx,
    to: &super::strangers::Stranger,
    company_domains: &[String],
    since: DateTime<Utc>,
) -> Result<StrangerCounts, DbErr> {
    let staged = |matches: &dyn Fn(&outbox::ActiveModel) -> bool| {
        tx.count_staged_mail(|row| row.stranger_domain.is_set_and(Option::is_some) && matches(row))
    };
    let is = |value: &Option<String>, wanted: &str| value.as_deref() == Some(wanted);
    let of_strangers = |d: &Option<String>| d.as_ref().is_some_and(|d| !company_domains.contains(d));
    let counted = || Entity::find().filter(Column::CreatedAt.gte(since));
    let all = counted().filter(Column::StrangerDomain.is_not_null());
    let all =
        if company_domains.is_empty() { all } else { all.filter(Column::StrangerDomain.is_not_in(company_domains)) };
    Ok(StrangerCounts {
        all: all.count(tx).await? + staged(&|row| row.stranger_domain.is_set_and(of_strangers)),
        domain: counted().filter(Column::StrangerDomain.eq(&to.domain)).count(tx).await?
            + staged(&|row| row.stranger_domain.is_set_and(|d| is(d, &to.domain))),
        person: counted().filter(Column::StrangerTo.eq(&to.address)).count(tx).await?
            + staged(&|row| row.stranger_to.is_set_and(|a| is(a, &to.address))),
    })
}

/// Mail to strangers held back since `since` (`strangers::hold_back`): how many, and the
/// newest one's (recipient, reason). Read by `idx_outbox_status_next`: a held row's
/// `next_attempt_at` is its creation, as it is never tried.
pub async fn strangers_held_back_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<(u64, Option<(String, String)>), DbErr> {
    let held = || {
        Entity::find()
            .filter(Column::Status.eq(LIMITED))
            .filter(Column::NextAttemptAt.gte(since))
            .filter(Column::Kind.is_in(super::strangers::KINDS))
    };
    let count = held().count(db).await?;
    if count == 0 {
        return Ok((0, None));
    }
    let newest: Option<(String, Option<String>)> = held()
        .select_only()
        .columns([Column::EnvelopeTo, Column::LastError])
        .order_by_desc(Column::NextAttemptAt)
        .order_by_desc(Column::Id)
        .into_tuple()
        .one(db)
        .await?;
    Ok((count, newest.map(|(to, why)| (to, why.unwrap_or_default()))))
}

/// Replies relayed to case `case_id`'s customer since `since` (not held back), counting what
/// this transaction staged: the per-case hourly limit (`agents::relay`).
pub async fn relays_to_case_since(tx: &Tx, case_id: i64, kinds: &[&str], since: DateTime<Utc>) -> Result<u64, DbErr> {
    let staged = tx.count_staged_mail(|row| {
        row.case_id.is_set_and(|c| *c == Some(case_id))
            && row.kind.is_set_and(|k| kinds.contains(&k.as_str()))
            && row.status.is_set_and(|s| *s != LIMITED)
    });
    let stored = Entity::find()
        .filter(Column::CaseId.eq(case_id))
        .filter(Column::Kind.is_in(kinds.iter().copied()))
        .filter(Column::CreatedAt.gte(since))
        .filter(Column::Status.is_in(NOT_HELD))
        .count(tx)
        .await?;
    Ok(stored + staged)
}

/// `lower(envelope_to)`, which `idx_outbox_recipient_lower` indexes.
fn recipient_lower() -> Expr {
    Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(Column::EnvelopeTo)))
}

/// Mail of `kinds` to `address` alone (as agents' mail is addressed) created since `since`
/// and not held back by a limit: the times, oldest first, and how many the transaction has
/// staged besides (created now).
pub async fn sent_to_since(
    tx: &Tx,
    address: &str,
    kinds: &[&str],
    since: DateTime<Utc>,
) -> Result<(Vec<DateTime<Utc>>, u64), DbErr> {
    let staged = tx.count_staged_mail(|row| {
        row.kind.is_set_and(|k| kinds.contains(&k.as_str()))
            && row.envelope_to.is_set_and(|to| to == address)
            && row.status.is_set_and(|s| *s != LIMITED)
    });
    // Sorted here: with ORDER BY, SQLite prefers the (recipient, time) index and reads the
    // held rows too.
    let mut stored = Entity::find()
        .select_only()
        .column(Column::CreatedAt)
        .filter(Column::EnvelopeTo.eq(address))
        .filter(Column::CreatedAt.gte(since))
        .filter(Column::Kind.is_in(kinds.iter().copied()))
        .filter(Column::Status.is_in(NOT_HELD))
        .into_tuple::<DateTime<Utc>>()
        .all(tx)
        .await?;
    stored.sort();
    Ok((stored, staged))
}

/// The latest mail of `kinds` to `address` that was not held back: its id and time.
pub async fn last_sent_to(tx: &Tx, address: &str, kinds: &[&str]) -> Result<Option<(i64, DateTime<Utc>)>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::CreatedAt)
        .filter(Column::EnvelopeTo.eq(address))
        .filter(Column::Kind.is_in(kinds.iter().copied()))
        .filter(Column::Status.is_in(NOT_HELD))
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id)
        .into_tuple::<(i64, DateTime<Utc>)>()
        .one(tx)
        .await
}

/// Mail to `address` held back by a limit after the row `after`: how many, and the subjects
/// and times of the first `listed`. After means a later id (a stopped clock may give many rows
/// one time); the time bound is there for the (recipient, time) index.
pub async fn limited_to_since(
    tx: &Tx,
    address: &str,
    after: Option<(i64, DateTime<Utc>)>,
    listed: u64,
) -> Result<(u64, Vec<(String, DateTime<Utc>)>), DbErr> {
    let mut query = Entity::find().filter(Column::EnvelopeTo.eq(address)).filter(Column::Status.eq(LIMITED));
    if let Some((id, at)) = after {
        query = query.filter(Column::CreatedAt.gte(at)).filter(Column::Id.gt(id));
    }
    let first = query
        .clone()
        .select_only()
        .column(Column::Subject)
        .column(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .limit(listed)
        .into_tuple::<(String, DateTime<Utc>)>()
        .all(tx)
        .await?;
    let count = if (first.len() as u64) < listed { first.len() as u64 } else { query.count(tx).await? };
    Ok((count, first))
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<outbox::Model>, DbErr> {
    Entity::find().order_by_asc(Column::Id).all(db).await
}

/// The mail not sent yet (queued, or claimed and sending): how much, and its oldest.
#[derive(Debug, Clone)]
pub struct Unsent {
    pub count: u64,
    pub oldest_at: DateTime<Utc>,
    /// Why the oldest has not gone yet, when a try failed.
    pub oldest_error: Option<String>,
}

pub async fn unsent(db: &impl ConnectionTrait) -> Result<Option<Unsent>, DbErr> {
    let waiting = || Entity::find().filter(Column::Status.is_in([QUEUED, SENDING]));
    // From its last queueing: a mail sent again (`outbox retry`) waits from then.
    // (queued_at, created_at, last_error): queued_at is empty only on rows before migration 13.
    type Oldest = (Option<DateTime<Utc>>, DateTime<Utc>, Option<String>);
    let oldest: Option<Oldest> = waiting()
        .select_only()
        .columns([Column::QueuedAt, Column::CreatedAt, Column::LastError])
        .order_by_asc(Column::QueuedAt)
        .order_by_asc(Column::Id)
        .into_tuple()
        .one(db)
        .await?;
    let Some((queued_at, created_at, oldest_error)) = oldest else { return Ok(None) };
    let oldest_at = queued_at.unwrap_or(created_at);
    Ok(Some(Unsent { count: waiting().count(db).await?, oldest_at, oldest_error }))
}
