//! Commands that only look write nothing to the database: no migration, no pragma, no
//! seeding. They work on a database file nobody may write, leave a writable one byte for
//! byte as it was, create no database where there is none, and on PostgreSQL work in a
//! database whose transactions are all read-only.

use std::process::Output;

use sea_orm::{ConnectionTrait, Database};

use crate::support::{Backend, Immutable, Sandbox, customer_mail};

/// Every command that only looks, on a desk with case 000001 and quarantined message #1.
const LOOKING: &[&[&str]] = &[
    &["cases", "list"],
    &["cases", "list", "--format", "json"],
    &["cases", "show", "000001"],
    &["cases", "show", "000001", "--format", "json"],
    &["agents", "list"],
    &["outbox", "list"],
    &["quarantine", "list"],
    &["quarantine", "show", "1"],
    &["sla", "status"],
];

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs every looking command and checks each shows the desk.
fn look(sandbox: &Sandbox, what: &str) {
    for args in LOOKING {
        let out = sandbox.run(args);
        assert_eq!(out.status.code(), Some(0), "{what}: {args:?}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        let shown = match args[0] {
            "cases" | "sla" => "000001",
            "agents" => "alice@example.com",
            "outbox" => "customer1@acme.example",
            _ => "no header section",
        };
        assert!(text.contains(shown), "{what}: {args:?} shows {shown}: {text}");
    }
}

/// A desk with one case, its outbox rows and one quarantined message.
async fn desk_with_a_case(backend: Backend) -> Sandbox {
    let sandbox = Sandbox::new(backend).await;
    sandbox.drop_mail("1.eml", &customer_mail(1, "Printer offline"));
    sandbox.drop_mail("2.eml", b"no header section, no sender\r\n");
    assert!(sandbox.run(&["run", "--once"]).status.success());
    let out = sandbox.run(&["quarantine", "list", "--format", "json"]);
    let held: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(held.len(), 1, "{held:?}");
    assert!(held[0]["reason"].as_str().unwrap().contains("no header section"), "{held:?}");
    sandbox
}

fn files(sandbox: &Sandbox) -> Vec<(String, Vec<u8>)> {
    sandbox
        .files_in("var")
        .into_iter()
        .filter(|f| f.starts_with("supportd.db") && !f.ends_with("-shm"))
        .map(|f| {
            let bytes = std::fs::read(sandbox.path("var").join(&f)).expect("read");
            (f, bytes)
        })
        .collect()
}

/// The database and its WAL are unchanged byte for byte by looking (the -shm is SQLite's
/// shared memory for readers' locks, not the database); then the file alone, then file and
/// folder, are made read-only even for root, and every command still works. With no -wal
/// or -shm left (checkpointed and closed), the folder case is the one where SQLite cannot
/// create its shared memory.
#[tokio::test(flavor = "multi_thread")]
async fn looking_writes_nothing_and_works_on_a_read_only_sqlite_file() {
    let sandbox = desk_with_a_case(Backend::Sqlite).await;
    let before = files(&sandbox);
    look(&sandbox, "writable");
    assert_eq!(files(&sandbox), before, "nothing was written");

    let guard = Immutable::set(&[sandbox.path("var/supportd.db")]);
    look(&sandbox, "read-only file");
    drop(guard);

    // Checkpointed and closed by the last connection: the -wal and -shm are gone.
    sandbox.sql("PRAGMA wal_checkpoint(TRUNCATE)").await;
    assert_eq!(sandbox.files_in("var").iter().filter(|f| f.starts_with("supportd.db")).count(), 1);
    let guard = Immutable::set(&[sandbox.path("var/supportd.db"), sandbox.path("var")]);
    look(&sandbox, "read-only file and folder");
    drop(guard);
    assert_eq!(files(&sandbox).len(), 1, "no -wal was made");
}

/// Before the daemon has made the database, looking shows an empty desk and makes none.
#[tokio::test(flavor = "multi_thread")]
async fn looking_at_a_desk_never_started_shows_it_empty_and_creates_nothing() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    for args in [&["cases", "list", "--format", "json"][..], &["agents", "list", "--format", "json"][..]] {
        let out = sandbox.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]", "{args:?}");
    }
    assert_eq!(sandbox.run(&["cases", "show", "1"]).status.code(), Some(64), "no case 000001 yet");
    assert!(!sandbox.path("var/supportd.db").exists(), "no database was created");
}

/// A database an older supportd left behind is not migrated by looking: exit 75, and the
/// words say what to run.
#[tokio::test(flavor = "multi_thread")]
async fn looking_at_an_unmigrated_database_says_to_migrate() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    assert!(sandbox.run(&["migrate"]).status.success());
    sandbox.sql("DELETE FROM seaql_migrations WHERE version = (SELECT MAX(version) FROM seaql_migrations)").await;
    let out = sandbox.run(&["cases", "list"]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("lacks 1 migration(s)") && stderr(&out).contains("supportd migrate"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sandbox.count("SELECT COUNT(*) FROM seaql_migrations").await as usize + 1, migrations_count());
}

fn migrations_count() -> usize {
    use migrations::MigratorTrait;
    migrations::Migrator::migrations().len()
}

/// PostgreSQL: a database that was never migrated looks empty and stays without tables; a
/// database whose every transaction is read-only (a standby) can be looked at.
#[tokio::test(flavor = "multi_thread")]
async fn looking_writes_nothing_to_postgres() {
    let sandbox = Sandbox::new(Backend::Postgres).await;
    let out = sandbox.run(&["cases", "list", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let tables = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()";
    assert_eq!(sandbox.count(tables).await, 0, "looking created no table");
    drop(sandbox);

    let sandbox = desk_with_a_case(Backend::Postgres).await;
    let (server, name) = sandbox.db.url.rsplit_once('/').expect("postgres://server/name");
    let admin = Database::connect(format!("{server}/postgres")).await.expect("connect to postgres");
    let alter = |setting: &str| format!("ALTER DATABASE {name} {setting}");
    admin.execute_unprepared(&alter("SET default_transaction_read_only = on")).await.expect("read-only");
    look(&sandbox, "read-only PostgreSQL");
    admin.execute_unprepared(&alter("RESET default_transaction_read_only")).await.expect("writable");
    admin.close().await.ok();
}
