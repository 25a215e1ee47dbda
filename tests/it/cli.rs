//! The commands people read: exit codes for bad arguments (2) and missing things (64), times
//! in the calendar's zone, and what `cases show` tells about a case.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use supportd::cases::{Actor, record_response};
use supportd::storage::{begin_write, entities::case};

use crate::support::{Backend, Sandbox, customer_mail};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A value that does not parse is clap's usage error, 2, and says which argument; a
/// well-formed one naming nothing that exists is 64. The same rule for every command.
#[tokio::test(flavor = "multi_thread")]
async fn bad_arguments_exit_2_and_missing_things_exit_64() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.drop_mail("1.eml", &customer_mail(1, "Printer offline"));
    assert!(sandbox.run(&["run", "--once"]).status.success());
    let cases: &[(&[&str], i32, &str)] = &[
        (&["cases", "show", "abc"], 2, "expected a case number such as 000123"),
        (&["cases", "show", "12ab"], 2, "<NUMBER>"),
        (&["agents", "add", "not-an-address"], 2, "expected an email address"),
        (&["agents", "disable", "not an address"], 2, "expected an email address"),
        (&["sla", "due", "--severity", "S9", "--at", "2026-11-20T16:30:00Z"], 2, "--severity"),
        (&["sla", "due", "--severity", "S2", "--at", "yesterday"], 2, "expected e.g. 2026-11-20T16:30:00Z"),
        (&["sla", "due", "--severity", "S2", "--at", "2026-11-20T16:30:00Z", "--type", "Feature"], 2, "--type"),
        (&["outbox", "retry", "seven"], 2, "<ID>"),
        (&["cases", "frobnicate"], 2, "frobnicate"),
        (&["cases", "show", "000099"], 64, "no case 000099"),
        (&["agents", "disable", "nobody@example.com"], 64, "no agent nobody@example.com"),
        (&["outbox", "retry", "99"], 64, "outbox #99"),
        (&["quarantine", "show", "99"], 64, "no quarantined message #99"),
        (&["quarantine", "retry", "99"], 64, "99"),
        (&["ingest", "--mailbox", "nosuch"], 64, "no mailbox \"nosuch\""),
    ];
    for (args, code, said) in cases {
        let out = sandbox.run(args);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(said), "{args:?}: {said:?} in {}", stderr(&out));
    }
    // Nothing a bad argument names is looked up, nor created.
    assert_eq!(sandbox.cases().len(), 1);
    assert!(sandbox.run(&["cases", "show", "#1"]).status.success(), "#000001 and 1 are the same case");
}

/// Tables show times in the `[business_hours]` zone with the zone's name; JSON keeps UTC.
#[tokio::test(flavor = "multi_thread")]
async fn times_in_tables_are_in_the_calendar_zone_and_named() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    // Wednesday 1 July 2026, 10:00 UTC = 11:00 in London (BST); S3 responds within 8
    // business hours: Thursday 11:00 BST.
    sandbox.deliver_at("1.eml", &customer_mail(1, "Printer offline"), "2026-07-01T10:00:00Z");
    let out = sandbox.cmd(&["run", "--once"]).env("SUPPORTD_NOW", "2026-07-01T10:00:00Z").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let list = stdout(&sandbox.run(&["cases", "list"]));
    assert!(list.contains("2026-07-01 11:00 BST  2026-07-02 11:00 BST"), "created, respond by: {list}");
    let status = stdout(&sandbox.run(&["sla", "status"]));
    assert!(status.contains("2026-07-02 11:00 BST"), "{status}");
    let respond = status.lines().find(|l| l.contains(" respond ")).unwrap_or_else(|| panic!("{status}"));
    assert!(respond.contains(" h over") || respond.contains(" min over"), "lapsed, worded by span: {status}");
    let show = stdout(&sandbox.run(&["cases", "show", "1"]));
    assert!(show.contains("created 2026-07-01 11:00 BST"), "{show}");
    assert!(show.contains("respond  due 2026-07-02 11:00 BST"), "{show}");
    let json = &sandbox.cases()[0];
    assert_eq!(json["created_at"], "2026-07-01T10:00:00Z");
    assert_eq!(json["first_response_due"], "2026-07-02T10:00:00Z");
}

/// `cases show` in a table: why the message opened a new case (the event's detail), the mail
/// we sent on the case with its outbox state, and "met" for a target that was met.
#[tokio::test(flavor = "multi_thread")]
async fn case_show_tells_why_what_was_sent_and_which_target_was_met() {
    let sandbox = Sandbox::as_shipped(Backend::Sqlite).await;
    // A tag naming no case: a new case, which records why.
    sandbox.drop_mail("1.eml", &customer_mail(1, "[Case #000077] Printer offline"));
    assert!(sandbox.run(&["run", "--once"]).status.success());
    let because = sandbox.cases()[0]["opened_because"].as_str().expect("a reason").to_owned();
    assert!(because.contains("[Case #000077]"), "{because}");

    let config = supportd::config::Config::load(&sandbox.path("daemon.toml")).unwrap();
    let templates = supportd::templates::Templates::load(&config.templates_dir).unwrap();
    let desk = supportd::app::open_desk(config, templates).await.unwrap();
    let c = case::Entity::find().filter(case::Column::Number.eq(1)).one(&desk.db).await.unwrap().unwrap();
    let txn = begin_write(&desk.db).await.unwrap();
    let agent = Actor::Agent("alice@example.com".parse().unwrap());
    record_response(&txn, &c, &agent, c.created_at).await.unwrap();
    txn.commit().await.unwrap();
    desk.db.close().await.ok();

    let out = sandbox.run(&["cases", "show", "000001"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let show = stdout(&out);
    let line = |needle: &str| show.lines().find(|l| l.contains(needle)).map(str::to_owned);
    let opened = line(" opened ").unwrap_or_else(|| panic!("an opened event: {show}"));
    assert!(opened.contains(&because), "the event's detail: {opened}");
    assert!(show.contains(&format!("opened because {because}")), "{show}");
    let respond = line("respond  due").unwrap_or_else(|| panic!("the respond target: {show}"));
    assert!(respond.ends_with("· met"), "a met target says so, not minutes left: {respond}");
    let resolve = line("resolve  due").unwrap_or_else(|| panic!("the resolve target: {show}"));
    assert!(resolve.ends_with(" left") && !resolve.contains("business min"), "as `sla::span` words it: {resolve}");

    let sent: Vec<&str> =
        show.lines().skip_while(|l| *l != "Mail sent:").skip(1).take_while(|l| !l.is_empty()).collect();
    assert_eq!(sent.len(), 2, "the acknowledgement and Alice's notification: {show}");
    assert!(sent[0].contains("ack to customer1@acme.example · sent "), "{}", sent[0]);
    assert!(sent[0].contains("[Case #000001] Printer offline"), "{}", sent[0]);
    assert!(sent[1].contains("notify to alice@example.com · sent "), "{}", sent[1]);
    let json: serde_json::Value =
        serde_json::from_slice(&sandbox.run(&["cases", "show", "1", "--format", "json"]).stdout).unwrap();
    let kinds: Vec<&str> = json["sent"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ack", "notify"]);
}
