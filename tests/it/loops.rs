//! Loop protection: automated mail is never acknowledged (what threads to no case is held:
//! `held.rs`), one sender gets at most `ack_limit_per_hour` acknowledgements, and two supportd
//! instances writing to each other stop.

use crate::support::smtp::header;
use crate::support::{Backend, Sandbox, TestSmtp, customer_mail};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn run_once(sandbox: &Sandbox) {
    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn one_sender_gets_at_most_the_hourly_limit_of_acknowledgements() {
    let sink = TestSmtp::start();
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.set_outbound(&sink.outbound_toml());
    for n in 0..12 {
        let raw = String::from_utf8(customer_mail(n, &format!("Request {n}"))).unwrap();
        let same_sender = raw.replace(&format!("customer{n}@acme.example"), "busy@acme.example");
        sandbox.drop_mail(&format!("{n:02}.eml"), same_sender.as_bytes());
    }
    run_once(&sandbox);
    assert_eq!(sandbox.cases().len(), 12, "every message is a case");
    assert_eq!(sink.messages().len(), 10, "the default limit is 10 per hour");
    let sql = "SELECT COUNT(*) FROM messages WHERE no_ack_reason LIKE '%already got 10 acknowledgements%'";
    assert_eq!(sandbox.count(sql).await, 2);
}

/// The limit counts what earlier batches queued (looked up once per batch for its senders),
/// per person: the address compared without case.
#[tokio::test(flavor = "multi_thread")]
async fn the_hourly_limit_counts_acknowledgements_of_earlier_batches() {
    let sink = TestSmtp::start();
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.set_outbound(&sink.outbound_toml());
    let busy = |n: usize| {
        let raw = String::from_utf8(customer_mail(n, &format!("Request {n}"))).unwrap();
        raw.replace(&format!("customer{n}@acme.example"), "busy@acme.example")
    };
    for n in 0..8 {
        sandbox.drop_mail(&format!("{n:02}.eml"), busy(n).as_bytes());
    }
    run_once(&sandbox);
    assert_eq!(sink.messages().len(), 8);
    // The same person whatever the case of the address: `Busy@` shares `busy@`'s limit.
    for n in 8..12 {
        let raw = if n % 2 == 0 { busy(n).replace("busy@acme.example", "Busy@acme.example") } else { busy(n) };
        sandbox.drop_mail(&format!("{n:02}.eml"), raw.as_bytes());
    }
    // Someone else in the same batch is not held back by busy@'s count.
    sandbox.drop_mail("other.eml", &customer_mail(99, "Another request"));
    run_once(&sandbox);
    assert_eq!(sandbox.cases().len(), 13, "every message is a case");
    assert_eq!(sink.messages().len(), 11, "two more for busy@ (10 in all) and one for the other sender");
    let sql = "SELECT COUNT(*) FROM messages WHERE no_ack_reason LIKE '%already got 10 acknowledgements%'";
    assert_eq!(sandbox.count(sql).await, 2);
}

/// Each instance is a customer of the other: A acknowledges B's message, and B must not
/// acknowledge A's acknowledgement.
#[tokio::test(flavor = "multi_thread")]
async fn two_instances_writing_to_each_other_stop() {
    let mut desks = Vec::new();
    for domain in ["a.example", "b.example"] {
        let sink = TestSmtp::start();
        let sandbox = Sandbox::new(Backend::Sqlite).await;
        sandbox.set_outbound(&sink.outbound_toml());
        sandbox.edit_config(|c| c.replace("support@example.com", &format!("support@{domain}")));
        desks.push((sandbox, sink));
    }
    let first = "From: Support B <support@b.example>\r\nTo: support@a.example\r\nSubject: Hello from B\r\n\
                 Message-ID: <start@b.example>\r\n\r\nHi A.\r\n";
    desks[0].0.drop_mail("start.eml", first.as_bytes());
    let mut delivered = [0usize, 0usize];
    for round in 0..6 {
        let (from, to) = (round % 2, 1 - round % 2);
        run_once(&desks[from].0);
        let sent = desks[from].1.messages();
        for (i, raw) in sent.iter().enumerate().skip(delivered[from]) {
            desks[to].0.drop_mail(&format!("r{round}-{i}.eml"), raw.as_bytes());
        }
        delivered[from] = sent.len();
    }
    let total = delivered[0] + delivered[1];
    assert_eq!(total, 1, "A acknowledged once; B stored A's auto-reply and answered nothing");
    let ack = &desks[0].1.messages()[0];
    assert_eq!(header(ack, "Auto-Submitted").as_deref(), Some("auto-replied"));
}

/// A bounce, a read receipt and an out-of-office about our acknowledgement attach to its case
/// (through the returned headers, Original-Message-ID or In-Reply-To) and open nothing new;
/// of the three only the bounce is news for the agents: the customer did not get our mail.
#[tokio::test(flavor = "multi_thread")]
async fn reports_about_our_mail_attach_to_its_case() {
    let sink = TestSmtp::start();
    let sandbox = Sandbox::as_shipped(Backend::Sqlite).await;
    sandbox.set_outbound(&sink.outbound_toml());
    sandbox.drop_mail("1.eml", &customer_mail(1, "Printer offline"));
    run_once(&sandbox);
    sandbox.sql("UPDATE cases SET status = 'resolved' WHERE number = 1").await;
    let ack_id = sandbox.outbox_rows()[0]["message_id"].as_str().unwrap().to_owned();
    for name in ["postfix_bounce_dsn.eml", "thunderbird_read_receipt.eml", "outlook_ooo_reply.eml"] {
        let raw = std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap();
        // No tag to follow: only the quoted Message-ID can lead to the case.
        let raw = raw.replace("supportd.000001.ack.1@example.com", &ack_id).replace("[Case #000001] ", "");
        sandbox.drop_mail(name, raw.as_bytes());
    }
    run_once(&sandbox);
    assert_eq!(sandbox.cases().len(), 1, "nothing new opened");
    assert_eq!(
        sandbox.count("SELECT COUNT(*) FROM messages WHERE case_id = (SELECT id FROM cases WHERE number = 1)").await,
        4
    );
    assert_eq!(sandbox.cases()[0]["status"], "resolved", "a robot's mail does not reopen the case");
    let sent = sink.messages();
    let to = |address: &str| sent.iter().filter(|m| header(m, "To").unwrap().contains(address)).count();
    assert_eq!((sent.len(), to("customer1@acme.example")), (3, 1), "only the first acknowledgement to her");
    let notices: Vec<&String> = sent.iter().filter(|m| header(m, "To").unwrap().contains("alice@")).collect();
    assert_eq!(notices.len(), 2, "the new case, then the bounce");
    let bounce = supportd::mail::parse(notices[1].as_bytes()).unwrap();
    assert!(bounce.subject.starts_with("[Case #000001] Delivery failure"), "{}", bounce.subject);
    let text = bounce.text_body.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("NOT DELIVERED: an email we sent on this case did not arrive"), "{text}");
    assert!(
        text.contains(
            "Final-Recipient: rfc822; gone@acme.example; Action: failed; Status: 5.1.1; \
                           Diagnostic-Code: smtp; 550 5.1.1 user unknown"
        ),
        "{text}"
    );
}
