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
    // Jane is no key member of Acme: a stranger, greeted by her address, not by the display
    // name anyone could have written (`outbound::strangers`).
    let ack = sent.iter().find(|m| m.contains("To: jane@acme.example")).expect("the acknowledgement");
    let notice = sent.iter().find(|m| m.contains("To: \"Alice Smith\" <alice@example.com>")).expect("notification");
    assert!(notice.contains("##- Please type your reply above this line -##"), "{notice}");
    assert!(notice.contains("never restart it during US business hours"), "reference notes: {notice}");
    assert!(ack.contains("Subject: [Case #000001] Printer offline on the 3rd floor"), "{ack}");
    assert!(ack.contains("Hello jane@acme.example,") && !ack.contains("Jane Doe"), "{ack}");
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

/// The lines of the README's walk-through: each command with its comment.
fn walk_through() -> Vec<(String, String)> {
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let section = readme.split("## Walk-through").nth(1).expect("a walk-through section");
    let block = section.split("```sh\n").nth(1).and_then(|b| b.split("```").next()).expect("its sh block");
    block
        .lines()
        .map(|l| {
            let (command, comment) = l.split_once('#').expect("every line says what happens");
            (command.trim().to_owned(), comment.trim().to_owned())
        })
        .collect()
}

/// The README's walk-through, line by line against the running daemon on the embedded
/// default: each command is the one written there, and each comment says what happens.
#[tokio::test(flavor = "multi_thread")]
async fn the_readme_walk_through_happens_as_written() {
    let sandbox = Sandbox::as_shipped(Backend::Sqlite).await;
    let mut daemon = sandbox.spawn_daemon();
    daemon.wait_for("supportd ready", Duration::from_secs(60));
    let mut mails = 0;
    for (command, comment) in walk_through() {
        let words: Vec<&str> = command.split_whitespace().collect();
        match words.as_slice() {
            ["cp", example, "var/inbox/new/"] => {
                let name = example.trim_start_matches("examples/");
                let raw = std::fs::read(sandbox_example(name)).expect("the example exists");
                sandbox.drop_mail(name, &raw);
                // Alice is notified of each message: the new case and the follow-up.
                mails += if mails == 0 { 2 } else { 1 };
                daemon.wait_for_count("sender: sent", mails, Duration::from_secs(30));
                if let Some(file) = comment.split_whitespace().find(|w| w.trim_matches(['(', ')']).ends_with(".eml")) {
                    let file = file.trim_matches(['(', ')']);
                    assert!(sandbox.files_in("var/outbox").contains(&file.to_owned()), "{comment}");
                }
            }
            ["cargo", "run", "--release", "--", args @ ..] => {
                let out = sandbox.run(args);
                assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
                let text = String::from_utf8_lossy(&out.stdout);
                check_command(args, &comment, &text);
            }
            ["ls", "var/outbox/"] => {
                let listed = sandbox.files_in("var/outbox");
                let named: Vec<String> =
                    comment.split_whitespace().filter(|w| w.ends_with(".eml")).map(String::from).collect();
                assert_eq!(listed, named, "{comment}");
                let sent = sandbox.outbox_messages();
                assert!(comment.contains("00000001.eml the acknowledgement"), "{comment}");
                assert!(sent[0].contains("To: jane@acme.example") && sent[0].contains("Auto-Submitted: auto-replied"));
                assert!(comment.contains("00000002.eml Alice's notification"), "{comment}");
                assert!(sent[1].contains("To: \"Alice Smith\" <alice@example.com>"), "{}", sent[1]);
            }
            ["grep", "^Subject:", "var/outbox/*.eml"] => {
                let subjects: Vec<String> = sandbox
                    .outbox_messages()
                    .iter()
                    .filter_map(|m| m.lines().find(|l| l.starts_with("Subject: ")).map(|l| l[9..].to_owned()))
                    .collect();
                let said: Vec<&str> = comment.split("; ").map(|s| s.trim_end_matches("...").trim()).collect();
                assert_eq!(subjects.len(), said.len(), "{subjects:?} / {comment}");
                for (subject, said) in subjects.iter().zip(said) {
                    assert!(subject.starts_with(said), "{subject:?} begins with {said:?}");
                }
            }
            other => panic!("the walk-through has a line this test does not know: {other:?}"),
        }
    }
    daemon.signal(libc::SIGTERM);
    let status = daemon.wait_exit(Duration::from_secs(5)).expect("exits within 5 s of SIGTERM");
    assert!(status.success(), "{status:?}");
}

fn sandbox_example(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name)
}

/// What the comment beside `cases list` or `cases show` says, checked against the output.
fn check_command(args: &[&str], comment: &str, text: &str) {
    match args {
        ["cases", "list"] => {
            assert!(comment.starts_with("case 000001, S3: respond within 8 business hours"), "{comment}");
            let row = text.lines().find(|l| l.starts_with("000001")).unwrap_or_else(|| panic!("{text}"));
            assert!(row.contains(" S3 ") && text.contains("RESPOND BY"), "{text}");
        }
        ["cases", "show", "000001"] => {
            assert!(comment.starts_with("two messages, three mails sent, and the audit trail"), "{comment}");
            let section = |title: &str| -> Vec<&str> {
                text.lines().skip_while(|l| *l != title).skip(1).take_while(|l| !l.is_empty()).collect()
            };
            assert_eq!(section("Messages:").len(), 2, "{text}");
            let sent = section("Mail sent:");
            assert_eq!(sent.len(), 3, "{text}");
            assert!(sent[0].contains(" ack to jane@acme.example"), "{text}");
            assert!(
                sent[1].contains(" notify to alice@example.com") && sent[2].contains(" notify to alice@"),
                "{text}"
            );
            assert_eq!(section("Events:").len(), 2, "{text}");
        }
        other => panic!("the walk-through runs a command this test does not know: {other:?}"),
    }
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
