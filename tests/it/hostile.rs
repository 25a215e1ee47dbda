//! No message can stop the desk: mail that once panicked intake, or made mail no server
//! accepts, now becomes a case (or a quarantine entry with its reason), and what supportd
//! sends about it is valid RFC 5322.

use std::time::Duration;

use supportd::mail::parse;
use supportd::outbound::headers::line_problems;

use crate::support::smtp::header;
use crate::support::{Backend, Sandbox, TestSmtp, customer_mail};

/// A customer's message with `from` and `subject` as written, and extra header lines.
fn mail(from: &str, subject: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@example.com\r\n{extra}Subject: {subject}\r\n\
         Message-ID: <hostile-{}@acme.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        supportd::mail::sha256_hex(format!("{from}{subject}{extra}{body}").as_bytes())
    )
    .into_bytes()
}

/// Every message that crashed intake or made an unsendable mail, by what it shows.
fn hostile_messages() -> Vec<(&'static str, Vec<u8>)> {
    let long_local = format!("{}@acme.example", "j".repeat(300));
    let references: Vec<String> = (0..10_000).map(|i| format!("<old-{i}@acme.example>")).collect();
    let mut nul = mail("Nul <nul@acme.example>", "Printer\0 offline", "", "It says\0 OFFLINE.");
    nul.extend_from_slice(b"\0\0\r\n");
    vec![
        ("crlf-name", mail("=?utf-8?q?Jane=0D=0ABcc=3A_evil=40x=2Eexample?= <jane@acme.example>", "Help", "", "Hi")),
        ("lf-name", mail("=?utf-8?b?SmFuZQpEb2U=?= <jane.doe@acme.example>", "Help", "", "Hi")),
        ("crlf-cc", mail("Ann <ann@acme.example>", "Help", "Cc: =?utf-8?q?Bob=0D=0A?= <bob@acme.example>\r\n", "Hi")),
        ("dotted-i-tag", mail("Ivy <ivy@acme.example>", "Re: İ [CASE #999999] ẞ straße", "", "Hi")),
        ("sharp-s-tag", mail("Sam <sam@acme.example>", "ẞİ[Case #999998] İİİİİİ", "", "Hi")),
        ("trailing-dot", mail("Jane <jane.@acme.example>", "Trailing dot", "", "Hi")),
        ("double-dot", mail("Jane <ja..ne@acme.example>", "Double dot", "", "Hi")),
        ("long-local", mail(&format!("Long <{long_local}>"), "Long local part", "", "Hi")),
        ("nul", nul),
        ("long-subject", mail("Lou <lou@acme.example>", &"x".repeat(10_000), "", "Hi")),
        (
            "many-references",
            mail("Ref <ref@acme.example>", "Thread", &format!("References: {}\r\n", references.join(" ")), "Hi"),
        ),
    ]
}

/// Every composed mail is valid: no line over 998 octets, no bare CR or LF, and it parses.
fn assert_valid_mail(raw: &[u8], what: &str) {
    let problems = line_problems(raw);
    assert!(problems.is_empty(), "{what}: {problems:?}");
    let parsed = parse(raw).unwrap_or_else(|e| panic!("{what} does not parse back: {e}"));
    assert!(!parsed.to.is_empty(), "{what} has its recipient");
}

fn ingest_stdin(sandbox: &Sandbox, raw: &[u8]) -> std::process::Output {
    let (out, written) = sandbox.pipe_ingest(raw);
    written.expect("the whole message is read from the pipe");
    out
}

async fn each_message_opens_a_case_by_pipe(backend: Backend) {
    let sandbox = Sandbox::as_shipped(backend).await;
    for (name, raw) in hostile_messages() {
        let out = ingest_stdin(&sandbox, &raw);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{name}: {stdout}\n{stderr}");
        assert!(stdout.contains("opened case"), "{name} becomes a case: {stdout}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
    let cases = sandbox.cases();
    assert_eq!(cases.len(), hostile_messages().len());
    let nul = cases.iter().find(|c| c["summary"] == "Printer offline").expect("the NUL case, its NUL removed");
    let number = nul["number"].as_str().unwrap();
    let out = sandbox.run(&["cases", "show", number, "--format", "json"]);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(shown.to_string().contains("It says OFFLINE."), "the body is stored without NULs: {shown}");

    assert!(sandbox.run(&["run", "--once"]).status.success(), "the outbox delivers everything");
    let sent = sandbox.files_in("var/outbox");
    assert!(sent.len() >= hostile_messages().len(), "acknowledgements and notifications: {sent:?}");
    for name in sent.iter().filter(|n| n.ends_with(".eml")) {
        assert_valid_mail(&std::fs::read(sandbox.path("var/outbox").join(name)).unwrap(), name);
    }
    let acks: Vec<String> =
        sandbox.outbox_messages().into_iter().filter(|m| m.contains("Auto-Submitted: auto-replied")).collect();
    assert!(
        acks.iter().all(|a| !a.contains("\r\nBcc:") && !a.to_lowercase().contains("\r\nbcc:")),
        "no injected header"
    );
    let crlf = acks.iter().find(|a| a.contains("jane@acme.example")).expect("Jane is acknowledged");
    let parsed = parse(crlf.as_bytes()).unwrap();
    // A sender who is not a key member is a stranger: her ack carries no display name, so
    // nothing a forger put in one (here a CR LF and a Bcc:) reaches a header.
    assert_eq!(parsed.to[0].name, None, "a stranger's ack is addressed to the address alone");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_hostile_message_opens_a_case_by_pipe_on_sqlite() {
    each_message_opens_a_case_by_pipe(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn each_hostile_message_opens_a_case_by_pipe_on_postgres() {
    each_message_opens_a_case_by_pipe(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_maildir_pass_takes_every_hostile_message_and_ordinary_mail() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    for (i, (name, raw)) in hostile_messages().into_iter().enumerate() {
        sandbox.drop_mail(&format!("{i:02}-{name}.eml"), &raw);
        sandbox.drop_mail(&format!("{i:02}-ordinary.eml"), &customer_mail(i, &format!("Ordinary {i}")));
    }
    let out = sandbox.run(&["run", "--once"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(sandbox.files_in("var/inbox/new").is_empty(), "nothing left in new/");
    assert_eq!(sandbox.cases().len(), 2 * hostile_messages().len());
}

/// An address our parser takes but lettre refuses: the case opens, the acknowledgement is
/// skipped with the reason as a case event, and the agents hear that it was.
#[tokio::test(flavor = "multi_thread")]
async fn an_unsendable_sender_gets_a_case_and_the_agents_are_told() {
    let sandbox = Sandbox::as_shipped(Backend::Sqlite).await;
    let out = ingest_stdin(&sandbox, &mail("Jane <jane.@acme.example>", "VPN down", "", "It is down."));
    assert!(String::from_utf8_lossy(&out.stdout).contains("opened case 000001; no acknowledgement"));
    let out = sandbox.run(&["cases", "show", "1", "--format", "json"]);
    let case: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let skipped = case["events"].as_array().unwrap().iter().find(|e| e["kind"] == "ack_skipped").expect("an event");
    assert!(skipped["detail"].as_str().unwrap().contains("jane.@acme.example cannot be sent to"), "{skipped}");
    assert!(sandbox.run(&["run", "--once"]).status.success());
    let sent = sandbox.outbox_messages();
    assert_eq!(sent.len(), 1, "no acknowledgement, one notification: {sent:?}");
    let notification = parse(sent[0].as_bytes()).unwrap();
    assert_eq!(notification.to[0].address.as_str(), "alice@example.com");
    let said = "could not be acknowledged: the address jane.@acme.example cannot be sent to";
    assert!(notification.text_body.contains(said), "{}", notification.text_body);
}

/// A Cc whose name decodes to CR LF, remembered on the case, is relayed with the agent's reply.
#[tokio::test(flavor = "multi_thread")]
async fn a_remembered_cc_with_a_line_break_in_its_name_is_relayed_safely() {
    let sandbox = Sandbox::as_shipped(Backend::Sqlite).await;
    let cc = "Cc: =?utf-8?q?Bob=0D=0ABcc=3A_x=40evil=2Eexample?= <bob@acme.example>\r\n";
    assert!(ingest_stdin(&sandbox, &mail("Ann <ann@acme.example>", "Printer", cc, "Hi")).status.success());
    assert!(sandbox.run(&["run", "--once"]).status.success());
    let notification = sandbox.outbox_messages().into_iter().find(|m| m.contains("<alice@example.com>")).unwrap();
    let id = header(&notification, "Message-ID").unwrap();
    let reply_to = header(&notification, "Reply-To").unwrap();
    let reply = format!(
        "From: Alice Smith <alice@example.com>\r\nTo: {reply_to}\r\nSubject: Re: [Case #000001] Printer\r\n\
         Message-ID: <alice-1@example.com>\r\nIn-Reply-To: {id}\r\nDate: Mon, 23 Nov 2026 10:20:00 +0000\r\n\r\n\
         Please restart it.\r\n"
    );
    let out = ingest_stdin(&sandbox, reply.as_bytes());
    assert!(String::from_utf8_lossy(&out.stdout).contains("reply relayed"), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(sandbox.run(&["run", "--once"]).status.success());
    let relay = sandbox.outbox_messages().into_iter().find(|m| m.contains("Please restart it.")).expect("the relay");
    assert_valid_mail(relay.as_bytes(), "the relay");
    let parsed = parse(relay.as_bytes()).unwrap();
    assert_eq!(parsed.cc.len(), 1, "{relay}");
    assert_eq!(parsed.cc[0].address.as_str(), "bob@acme.example");
    // A name that holds an address is left out of a relay's Cc (`cases::readers`).
    assert_eq!(parsed.cc[0].name, None, "{relay}");
    assert!(parsed.header("bcc").is_none());
}

/// A 10 kB subject without spaces, a 24 MB body and 10,000 References: the acknowledgement
/// and the notification keep RFC 5322's limits and a real SMTP server takes them.
#[tokio::test(flavor = "multi_thread")]
async fn mail_made_from_huge_input_is_accepted_by_an_smtp_server() {
    let sink = TestSmtp::start();
    let sandbox = Sandbox::as_shipped(Backend::Sqlite).await;
    sandbox.set_outbound(&sink.outbound_toml());
    let references: Vec<String> = (0..10_000).map(|i| format!("<old-{i}@acme.example>")).collect();
    let line = "The printer on floor two shows OFFLINE again and again. ".repeat(16);
    let body = format!("{line}\r\n").repeat(24 * 1024 * 1024 / (line.len() + 2));
    let extra = format!("References: {}\r\n", references.join(" "));
    let raw = mail("Huge <huge@acme.example>", &"y".repeat(10_000), &extra, &body);
    let out = ingest_stdin(&sandbox, &raw);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let received = sink.messages();
    assert_eq!(received.len(), 2, "the acknowledgement and Alice's notification");
    for m in &received {
        assert_valid_mail(m.as_bytes(), "sent mail");
        let refs = header(m, "References").unwrap_or_default();
        assert!(refs.split_whitespace().count() <= 10, "References capped: {refs}");
        assert!(m.len() < 1024 * 1024, "a bounded excerpt, not the whole body: {} bytes", m.len());
    }
    let notification = received.iter().find(|m| m.contains("alice@example.com")).unwrap();
    assert!(notification.contains("the whole message is kept on the case"));
    let parsed = parse(notification.as_bytes()).unwrap();
    assert!(parsed.subject.contains(&"y".repeat(10_000)), "the subject survives folding");
    // To a stranger (no key member), only a short clean excerpt of the subject.
    let ack = received.iter().find(|m| !m.contains("alice@example.com")).unwrap();
    let ack = parse(ack.as_bytes()).unwrap();
    assert!(ack.subject.contains("yyy…") && ack.subject.chars().count() < 200, "{}", ack.subject);
}

/// A panic while storing one message fails that message only: the rest of its batch commits,
/// the daemon carries on, and the third failure quarantines it with the panic's text.
#[tokio::test(flavor = "multi_thread")]
async fn a_panic_fails_one_message_not_the_daemon() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.drop_mail("1.eml", &customer_mail(1, "Before"));
    sandbox.drop_mail("2.eml", &customer_mail(2, "BOOM please"));
    sandbox.drop_mail("3.eml", &customer_mail(3, "After"));
    let mut child = sandbox.cmd(&["run"]);
    child.env("SUPPORTD_TEST_PANIC_ON", "BOOM");
    let mut daemon = crate::support::sandbox::Daemon::spawn(child);
    daemon.wait_for("message quarantined", Duration::from_secs(60));
    let log = daemon.seen.join("\n");
    for attempt in 1..=3 {
        assert!(log.contains(&format!("attempts={attempt}")), "failure {attempt} of 3 first:\n{log}");
    }
    assert!(log.contains("processing panicked: test trigger"), "{log}");
    assert!(log.contains("ERROR") && log.contains("panicked at src/ingest/pipeline.rs"), "the panic is logged: {log}");
    sandbox.drop_mail("4.eml", &customer_mail(4, "Later"));
    daemon.wait_for_count("opened case", 3, Duration::from_secs(30));
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(10)).expect("exits").success());

    let summaries: Vec<String> = sandbox.cases().iter().map(|c| c["summary"].as_str().unwrap().to_owned()).collect();
    assert_eq!(summaries.len(), 3, "{summaries:?}");
    assert!(!summaries.iter().any(|s| s.contains("BOOM")));
    let out = sandbox.run(&["quarantine", "list", "--format", "json"]);
    let held: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(held.len(), 1);
    assert!(held[0]["reason"].as_str().unwrap().contains("failed 3 times: processing panicked: test trigger"));
    assert!(sandbox.files_in("var/inbox/new").is_empty());
}
