//! A bounce of our acknowledgement, through Dovecot: it joins the case, tells the agents that
//! the customer did not get our mail and what the bounce says, and goes to no customer.

use super::Desk;
use crate::support::smtp::header;

const BOUNCE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/postfix_bounce_dsn.eml"));

#[tokio::test(flavor = "multi_thread")]
async fn a_bounced_acknowledgement_tells_the_agents_what_the_bounce_says() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Printer offline").await;
    let ack = desk.smtp.delivered_to("customer1@acme.example");
    assert_eq!(ack.len(), 1);
    let ack_id = header(&ack[0], "Message-ID").unwrap();
    // Only the returned headers lead to the case: no tag in the bounce's subject.
    let bounce = BOUNCE
        .replace("<supportd.000001.ack.1@example.com>", &ack_id)
        .replace("[Case #000001] ", "")
        .replace("gone@acme.example", "customer1@acme.example");
    desk.server.append(&[bounce.into_bytes()]).await;
    desk.run();

    assert_eq!(desk.sandbox.cases().len(), 1, "nothing new opened");
    assert_eq!(desk.smtp.delivered_to("customer1@acme.example").len(), 1, "nothing more to her");
    let to_alice = desk.smtp.delivered_to("alice@example.com");
    assert_eq!(to_alice.len(), 2, "the new case, then the bounce");
    let notice = supportd::mail::parse(to_alice[1].as_bytes()).unwrap();
    assert!(notice.subject.starts_with(&format!("{tag} Delivery failure")), "{}", notice.subject);
    let text = notice.text_body.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("NOT DELIVERED: an email we sent on this case did not arrive"), "{text}");
    assert!(text.contains("Final-Recipient: rfc822; customer1@acme.example"), "{text}");
    assert!(text.contains("Diagnostic-Code: smtp; 550 5.1.1 user unknown"), "{text}");
}
