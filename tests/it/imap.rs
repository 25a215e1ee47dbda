//! Mail from a real Dovecot: messages become cases, are marked or moved only after commit,
//! replies thread into their case, and the daemon rides out server restarts and UIDVALIDITY
//! changes.

use std::time::{Duration, Instant};

use crate::support::{Backend, Sandbox, TestMailServer, customer_mail};

async fn sandbox_with(server: &TestMailServer, security: &str, extra: &str) -> Sandbox {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.edit_config(|c| c + &server.mailbox_toml(security, extra));
    sandbox
}

fn run_once(sandbox: &Sandbox) {
    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success(), "run --once: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn appended_messages_become_cases_and_are_marked_seen() {
    let server = TestMailServer::start();
    server.append(&(1..=3).map(|n| customer_mail(n, &format!("Request {n}"))).collect::<Vec<_>>()).await;
    let sandbox = sandbox_with(&server, "plain", "").await;
    run_once(&sandbox);
    assert_eq!(sandbox.cases().len(), 3);
    assert_eq!(sandbox.outbox_messages().len(), 3);
    let flags = server.messages("INBOX");
    assert_eq!(flags.len(), 3);
    assert!(flags.iter().all(|(_, f)| f.contains("\\Seen")), "{flags:?}");
    // A second pass finds nothing new.
    run_once(&sandbox);
    assert_eq!(sandbox.cases().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn processed_messages_are_moved_over_tls() {
    let server = TestMailServer::start();
    server.append(&[customer_mail(1, "One"), customer_mail(2, "Two")]).await;
    let sandbox = sandbox_with(&server, "tls", "after_processing = \"move\"\nmove_to = \"Processed\"").await;
    run_once(&sandbox);
    assert_eq!(sandbox.cases().len(), 2);
    assert!(server.messages("INBOX").is_empty());
    assert_eq!(server.messages("Processed").len(), 2);
}

/// A server without MOVE gets COPY, `\Deleted` and EXPUNGE instead, over STARTTLS.
#[tokio::test(flavor = "multi_thread")]
async fn move_falls_back_to_copy_and_expunge() {
    let server =
        TestMailServer::start_with("protocol imap {\n  imap_capability = IMAP4rev1 LITERAL+ UIDPLUS IDLE\n}\n");
    server.append(&[customer_mail(1, "One"), customer_mail(2, "Two")]).await;
    let sandbox = sandbox_with(&server, "starttls", "after_processing = \"move\"\nmove_to = \"Processed\"").await;
    run_once(&sandbox);
    assert_eq!(sandbox.cases().len(), 2);
    assert!(server.messages("INBOX").is_empty());
    assert_eq!(server.messages("Processed").len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_turns_new_mail_into_a_case_within_seconds() {
    let server = TestMailServer::start();
    let sandbox = sandbox_with(&server, "plain", "").await;
    // Only IDLE can notice the message: the poll interval is far away.
    sandbox.edit_config(|c| c.replace("poll_interval = \"1s\"\n\n", "poll_interval = \"10m\"\n\n"));
    let mut daemon = sandbox.spawn_daemon();
    daemon.wait_for("IMAP connected", Duration::from_secs(60));
    let appended = std::time::Instant::now();
    server.append(&[customer_mail(1, "Arrives while idle")]).await;
    daemon.wait_for("opened case", Duration::from_secs(5));
    assert!(appended.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread")]
async fn reconnects_after_the_server_restarts() {
    let mut server = TestMailServer::start();
    let sandbox = sandbox_with(&server, "plain", "").await;
    let mut daemon = sandbox.spawn_daemon();
    daemon.wait_for("IMAP connected", Duration::from_secs(60));
    server.append(&[customer_mail(1, "Before the restart")]).await;
    daemon.wait_for_count("opened case", 1, Duration::from_secs(10));

    server.stop();
    daemon.wait_for("reconnecting", Duration::from_secs(30));
    server.restart();
    daemon.wait_for_count("IMAP connected", 2, Duration::from_secs(30));
    server.append(&[customer_mail(2, "After the restart")]).await;
    daemon.wait_for_count("opened case", 2, Duration::from_secs(10));
    assert_eq!(sandbox.cases().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn uidvalidity_change_loses_nothing_and_duplicates_nothing() {
    let server = TestMailServer::start();
    server.append(&[customer_mail(1, "First"), customer_mail(2, "Second")]).await;
    let sandbox = sandbox_with(&server, "plain", "").await;
    run_once(&sandbox);
    assert_eq!(sandbox.cases().len(), 2);

    // The folder is rebuilt under us: new UIDVALIDITY, one processed message unseen again
    // (as after a restore), and a new message.
    server.set_uid_validity("INBOX", 4242);
    let mut client = server.client().await;
    client.select("INBOX").await.expect("select");
    let _: Vec<_> = futures::TryStreamExt::try_collect(client.uid_store("1", "-FLAGS (\\Seen)").await.expect("store"))
        .await
        .unwrap();
    client.logout().await.ok();
    server.append(&[customer_mail(3, "Third")]).await;

    run_once(&sandbox);
    let numbers: Vec<String> = sandbox.cases().iter().map(|c| c["number"].as_str().unwrap().to_owned()).collect();
    assert_eq!(numbers, ["000001", "000002", "000003"]);
    assert_eq!(sandbox.outbox_messages().len(), 3, "no second acknowledgement");
    assert!(server.messages("INBOX").iter().all(|(_, f)| f.contains("\\Seen")));
}

/// A server that accepts connections but answers nothing (SIGSTOP: the kernel still completes
/// the TCP handshake) is noticed within the timeout, both on the open connection and on
/// reconnecting; once it answers again the daemon is back, and mail from before and during
/// the hang becomes cases exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn a_hung_server_times_out_and_the_daemon_reconnects_losing_nothing() {
    let server = TestMailServer::start();
    let sandbox = sandbox_with(&server, "plain", "timeout = \"2s\"").await;
    let mut daemon = sandbox.spawn_daemon();
    daemon.wait_for("IMAP connected", Duration::from_secs(60));
    server.append(&[customer_mail(1, "Before the hang")]).await;
    daemon.wait_for_count("opened case", 1, Duration::from_secs(10));

    // Appended just before the stop, so the hang may catch it anywhere: in IDLE, FETCH,
    // the commit, or the STORE after it.
    server.append(&[customer_mail(2, "Just before the hang")]).await;
    let frozen = server.freeze();
    let stopped = Instant::now();
    server.deliver_to_maildir(&[customer_mail(3, "During the hang")]);
    daemon.wait_for("timed out after 2s", Duration::from_secs(30));
    // The IDLE renewal (poll_interval, 1 s) plus the 2 s timeout, with room for a busy machine.
    assert!(stopped.elapsed() < Duration::from_secs(8), "noticed after {:?}", stopped.elapsed());
    daemon.wait_for("IMAP command greeting timed out after 2s", Duration::from_secs(30));
    drop(frozen);

    daemon.wait_for_count("IMAP connected", 2, Duration::from_secs(60));
    daemon.wait_for_count("opened case", 3, Duration::from_secs(30));
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(30)).is_some_and(|s| s.success()), "clean exit");
    // Whatever the hang left unmarked is found again, and recognised.
    run_once(&sandbox);
    let summaries: Vec<String> = sandbox.cases().iter().map(|c| c["summary"].as_str().unwrap().to_owned()).collect();
    assert_eq!(summaries, ["Before the hang", "Just before the hang", "During the hang"]);
    assert_eq!(sandbox.outbox_messages().len(), 3, "one acknowledgement each");
    let flags = server.messages("INBOX");
    assert_eq!(flags.len(), 3);
    assert!(flags.iter().all(|(_, f)| f.contains("\\Seen")), "{flags:?}");
}

/// A message over `max_message_size` is not downloaded whole: its RFC822.SIZE is known before
/// the fetch, only the first part is fetched and quarantined with the full size in the
/// reason, and it is marked processed like the mail beside it, which becomes cases.
#[tokio::test(flavor = "multi_thread")]
async fn oversize_messages_are_quarantined_without_downloading_them_whole() {
    let server = TestMailServer::start();
    let mut big = customer_mail(2, "Huge attachment");
    for _ in 0..4000 {
        big.extend_from_slice(&[b'x'; 76]);
        big.extend_from_slice(b"\r\n");
    }
    assert!(big.len() > 300_000);
    server.append(&[customer_mail(1, "Before the big one"), big.clone(), customer_mail(3, "After the big one")]).await;
    let sandbox = sandbox_with(&server, "plain", "").await;
    sandbox.edit_config(|c| {
        let shipped = "max_message_size = \"25MB\"\nquarantine_keep_bytes = \"1MB\"";
        c.replace(shipped, "max_message_size = \"100KB\"\nquarantine_keep_bytes = \"100KB\"")
    });
    run_once(&sandbox);

    let out = sandbox.run(&["quarantine", "list", "--format", "json"]);
    let held: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["reason"], format!("over the size limit ({} bytes > 102400)", big.len()));
    // The kept part: never more than the limit (nor than the quarantine keeps).
    assert_eq!(held[0]["bytes"], 102_400);
    let summaries: Vec<String> = sandbox.cases().iter().map(|c| c["summary"].as_str().unwrap().to_owned()).collect();
    assert_eq!(summaries, ["Before the big one", "After the big one"]);
    let flags = server.messages("INBOX");
    assert_eq!(flags.len(), 3);
    assert!(flags.iter().all(|(_, f)| f.contains("\\Seen")), "{flags:?}");

    // Dovecot counts what each session sent: the APPEND's and the daemon's.
    let sessions = server.wait_for_log("Logged out", 2, Duration::from_secs(10));
    for line in &sessions {
        let sent: usize = line.split(" out=").nth(1).and_then(|r| r.split(' ').next()?.parse().ok()).expect(line);
        assert!(sent < 200_000, "a session downloaded {sent} bytes: {line}");
    }
}
