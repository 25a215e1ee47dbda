//! Mail that cannot become a case is kept here with its raw bytes and the reason, so that
//! nothing is dropped and the source can move on.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::{Incoming, IngestError, Outcome, ingest};
use crate::config::IntakeConfig;
use crate::desk::Desk;
use crate::mail::sha256_hex;
use crate::storage::entities::{ingest_failure, quarantine};

#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("no quarantined message #{0}")]
    NotFound(i64),
    #[error("quarantined message #{0} was already released")]
    AlreadyReleased(i64),
    #[error("still cannot be processed: {0}")]
    StillFails(String),
    /// Over the size limit when it came, so only its first part was kept: retrying that
    /// would make a case of a cut-off message.
    #[error(
        "quarantined message #{id} holds only the first {kept} of its {full} bytes; raise \
         [intake] max_message_size and deliver the message again"
    )]
    Partial { id: i64, kept: usize, full: i64 },
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

/// A quarantined message without its bytes, which a listing has no use for.
#[derive(Debug, FromQueryResult)]
pub struct Listed {
    pub id: i64,
    pub mailbox: Option<String>,
    pub source_ref: Option<String>,
    pub reason: String,
    /// How many bytes are kept (all of them, or the first part).
    pub kept: i64,
    pub full_size: Option<i64>,
    pub sha256: Option<String>,
    pub received_at: DateTime<Utc>,
    pub retried_at: Option<DateTime<Utc>>,
    pub released: bool,
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Listed>, DbErr> {
    listed().order_by_asc(quarantine::Column::Id).into_model::<Listed>().all(db).await
}

/// The newest `n` messages still in quarantine (the live view's list).
pub async fn newest(db: &impl ConnectionTrait, n: u64) -> Result<Vec<Listed>, DbErr> {
    let query = listed().filter(quarantine::Column::Released.eq(false));
    query.order_by_desc(quarantine::Column::Id).limit(n).into_model::<Listed>().all(db).await
}

/// How many messages are in quarantine now (not released).
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    quarantine::Entity::find().filter(quarantine::Column::Released.eq(false)).count(db).await
}

/// The columns of `Listed`: the size of the bytes kept, never the bytes.
fn listed() -> sea_orm::Select<quarantine::Entity> {
    use quarantine::Column as C;
    let columns = [C::Id, C::Mailbox, C::SourceRef, C::Reason, C::FullSize, C::Sha256, C::ReceivedAt, C::RetriedAt];
    quarantine::Entity::find()
        .select_only()
        .columns(columns)
        .column(C::Released)
        // length() of a BLOB (SQLite) or a bytea (PostgreSQL) counts bytes on both; the
        // cast because PostgreSQL's is a 4-byte integer.
        .column_as(Expr::cust("CAST(length(raw) AS BIGINT)"), "kept")
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<quarantine::Model>, DbErr> {
    quarantine::Entity::find_by_id(id).one(db).await
}

/// Runs a quarantined message through the pipeline again (after a fix or a larger size
/// limit). It is released when it now becomes part of a case; otherwise it stays as it was.
pub async fn retry(desk: &Desk, id: i64) -> Result<Outcome, RetryError> {
    let row = quarantine::Entity::find_by_id(id).one(&desk.db).await?.ok_or(RetryError::NotFound(id))?;
    if row.released {
        return Err(RetryError::AlreadyReleased(id));
    }
    if let Some(full) = row.full_size.filter(|full| *full > row.raw.len() as i64) {
        return Err(RetryError::Partial { id, kept: row.raw.len(), full });
    }
    let mailbox = row
        .mailbox
        .as_deref()
        .and_then(|name| desk.config.mailbox(name))
        .or(desk.config.mailboxes.first())
        .cloned()
        .ok_or_else(|| RetryError::StillFails("no mailbox is configured".into()))?;
    let incoming = Incoming {
        raw: &row.raw,
        mailbox: &mailbox,
        received_at: row.received_at,
        source_ref: format!("quarantine:{id}"),
        declared_size: None,
        declared_sha256: None,
        released: None,
    };
    let outcome = ingest(desk, incoming).await?;
    if let Outcome::Quarantined { id: again, reason } = outcome {
        quarantine::Entity::delete_by_id(again).exec(&desk.db).await?;
        return Err(RetryError::StillFails(reason));
    }
    let mut update: quarantine::ActiveModel = row.into();
    update.released = Set(true);
    update.retried_at = Set(Some(desk.now()));
    update.update(&desk.db).await?;
    Ok(outcome)
}

/// Keeps a message with the reason. Of a message over the size limit only the first
/// `quarantine_keep_bytes` are stored (a source may have read no more), with the whole
/// message's size and SHA-256 when the source knew them.
pub async fn keep(
    db: &impl ConnectionTrait,
    intake: &IntakeConfig,
    inc: &Incoming<'_>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let full_size = inc.full_size();
    let sha256 = match (&inc.declared_sha256, inc.declared_size) {
        (Some(sha), _) => Some(sha.clone()),
        (None, None) => Some(sha256_hex(inc.raw)),
        // Only a first part, and the source could not hash the rest.
        (None, Some(_)) => None,
    };
    let kept = if full_size > intake.max_message_size {
        &inc.raw[..inc.raw.len().min(usize::try_from(intake.quarantine_keep_bytes).unwrap_or(usize::MAX))]
    } else {
        inc.raw
    };
    let row = quarantine::ActiveModel {
        mailbox: Set(Some(inc.mailbox.name.clone())),
        source_ref: Set(Some(inc.source_ref.clone())),
        reason: Set(reason.to_owned()),
        raw: Set(kept.to_vec()),
        full_size: Set(Some(i64::try_from(full_size).unwrap_or(i64::MAX))),
        sha256: Set(sha256),
        received_at: Set(inc.received_at),
        created_at: Set(now),
        released: Set(false),
        ..Default::default()
    };
    // Not `insert`, which would read the stored bytes back.
    Ok(quarantine::Entity::insert(row).exec(db).await?.last_insert_id)
}

/// Counts one more failure of the same message; returns how many there have been.
pub async fn count_failure(
    db: &impl ConnectionTrait,
    key: &str,
    error: &str,
    now: DateTime<Utc>,
) -> Result<i32, DbErr> {
    let found = ingest_failure::Entity::find_by_id(key.to_owned()).one(db).await?;
    let attempts = found.as_ref().map_or(0, |f| f.attempts) + 1;
    let row = ingest_failure::ActiveModel {
        key: Set(key.to_owned()),
        attempts: Set(attempts),
        last_error: Set(error.to_owned()),
        updated_at: Set(now),
    };
    if found.is_some() {
        row.update(db).await?
    } else {
        row.insert(db).await?
    };
    Ok(attempts)
}

pub async fn forget_failures(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    ingest_failure::Entity::delete_many().filter(ingest_failure::Column::Key.eq(key)).exec(db).await.map(|_| ())
}
