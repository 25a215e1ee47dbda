//! Three daemons started at once on a fresh database all come up (issue 27): one applies
//! the migrations, the others wait for its lock and find nothing left to do. On PostgreSQL
//! the second used to exit 70 on a duplicate key in `pg_type` while both created tables.

use std::time::Duration;

use crate::support::http;
use crate::support::{Backend, Sandbox};

async fn three_daemons_start_together(backend: Backend) {
    let sandbox = Sandbox::new(backend).await;
    let mut daemons: Vec<_> = (0..3).map(|_| sandbox.spawn_daemon()).collect();
    for daemon in &mut daemons {
        // A daemon that exits closes its log, and the wait fails at once with what it said.
        daemon.wait_for("supportd ready", Duration::from_secs(120));
    }
    for daemon in &mut daemons {
        let address = daemon.web_address();
        let health = http::get(&address, "/healthz", None);
        assert_eq!(health.status, 200, "each is still up and healthy: {}", health.body);
        assert!(
            !daemon.seen.iter().any(|l| l.contains("ERROR") || l.contains("cannot apply migrations")),
            "no daemon met an error starting:\n{}",
            daemon.seen.join("\n")
        );
    }
    let applied = sandbox.count("SELECT COUNT(*) FROM seaql_migrations").await;
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/src"))
        .expect("migrations/src")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with('m'))
        .count();
    assert_eq!(applied as usize, files, "each migration applied once");
    for daemon in &mut daemons {
        daemon.signal(libc::SIGTERM);
        let status = daemon.wait_exit(Duration::from_secs(60)).expect("each stops on SIGTERM");
        assert!(status.success(), "{status:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn three_daemons_start_together_on_a_fresh_postgres_database() {
    three_daemons_start_together(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn three_daemons_start_together_on_a_fresh_sqlite_database() {
    three_daemons_start_together(Backend::Sqlite).await;
}
