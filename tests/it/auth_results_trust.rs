//! `verify = "auth-results"` as an MX means it (issue 27): only the results our receiving
//! server wrote, above its own `Received:` line and under their exact name, vouch for an
//! agent. Through Dovecot, the real binary and the SMTP receiver.

use crate::agent_mail::{Desk, event_kinds};

const RECEIVED: &str = "Received: from mail.evil.test (mail.evil.test [192.0.2.66])\r\n\tby mx.example.com (Postfix) with ESMTPS id 4AbC;\r\n\t\
     Mon, 23 Nov 2026 10:19:58 +0000 (UTC)\r\n";
const PASS: &str = "Authentication-Results: mx.example.com; dkim=pass header.d=example.com header.s=sel\r\n";

async fn desk(received_above_results: usize) -> Desk {
    Desk::start(|c| {
        c.replace("verify = \"token\"", "verify = \"auth-results\"")
            .replace("# authserv_id = \"mx.example.com\"", "authserv_id = \"mx.example.com\"")
            .replace("received_above_results = 0", &format!("received_above_results = {received_above_results}"))
    })
    .await
}

/// Each forgery the attack found carries `#priority low` and a line to relay: nothing
/// applies, nothing reaches the customer, each is recorded as unverified. The server's own
/// header, above its line, still passes, so the table cannot pass by refusing everything.
#[tokio::test(flavor = "multi_thread")]
async fn results_below_received_or_misnamed_or_with_a_double_at_verify_nothing() {
    let desk = desk(0).await;
    let tag = desk.customer_writes(1, "Password reset").await;
    let spaced = PASS.replace("Authentication-Results:", "Authentication-Results :");
    let forged: Vec<(&str, String)> = vec![
        ("a pass below the server's Received: line", format!("{RECEIVED}{PASS}")),
        ("the server's fail above, a forged pass below", format!("{}{RECEIVED}{PASS}", PASS.replace("=pass", "=fail"))),
        ("a space before the colon", format!("{spaced}{RECEIVED}")),
        (
            "header.i with two @",
            format!("{}{RECEIVED}", PASS.replace("header.d=example.com", "header.i=x@evil.test@example.com")),
        ),
    ];
    for (n, (what, headers)) in forged.iter().enumerate() {
        let body = format!("#priority low\nForged text {n}: pay to IBAN XX00.");
        desk.server.append(&[desk.agent_reply(&tag, None, &body, headers)]).await;
        desk.run();
        let case = desk.case(&tag);
        assert_eq!(case["priority"], "normal", "{what}: nothing applied");
        let relayed = desk.sent_to("customer1@acme.example").into_iter().filter(|(raw, _)| raw.contains("Forged text"));
        assert_eq!(relayed.count(), 0, "{what}: nothing relayed");
        let unverified = event_kinds(&case).iter().filter(|k| *k == "unverified_reply").count();
        assert_eq!(unverified, n + 1, "{what}: recorded as unverified");
    }
    let genuine = format!("{PASS}{RECEIVED}");
    desk.server.append(&[desk.agent_reply(&tag, None, "#priority high\nWe have reset it.", &genuine)]).await;
    desk.run();
    assert_eq!(desk.case(&tag)["priority"], "high", "the server's own results vouch");
    assert!(
        desk.sent_to("customer1@acme.example").iter().any(|(_, m)| m.text_body.contains("We have reset it")),
        "a genuine reply is relayed"
    );
}

/// Postfix with OpenDKIM writes its results just below its own `Received:`, and Dovecot's
/// LMTP adds a line above both: `received_above_results = 2` reads them there, and still
/// nothing below the sender's own `Received:`.
#[tokio::test(flavor = "multi_thread")]
async fn results_below_our_own_received_lines_count_as_configured_and_no_further() {
    let desk = desk(2).await;
    let tag = desk.customer_writes(1, "Password reset").await;
    let lmtp = "Received: from mx.example.com by imap.example.com (Dovecot) with LMTP id 9z;\r\n\t\
                Mon, 23 Nov 2026 10:19:59 +0000\r\n";
    let sender = "Received: from [10.0.0.7] by mail.evil.test; Mon, 23 Nov 2026 10:19:50 +0000\r\n";
    let forged = format!("{lmtp}{RECEIVED}{sender}{PASS}");
    desk.server.append(&[desk.agent_reply(&tag, None, "#priority low\nForged text.", &forged)]).await;
    desk.run();
    assert_eq!(desk.case(&tag)["priority"], "normal", "the sender's own header applies nothing");
    let genuine = format!("{lmtp}{RECEIVED}{PASS}{sender}");
    desk.server.append(&[desk.agent_reply(&tag, None, "#priority high\nWe have reset it.", &genuine)]).await;
    desk.run();
    assert_eq!(desk.case(&tag)["priority"], "high", "the MX's results below its own line vouch");
    let relayed: Vec<_> = desk.sent_to("customer1@acme.example").into_iter().map(|(_, m)| m.text_body).collect();
    assert!(relayed.iter().any(|t| t.contains("We have reset it")), "{relayed:?}");
    assert!(!relayed.iter().any(|t| t.contains("Forged text")), "{relayed:?}");
}
