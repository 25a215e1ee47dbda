//! Automated mail that threads to no case opens none: it is held with its kind and reason,
//! sends nothing and alerts no one, and an agent releases it into a case (the SLA clock
//! starting at the release) or discards it.

use crate::support::smtp::header;
use crate::support::{Backend, Sandbox, TestSmtp};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// (fixture, kind, start of the reason)
const AUTOMATED: &[(&str, &str, &str)] = &[
    ("outlook_ooo_reply.eml", "auto_reply", "Auto-Submitted: auto-generated"),
    ("gmail_vacation_reply.eml", "auto_reply", "Auto-Submitted: auto-replied"),
    ("postfix_bounce_dsn.eml", "bounce", "Auto-Submitted: auto-replied"),
    ("thunderbird_read_receipt.eml", "report", "delivery or read report"),
    ("mailman_list_post.eml", "list", "Precedence: list"),
];

fn run(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    let out = sandbox.run(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn held(sandbox: &Sandbox, all: bool) -> Vec<serde_json::Value> {
    let args: &[&str] =
        if all { &["held", "list", "--all", "--format", "json"] } else { &["held", "list", "--format", "json"] };
    serde_json::from_slice(&run(sandbox, args).stdout).expect("held list prints JSON")
}

fn deliver_fixtures(sandbox: &Sandbox, round: &str) {
    for (name, _, _) in AUTOMATED {
        // The tags these fixtures carry name no case of this fresh desk.
        sandbox.drop_mail(&format!("{round}-{name}"), &std::fs::read(format!("{FIXTURES}/{name}")).unwrap());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn automated_mail_that_threads_to_no_case_is_held_and_an_agent_releases_or_discards_it() {
    held_then_released_or_discarded(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn held_mail_on_postgres() {
    held_then_released_or_discarded(Backend::Postgres).await;
}

async fn held_then_released_or_discarded(backend: Backend) {
    let sink = TestSmtp::start();
    // As shipped: every agent is notified of new cases, so a case opened by mistake would show.
    let sandbox = Sandbox::as_shipped(backend).await;
    sandbox.set_outbound(&sink.outbound_toml());
    deliver_fixtures(&sandbox, "1");
    run(&sandbox, &["run", "--once"]);
    assert!(sandbox.cases().is_empty(), "no case opened");
    assert!(sink.messages().is_empty(), "nothing sent: no acknowledgement, no notification");
    assert_eq!(sandbox.count("SELECT COUNT(*) FROM contacts").await, 0, "a robot becomes no contact");
    let rows = held(&sandbox, false);
    assert_eq!(rows.len(), AUTOMATED.len(), "{rows:?}");
    for (name, kind, reason) in AUTOMATED {
        let subject = supportd::mail::parse(&std::fs::read(format!("{FIXTURES}/{name}")).unwrap()).unwrap().subject;
        let row = rows.iter().find(|r| r["subject"] == subject).unwrap_or_else(|| panic!("{name} is held: {rows:?}"));
        assert_eq!(row["kind"], *kind, "{name}: {row}");
        assert_eq!(row["state"], "held", "{name}");
        let words = row["reason"].as_str().unwrap();
        assert!(words.starts_with(reason) && words.contains("threads to no case"), "{name}: {words}");
    }

    // The same mail delivered again is not held twice.
    deliver_fixtures(&sandbox, "2");
    run(&sandbox, &["run", "--once"]);
    assert_eq!(held(&sandbox, false).len(), AUTOMATED.len());

    let id = |kind: &str| rows.iter().find(|r| r["kind"] == kind).unwrap()["id"].as_i64().unwrap().to_string();
    let list = id("list");
    run(&sandbox, &["held", "discard", &list]);
    let again = sandbox.run(&["held", "discard", &list]);
    assert_eq!(again.status.code(), Some(64), "a settled message is refused");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already discarded"));
    assert_eq!(held(&sandbox, false).len(), AUTOMATED.len() - 1);

    // Released on Monday 7 December 2026 at 10:00 London: the case is S3 (8 business hours),
    // so its first response is due on Tuesday at 10:00, whenever the mail came.
    let bounce = id("bounce");
    let out = sandbox.cmd(&["held", "release", &bounce]).env("SUPPORTD_NOW", "2026-12-07T10:00:00Z").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("opened case 000001; no acknowledgement"));
    let cases = sandbox.cases();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["first_response_due"], "2026-12-08T10:00:00Z", "{:?}", cases[0]);
    let all = held(&sandbox, true);
    let by_id = |id: &str| all.iter().find(|r| r["id"] == id.parse::<i64>().unwrap()).unwrap();
    let released = by_id(&bounce);
    assert_eq!(released["state"], "released");
    assert_eq!(by_id(&list)["state"], "discarded");
    assert_eq!(held(&sandbox, false).len(), AUTOMATED.len() - 2);
    let twice = sandbox.run(&["held", "release", &bounce]);
    assert_eq!(twice.status.code(), Some(64));

    // The agents hear of the released case; nothing goes to the robot that sent it.
    let out = sandbox.cmd(&["run", "--once"]).env("SUPPORTD_NOW", "2026-12-07T10:01:00Z").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sent = sink.messages();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(header(&sent[0], "To").unwrap().contains("<alice@example.com>"), "{}", sent[0]);
    assert!(header(&sent[0], "Subject").unwrap().contains("New case"), "{}", sent[0]);
    assert_eq!(sandbox.run(&["held", "release", "999"]).status.code(), Some(64), "no such message");
}
