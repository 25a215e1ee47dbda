//! `supportd agents`: config agents are seeded, `add` and `disable` write the table, and a
//! disable survives restarts (the config's seed does not re-activate the agent).

use crate::support::{Backend, Sandbox};

fn agents(sandbox: &Sandbox) -> Vec<(String, bool)> {
    rows(sandbox).iter().map(|r| (r["email"].as_str().unwrap().to_owned(), r["active"].as_bool().unwrap())).collect()
}

fn rows(sandbox: &Sandbox) -> Vec<serde_json::Value> {
    let out = sandbox.run(&["agents", "list", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn name_of(sandbox: &Sandbox, email: &str) -> String {
    let rows = rows(sandbox);
    let row = rows.iter().find(|r| r["email"] == email).unwrap_or_else(|| panic!("no {email} in {rows:?}"));
    row["name"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn add_disable_and_a_disable_survives_restarts() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    assert!(agents(&sandbox).is_empty(), "listing seeds nothing: [[agent]] entries are seeded at start");
    assert!(sandbox.run(&["run", "--once"]).status.success());
    assert_eq!(agents(&sandbox), [("alice@example.com".to_owned(), true)], "seeded from [[agent]]");
    assert!(sandbox.run(&["agents", "add", "bob@example.com", "--name", "Bob Jones"]).status.success());
    assert!(sandbox.run(&["agents", "disable", "alice@example.com"]).status.success());
    assert!(sandbox.run(&["run", "--once"]).status.success(), "a restart seeds [[agent]] again");
    assert_eq!(agents(&sandbox), [("alice@example.com".to_owned(), false), ("bob@example.com".to_owned(), true)]);
    assert_eq!(sandbox.run(&["agents", "disable", "nobody@example.com"]).status.code(), Some(64));
    assert_eq!(sandbox.run(&["agents", "add", "not-an-address"]).status.code(), Some(2));
}

/// `agents add` without `--name` makes a disabled agent active again under the name it had;
/// a new agent without one is named after the address; `--name` renames.
#[tokio::test(flavor = "multi_thread")]
async fn add_without_a_name_keeps_the_existing_name() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    assert!(sandbox.run(&["agents", "add", "bob@example.com", "--name", "Bob Jones"]).status.success());
    assert!(sandbox.run(&["agents", "disable", "bob@example.com"]).status.success());
    assert!(sandbox.run(&["agents", "add", "bob@example.com"]).status.success());
    assert_eq!(name_of(&sandbox, "bob@example.com"), "Bob Jones");
    assert!(agents(&sandbox).contains(&("bob@example.com".to_owned(), true)), "active again");
    assert!(sandbox.run(&["agents", "add", "carol.white@example.com"]).status.success());
    assert_eq!(name_of(&sandbox, "carol.white@example.com"), "carol.white");
    assert!(sandbox.run(&["agents", "add", "bob@example.com", "--name", "Robert Jones"]).status.success());
    assert_eq!(name_of(&sandbox, "bob@example.com"), "Robert Jones");
    // Another spelling of an agent's address is another row: said when it is added.
    let out = sandbox.run(&["agents", "add", "Bob@example.com"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: Bob@example.com and the agent bob@example.com differ only in case"), "{err}");
}
