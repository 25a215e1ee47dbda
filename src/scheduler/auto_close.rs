//! A case resolved for `auto_close_after_days` with no reply becomes closed. A customer's
//! reply in the meantime reopens the case (and clears `resolved_at`), so only silence counts.

use chrono::Duration;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

use crate::cases::{Actor, record_event, set_status};
use crate::desk::Desk;
use crate::domain::Status;
use crate::storage::{begin_write, entities::case};

/// Closes every case resolved long enough ago; returns how many.
pub async fn auto_close(desk: &Desk) -> Result<usize, DbErr> {
    let now = desk.now();
    let days = desk.config.scheduler.auto_close_after_days;
    let cutoff = now - Duration::days(i64::from(days));
    let txn = begin_write(&desk.db).await?;
    let stale = case::Entity::find()
        .filter(case::Column::Status.eq(Status::Resolved))
        .filter(case::Column::ResolvedAt.lte(cutoff))
        .all(&txn)
        .await?;
    for c in &stale {
        set_status(&txn, &desk.config, c, Status::Closed, &Actor::System, now).await?;
        let why = format!("resolved {days} days ago with no reply");
        record_event(&txn, c.id, now, &Actor::System, "auto_close", (None, None), Some(why));
    }
    txn.commit().await?;
    Ok(stale.len())
}
