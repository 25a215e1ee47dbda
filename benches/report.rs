//! Report benchmark (figures printed, not asserted): `report cases` (CSV) and `report sla`
//! over 100,000 cases of 20 companies and 1,000 customers, on SQLite and PostgreSQL; the
//! goal is under 1 s each. Run with `cargo bench --bench report`.

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, Database, EntityTrait};
use supportd::config::Config;
use supportd::domain::{CaseNumber, CaseType, Channel, Priority, Severity, Status};
use supportd::reports::{Format, Scope};
use supportd::storage::entities::{case, company, contact};
use supportd::templates::Templates;

const REPO: &str = env!("CARGO_MANIFEST_DIR");
const CASES: usize = 100_000;
const COMPANIES: usize = 20;
const CONTACTS: usize = 1_000;

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    if backends.contains("sqlite") {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("report.db").display());
        rt.block_on(run("SQLite", &url));
    }
    if backends.contains("postgres") {
        let base = std::env::var("SUPPORTD_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let name = format!("supportd_report_{}", std::process::id());
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
    let desk = supportd::app::open_desk(config, templates).await.expect("database");
    fill(&desk.db).await;
    if backend == "SQLite" {
        // Real history is in the database file, not in a write-ahead log of 100,000 fresh rows.
        desk.db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await.expect("checkpoint");
    }
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    let scope = Scope::default();

    // What the driver takes to read the SLA columns of every case row by row, as a plain
    // sea-orm stream: what the reports would cost without reading by pages (`reports::packed`).
    let floor = {
        use futures::TryStreamExt;
        use sea_orm::{EntityTrait, QuerySelect};
        let t = Instant::now();
        let query = case::Entity::find()
            .select_only()
            .columns(supportd::reports::SlaFacts::COLUMNS)
            .into_model::<supportd::reports::SlaFacts>();
        let mut rows = Box::pin(query.stream(&desk.db).await.expect("stream"));
        while rows.try_next().await.expect("a row").is_some() {}
        t.elapsed()
    };
    let t = Instant::now();
    let mut out = CountingSink(0);
    let rows = supportd::reports::write_cases(&desk.db, &desk.config, &scope, Format::Csv, false, &mut out, now)
        .await
        .expect("report cases");
    let cases_time = t.elapsed();
    let t = Instant::now();
    let lines = supportd::reports::sla_figures(&desk.db, &desk.config, &scope, now).await.expect("report sla");
    let sla_time = t.elapsed();
    println!(
        "{backend}: report cases over {rows} cases: {cases_time:.2?} ({:.1} MB of CSV; goal < 1 s); \
         report sla: {sla_time:.2?} ({} lines; goal < 1 s); reading the SLA columns row by row: {floor:.2?}",
        out.0 as f64 / 1e6,
        lines.len()
    );
}

/// Counts what the report writes, and keeps none of it.
struct CountingSink(usize);

impl std::io::Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// 20 companies, 1,000 customers, 100,000 cases over a year: every severity, status and
/// channel; most answered, half resolved.
async fn fill(db: &sea_orm::DatabaseConnection) {
    let start = Utc.with_ymd_and_hms(2025, 12, 1, 9, 0, 0).unwrap();
    let companies = (0..COMPANIES).map(|i| company::ActiveModel {
        slug: Set(format!("bench-{i}")),
        name: Set(format!("Bench Company {i}")),
        domains: Set(format!("bench{i}.example")),
        notes: Set(String::new()),
        budget_hours: Set(100.0),
        created_at: Set(start),
        updated_at: Set(start),
        ..Default::default()
    });
    company::Entity::insert_many(companies).exec(db).await.expect("insert companies");
    let first_company: i64 = company::Entity::find().all(db).await.unwrap().iter().map(|c| c.id).min().unwrap();
    let contacts = (0..CONTACTS).map(|i| contact::ActiveModel {
        email: Set(format!("person{i}@bench{}.example", i % COMPANIES)),
        name: Set((i % 3 != 0).then(|| format!("Person {i}"))),
        company_id: Set(Some(first_company + (i % COMPANIES) as i64)),
        created_at: Set(start),
        ..Default::default()
    });
    contact::Entity::insert_many(contacts).exec(db).await.expect("insert contacts");
    let first_contact: i64 = contact::Entity::find().all(db).await.unwrap().iter().map(|c| c.id).min().unwrap();
    let severities = [Severity::S1, Severity::S2, Severity::S3, Severity::S4];
    let types = [CaseType::Query, CaseType::Request, CaseType::Bug, CaseType::SiteRefresh];
    let statuses = [Status::New, Status::Open, Status::Pending, Status::Resolved, Status::Closed];
    let channels = [Channel::Email, Channel::Phone, Channel::Chat, Channel::Web];
    for chunk in 0..(CASES / 1000) {
        let rows = (0..1000).map(|i| {
            let n = chunk * 1000 + i;
            let received = start + Duration::minutes((n as i64 * 5) % (365 * 24 * 60));
            let status = statuses[n % 5];
            let resolved = matches!(status, Status::Resolved | Status::Closed).then(|| received + Duration::hours(20));
            case::ActiveModel {
                number: Set(CaseNumber::new(n as u64 + 1).unwrap()),
                company_id: Set(Some(first_company + (n % COMPANIES) as i64)),
                contact_id: Set(Some(first_contact + (n % CONTACTS) as i64)),
                mailbox: Set("support".into()),
                channel: Set(channels[n % 4]),
                summary: Set(format!("Request {n}, about the \"export\"")),
                case_type: Set(types[n % 4]),
                severity: Set(severities[n % 4]),
                priority: Set(Priority::Normal),
                status: Set(status),
                error_category: Set((n % 2 == 0).then(|| "Configuration".into())),
                client_config: Set(n % 10 == 0),
                created_at: Set(received),
                updated_at: Set(resolved.unwrap_or(received)),
                sla_started_at: Set(received),
                first_response_at: Set((n % 7 != 0).then(|| received + Duration::minutes(90))),
                first_response_due: Set(Some(received + Duration::hours(4))),
                resolution_due: Set((n % 4 != 3).then(|| received + Duration::days(2))),
                paused_seconds: Set(0),
                resolved_at: Set(resolved),
                solution: Set(resolved.map(|_| "Fixed".into())),
                ..Default::default()
            }
        });
        case::Entity::insert_many(rows).exec(db).await.expect("insert cases");
    }
}
