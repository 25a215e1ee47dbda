//! UIDVALIDITY and the last processed UID of each IMAP mailbox.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set};

use crate::storage::entities::mailbox_state;

pub async fn load(db: &impl ConnectionTrait, mailbox: &str) -> Result<Option<(u32, u32)>, DbErr> {
    let row = mailbox_state::Entity::find_by_id(mailbox.to_owned()).one(db).await?;
    Ok(row.and_then(|r| Some((r.uid_validity? as u32, r.last_uid.unwrap_or(0) as u32))))
}

pub async fn save(
    db: &impl ConnectionTrait,
    mailbox: &str,
    uid_validity: u32,
    last_uid: u32,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let exists = mailbox_state::Entity::find_by_id(mailbox.to_owned()).one(db).await?.is_some();
    let row = mailbox_state::ActiveModel {
        mailbox: Set(mailbox.to_owned()),
        uid_validity: Set(Some(i64::from(uid_validity))),
        last_uid: Set(Some(i64::from(last_uid))),
        updated_at: Set(now),
    };
    if exists {
        row.update(db).await?
    } else {
        row.insert(db).await?
    };
    Ok(())
}
