//! Mail that cannot become a case is kept here with its raw bytes and the reason, so that
//! nothing is dropped and the source can move on.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{Incoming, IngestError, Outcome, ingest};
use crate::desk::Desk;
use crate::storage::entities::{ingest_failure, quarantine};

#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("no quarantined message #{0}")]
    NotFound(i64),
    #[error("quarantined message #{0} was already released")]
    AlreadyReleased(i64),
    #[error("still cannot be processed: {0}")]
    StillFails(String),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<quarantine::Model>, DbErr> {
    quarantine::Entity::find().order_by_asc(quarantine::Column::Id).all(db).await
}

/// Runs a quarantined message through the pipeline again (after a fix or a larger size
/// limit). It is released when it now becomes part of a case; otherwise it stays as it was.
pub async fn retry(desk: &Desk, id: i64) -> Result<Outcome, RetryError> {
    let row = quarantine::Entity::find_by_id(id).one(&desk.db).await?.ok_or(RetryError::NotFound(id))?;
    if row.released {
        return Err(RetryError::AlreadyReleased(id));
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

pub async fn keep(
    db: &impl ConnectionTrait,
    mailbox: &str,
    source_ref: &str,
    reason: &str,
    raw: &[u8],
    received_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let row = quarantine::ActiveModel {
        mailbox: Set(Some(mailbox.to_owned())),
        source_ref: Set(Some(source_ref.to_owned())),
        reason: Set(reason.to_owned()),
        raw: Set(raw.to_vec()),
        received_at: Set(received_at),
        created_at: Set(now),
        released: Set(false),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
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
