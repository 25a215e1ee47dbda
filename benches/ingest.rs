//! Ingest benchmark (figures printed, not asserted): messages per second from a Dovecot
//! mailbox of 10,000 mixed messages into cases, on SQLite and on PostgreSQL, beside a bare
//! loop that only fetches and parses the same mailbox (the ceiling), and the daemon's peak
//! RSS. Run with `cargo bench --bench ingest` (BENCH_MESSAGES to change the count,
//! BENCH_BACKENDS=sqlite or postgres for one of them).

#[path = "../tests/it/support/cert.rs"]
mod cert;
#[path = "../tests/it/support/dovecot.rs"]
#[allow(dead_code)]
mod dovecot;

use std::process::Command;
use std::time::{Duration, Instant};

use dovecot::TestMailServer;
use futures::TryStreamExt;
use sea_orm::{ConnectionTrait, Database};

const BIN: &str = env!("CARGO_BIN_EXE_supportd");
const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn main() {
    let n: usize = std::env::var("BENCH_MESSAGES").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = TestMailServer::start();
    let messages = mixed_messages(n);
    let bytes: usize = messages.iter().map(Vec::len).sum();
    let t = Instant::now();
    server.deliver_to_maildir(&messages);
    println!("mailbox: {n} mixed messages, {:.1} MB, delivered in {:.1?}", bytes as f64 / 1e6, t.elapsed());

    let ceiling = rt.block_on(fetch_and_parse(&server, n));
    println!("ceiling (UID FETCH batches of 500 + parse): {ceiling:.0} messages/s");

    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    if backends.contains("sqlite") {
        report("SQLite", run_daemon(&server, n, None), ceiling);
        reset_seen(&server);
    }
    if backends.contains("postgres") {
        let pg = rt.block_on(fresh_postgres());
        report("PostgreSQL", run_daemon(&server, n, Some(&pg)), ceiling);
    }
}

struct Figures {
    ingest_rate: f64,
    total: Duration,
    peak_rss_mb: f64,
}

fn report(backend: &str, f: Figures, ceiling: f64) {
    println!(
        "supportd on {backend}: {:.0} messages/s into cases ({:.1}x below the ceiling); whole run --once incl. \
         every acknowledgement written: {:.1?}; peak RSS {:.1} MB",
        f.ingest_rate,
        ceiling / f.ingest_rate,
        f.total,
        f.peak_rss_mb
    );
}

/// 40% plain requests, 20% HTML (multipart/alternative), 10% with an attachment, 20% replies
/// carrying a case tag, 10% replies by In-Reply-To only.
fn mixed_messages(n: usize) -> Vec<Vec<u8>> {
    let mut new_cases = 0usize;
    (0..n)
        .map(|i| {
            let from = format!("Customer {} <customer{}@acme.example>", i % 97, i % 97);
            let head = |subject: &str, extra: &str| {
                format!(
                    "From: {from}\r\nTo: support@example.com\r\nSubject: {subject}\r\nMessage-ID: <bench-{i}@acme.example>\r\n\
                     Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n{extra}"
                )
            };
            let kind = i % 10;
            if new_cases > 0 && kind >= 8 {
                let target = 1 + (i * 7919) % new_cases;
                return if kind == 8 {
                    format!("{}Content-Type: text/plain\r\n\r\nMore detail for case {target}.\r\n", head(&format!("Re: [Case #{target:06}] Request"), ""))
                } else {
                    let parent = i - 2;
                    format!("{}Content-Type: text/plain\r\n\r\nFollow-up.\r\n", head("Re: Request", &format!("In-Reply-To: <bench-{parent}@acme.example>\r\n")))
                }
                .into_bytes();
            }
            new_cases += 1;
            let body = match kind {
                0..=3 => format!("Content-Type: text/plain; charset=utf-8\r\n\r\nThe printer on floor {i} is offline.\r\n"),
                4 | 5 => "Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nIt is down.\r\n\
                          --b\r\nContent-Type: text/html\r\n\r\n<p>It is <b>down</b>.</p>\r\n--b--\r\n"
                    .to_owned(),
                _ => {
                    let data = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n".repeat(500);
                    format!(
                        "Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nLog attached.\r\n\
                         --m\r\nContent-Type: application/octet-stream; name=log.bin\r\nContent-Transfer-Encoding: base64\r\n\
                         Content-Disposition: attachment; filename=log.bin\r\n\r\n{data}--m--\r\n"
                    )
                }
            };
            format!("{}{body}", head(&format!("Request {i}"), "")).into_bytes()
        })
        .collect()
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
            if supportd::ingest::parse(f.body().expect("body")).is_ok() {
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

/// `supportd run --once` in a fresh folder; the ingest rate is measured from the backlog
/// being known to the last message logged as stored, before the acknowledgements are sent.
fn run_daemon(server: &TestMailServer, n: usize, pg: Option<&str>) -> Figures {
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = Command::new("cp").arg("-r").arg(format!("{REPO}/templates")).arg(dir.path()).status().unwrap();
    assert!(copy.success());
    let mut config = std::fs::read_to_string(format!("{REPO}/daemon.toml")).unwrap();
    if let Some(url) = pg {
        config = config.replace("url = \"sqlite://var/supportd.db?mode=rwc\"", &format!("url = \"{url}\""));
    }
    config.push_str(&server.mailbox_toml("plain", ""));
    std::fs::write(dir.path().join("daemon.toml"), config).unwrap();
    let migrate =
        Command::new(BIN).arg("--config").arg(dir.path().join("daemon.toml")).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));

    let start = Instant::now();
    let (status, stderr) = run_to_end(
        Command::new(BIN)
            .arg("--config")
            .arg(dir.path().join("daemon.toml"))
            .args(["--log-format", "json", "run", "--once"])
            .env("RUST_LOG", std::env::var("BENCH_RUST_LOG").unwrap_or_else(|_| "info".into())),
    );
    let total = start.elapsed();
    let log_file =
        std::env::temp_dir().join(format!("supportd-bench-{}.log", if pg.is_some() { "postgres" } else { "sqlite" }));
    std::fs::write(&log_file, &stderr).ok();
    assert_eq!(status, 0, "{stderr}");
    let lines: Vec<serde_json::Value> =
        stderr.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).collect();
    let logged = |what: &[&str]| -> Vec<&serde_json::Value> {
        lines.iter().filter(|l| l["fields"]["message"].as_str().is_some_and(|m| what.contains(&m))).collect()
    };
    let stored = logged(&["opened case", "added to case"]);
    assert_eq!(stored.len(), n, "every message stored");
    // From the moment the daemon knows its backlog (after connecting and logging in) to the
    // last message committed: every batch's fetch, parse, store and marking counts.
    let start = timestamp(logged(&["messages to process"]).first().expect("the backlog is logged"));
    let ingest = (timestamp(stored[n - 1]) - start).to_std().unwrap();
    // The daemon's own VmHWM: wait4's ru_maxrss would also count this (large) benchmark
    // process, whose memory the child shares until it executes supportd.
    let done = logged(&["run --once done"]);
    let peak_rss_kb = done.first().and_then(|l| l["fields"]["peak_rss_kb"].as_u64()).expect("peak RSS logged");
    Figures { ingest_rate: n as f64 / ingest.as_secs_f64(), total, peak_rss_mb: peak_rss_kb as f64 / 1024.0 }
}

fn timestamp(line: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    line["timestamp"].as_str().unwrap().parse().unwrap()
}

/// Runs the command to its end; returns its exit code and its stderr.
fn run_to_end(cmd: &mut Command) -> (i32, String) {
    let out = cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}
