//! Which database errors are temporary: "cannot write now" rather than "this input is bad".
//! A temporary failure leaves the message at its source (pipe ingest exits 75, so the mail
//! server retries instead of bouncing); anything else counts against the message.
//! Classified by error code and `io::ErrorKind`, never by message text.

use std::io;

use sea_orm::sqlx::error::DatabaseError;
use sea_orm::sqlx::postgres::PgDatabaseError;
use sea_orm::sqlx::sqlite::SqliteError;
use sea_orm::{DbErr, RuntimeErr};

const READ_ONLY_TRANSACTION: &str = "25006";

/// Errors that mean "the database is not there, or cannot be written, right now".
pub fn is_unavailable(e: &DbErr) -> bool {
    match e {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => sqlx_unavailable(s),
        _ => false,
    }
}

fn sqlx_unavailable(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as E;
    match e {
        // Any I/O error of sqlx's is the connection to the server (or the file) failing.
        E::Io(_) | E::PoolTimedOut | E::PoolClosed | E::Tls(_) | E::WorkerCrashed => true,
        E::Database(db) => database_unavailable(db.as_ref()),
        _ => false,
    }
}

fn database_unavailable(db: &dyn DatabaseError) -> bool {
    if let Some(sqlite) = db.try_downcast_ref::<SqliteError>() {
        let code = sqlite.code().and_then(|c| c.parse::<i32>().ok());
        return code.is_some_and(sqlite_code_unavailable);
    }
    if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
        if pg.code() == READ_ONLY_TRANSACTION {
            super::stale_sessions::saw_read_only();
        }
        return sqlstate_unavailable(pg.code());
    }
    false
}

/// SQLite result codes (https://sqlite.org/rescode.html). sqlx reports the extended code,
/// whose low byte is the primary one (SQLITE_IOERR_WRITE is 778 = 10 | 3 << 8).
fn sqlite_code_unavailable(code: i32) -> bool {
    const PERM: i32 = 3;
    const BUSY: i32 = 5;
    const LOCKED: i32 = 6;
    const NOMEM: i32 = 7;
    const READONLY: i32 = 8;
    const IOERR: i32 = 10;
    const FULL: i32 = 13;
    const CANTOPEN: i32 = 14;
    const PROTOCOL: i32 = 15;
    matches!(code & 0xff, PERM | BUSY | LOCKED | NOMEM | READONLY | IOERR | FULL | CANTOPEN | PROTOCOL)
}

/// PostgreSQL SQLSTATEs (appendix A of its manual): connection exceptions (08), a read-only
/// transaction (25006: a standby, or a primary demoted by a failover), insufficient resources
/// (53: disk full, out of memory, too many connections), the server shutting down or starting
/// (57P) and its own I/O errors (58030).
fn sqlstate_unavailable(code: &str) -> bool {
    code.starts_with("08")
        || code == READ_ONLY_TRANSACTION
        || code.starts_with("53")
        || code.starts_with("57P")
        || code == "58030"
}

/// I/O errors that a later attempt may not meet: a full or read-only disk, permissions an
/// operator is fixing. A path that is not a directory, or similar, is a configuration error.
pub fn io_unavailable(e: &io::Error) -> bool {
    use io::ErrorKind as K;
    matches!(
        e.kind(),
        K::ReadOnlyFilesystem
            | K::PermissionDenied
            | K::StorageFull
            | K::QuotaExceeded
            | K::ResourceBusy
            | K::OutOfMemory
            | K::Interrupted
            | K::WouldBlock
            | K::TimedOut
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_cannot_write_now_codes_are_temporary() {
        // READONLY, READONLY_DBMOVED, CANTOPEN, PERM, BUSY, BUSY_SNAPSHOT, LOCKED, FULL,
        // IOERR, IOERR_WRITE, PROTOCOL.
        for code in [8, 1032, 14, 3, 5, 517, 6, 13, 10, 778, 15] {
            assert!(sqlite_code_unavailable(code), "{code}");
        }
        // ERROR, CONSTRAINT_UNIQUE, MISMATCH, TOOBIG, CORRUPT, NOTADB.
        for code in [1, 2067, 20, 18, 11, 26] {
            assert!(!sqlite_code_unavailable(code), "{code}");
        }
    }

    #[test]
    fn postgres_cannot_write_now_states_are_temporary() {
        for code in ["25006", "53100", "53200", "53300", "57P01", "57P03", "08006", "58030"] {
            assert!(sqlstate_unavailable(code), "{code}");
        }
        for code in ["23505", "22001", "42P01", "25001", "40001"] {
            assert!(!sqlstate_unavailable(code), "{code}");
        }
    }

    #[test]
    fn io_errors_by_kind() {
        for kind in [io::ErrorKind::ReadOnlyFilesystem, io::ErrorKind::PermissionDenied, io::ErrorKind::StorageFull] {
            assert!(io_unavailable(&io::Error::from(kind)), "{kind:?}");
        }
        for kind in [io::ErrorKind::NotADirectory, io::ErrorKind::InvalidInput, io::ErrorKind::AlreadyExists] {
            assert!(!io_unavailable(&io::Error::from(kind)), "{kind:?}");
        }
        // The errno the kernel gives, not the kind a test made up.
        assert!(io_unavailable(&io::Error::from_raw_os_error(30)), "EROFS");
        assert!(io_unavailable(&io::Error::from_raw_os_error(28)), "ENOSPC");
        assert!(io_unavailable(&io::Error::from_raw_os_error(13)), "EACCES");
    }

    /// A real SQLITE_READONLY from the driver, through sea-orm's error types.
    #[tokio::test]
    async fn writing_a_read_only_sqlite_database_is_unavailable() {
        use sea_orm::{ConnectionTrait, Database};
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("ro.db").display());
        let rw = Database::connect(format!("{url}?mode=rwc")).await.expect("create");
        rw.execute_unprepared("CREATE TABLE t (x INTEGER)").await.expect("create table");
        rw.close().await.expect("close");
        let ro = Database::connect(format!("{url}?mode=ro")).await.expect("open read-only");
        let e = ro.execute_unprepared("INSERT INTO t VALUES (1)").await.expect_err("read-only");
        assert!(is_unavailable(&e), "{e:?}");
        let e = ro.execute_unprepared("INSERT INTO nowhere VALUES (1)").await.expect_err("no such table");
        assert!(!is_unavailable(&e), "a bad statement is not a temporary failure: {e:?}");
    }
}
