//! Bad input is kept with its reason and never blocks the mailbox: a message without a
//! sender, one over the size limit (its first part kept, with its full size and hash), and
//! one with a bad charset; the messages after them are processed.

use crate::support::{Backend, Sandbox, TestMailServer, customer_mail};

#[tokio::test(flavor = "multi_thread")]
async fn bad_messages_are_kept_with_reasons_and_the_rest_flows() {
    let server = TestMailServer::start();
    let no_sender = b"Subject: who am I\r\nMessage-ID: <nosender@x.example>\r\n\r\nNo From header.\r\n".to_vec();
    let mut huge = customer_mail(2, "Huge attachment");
    huge.extend(std::iter::repeat_n(b'x', 30 * 1024 * 1024));
    let bad_charset = b"From: Jane <jane@acme.example>\r\nSubject: Umlaut\r\nMessage-ID: <charset@acme.example>\r\n\
Content-Type: text/plain; charset=x-martian\r\n\r\nK\xe4se \xff kaputt\r\n"
        .to_vec();
    server.append(&[no_sender, bad_charset, customer_mail(4, "After the bad ones")]).await;

    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.edit_config(|c| c + &server.mailbox_toml("plain", ""));
    // From a Maildir the first part is kept with the size and hash of the whole; IMAP fetches
    // only the first part
    // (imap::oversize_messages_are_quarantined_without_downloading_them_whole).
    sandbox.drop_mail("huge.eml", &huge);
    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = sandbox.run(&["quarantine", "list", "--format", "json"]);
    let held: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let reasons: Vec<&str> = held.iter().map(|q| q["reason"].as_str().unwrap()).collect();
    assert_eq!(held.len(), 2, "{reasons:?}");
    // The Maildir mailbox comes first in daemon.toml, so its message was quarantined first.
    assert!(reasons[0].starts_with("over the size limit (31457"), "{reasons:?}");
    assert!(reasons[1].starts_with("no usable sender"), "{reasons:?}");
    // Only the first part is stored, with what the whole message was.
    assert_eq!(held[0]["bytes"].as_u64(), Some(1024 * 1024), "the first quarantine_keep_bytes kept");
    assert_eq!(held[0]["full_size"].as_u64(), Some(huge.len() as u64));
    assert_eq!(held[0]["sha256"].as_str(), Some(supportd::mail::sha256_hex(&huge).as_str()));

    // The bad charset became a case, flagged, from the lossy decode; the last one too.
    let cases = sandbox.cases();
    let summaries: Vec<&str> = cases.iter().map(|c| c["summary"].as_str().unwrap()).collect();
    assert_eq!(summaries, ["Umlaut", "After the bad ones"]);
    let out = sandbox.run(&["cases", "show", "000001", "--format", "json"]);
    let detail: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(detail["messages"][0]["flags"].as_str().unwrap().contains("unknown charset \"x-martian\""));
    assert!(server.messages("INBOX").iter().all(|(_, f)| f.contains("\\Seen")), "the mailbox moved on");

    // A first part is no message: retrying it would open a case of a cut-off message.
    let out = sandbox.run(&["quarantine", "retry", &held[0]["id"].to_string()]);
    assert_eq!(out.status.code(), Some(65), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("deliver the message again"));
    assert_eq!(sandbox.cases().len(), 2);
    let out = sandbox.run(&["quarantine", "retry", &held[1]["id"].to_string()]);
    assert_eq!(out.status.code(), Some(65), "still no sender");
}

/// The same message in two mailboxes is stored once.
#[tokio::test(flavor = "multi_thread")]
async fn the_same_message_in_two_mailboxes_is_stored_once() {
    let server = TestMailServer::start();
    let message = customer_mail(1, "Sent to both addresses");
    server.append(std::slice::from_ref(&message)).await;
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.edit_config(|c| c + &server.mailbox_toml("plain", ""));
    // The Maildir copy carries the other server's trace headers.
    let mut copy = b"Received: from mx2.example by maildir.example\r\nDelivered-To: help@example.com\r\n".to_vec();
    copy.extend_from_slice(&message);
    sandbox.drop_mail("copy.eml", &copy);
    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success());
    assert_eq!(sandbox.cases().len(), 1);
    assert_eq!(sandbox.outbox_messages().len(), 1);
}
