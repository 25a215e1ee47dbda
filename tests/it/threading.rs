//! Replies find their case through a real Dovecot: the tag under any reply prefix and in an
//! encoded subject, or In-Reply-To alone. Outsiders, unknown tags and old closed cases open
//! new cases that say why.

use crate::support::{Backend, Sandbox, TestMailServer};

fn mail(from: &str, subject: &str, id: &str, extra_headers: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@example.com\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{extra_headers}\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nText of {id}.\r\n"
    )
    .into_bytes()
}

const JANE: &str = "Jane Doe <jane@acme.example>";

struct Desk {
    server: TestMailServer,
    sandbox: Sandbox,
}

impl Desk {
    async fn new() -> Desk {
        let server = TestMailServer::start();
        let sandbox = Sandbox::new(Backend::Sqlite).await;
        sandbox.edit_config(|c| c + &server.mailbox_toml("plain", ""));
        Desk { server, sandbox }
    }

    async fn deliver(&self, messages: &[Vec<u8>]) {
        self.server.append(messages).await;
        let out = self.sandbox.run(&["run", "--once"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    fn show(&self, number: &str) -> serde_json::Value {
        let out = self.sandbox.run(&["cases", "show", number, "--format", "json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn replies_under_any_prefix_or_encoding_join_their_case() {
    let desk = Desk::new().await;
    // Jane is a key member by address: the partner she copies is taken in (`intake::copied`).
    let example = "# members = [\"jane@acme.example\", \"*@it.acme.example\"]";
    desk.sandbox.edit_config(|c| {
        assert!(c.contains(example), "daemon.toml shows acme's members");
        c.replace(example, "members = [\"jane@acme.example\"]")
    });
    desk.deliver(&[mail(JANE, "Printer offline", "first@acme.example", "Cc: Bob <bob@partner.example>\r\n")]).await;
    let prefixes = [
        "Re:", "RE:", "Fwd:", "FW:", "AW:", "WG:", "SV:", "VS:", "Antw:", "Doorst:", "Réf:", "RIF:", "R:", "Odp:",
        "Ynt:", "回复:", "转发:", "答复:", "Re: AW:", "RE[2]:",
    ];
    let mut replies: Vec<Vec<u8>> = prefixes
        .iter()
        .enumerate()
        .map(|(i, p)| mail(JANE, &format!("{p} [Case #000001] Printer offline"), &format!("r{i}@acme.example"), ""))
        .collect();
    // "AW: [Case #000001] Drucker" as an RFC 2047 encoded word, from the remembered Cc.
    replies.push(mail(
        "Bob <bob@partner.example>",
        "=?utf-8?B?QVc6IFtDYXNlICMwMDAwMDFdIERydWNrZXIgZsOkbGx0IGF1cw==?=",
        "encoded@partner.example",
        "",
    ));
    // No tag at all: In-Reply-To alone points at the first message.
    replies.push(mail(JANE, "still broken", "irt@acme.example", "In-Reply-To: <first@acme.example>\r\n"));
    desk.deliver(&replies).await;

    assert_eq!(desk.sandbox.cases().len(), 1, "every reply joined case 000001");
    let case = desk.show("000001");
    assert_eq!(case["messages"].as_array().unwrap().len(), prefixes.len() + 3);
    assert_eq!(case["cc"], serde_json::json!(["bob@partner.example"]));
    assert_eq!(desk.sandbox.outbox_messages().len(), 1, "follow-ups are not acknowledged again");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_tags_and_outsiders_open_new_cases_that_say_why() {
    let desk = Desk::new().await;
    desk.deliver(&[mail(JANE, "Printer offline", "first@acme.example", "")]).await;
    desk.deliver(&[
        mail("Mallory <mallory@elsewhere.example>", "Re: [Case #000001] Printer offline", "m@elsewhere.example", ""),
        mail(JANE, "Re: [Case #000077] Old thing", "old@acme.example", ""),
    ])
    .await;
    let cases = desk.sandbox.cases();
    assert_eq!(cases.len(), 3);
    let because: Vec<&str> = cases[1..].iter().map(|c| c["opened_because"].as_str().unwrap()).collect();
    assert!(because[0].contains("mallory@elsewhere.example is not a party to case [Case #000001]"), "{because:?}");
    assert!(because[1].contains("[Case #000077] names no existing case"), "{because:?}");
    assert_eq!(desk.show("000001")["messages"].as_array().unwrap().len(), 1, "the outsider did not join");
}

#[tokio::test(flavor = "multi_thread")]
async fn replies_reopen_closed_cases_within_the_window_and_link_older_ones() {
    let desk = Desk::new().await;
    desk.deliver(&[mail(JANE, "First", "a@acme.example", ""), mail(JANE, "Second", "b@acme.example", "")]).await;
    // Case 1 closed yesterday, case 2 closed 30 days ago (the window is 14 days).
    desk.sandbox
        .sql(&format!(
            "UPDATE cases SET status = 'closed', closed_at = '{}' WHERE number = 1; \
             UPDATE cases SET status = 'closed', closed_at = '{}' WHERE number = 2;",
            (chrono::Utc::now() - chrono::Duration::days(1)).format("%Y-%m-%d %H:%M:%S+00:00"),
            (chrono::Utc::now() - chrono::Duration::days(30)).format("%Y-%m-%d %H:%M:%S+00:00"),
        ))
        .await;
    desk.deliver(&[
        mail(JANE, "Re: [Case #000001] First", "a2@acme.example", ""),
        mail(JANE, "Re: [Case #000002] Second", "b2@acme.example", ""),
    ])
    .await;

    let reopened = desk.show("000001");
    assert_eq!(reopened["status"], "open");
    let kinds: Vec<&str> = reopened["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["opened", "message", "status"]);

    assert_eq!(desk.show("000002")["status"], "closed");
    let follow_on = desk.show("000003");
    assert_eq!(follow_on["linked_case"], "000002");
    assert!(follow_on["opened_because"].as_str().unwrap().contains("closed more than 14 days ago"));
}

/// One batch holds the new cases, replies to messages earlier in the same batch (their rows
/// are written together at the end of the batch, so threading must see them first) and an
/// attachment; case numbers stay consecutive within the batch and across the next one.
#[tokio::test(flavor = "multi_thread")]
async fn replies_within_one_batch_find_their_case_and_numbers_stay_consecutive() {
    let desk = Desk::new().await;
    let attachment = "Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nLog.\r\n\
                      --m\r\nContent-Type: text/plain; name=log.txt\r\nContent-Disposition: attachment; filename=log.txt\r\n\
                      \r\nline 1\r\n--m--\r\n";
    let with_log = format!(
        "From: {JANE}\r\nTo: support@example.com\r\nSubject: Crash\r\nMessage-ID: <c@acme.example>\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n{attachment}"
    );
    desk.deliver(&[
        mail(JANE, "First", "a@acme.example", ""),
        mail(JANE, "Second", "b@acme.example", ""),
        mail(JANE, "Re: First", "a2@acme.example", "In-Reply-To: <a@acme.example>\r\n"),
        with_log.into_bytes(),
        mail(JANE, "Re: Crash", "c2@acme.example", "In-Reply-To: <c@acme.example>\r\n"),
        mail(JANE, "Fourth", "d@acme.example", ""),
    ])
    .await;
    let numbers: Vec<String> = desk.sandbox.cases().iter().map(|c| c["number"].as_str().unwrap().to_owned()).collect();
    assert_eq!(numbers, ["000001", "000002", "000003", "000004"]);
    assert_eq!(desk.show("000001")["messages"].as_array().unwrap().len(), 2, "the reply joined case 1");
    assert_eq!(desk.show("000003")["messages"].as_array().unwrap().len(), 2, "the reply joined case 3");
    let files = "SELECT COUNT(*) FROM attachments a JOIN messages m ON a.message_id = m.id \
                 WHERE m.message_id = 'c@acme.example' AND a.filename = 'log.txt' AND a.size = 6";
    assert_eq!(desk.sandbox.count(files).await, 1, "the attachment belongs to its message");
    assert_eq!(desk.sandbox.count("SELECT value FROM counters WHERE name = 'case_number'").await, 4);

    desk.deliver(&[mail(JANE, "Fifth", "e@acme.example", "")]).await;
    assert_eq!(desk.sandbox.cases().last().unwrap()["number"], "000005");
}
