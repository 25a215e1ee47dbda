//! Nothing lost, nothing twice: a failed transaction leaves the message in new/, and a
//! SIGTERM mid-run leaves nothing half-written.

use std::time::Duration;

use crate::support::{Backend, Sandbox, customer_mail};

/// Makes every insert of a message whose subject contains FAIL-ME abort its transaction.
fn failure_trigger(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "CREATE TRIGGER inject_failure BEFORE INSERT ON messages WHEN NEW.subject LIKE '%FAIL-ME%' \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        }
        Backend::Postgres => {
            "CREATE FUNCTION inject_failure() RETURNS trigger AS $$ BEGIN \
               IF NEW.subject LIKE '%FAIL-ME%' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; \
             END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER inject_failure BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION inject_failure();"
        }
    }
}

async fn failed_transaction_is_retried_exactly_once(backend: Backend) {
    let sandbox = Sandbox::new(backend).await;
    assert!(sandbox.run(&["migrate"]).status.success());
    sandbox.sql(failure_trigger(backend)).await;
    sandbox.drop_mail("a-fails.eml", &customer_mail(1, "FAIL-ME please"));
    sandbox.drop_mail("b-works.eml", &customer_mail(2, "Printer offline"));

    let out = sandbox.run(&["run", "--once"]);
    assert_eq!(out.status.code(), Some(75), "a message left for later makes the run a temporary failure");
    assert_eq!(sandbox.files_in("var/inbox/new"), ["a-fails.eml"], "the failed message stays in new/");
    let cases = sandbox.cases();
    assert_eq!(cases.len(), 1, "only the good message became a case: {cases:?}");
    assert_eq!(cases[0]["number"], "000001", "the failed case gave its number back");
    assert_eq!(sandbox.outbox_messages().len(), 1, "no acknowledgement for the failed message");

    let drop = match backend {
        Backend::Sqlite => "DROP TRIGGER inject_failure;",
        Backend::Postgres => "DROP TRIGGER inject_failure ON messages; DROP FUNCTION inject_failure();",
    };
    sandbox.sql(drop).await;
    for _ in 0..2 {
        assert!(sandbox.run(&["run", "--once"]).status.success());
    }
    assert!(sandbox.files_in("var/inbox/new").is_empty());
    let numbers: Vec<String> = sandbox.cases().iter().map(|c| c["number"].as_str().unwrap().to_owned()).collect();
    assert_eq!(numbers, ["000001", "000002"], "processed exactly once, with no gap");
    let acks = sandbox.outbox_messages();
    assert_eq!(acks.len(), 2, "exactly one acknowledgement each");
    assert_eq!(acks.iter().filter(|a| a.contains("Subject: [Case #000002] FAIL-ME please")).count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_transaction_is_retried_exactly_once_on_sqlite() {
    failed_transaction_is_retried_exactly_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_transaction_is_retried_exactly_once_on_postgres() {
    failed_transaction_is_retried_exactly_once(Backend::Postgres).await;
}

/// A message that fails the same way three times is quarantined, and the mailbox moves on.
#[tokio::test(flavor = "multi_thread")]
async fn third_failure_quarantines() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    assert!(sandbox.run(&["migrate"]).status.success());
    sandbox.sql(failure_trigger(Backend::Sqlite)).await;
    let raw = customer_mail(1, "FAIL-ME");
    sandbox.drop_mail("fails.eml", &raw);
    for expected in [75, 75, 0] {
        assert_eq!(sandbox.run(&["run", "--once"]).status.code(), Some(expected));
    }
    assert!(sandbox.files_in("var/inbox/new").is_empty());
    assert!(sandbox.cases().is_empty());
    // Kept whole, with the failure that repeated as its reason.
    let out = sandbox.run(&["quarantine", "list", "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("quarantine list prints JSON");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    let reason = row["reason"].as_str().expect("a reason");
    assert!(reason.contains("injected failure"), "{reason}");
    assert_eq!(row["mailbox"], "support");
    assert!(row["source"].as_str().is_some_and(|s| s.contains("fails.eml")), "{row}");
    assert_eq!(row["bytes"], raw.len());
    assert_eq!(row["full_size"], raw.len());
    assert_eq!(row["released"], false);
    let out = sandbox.run(&["quarantine", "show", "1"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Subject: FAIL-ME"), "its header section is kept");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_exits_promptly_with_nothing_half_written() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.uncap_stranger_mail();
    let mut daemon = sandbox.spawn_daemon();
    daemon.wait_for("supportd ready", Duration::from_secs(60));
    const N: usize = 40;
    for n in 0..N {
        sandbox.drop_mail(&format!("{n:03}.eml"), &customer_mail(n, &format!("Request {n}")));
    }
    daemon.wait_for("opened case", Duration::from_secs(30));
    daemon.signal(libc::SIGTERM);
    let status = daemon.wait_exit(Duration::from_secs(5)).expect("exits within 5 s of SIGTERM");
    assert!(status.success(), "{status:?}");

    // Whatever was committed is whole: every case has its message and its acknowledgement
    // row, every processed file is in cur/, and no half-written file is in the outbox.
    let cases = sandbox.cases();
    let done = sandbox.files_in("var/inbox/cur").len();
    assert_eq!(cases.len(), done, "a file moves to cur/ exactly when its case is committed");
    assert_eq!(sandbox.outbox_rows().len(), cases.len());
    assert!(sandbox.files_in("var/outbox").iter().all(|f| f.ends_with(".eml")), "no temporary files left");

    assert!(sandbox.run(&["run", "--once"]).status.success());
    assert_eq!(sandbox.cases().len(), N);
    assert_eq!(sandbox.outbox_messages().len(), N);
}
