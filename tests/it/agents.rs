//! `supportd agents`: config agents are seeded, `add` and `disable` write the table, and a
//! disable survives restarts (the config's seed does not re-activate the agent).

use crate::support::{Backend, Sandbox};

fn agents(sandbox: &Sandbox) -> Vec<(String, bool)> {
    let out = sandbox.run(&["agents", "list", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    rows.iter().map(|r| (r["email"].as_str().unwrap().to_owned(), r["active"].as_bool().unwrap())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn add_disable_and_a_disable_survives_restarts() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    assert_eq!(agents(&sandbox), [("alice@example.com".to_owned(), true)], "seeded from [[agent]]");
    assert!(sandbox.run(&["agents", "add", "bob@example.com", "--name", "Bob Jones"]).status.success());
    assert!(sandbox.run(&["agents", "disable", "alice@example.com"]).status.success());
    assert!(sandbox.run(&["run", "--once"]).status.success(), "a restart seeds [[agent]] again");
    assert_eq!(agents(&sandbox), [("alice@example.com".to_owned(), false), ("bob@example.com".to_owned(), true)]);
    assert_eq!(sandbox.run(&["agents", "disable", "nobody@example.com"]).status.code(), Some(64));
    assert_eq!(sandbox.run(&["agents", "add", "not-an-address"]).status.code(), Some(64));
}
