//! Scheduler benchmark (figures printed, not asserted): one escalation tick over 100,000 open
//! cases with 1,000 alerts due (target: under 1 s) and with none due (target: under 10 ms),
//! on SQLite and PostgreSQL. Run with `cargo bench --bench tick`.

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, Database, EntityTrait};
use supportd::config::Config;
use supportd::desk::{Desk, FixedClock};
use supportd::domain::{CaseNumber, CaseType, Priority, Severity, Status};
use supportd::storage::entities::case;
use supportd::templates::Templates;

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const CASES: usize = 100_000;
const DUE: usize = 1_000;

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    if backends.contains("sqlite") {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("tick.db").display());
        rt.block_on(run("SQLite", &url));
    }
    if backends.contains("postgres") {
        let base = std::env::var("SUPPORTD_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let name = format!("supportd_tick_{}", std::process::id());
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
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).unwrap();
    let mut desk = supportd::app::open_desk(config, templates).await.expect("database");
    desk.clock = std::sync::Arc::new(FixedClock(now));
    fill(&desk, now).await;

    let t = Instant::now();
    let stats = supportd::scheduler::tick(&desk).await.expect("tick");
    let busy = t.elapsed();
    let t = Instant::now();
    let idle = supportd::scheduler::tick(&desk).await.expect("tick");
    let quiet = t.elapsed();
    println!(
        "{backend}: tick over {CASES} open cases with {} due: {busy:.2?} ({} alerts queued; target < 1 s); \
         with none due: {quiet:.2?} ({} cases; target < 10 ms)",
        stats.cases, stats.alerts_queued, idle.cases
    );
}

/// 100,000 open S2 cases received Thursday 15:00; the first 1,000 have their 75% warning due.
async fn fill(desk: &Desk, now: chrono::DateTime<Utc>) {
    let received = Utc.with_ymd_and_hms(2026, 11, 19, 15, 0, 0).unwrap();
    let respond_due = Utc.with_ymd_and_hms(2026, 11, 20, 11, 0, 0).unwrap();
    for chunk in 0..(CASES / 1000) {
        let rows = (0..1000).map(|i| {
            let n = chunk * 1000 + i + 1;
            let next = if n <= DUE { now - Duration::minutes(1) } else { now + Duration::days(30) };
            case::ActiveModel {
                number: Set(CaseNumber::new(n as u64).unwrap()),
                mailbox: Set("support".into()),
                summary: Set(format!("Request {n}")),
                case_type: Set(CaseType::Query),
                severity: Set(Severity::S2),
                priority: Set(Priority::Normal),
                status: Set(Status::Open),
                client_config: Set(false),
                created_at: Set(received),
                updated_at: Set(received),
                sla_started_at: Set(received),
                first_response_due: Set(Some(respond_due)),
                next_alert_at: Set(Some(next)),
                paused_seconds: Set(0),
                ..Default::default()
            }
        });
        case::Entity::insert_many(rows).exec(&desk.db).await.expect("insert cases");
    }
}
