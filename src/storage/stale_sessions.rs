//! PostgreSQL reads `default_transaction_read_only` when a session starts. A session opened
//! while the database refused writes (a standby, a failover in progress, an operator's
//! `ALTER DATABASE … SET default_transaction_read_only`) stays read-only after the primary is
//! back, and a pool would hand it out again and again. So once a write has failed as
//! read-only, pooled sessions are asked before use for a while, and a read-only one is closed:
//! the pool opens a fresh session, which reads the setting anew.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sea_orm::sqlx::{self, PgConnection, Postgres, pool::PoolOptions};

/// How long after the last read-only failure sessions are checked: a failover takes seconds
/// to minutes; the check costs one round trip per checkout meanwhile, and nothing after.
const WATCH: Duration = Duration::from_secs(600);

/// When a write last failed as read-only, in seconds since the epoch (0: never).
static LAST_SEEN: AtomicU64 = AtomicU64::new(0);

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Called when a statement failed with SQLSTATE 25006 (read_only_sql_transaction).
pub(super) fn saw_read_only() {
    LAST_SEEN.store(now_secs(), Ordering::Relaxed);
}

fn watching() -> bool {
    let last = LAST_SEEN.load(Ordering::Relaxed);
    last != 0 && now_secs().saturating_sub(last) < WATCH.as_secs()
}

/// Whether a pooled session may be handed out: any session outside the watch, and within it
/// only one that would take writes.
async fn writable(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    if !watching() {
        return Ok(true);
    }
    let read_only: String = sqlx::query_scalar("SHOW transaction_read_only").fetch_one(conn).await?;
    Ok(read_only != "on")
}

pub(super) fn close_read_only_sessions(pool: PoolOptions<Postgres>) -> PoolOptions<Postgres> {
    pool.before_acquire(|conn, _meta| Box::pin(writable(conn)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_watched_only_after_a_read_only_failure() {
        assert!(!watching(), "nothing failed yet");
        saw_read_only();
        assert!(watching());
        LAST_SEEN.store(now_secs() - WATCH.as_secs() - 1, Ordering::Relaxed);
        assert!(!watching(), "the watch ends");
    }
}
