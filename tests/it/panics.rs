//! A panic in the SMTP client fails one delivery attempt, not the daemon (issue 27).
//! lettre 0.11.23 panics on an EHLO reply with a line of only white space
//! (RUSTSEC-2026-0562: `ServerInfo::from_response` unwraps the line's first word): a relay
//! answers so, the daemon keeps running, counts the panic, and the mail reaches the real SMTP
//! receiver on the retry.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::support::http::get;
use crate::support::{Backend, Sandbox, TestSmtp};
use crate::web::{samples, value};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/printer-offline.eml");

/// The first connection gets the EHLO reply that makes lettre panic; every later one is
/// passed through to the real SMTP receiver. Returns its port and how many it broke.
async fn hostile_then_honest(sink_port: u16) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    let broken = Arc::new(AtomicUsize::new(0));
    let count = broken.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            if count.fetch_add(1, Ordering::SeqCst) == 0 {
                tokio::spawn(async move {
                    let _ = blank_ehlo_line(&mut client).await;
                });
            } else {
                count.fetch_sub(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut sink = TcpStream::connect(("127.0.0.1", sink_port)).await.expect("the SMTP receiver");
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut sink).await;
                });
            }
        }
    });
    (port, broken)
}

/// Greets, reads EHLO, answers with a line holding one space, then waits for the client to go.
async fn blank_ehlo_line(client: &mut TcpStream) -> std::io::Result<()> {
    let (read, mut write) = client.split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 relay.test ESMTP\r\n").await?;
    let ehlo = lines.next_line().await?.unwrap_or_default();
    assert!(ehlo.to_ascii_uppercase().starts_with("EHLO"), "{ehlo:?}");
    write.write_all(b"250-relay.test\r\n250- \r\n250 8BITMIME\r\n").await?;
    while lines.next_line().await?.is_some() {}
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blank_ehlo_line_panics_one_attempt_and_the_mail_is_delivered_on_retry() {
    let smtp = TestSmtp::start();
    let (port, broken) = hostile_then_honest(smtp.port).await;
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox
        .set_outbound(&smtp.outbound_toml().replace(&format!("port = {}\n", smtp.port), &format!("port = {port}\n")));
    let mut daemon = sandbox.spawn_daemon();
    let addr = daemon.web_address();

    sandbox.drop_mail("1700000000.example.eml", &std::fs::read(EXAMPLE).expect("example message"));
    daemon.wait_for("a panic was caught", Duration::from_secs(60));
    daemon.wait_for("sender: sent", Duration::from_secs(60));

    assert_eq!(broken.load(Ordering::SeqCst), 1, "the first attempt met the blank EHLO line");
    let received = smtp.messages();
    assert_eq!(received.len(), 1, "delivered once, on the retry: {received:?}");
    assert!(received[0].contains("Printer offline on the 3rd floor"), "{}", received[0]);
    let caught = daemon.seen.iter().find(|l| l.contains("a panic was caught")).expect("logged");
    assert!(caught.contains("task=\"send\"") || caught.contains("task=send"), "{caught}");
    assert!(caught.contains("unwrap"), "the panic's own message is logged: {caught}");
    let rows = sandbox.outbox_rows();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["status"], "sent", "{rows:?}");
    assert_eq!(rows[0]["attempts"], 2, "the panicked attempt counts as one: {rows:?}");

    let metrics = samples(&get(&addr, "/metrics", None).body);
    assert_eq!(value(&metrics, "supportd_panics_total{task=\"send\"}"), Some(1.0), "{metrics:?}");
    let health = get(&addr, "/healthz", None);
    assert_eq!(health.status, 200, "still running: {}", health.body);
    daemon.signal(libc::SIGTERM);
    let status = daemon.wait_exit(Duration::from_secs(30)).expect("it stops on SIGTERM");
    assert!(status.success(), "{status:?}");
}
