//! A database that cannot be written now is a temporary failure: pipe ingest exits 75 (the
//! mail server keeps the message and retries, where 70 would bounce it), `run --once` exits
//! 75 with the mail left in new/, and the daemon waits for the database instead of exiting.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};

use crate::support::{Backend, Immutable, Sandbox, customer_mail};

/// One message on stdin, the way a mail server's pipe delivers it.
pub fn pipe_ingest(sandbox: &Sandbox, raw: &[u8]) -> Output {
    let (out, written) = sandbox.pipe_ingest(raw);
    written.expect("pipe the message");
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A migrated SQLite sandbox and the paths `read_only` names, made immutable.
async fn read_only_sqlite(read_only: &[&str]) -> (Sandbox, Immutable) {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    assert!(sandbox.run(&["migrate"]).status.success());
    let paths: Vec<PathBuf> = read_only.iter().map(|p| sandbox.path(p)).collect();
    let guard = Immutable::set(&paths);
    (sandbox, guard)
}

/// Pipe ingest exits 75 while the database cannot be written, and the same message becomes
/// case 000001 once it can: nothing was half-stored meanwhile.
fn assert_temporary_then_ingested(sandbox: &Sandbox, guard: Immutable) {
    let mail = customer_mail(1, "Printer offline");
    let out = pipe_ingest(sandbox, &mail);
    assert_eq!(out.status.code(), Some(75), "a read-only database is a temporary failure: {}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    drop(guard);
    let out = pipe_ingest(sandbox, &mail);
    assert!(out.status.success(), "the mail server's retry is stored: {}", stderr(&out));
    let cases = sandbox.cases();
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert_eq!(cases[0]["number"], "000001", "no case number was used up by the failed attempt");
}

/// The file is read-only, its folder is not: SQLITE_READONLY (8) on the first write.
#[tokio::test(flavor = "multi_thread")]
async fn pipe_ingest_into_a_read_only_sqlite_file_exits_75() {
    let (sandbox, guard) = read_only_sqlite(&["var/supportd.db"]).await;
    assert_temporary_then_ingested(&sandbox, guard);
}

/// File and folder read-only: the journal cannot be created, SQLITE_CANTOPEN (14).
#[tokio::test(flavor = "multi_thread")]
async fn pipe_ingest_into_a_read_only_sqlite_folder_exits_75() {
    let (sandbox, guard) = read_only_sqlite(&["var/supportd.db", "var"]).await;
    assert_temporary_then_ingested(&sandbox, guard);
}

/// A PostgreSQL database whose sessions are read-only (as on a standby after a failover):
/// every write fails with 25006 read_only_sql_transaction.
#[tokio::test(flavor = "multi_thread")]
async fn pipe_ingest_into_a_read_only_postgres_database_exits_75() {
    let sandbox = Sandbox::new(Backend::Postgres).await;
    assert!(sandbox.run(&["migrate"]).status.success());
    let (server, name) = sandbox.db.url.rsplit_once('/').expect("postgres://server/name");
    // Altered from another database: a session of the read-only one may not undo it.
    let admin = Database::connect(format!("{server}/postgres")).await.expect("connect to postgres");
    let alter = |setting: &str| format!("ALTER DATABASE {name} {setting}");
    admin.execute_unprepared(&alter("SET default_transaction_read_only = on")).await.expect("read-only");
    let mail = customer_mail(1, "Printer offline");
    let out = pipe_ingest(&sandbox, &mail);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    admin.execute_unprepared(&alter("RESET default_transaction_read_only")).await.expect("writable");
    admin.close().await.ok();
    let out = pipe_ingest(&sandbox, &mail);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sandbox.cases().len(), 1);
}

/// `run --once` reports the read-only database as a temporary failure and leaves the mail
/// in new/ for the next run.
#[tokio::test(flavor = "multi_thread")]
async fn run_once_on_a_read_only_database_exits_75_and_keeps_the_mail() {
    let (sandbox, guard) = read_only_sqlite(&["var/supportd.db"]).await;
    sandbox.drop_mail("1.eml", &customer_mail(1, "Printer offline"));
    let out = sandbox.run(&["run", "--once"]);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert_eq!(sandbox.files_in("var/inbox/new"), ["1.eml"]);
    drop(guard);
    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(sandbox.files_in("var/inbox/new").is_empty());
    assert_eq!(sandbox.cases().len(), 1);
}

/// The daemon waits for a read-only database, retrying, and starts once it is writable.
#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_waits_for_a_read_only_database() {
    let (sandbox, guard) = read_only_sqlite(&["var/supportd.db"]).await;
    sandbox.drop_mail("1.eml", &customer_mail(1, "Printer offline"));
    let mut daemon = sandbox.spawn_daemon();
    daemon.wait_for_count("the database cannot be used now; retrying", 2, Duration::from_secs(30));
    drop(guard);
    daemon.wait_for("supportd ready", Duration::from_secs(30));
    daemon.wait_for("opened case", Duration::from_secs(30));
    daemon.signal(libc::SIGTERM);
    let status = daemon.wait_exit(Duration::from_secs(10)).expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
}

/// A running daemon whose PostgreSQL turns read-only (a failover to a standby) keeps
/// retrying, and stores the mail once the database takes writes again.
#[tokio::test(flavor = "multi_thread")]
async fn the_running_daemon_retries_while_postgres_is_read_only() {
    let sandbox = Sandbox::new(Backend::Postgres).await;
    let mut daemon = sandbox.spawn_daemon();
    daemon.wait_for("supportd ready", Duration::from_secs(60));
    let (server, name) = sandbox.db.url.rsplit_once('/').expect("postgres://server/name");
    let admin = Database::connect(format!("{server}/postgres")).await.expect("connect to postgres");
    // The setting reaches new sessions only, so the daemon's pooled ones are ended: it
    // reconnects into read-only sessions now, and into writable ones after the reset.
    let reconnect = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    );
    admin.execute_unprepared(&format!("ALTER DATABASE {name} SET default_transaction_read_only = on")).await.unwrap();
    admin.execute_unprepared(&reconnect).await.expect("end the daemon's sessions");
    sandbox.drop_mail("1.eml", &customer_mail(1, "Printer offline"));
    daemon.wait_for("read-only transaction", Duration::from_secs(60));
    assert_eq!(sandbox.files_in("var/inbox/new"), ["1.eml"], "nothing can be stored meanwhile");
    admin.execute_unprepared(&format!("ALTER DATABASE {name} RESET default_transaction_read_only")).await.unwrap();
    admin.execute_unprepared(&reconnect).await.expect("end the daemon's sessions");
    admin.close().await.ok();
    daemon.wait_for("opened case", Duration::from_secs(60));
    daemon.signal(libc::SIGTERM);
    let status = daemon.wait_exit(Duration::from_secs(10)).expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    assert_eq!(sandbox.cases().len(), 1);
}

/// A pooled session opened while the database was read-only keeps that default after the
/// database takes writes again. The pool closes it at the next checkout instead of handing it
/// out for ever: one write fails (temporary), the next one runs on a fresh session.
#[tokio::test(flavor = "multi_thread")]
async fn a_session_opened_while_postgres_was_read_only_is_not_reused() {
    let sandbox = Sandbox::new(Backend::Postgres).await;
    let (server, name) = sandbox.db.url.rsplit_once('/').expect("postgres://server/name");
    let admin = Database::connect(format!("{server}/postgres")).await.expect("connect to postgres");
    let alter = |setting: &str| format!("ALTER DATABASE {name} {setting}");
    admin.execute_unprepared(&alter("SET default_transaction_read_only = on")).await.expect("read-only");
    // One connection, so a stale session would be the only one there is.
    let cfg = supportd::config::DatabaseConfig { url: sandbox.db.url.clone(), max_connections: 1 };
    let db = supportd::storage::connect(&cfg).await.expect("connect");
    db.execute_unprepared("SELECT 1").await.expect("a read-only session reads");
    admin.execute_unprepared(&alter("RESET default_transaction_read_only")).await.expect("writable");
    admin.close().await.ok();
    let write = "CREATE TABLE probe (x integer)";
    let stale = db.execute_unprepared(write).await.expect_err("the old session is still read-only");
    assert!(supportd::storage::is_unavailable(&stale), "a temporary failure: {stale}");
    for attempt in 1..=2 {
        let again = db.execute_unprepared(write).await;
        assert!(again.is_ok(), "write {attempt} after the failure runs on a fresh session: {again:?}");
        db.execute_unprepared("DROP TABLE probe").await.expect("drop");
    }
}

/// `supportd cases list | head -1`: the reader leaves after the first bytes. The command
/// ends quietly with its own exit code, not with a panic on the broken pipe (exit 101).
#[tokio::test(flavor = "multi_thread")]
async fn listing_into_a_pipe_closed_early_ends_quietly() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    // Far more than a pipe holds (64 KiB on Linux), so the command is still writing when
    // the reader leaves, in the table and in JSON.
    const CASES: usize = 800;
    for n in 0..CASES {
        sandbox.drop_mail(
            &format!("{n:04}.eml"),
            &customer_mail(n, &format!("Request number {n} about the printer on the second floor of the east wing")),
        );
    }
    assert!(sandbox.run(&["run", "--once"]).status.success());
    for format in ["table", "json"] {
        let full = sandbox.run(&["cases", "list", "--format", format]);
        assert!(full.stdout.len() > 2 * 65536, "{format}: {} bytes is too little to fill a pipe", full.stdout.len());
        let mut child = sandbox
            .cmd(&["cases", "list", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn supportd cases list");
        let mut stdout = child.stdout.take().expect("stdout");
        let mut first = [0u8; 1];
        stdout.read_exact(&mut first).expect("the first byte");
        drop(stdout);
        let out = child.wait_with_output().expect("wait for supportd cases list");
        assert!(!stderr(&out).contains("panicked"), "{format}: {}", stderr(&out));
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
    }
}

/// `ingest a.eml b.eml | head -0`: the reader is gone before the first report, and every
/// file is still stored (output stops; the work does not).
#[tokio::test(flavor = "multi_thread")]
async fn ingesting_files_into_a_closed_stdout_stores_every_file() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let files: Vec<String> = (1..=3)
        .map(|n| {
            let path = sandbox.path(&format!("{n}.eml"));
            std::fs::write(&path, customer_mail(n, &format!("Request {n}"))).expect("write message");
            path.display().to_string()
        })
        .collect();
    let mut args = vec!["ingest"];
    args.extend(files.iter().map(String::as_str));
    let mut child = sandbox.cmd(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for supportd ingest");
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(sandbox.cases().len(), 3);
}

/// `run --once 2>&1 | head -1`, or a log shipper that goes away: logging into a closed
/// stderr loses the logs, not the run.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_logging_into_a_closed_stderr_still_does_its_work() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.drop_mail("1.eml", &customer_mail(1, "Printer offline"));
    let mut child = sandbox.cmd(&["run", "--once"]).stderr(Stdio::piped()).spawn().expect("spawn supportd run --once");
    drop(child.stderr.take());
    let status = child.wait().expect("wait for supportd run --once");
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_eq!(sandbox.cases().len(), 1);
}

/// The daemon whose stderr closes keeps running and still stops cleanly on SIGTERM (its
/// signal task logs before it cancels; a panic there would leave it running forever).
#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_outlives_a_closed_stderr() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let mut child = sandbox.cmd(&["run"]).stderr(Stdio::piped()).spawn().expect("spawn supportd run");
    let mut log = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let ready = log.by_ref().map_while(Result::ok).any(|line| line.contains("supportd ready"));
    assert!(ready, "the daemon ended before it was ready");
    drop(log);
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let (tx, rx) = std::sync::mpsc::channel();
    let pid = child.id() as i32;
    std::thread::spawn(move || tx.send(child.wait()));
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(status) => assert_eq!(status.expect("wait").code(), Some(0)),
        Err(_) => {
            // SAFETY: as above; the waiting thread still holds the child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("the daemon did not stop within 10 s of SIGTERM");
        }
    }
}
