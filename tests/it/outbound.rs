//! Acknowledgements over a real SMTP receiver: one per new case with threading headers,
//! delivered once each after an outage or 4xx answers; a 5xx fails the row with the
//! server's text until an operator retries it. The mails of one drain share a connection,
//! and one the server closed is opened again for the next mail.

use std::collections::HashSet;
use std::time::Duration;

use crate::support::smtp::header;
use crate::support::{Backend, Sandbox, TestSmtp, customer_mail};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/printer-offline.eml");

async fn sandbox_for(sink: &TestSmtp) -> Sandbox {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.set_outbound(&sink.outbound_toml());
    sandbox
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_case_gets_exactly_one_acknowledgement_with_threading_headers() {
    let sink = TestSmtp::start();
    let sandbox = sandbox_for(&sink).await;
    sandbox.drop_mail("1.eml", &std::fs::read(EXAMPLE).unwrap());
    assert!(sandbox.run(&["run", "--once"]).status.success());
    assert!(sandbox.run(&["run", "--once"]).status.success());

    let received = sink.messages();
    assert_eq!(received.len(), 1, "exactly one acknowledgement");
    let ack = &received[0];
    assert_eq!(header(ack, "Subject").as_deref(), Some("[Case #000001] Printer offline on the 3rd floor"));
    assert_eq!(header(ack, "In-Reply-To").as_deref(), Some("<printer-offline-1@acme.example>"));
    assert!(header(ack, "References").unwrap().contains("<printer-offline-1@acme.example>"));
    assert_eq!(header(ack, "Reply-To").as_deref(), Some("support@example.com"));
    assert_eq!(header(ack, "Auto-Submitted").as_deref(), Some("auto-replied"));
    assert!(header(ack, "Content-Type").unwrap().starts_with("multipart/alternative"));
    assert!(ack.contains("Content-Type: text/plain") && ack.contains("Content-Type: text/html"));
    // Acme's time zone is America/New_York: the due time is shown there.
    assert!(ack.contains(" EST"), "due time in the company's zone:\n{ack}");
    let rows = sandbox.outbox_rows();
    assert_eq!(header(ack, "Message-ID"), Some(format!("<{}>", rows[0]["message_id"].as_str().unwrap())));
    assert_eq!(rows[0]["status"], "sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledgements_wait_out_an_outage_and_arrive_once_each() {
    let mut sink = TestSmtp::start();
    let sandbox = sandbox_for(&sink).await;
    sink.stop();
    let mut daemon = sandbox.spawn_daemon();
    daemon.wait_for("supportd ready", Duration::from_secs(60));
    const N: usize = 5;
    for n in 0..N {
        sandbox.drop_mail(&format!("{n}.eml"), &customer_mail(n, &format!("During the outage {n}")));
    }
    daemon.wait_for_count("opened case", N, Duration::from_secs(30));
    daemon.wait_for("delivery will be retried", Duration::from_secs(30));

    sink.restart();
    daemon.wait_for_count("sender: sent", N, Duration::from_secs(60));
    let received = sink.messages();
    assert_eq!(received.len(), N);
    let ids: HashSet<String> = received.iter().map(|m| header(m, "Message-ID").unwrap()).collect();
    assert_eq!(ids.len(), N, "each acknowledgement once");
}

#[tokio::test(flavor = "multi_thread")]
async fn temporary_refusals_are_retried() {
    for control in ["FAILN 2 DATA 451 4.3.0 try again later", "FAILN 1 MAIL 421 4.3.2 shutting down"] {
        let sink = TestSmtp::start();
        sink.set_control(control);
        let sandbox = sandbox_for(&sink).await;
        let mut daemon = sandbox.spawn_daemon();
        daemon.wait_for("supportd ready", Duration::from_secs(60));
        sandbox.drop_mail("1.eml", &customer_mail(1, "Retry me"));
        daemon.wait_for("sender: sent", Duration::from_secs(30));
        assert_eq!(sink.messages().len(), 1, "{control}");
        let row = &sandbox.outbox_rows()[0];
        assert_eq!(row["status"], "sent");
        assert!(row["attempts"].as_i64().unwrap() >= 2, "{control}: {row}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanent_refusal_fails_the_row_with_the_servers_text() {
    let sink = TestSmtp::start();
    sink.set_control("RCPT 550 5.1.1 no such user here");
    let sandbox = sandbox_for(&sink).await;
    sandbox.drop_mail("1.eml", &customer_mail(1, "Bounce me"));
    assert!(sandbox.run(&["run", "--once"]).status.success());
    let row = &sandbox.outbox_rows()[0];
    assert_eq!(row["status"], "failed");
    assert!(row["last_error"].as_str().unwrap().contains("5.1.1 no such user here"), "{row}");
    assert!(sink.messages().is_empty());

    sink.set_control("");
    let out = sandbox.run(&["outbox", "retry", &row["id"].to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(sandbox.run(&["run", "--once"]).status.success());
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(sandbox.outbox_rows()[0]["status"], "sent");
}

/// The peer address the receiver saw for each mail: the same one means the same connection.
fn peers(sink: &TestSmtp) -> Vec<String> {
    sink.envelopes().iter().map(|e| e["peer"].to_string()).collect()
}

fn drop_mails(sandbox: &Sandbox, n: usize) {
    for i in 0..n {
        sandbox.drop_mail(&format!("{i}.eml"), &customer_mail(i, &format!("Question {i}")));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mails_of_one_drain_share_one_connection() {
    let sink = TestSmtp::start();
    let sandbox = sandbox_for(&sink).await;
    drop_mails(&sandbox, 3);
    assert!(sandbox.run(&["run", "--once"]).status.success());
    let peers = peers(&sink);
    assert_eq!(peers.len(), 3);
    assert_eq!(peers.iter().collect::<HashSet<_>>().len(), 1, "one connection: {peers:?}");
}

/// The receiver hangs up after each 250: the next mail goes out on a new connection in the
/// same drain, not after a retry.
#[tokio::test(flavor = "multi_thread")]
async fn a_connection_the_server_closed_is_opened_again_for_the_next_mail() {
    let sink = TestSmtp::start();
    sink.set_control("DATA CLOSE");
    let sandbox = sandbox_for(&sink).await;
    drop_mails(&sandbox, 3);
    assert!(sandbox.run(&["run", "--once"]).status.success());
    let peers = peers(&sink);
    assert_eq!(peers.iter().collect::<HashSet<_>>().len(), 3, "a connection per mail: {peers:?}");
    for row in sandbox.outbox_rows() {
        assert_eq!((&row["status"], &row["attempts"]), (&"sent".into(), &1.into()), "{row}");
    }
}

/// STARTTLS with a private CA and AUTH whose password comes from the environment.
#[tokio::test(flavor = "multi_thread")]
async fn starttls_and_auth_with_a_password_from_the_environment() {
    let sink = TestSmtp::start_secure("sender", "s3cret");
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let section = sink.outbound_toml().replace("security = \"plain\"", "security = \"starttls\"")
        + &format!(
            "username = \"sender\"\npassword_env = \"SUPPORTD_IT_SMTP_PW\"\nca_file = \"{}\"\n",
            sink.ca_file().display()
        );
    sandbox.set_outbound(&section);
    sandbox.drop_mail("1.eml", &std::fs::read(EXAMPLE).unwrap());
    let out = sandbox.cmd(&["run", "--once"]).env("SUPPORTD_IT_SMTP_PW", "s3cret").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let envelopes = sink.envelopes();
    assert_eq!(envelopes.len(), 1);
    assert_eq!(envelopes[0]["tls"], true);
    assert_eq!(envelopes[0]["auth"], "sender");

    // Without the variable, the configuration names what is missing.
    let out = sandbox.run(&["check-config"]);
    assert_eq!(out.status.code(), Some(78));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("outbound.password_env: environment variable SUPPORTD_IT_SMTP_PW is not set")
    );
}

/// Implicit TLS (SMTPS) with a password from a file.
#[tokio::test(flavor = "multi_thread")]
async fn implicit_tls_with_a_password_from_a_file() {
    let sink = TestSmtp::start_implicit_tls("sender", "fr0m-file");
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    std::fs::write(sandbox.path("smtp.pw"), "fr0m-file\n").unwrap();
    let section = sink.outbound_toml().replace("security = \"plain\"", "security = \"tls\"")
        + &format!("username = \"sender\"\npassword_file = \"smtp.pw\"\nca_file = \"{}\"\n", sink.ca_file().display());
    sandbox.set_outbound(&section);
    sandbox.drop_mail("1.eml", &std::fs::read(EXAMPLE).unwrap());
    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let envelopes = sink.envelopes();
    assert_eq!(envelopes.len(), 1, "{:?}", sandbox.outbox_rows());
    assert_eq!(envelopes[0]["tls"], true);
    assert_eq!(envelopes[0]["auth"], "sender");
}

/// Connection errors are retried with backoff up to `max_attempts`, then the row fails.
#[tokio::test(flavor = "multi_thread")]
async fn retries_stop_at_the_configured_limit() {
    let mut sink = TestSmtp::start();
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.set_outbound(&sink.outbound_toml().replace("max_attempts = 50", "max_attempts = 3"));
    sink.stop();
    let mut daemon = sandbox.spawn_daemon();
    daemon.wait_for("supportd ready", Duration::from_secs(60));
    sandbox.drop_mail("1.eml", &customer_mail(1, "Nobody listens"));
    daemon.wait_for("gave up after 3 attempts", Duration::from_secs(30));
    let row = &sandbox.outbox_rows()[0];
    assert_eq!(row["status"], "failed");
    assert_eq!(row["attempts"], 3);
    assert!(row["last_error"].as_str().unwrap().contains("gave up after 3 attempts"), "{row}");
}
