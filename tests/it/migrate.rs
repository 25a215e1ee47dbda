//! `migrate` is idempotent on both databases.

use crate::support::{Backend, Sandbox};

async fn migrate_twice(backend: Backend) {
    let sandbox = Sandbox::new(backend).await;
    let first = sandbox.run(&["migrate"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let all = <migrations::Migrator as migrations::MigratorTrait>::migrations().len();
    assert!(String::from_utf8_lossy(&first.stdout).contains(&format!("applied {all} migration(s)")));
    let second = sandbox.run(&["migrate"]);
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    assert!(String::from_utf8_lossy(&second.stdout).contains("applied 0 migration(s)"));
    assert!(sandbox.cases().is_empty(), "the schema is usable after both runs");
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_is_idempotent_on_sqlite() {
    migrate_twice(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_is_idempotent_on_postgres() {
    migrate_twice(Backend::Postgres).await;
}
