//! The database: connection (SQLite or PostgreSQL), migrations, and the few statements that
//! need care under concurrency (the write lock, case-number allocation).

pub mod entities;
mod read_only;
mod stale_sessions;
mod tx;
mod unavailable;

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

pub use read_only::open_read_only;
pub use tx::Tx;
pub use unavailable::{io_unavailable, is_unavailable};

use crate::config::DatabaseConfig;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] DbErr),
    #[error("cannot apply migrations: {0}")]
    Migrate(#[source] DbErr),
    #[error("cannot create the database folder {path}: {source}")]
    Folder { path: String, source: std::io::Error },
    /// Seen by commands that only look, which migrate nothing.
    #[error(
        "the database lacks {pending} migration(s) this supportd needs: run `supportd migrate` \
         (or start `supportd run`, which applies them)"
    )]
    Outdated { pending: usize },
}

impl StorageError {
    /// True when the database could not be reached or used right now, so that a retry later
    /// may succeed (pipe ingest exits 75 so the mail server retries).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StorageError::Connect(_) => true,
            StorageError::Folder { source, .. } => io_unavailable(source),
            StorageError::Migrate(e) => is_unavailable(e),
            // Usable as soon as the daemon (or `migrate`) has run.
            StorageError::Outdated { .. } => true,
        }
    }
}

/// Opens the database and applies pending migrations.
pub async fn open(cfg: &DatabaseConfig) -> Result<DatabaseConnection, StorageError> {
    let db = connect(cfg).await?;
    migrate(&db).await?;
    Ok(db)
}

pub async fn connect(cfg: &DatabaseConfig) -> Result<DatabaseConnection, StorageError> {
    let mut opts = options(cfg);
    if cfg.url.starts_with("sqlite:") {
        create_sqlite_folder(&cfg.url)?;
        // WAL with a generous busy timeout: `run` and piped `ingest` processes share the file.
        opts.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(60))
                .foreign_keys(true)
        });
    }
    Database::connect(opts).await.map_err(StorageError::Connect)
}

/// Whether an `INSERT … ON CONFLICT DO NOTHING` run with `exec_without_returning` wrote its
/// row: sea-orm reports a conflict there as `Inserted(0)`, not `Conflicted`.
pub fn inserted(result: &sea_orm::TryInsertResult<u64>) -> bool {
    matches!(result, sea_orm::TryInsertResult::Inserted(n) if *n > 0)
}

/// What every connection shares, reading or writing.
fn options(cfg: &DatabaseConfig) -> ConnectOptions {
    let mut opts = ConnectOptions::new(postgres_url(&cfg.url));
    opts.max_connections(cfg.max_connections)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_postgres_pool_opts(stale_sessions::close_read_only_sessions);
    opts
}

/// sqlx prefers TLS when the URL names no `sslmode`, and it never sets TCP_NODELAY: over TLS
/// a statement with a large parameter then waits for the peer's delayed ACK, about 40 ms
/// (measured: ~100 instead of ~700 messages/s). TLS to a loopback server protects nothing, so
/// there it is off unless the URL asks for it.
fn postgres_url(url: &str) -> String {
    let Some(rest) = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://")) else {
        return url.to_owned();
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1");
    if !loopback || url.contains("sslmode=") {
        return url.to_owned();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}sslmode=disable")
}

/// The file of a `sqlite:` URL; `None` for an in-memory database or another backend.
fn sqlite_file(url: &str) -> Option<&std::path::Path> {
    let path = url.strip_prefix("sqlite:")?.trim_start_matches("//");
    let file = path.split('?').next().unwrap_or_default();
    (!file.is_empty() && file != ":memory:").then(|| std::path::Path::new(file))
}

fn create_sqlite_folder(url: &str) -> Result<(), StorageError> {
    let Some(file) = sqlite_file(url) else { return Ok(()) };
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|source| StorageError::Folder { path: dir.display().to_string(), source }),
        _ => Ok(()),
    }
}

/// Applies pending migrations, serialised across processes so that any number of instances
/// can start together: one migrates, the others wait for it and then find nothing to do.
/// Returns how many were applied.
///
/// The first look creates nothing: sea-orm's own check runs `CREATE TABLE IF NOT EXISTS
/// seaql_migrations`, which two PostgreSQL sessions racing on a fresh database turn into a
/// duplicate key in `pg_type` (the second daemon exited 70). Everything that creates is done
/// in one transaction holding the lock: on PostgreSQL an advisory lock taken in that
/// transaction, so on the very connection that migrates, and released by its commit or
/// rollback; on SQLite `BEGIN IMMEDIATE`, the write lock from the first statement, waited
/// for with the busy timeout (a deferred transaction that read first could not write later).
pub async fn migrate(db: &DatabaseConnection) -> Result<usize, StorageError> {
    let pending = Migrator::get_pending_migrations_read_only(db).await.map_err(StorageError::Migrate)?;
    if pending.is_empty() {
        return Ok(0);
    }
    let immediate =
        TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() };
    let txn = db.begin_with_options(immediate).await.map_err(StorageError::Migrate)?;
    if db.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7263550001)").await.map_err(StorageError::Migrate)?;
    }
    let pending = Migrator::get_pending_migrations(&txn).await.map_err(StorageError::Migrate)?.len();
    Migrator::up(&txn, None).await.map_err(StorageError::Migrate)?;
    txn.commit().await.map_err(StorageError::Migrate)?;
    Ok(pending)
}

/// Begins a transaction that will write. On SQLite the write lock is taken at once: a
/// deferred transaction that reads first and writes later fails with SQLITE_BUSY when another
/// process wrote in between, and the busy timeout cannot help it.
pub async fn begin_write(db: &DatabaseConnection) -> Result<Tx, DbErr> {
    let txn = Tx::begin(db).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        take_write_lock(&txn).await?;
    }
    Ok(txn)
}

/// Takes the desk's one write lock, the `case_number` counter's row, until `txn` ends: what
/// a transaction counts after it (a case number, the mail to strangers this hour) no other
/// transaction can change before it commits. Taken again, it is held already. On SQLite
/// every writing transaction takes it first (`begin_write`); on PostgreSQL those that count
/// do (a new case's number, the caps on mail to strangers), and a deadlock among them is
/// PostgreSQL's to break: the batch rolled back is retried whole.
pub async fn take_write_lock(txn: &Tx) -> Result<(), DbErr> {
    txn.execute_unprepared("UPDATE counters SET value = value WHERE name = 'case_number'").await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::{postgres_url, sqlite_file};

    #[test]
    fn loopback_postgres_skips_tls_unless_asked() {
        assert_eq!(postgres_url("postgres://u@127.0.0.1:5432/db"), "postgres://u@127.0.0.1:5432/db?sslmode=disable");
        assert_eq!(postgres_url("postgres://u@localhost/db?x=1"), "postgres://u@localhost/db?x=1&sslmode=disable");
        assert_eq!(postgres_url("postgres://u@[::1]:5432/db"), "postgres://u@[::1]:5432/db?sslmode=disable");
        for kept in ["postgres://u@127.0.0.1/db?sslmode=require", "postgres://u@db.example.com/db", "sqlite://x.db"] {
            assert_eq!(postgres_url(kept), kept);
        }
    }

    #[test]
    fn only_a_sqlite_url_names_a_file() {
        use std::path::Path;
        assert_eq!(sqlite_file("sqlite:///var/lib/supportd.db?mode=rwc"), Some(Path::new("/var/lib/supportd.db")));
        assert_eq!(sqlite_file("sqlite://var/x.db"), Some(Path::new("var/x.db")));
        for none in ["sqlite::memory:", "sqlite://:memory:", "postgres://u@host/db", "postgresql://u@host/db"] {
            assert_eq!(sqlite_file(none), None, "{none}");
        }
    }
}
