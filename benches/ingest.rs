//! Ingest benchmark (figures printed, not asserted): messages per second from a Dovecot
//! mailbox of 10,000 mixed messages into cases, on SQLite and on PostgreSQL, beside a bare
//! loop that only fetches and parses the same mailbox (the ceiling), and the daemon's peak
//! RSS; once with the old mix of 97 senders (most acknowledgements refused by the hourly
//! limit) and once with every case its own sender. Then how fast the outbox delivers what the
//! backlog queued (file transport, SMTP receiver), and peak RSS on large Maildir mail.
//! Run with `cargo bench --bench ingest` (BENCH_MESSAGES to change the count,
//! BENCH_BACKENDS=sqlite or postgres for one of them, sqlite,postgres for both mixes on both
//! (the own-sender mix runs on SQLite alone by default), BENCH_PARTS=rate,outbox,memory,
//! BENCH_KEEP=1 to keep the SQLite runs' folders).

#[path = "../tests/it/support/cert.rs"]
mod cert;
#[path = "../tests/it/support/dovecot.rs"]
#[allow(dead_code)]
mod dovecot;
#[path = "ingest/log.rs"]
mod log;
#[path = "ingest/memory.rs"]
mod memory;
#[path = "ingest/mix.rs"]
mod mix;
#[path = "ingest/outbox.rs"]
mod outbox;
#[path = "../tests/it/support/smtp.rs"]
#[allow(dead_code)]
mod smtp;

use std::process::Command;
use std::time::{Duration, Instant};

use dovecot::TestMailServer;
use futures::TryStreamExt;
use log::{BIN, Log, per_second, timestamp};
use mix::{Senders, mixed_messages};
use sea_orm::{ConnectionTrait, Database};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn main() {
    let n: usize = std::env::var("BENCH_MESSAGES").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let parts = std::env::var("BENCH_PARTS").unwrap_or_else(|_| "rate,outbox,memory".into());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    if parts.contains("rate") || parts.contains("outbox") {
        for senders in [Senders::Shared, Senders::OwnEach] {
            rates(&rt, n, senders, parts.contains("outbox") && senders == Senders::OwnEach);
        }
    }
    if parts.contains("memory") {
        memory::report();
    }
}

/// One mailbox of `n` messages from `senders`, into each backend; with `outbox`, the SQLite
/// run's queue is delivered again over SMTP.
fn rates(rt: &tokio::runtime::Runtime, n: usize, senders: Senders, outbox: bool) {
    let server = TestMailServer::start();
    let messages = mixed_messages(n, senders);
    let bytes: usize = messages.iter().map(Vec::len).sum();
    let t = Instant::now();
    server.deliver_to_maildir(&messages);
    println!(
        "mailbox: {n} mixed messages ({}), {:.1} MB, delivered in {:.1?}",
        senders.describe(),
        bytes as f64 / 1e6,
        t.elapsed()
    );
    let ceiling = rt.block_on(fetch_and_parse(&server, n));
    println!("ceiling (UID FETCH batches of 500 + parse): {ceiling:.0} messages/s");

    // The second mix on SQLite only unless asked: on PostgreSQL it adds minutes to CI.
    let all = if senders == Senders::Shared { "sqlite,postgres" } else { "sqlite" };
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| all.into());
    if backends.contains("sqlite") {
        let (figures, dir) = run_daemon(&server, n, None);
        report("SQLite", senders, &figures, ceiling);
        if outbox {
            let url = format!("sqlite://{}?mode=rw", dir.path().join("var/supportd.db").display());
            outbox::report_smtp(rt, dir.path(), &url, figures.sent.0);
        }
        keep(dir);
        reset_seen(&server);
    }
    if backends.contains("postgres") {
        let pg = rt.block_on(fresh_postgres());
        report("PostgreSQL", senders, &run_daemon(&server, n, Some(&pg)).0, ceiling);
    }
}

/// `BENCH_KEEP=1` keeps each run's folder (database, log, outbox) for a look at its queries.
fn keep(dir: tempfile::TempDir) {
    if std::env::var_os("BENCH_KEEP").is_some() {
        println!("  kept {}", dir.keep().display());
    }
}

struct Figures {
    ingest_rate: f64,
    total: Duration,
    peak_rss_mb: f64,
    /// Mails the outbox sent (file transport) and over what span.
    sent: (usize, Duration),
}

fn report(backend: &str, senders: Senders, f: &Figures, ceiling: f64) {
    println!(
        "supportd on {backend} ({}): {:.0} messages/s into cases ({:.1}x below the ceiling); whole run --once \
         incl. every acknowledgement written: {:.1?}; peak RSS {:.1} MB",
        senders.describe(),
        f.ingest_rate,
        ceiling / f.ingest_rate,
        f.total,
        f.peak_rss_mb
    );
    let (sent, span) = f.sent;
    println!("  outbox (file transport): {sent} mails in {span:.1?}, {:.0} mails/s", per_second(sent, span));
}

async fn fetch_and_parse(server: &TestMailServer, n: usize) -> f64 {
    let mut s = server.client().await;
    s.select("INBOX").await.expect("select");
    let start = Instant::now();
    let mut parsed = 0;
    for lo in (1..=n).step_by(500) {
        let set = format!("{lo}:{}", (lo + 499).min(n));
        let fetches: Vec<_> =
            s.uid_fetch(&set, "(UID INTERNALDATE BODY.PEEK[])").await.unwrap().try_collect().await.unwrap();
        for f in &fetches {
            if supportd::mail::parse(f.body().expect("body")).is_ok() {
                parsed += 1;
            }
        }
    }
    assert_eq!(parsed, n);
    n as f64 / start.elapsed().as_secs_f64()
}

fn reset_seen(server: &TestMailServer) {
    server.doveadm(&["flags", "remove", "-u", dovecot::USER, "\\Seen", "mailbox", "INBOX", "ALL"]);
}

async fn fresh_postgres() -> String {
    let base = std::env::var("SUPPORTD_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let name = format!("supportd_bench_{}", std::process::id());
    let admin = Database::connect(format!("{base}/postgres")).await.expect("PostgreSQL for the benchmark");
    admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}")).await.unwrap();
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    format!("{base}/{name}{}", std::env::var("BENCH_PG_PARAMS").unwrap_or_default())
}

/// A fresh folder with the repository's daemon.toml and templates (and `pg` as the database).
pub fn desk_dir(pg: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = Command::new("cp").arg("-r").arg(format!("{REPO}/templates")).arg(dir.path()).status().unwrap();
    assert!(copy.success());
    let mut config = std::fs::read_to_string(format!("{REPO}/daemon.toml")).unwrap();
    if let Some(url) = pg {
        config = config.replace("url = \"sqlite://var/supportd.db?mode=rwc\"", &format!("url = \"{url}\""));
    }
    // Every message acknowledged, as before the caps on mail to strangers: a backlog of
    // thousands at one domain would otherwise compose 20 acks and the figures flatter.
    config = config
        .replace("stranger_mail_per_hour = 100\n", "stranger_mail_per_hour = 1000000\n")
        .replace("stranger_mail_per_domain_per_hour = 20\n", "stranger_mail_per_domain_per_hour = 1000000\n")
        .replace("company_domain_mail_per_hour = 50\n", "company_domain_mail_per_hour = 1000000\n");
    assert!(config.contains("company_domain_mail_per_hour = 1000000"), "daemon.toml names the caps");
    std::fs::write(dir.path().join("daemon.toml"), config).unwrap();
    dir
}

/// `supportd run --once` in a fresh folder; the ingest rate is measured from the backlog
/// being known to the last message logged as stored, before the acknowledgements are sent.
fn run_daemon(server: &TestMailServer, n: usize, pg: Option<&str>) -> (Figures, tempfile::TempDir) {
    let dir = desk_dir(pg);
    let config = dir.path().join("daemon.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&server.mailbox_toml("plain", ""));
    std::fs::write(&config, text).unwrap();
    let migrate = Command::new(BIN).arg("--config").arg(&config).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));

    let start = Instant::now();
    let log = Log::run_once(&config, if pg.is_some() { "postgres" } else { "sqlite" });
    let total = start.elapsed();
    let stored = log.logged(&["opened case", "added to case"]);
    assert_eq!(stored.len(), n, "every message stored");
    // From the moment the daemon knows its backlog (after connecting and logging in) to the
    // last message committed: every batch's fetch, parse, store and marking counts.
    let start = timestamp(log.logged(&["messages to process"]).first().expect("the backlog is logged"));
    let ingest = (timestamp(stored[n - 1]) - start).to_std().unwrap();
    let figures = Figures {
        ingest_rate: n as f64 / ingest.as_secs_f64(),
        total,
        peak_rss_mb: log.peak_rss_mb(),
        sent: log.sent(),
    };
    (figures, dir)
}
