//! The README's walk-through: the daemon on the embedded default turns a message dropped
//! into var/inbox/new into a case and an acknowledgement file.

use std::time::Duration;

use crate::support::{Backend, Sandbox};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/printer-offline.eml");

async fn mail_becomes_case_and_ack(backend: Backend) {
    let sandbox = Sandbox::as_shipped(backend).await;
    let mut daemon = sandbox.spawn_daemon();
    daemon.wait_for("supportd ready", Duration::from_secs(60));

    sandbox.drop_mail("1700000000.example.eml", &std::fs::read(EXAMPLE).expect("example message"));
    daemon.wait_for("opened case", Duration::from_secs(30));
    daemon.wait_for_count("sender: sent", 2, Duration::from_secs(30));

    let cases = sandbox.cases();
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert_eq!(cases[0]["number"], "000001");
    assert_eq!(cases[0]["summary"], "Printer offline on the 3rd floor");
    assert_eq!(cases[0]["company"], "Acme Corporation");
    assert_eq!(cases[0]["status"], "new");

    let sent = sandbox.outbox_messages();
    assert_eq!(sent.len(), 2, "the acknowledgement and the agent's notification");
    let ack = sent.iter().find(|m| m.contains("To: \"Jane Doe\"")).expect("the acknowledgement");
    let notice = sent.iter().find(|m| m.contains("To: \"Alice Smith\" <alice@example.com>")).expect("notification");
    assert!(notice.contains("##- Please type your reply above this line -##"), "{notice}");
    assert!(notice.contains("never restart it during US business hours"), "reference notes: {notice}");
    assert!(ack.contains("Subject: [Case #000001] Printer offline on the 3rd floor"), "{ack}");
    assert!(ack.contains("To: \"Jane Doe\" <jane@acme.example>"), "{ack}");
    assert!(ack.contains("In-Reply-To: <printer-offline-1@acme.example>"), "{ack}");
    assert!(ack.contains("Auto-Submitted: auto-replied"), "{ack}");
    assert!(ack.contains("Content-Type: text/plain") && ack.contains("Content-Type: text/html"), "{ack}");
    assert_eq!(sandbox.files_in("var/inbox/new"), Vec::<String>::new());
    assert_eq!(sandbox.files_in("var/inbox/cur"), vec!["1700000000.example.eml:2,S".to_string()]);

    daemon.signal(libc::SIGTERM);
    let status = daemon.wait_exit(Duration::from_secs(5)).expect("exits within 5 s of SIGTERM");
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_becomes_case_and_ack_on_sqlite() {
    mail_becomes_case_and_ack(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_becomes_case_and_ack_on_postgres() {
    mail_becomes_case_and_ack(Backend::Postgres).await;
}

/// `cases show` prints the case with its messages and its audit trail.
#[tokio::test(flavor = "multi_thread")]
async fn reply_with_tag_joins_the_case() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.drop_mail("1.eml", &std::fs::read(EXAMPLE).expect("example"));
    assert!(sandbox.run(&["run", "--once"]).status.success());
    let reply = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/reply-with-tag.eml");
    sandbox.drop_mail("2.eml", &std::fs::read(reply).expect("example reply"));
    assert!(sandbox.run(&["run", "--once"]).status.success());

    assert_eq!(sandbox.cases().len(), 1);
    assert_eq!(sandbox.outbox_messages().len(), 1, "a follow-up gets no second acknowledgement");
    let out = sandbox.run(&["cases", "show", "000001", "--format", "json"]);
    assert!(out.status.success());
    let detail: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(detail["messages"].as_array().map(Vec::len), Some(2));
    let kinds: Vec<&str> = detail["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["opened", "message"]);
}

/// `--log-format json` gives one JSON object per line, with a span per message that
/// carries its Message-ID and case number.
#[tokio::test(flavor = "multi_thread")]
async fn json_logs_carry_message_id_and_case() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.drop_mail("1.eml", &std::fs::read(EXAMPLE).expect("example"));
    let out = sandbox.run(&["--log-format", "json", "run", "--once"]);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let opened = lines.iter().find(|l| l["fields"]["message"] == "opened case").expect("an 'opened case' line");
    assert_eq!(opened["span"]["message_id"], "printer-offline-1@acme.example");
    assert_eq!(opened["span"]["case"], "000001");
}
