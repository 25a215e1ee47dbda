//! Mail from a real Dovecot: messages become cases, are marked or moved only after commit,
//! replies thread into their case, and the daemon rides out server restarts and UIDVALIDITY
//! changes.

use std::time::Duration;

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
