//! The database for commands that only look (`cases list`, `agents list`, `outbox list`...):
//! nothing is written, neither a migration nor a pragma that changes the file. SQLite opens
//! the file read-only and PostgreSQL sessions are read-only transactions, so such a command
//! works on a file the user cannot write (a backup, a read-only mount, another user's
//! desk), and anything that tried to write would fail rather than change the desk.

use std::collections::HashSet;
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, RuntimeErr, Statement};

use super::{StorageError, migrate, options, sqlite_file};
use crate::config::DatabaseConfig;

/// Opens the database without writing to it. A database that does not exist yet, or that
/// was never migrated, holds nothing: the caller gets an empty one of the current schema,
/// in memory, and the real one is left alone (the daemon creates it at start).
pub async fn open_read_only(cfg: &DatabaseConfig) -> Result<DatabaseConnection, StorageError> {
    if sqlite_file(&cfg.url).is_some_and(|file| !file.exists()) {
        return empty().await;
    }
    let opened = match connect(cfg, false).await {
        // A WAL database read by a process that cannot create its -shm beside it (the
        // folder is read-only to us) cannot be opened; opened as immutable it can. Nothing
        // is writing it then unless another user is, whose -shm would exist and be used.
        Err(e) if cfg.url.starts_with("sqlite:") && cannot_open(&e) => connect(cfg, true).await,
        opened => opened,
    };
    let (db, applied) = opened.map_err(StorageError::Connect)?;
    let Some(applied) = applied else {
        db.close().await.ok();
        return empty().await;
    };
    let pending = Migrator::migrations().iter().filter(|m| !applied.contains(m.name())).count();
    if pending > 0 {
        db.close().await.ok();
        return Err(StorageError::Outdated { pending });
    }
    Ok(db)
}

/// The connection and the migrations applied to its database (the first query: SQLite opens
/// the file only then).
async fn connect(
    cfg: &DatabaseConfig,
    immutable: bool,
) -> Result<(DatabaseConnection, Option<HashSet<String>>), DbErr> {
    let db = Database::connect(read_only_options(cfg, immutable)).await?;
    match applied_migrations(&db).await {
        Ok(applied) => Ok((db, applied)),
        Err(e) => {
            db.close().await.ok();
            Err(e)
        }
    }
}

fn read_only_options(cfg: &DatabaseConfig, immutable: bool) -> ConnectOptions {
    let mut opts = options(cfg);
    if cfg.url.starts_with("sqlite:") {
        // No journal_mode: the daemon set WAL when it created the file, and setting it
        // again would be a write where it is not WAL.
        opts.map_sqlx_sqlite_opts(move |o| {
            o.read_only(true).create_if_missing(false).immutable(immutable).busy_timeout(Duration::from_secs(60))
        });
    } else {
        opts.map_sqlx_postgres_opts(|o| o.options([("default_transaction_read_only", "on")]));
    }
    opts
}

/// SQLITE_CANTOPEN (14, in the low byte of the extended code sqlx reports).
fn cannot_open(e: &DbErr) -> bool {
    let (DbErr::Conn(RuntimeErr::SqlxError(sqlx)) | DbErr::Query(RuntimeErr::SqlxError(sqlx))) = e else {
        return false;
    };
    let sea_orm::sqlx::Error::Database(db) = sqlx.as_ref() else { return false };
    db.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 14)
}

/// The names of the applied migrations; `None` when the database was never migrated.
/// Read by hand: sea-orm-migration's own status query first creates its table.
async fn applied_migrations(db: &DatabaseConnection) -> Result<Option<HashSet<String>>, DbErr> {
    let backend = db.get_database_backend();
    let exists = match backend {
        DbBackend::Postgres => {
            "SELECT 1 FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = 'seaql_migrations'"
        }
        _ => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'",
    };
    if db.query_all_raw(Statement::from_string(backend, exists)).await?.is_empty() {
        return Ok(None);
    }
    let rows = db.query_all_raw(Statement::from_string(backend, "SELECT version FROM seaql_migrations")).await?;
    let applied: HashSet<String> = rows.iter().map(|r| r.try_get_by_index::<String>(0)).collect::<Result<_, _>>()?;
    Ok(Some(applied).filter(|a| !a.is_empty()))
}

/// An empty desk of the current schema, in memory: one connection, kept for the command's
/// lifetime (each connection to `:memory:` is a database of its own).
async fn empty() -> Result<DatabaseConnection, StorageError> {
    let mut opts = ConnectOptions::new("sqlite::memory:");
    opts.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None).sqlx_logging(false);
    let db = Database::connect(opts).await.map_err(StorageError::Connect)?;
    migrate(&db).await?;
    Ok(db)
}
