//! A fresh database per test: a SQLite file in the sandbox, or a new PostgreSQL database on
//! the server at 127.0.0.1:5432 (or a private cluster the harness starts when none answers).

use std::net::TcpStream;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn new(backend: Backend, sandbox_dir: &std::path::Path) -> TestDb {
        match backend {
            Backend::Sqlite => TestDb {
                url: format!("sqlite://{}?mode=rwc", sandbox_dir.join("var/supportd.db").display()),
                pg_name: None,
            },
            Backend::Postgres => {
                static SEQ: AtomicUsize = AtomicUsize::new(0);
                let name = format!("supportd_it_{}_{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed));
                let admin = Database::connect(format!("{}/postgres", pg_server()))
                    .await
                    .expect("connect to the test PostgreSQL server");
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                admin.close().await.ok();
                TestDb { url: format!("{}/{name}", pg_server()), pg_name: Some(name) }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            // Best effort: a leftover database only costs disk.
            let _ = Command::new("psql")
                .args([
                    &format!("{}/postgres", pg_server()),
                    "-q",
                    "-c",
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ])
                .output();
        }
    }
}

/// `postgres://postgres@HOST:PORT`: the machine's server when it answers, else a private one.
fn pg_server() -> &'static str {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("SUPPORTD_TEST_PG") {
            return url;
        }
        let addr = "127.0.0.1:5432".parse().expect("constant address");
        if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
            return "postgres://postgres@127.0.0.1:5432".into();
        }
        start_private_cluster()
    })
}

fn start_private_cluster() -> String {
    let dir = tempfile::Builder::new().prefix("supportd-pg").tempdir().expect("tempdir").keep();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/support/postgres-test-server.sh");
    let out = Command::new("bash").arg(script).arg(&dir).output().expect("run postgres-test-server.sh");
    assert!(
        out.status.success(),
        "no PostgreSQL answers at 127.0.0.1:5432 and a private one failed to start:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env = String::from_utf8_lossy(&out.stdout).into_owned();
    let get = |key: &str| {
        env.lines().find_map(|l| l.strip_prefix(key)).map(str::to_owned).expect("script prints its settings")
    };
    let (pid, port) = (get("PG_PID="), get("PG_PORT="));
    // Stop the cluster when this test process ends.
    let watchdog = format!("while kill -0 {} 2>/dev/null; do sleep 1; done; kill -INT {pid}", std::process::id());
    // It outlives this process on purpose, so nothing here waits for it.
    #[allow(clippy::zombie_processes)]
    Command::new("bash").args(["-c", &watchdog]).spawn().expect("start the cluster's watchdog");
    format!("postgres://postgres@127.0.0.1:{port}")
}
