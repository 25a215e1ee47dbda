//! Web benchmark (figures printed, not asserted): `/`, `/api/sla` and `/metrics` over 50,000
//! open cases spread over 200 companies, four severities, three statuses and ten agents,
//! served by the real web server in this process. For each: the time to the last byte, the
//! response's size, and how far the process's resident memory rose over what it was
//! before the request (VmHWM after, with the peak reset, less VmRSS before). Goal for each:
//! under 200 ms and 50 MB. Run with `cargo bench --bench web` (SQLite; `BENCH_BACKENDS=
//! sqlite,postgres` adds PostgreSQL; `BENCH_KEEP=1` keeps the SQLite database).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration as Elapsed, Instant};

use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, Database, EntityTrait, TransactionTrait};
use supportd::config::Config;
use supportd::desk::{Desk, FixedClock};
use supportd::domain::{CaseNumber, CaseType, Priority, Severity, Status};
use supportd::storage::entities::{agent, alert_sent, case, company};
use supportd::templates::Templates;
use tokio_util::sync::CancellationToken;

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const CASES: usize = 50_000;
const COMPANIES: usize = 200;
const AGENTS: usize = 10;
/// Requests per path; the first is reported apart (cold caches), then the median of the rest.
const TRIES: usize = 6;

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite".into());
    if backends.contains("sqlite") {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("web.db").display());
        rt.block_on(run("SQLite", &url));
        // BENCH_KEEP=1 leaves the database behind, to look at its plans with sqlite3.
        if std::env::var_os("BENCH_KEEP").is_some() {
            println!("SQLite: the database is kept in {}", dir.keep().join("web.db").display());
        }
    }
    if backends.contains("postgres") {
        let base = std::env::var("SUPPORTD_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let name = format!("supportd_web_{}", std::process::id());
        rt.block_on(async {
            let admin = Database::connect(format!("{base}/postgres")).await.expect("PostgreSQL for the benchmark");
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
            run("PostgreSQL", &format!("{base}/{name}")).await;
            admin.execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)")).await.ok();
        });
    }
}

async fn run(backend: &str, url: &str) {
    let text = std::fs::read_to_string(format!("{REPO}/daemon.toml")).unwrap();
    let text = text.replace("url = \"sqlite://var/supportd.db?mode=rwc\"", &format!("url = \"{url}\""));
    let base = std::path::Path::new(REPO);
    let config = Config::from_toml(&text, &base.join("daemon.toml"), base).expect("config");
    let templates = Templates::load(&config.templates_dir).expect("templates");
    // A Tuesday, 10:00 in the support time zone's morning.
    let now = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
    let mut desk = supportd::app::open_desk(config, templates).await.expect("database");
    desk.clock = std::sync::Arc::new(FixedClock(now));
    let t = Instant::now();
    fill(&desk, now).await;
    println!("{backend}: {CASES} open cases written in {:.1?}", t.elapsed());

    let listener = supportd::web::bind("127.0.0.1:0".parse().unwrap()).await.expect("a port");
    let addr = listener.local_addr().unwrap().to_string();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(supportd::web::serve(desk.clone(), listener, shutdown.clone()));
    for path in ["/", "/?section=open", "/api/sla", "/api/cases", "/metrics"] {
        let addr = addr.clone();
        let figures = tokio::task::spawn_blocking(move || (0..TRIES).map(|_| request(&addr, path)).collect::<Vec<_>>())
            .await
            .unwrap();
        report(backend, path, &figures);
    }
    shutdown.cancel();
    server.await.ok();
}

/// Time, bytes and RSS growth of one request.
struct Figures {
    elapsed: Elapsed,
    bytes: usize,
    status: u16,
    rss_growth_kb: u64,
}

fn report(backend: &str, path: &str, runs: &[Figures]) {
    let first = &runs[0];
    let mut rest: Vec<&Figures> = runs[1..].iter().collect();
    rest.sort_by_key(|f| f.elapsed);
    let median = rest[rest.len() / 2];
    let most_rss = runs.iter().map(|f| f.rss_growth_kb).max().unwrap_or(0);
    println!(
        "{backend}: {path:<16} {} | first {:>8.1?}, median {:>8.1?} (goal < 200 ms) | {:>9} bytes | \
         RSS growth at most {:.1} MB (goal < 50 MB)",
        first.status,
        first.elapsed,
        median.elapsed,
        median.bytes,
        most_rss as f64 / 1024.0
    );
}

fn request(addr: &str, path: &str) -> Figures {
    // The peak is reset, so VmHWM afterwards is this request's peak.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
    let before = status_kb("VmRSS");
    let t = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the reply");
    let elapsed = t.elapsed();
    let peak = status_kb("VmHWM");
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").map_or(raw.len(), |i| i + 4);
    let status = String::from_utf8_lossy(&raw[..head_end.min(12)]).split(' ').nth(1).and_then(|s| s.parse().ok());
    Figures {
        elapsed,
        bytes: raw.len() - head_end,
        status: status.unwrap_or(0),
        rss_growth_kb: peak.saturating_sub(before),
    }
}

/// A figure of /proc/self/status, in kB.
fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix(" kB")?.parse().ok())
        .unwrap_or(0)
}

/// The companies, agents, cases and warnings, in one transaction of multi-row inserts.
async fn fill(desk: &Desk, now: DateTime<Utc>) {
    let tx = desk.db.begin().await.expect("a transaction");
    let companies = (1..=COMPANIES).map(|i| company::ActiveModel {
        slug: Set(format!("bench-{i}")),
        name: Set(format!("Bench Company {i}")),
        domains: Set(format!("bench{i}.example")),
        notes: Set(String::new()),
        budget_hours: Set(0.0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    });
    company::Entity::insert_many(companies).exec(&tx).await.expect("companies");
    let agents = (1..=AGENTS).map(|i| agent::ActiveModel {
        email: Set(format!("agent{i}@example.com")),
        name: Set(format!("Agent {i}")),
        aliases: Set(String::new()),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    });
    agent::Entity::insert_many(agents).exec(&tx).await.expect("agents");
    let company_ids: Vec<i64> = company::Entity::find().all(&tx).await.unwrap().iter().map(|c| c.id).collect();
    let agent_ids: Vec<i64> = agent::Entity::find().all(&tx).await.unwrap().iter().map(|a| a.id).collect();
    for chunk in (0..CASES).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|&i| row(i, now, &company_ids, &agent_ids));
        case::Entity::insert_many(rows).exec(&tx).await.expect("cases");
    }
    // Every tenth case was warned of for its response's due time (the desk had no case
    // before: case `i` has the id i + 1).
    let warned: Vec<usize> = (0..CASES).filter(|i| i % 10 == 9 && severity(*i) != Severity::S4).collect();
    for chunk in warned.chunks(500) {
        let rows = chunk.iter().map(|&i| alert_sent::ActiveModel {
            case_id: Set(i as i64 + 1),
            target: Set("respond".into()),
            level: Set("75%".into()),
            due_at: Set(respond_due(i, now)),
            outbox_id: Set(None),
            sent_at: Set(now),
            ..Default::default()
        });
        alert_sent::Entity::insert_many(rows).exec(&tx).await.expect("alerts");
    }
    tx.commit().await.expect("commit");
}

fn severity(i: usize) -> Severity {
    [Severity::S1, Severity::S2, Severity::S3, Severity::S4][i % 4]
}

/// From two days ago to three days ahead.
fn respond_due(i: usize, now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::minutes((i as i64 * 53) % (5 * 24 * 60) - 2 * 24 * 60)
}

/// Case `i` (numbered i + 1): received over the last 30 days, due from two days ago to three days ahead (so
/// some breached, some at risk, most running), a third answered, a sixth pending.
fn row(i: usize, now: DateTime<Utc>, companies: &[i64], agents: &[i64]) -> case::ActiveModel {
    let received = now - Duration::minutes((i as i64 * 37) % (30 * 24 * 60));
    let respond_due = respond_due(i, now);
    let severity = severity(i);
    let status = [Status::New, Status::Open, Status::Open, Status::Open, Status::Open, Status::Pending][i % 6];
    let answered = i.is_multiple_of(3);
    case::ActiveModel {
        number: Set(CaseNumber::new(i as u64 + 1).unwrap()),
        company_id: Set(Some(companies[i % companies.len()])),
        mailbox: Set("support".into()),
        summary: Set(format!("Request {i}: the printer on floor {} is offline again", i % 9)),
        case_type: Set(CaseType::Query),
        severity: Set(severity),
        priority: Set(Priority::Normal),
        status: Set(status),
        client_config: Set(false),
        assignee_id: Set((i % (agents.len() + 1) < agents.len()).then(|| agents[i % (agents.len() + 1)])),
        created_at: Set(received),
        updated_at: Set(received),
        sla_started_at: Set(received),
        first_response_due: Set((severity != Severity::S4).then_some(respond_due)),
        first_response_at: Set(answered.then_some(received + Duration::minutes(30))),
        resolution_due: Set((severity != Severity::S4).then_some(respond_due + Duration::days(5))),
        paused_since: Set((status == Status::Pending).then_some(now - Duration::hours(3))),
        paused_seconds: Set(0),
        ..Default::default()
    }
}
