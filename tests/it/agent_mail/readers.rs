//! Mail to the customer threads for her, and reaches everyone of her side on the case: a
//! relay and a resolution on a case where a colleague and a bounce also wrote, read from the
//! SMTP receiver as each mailbox got them.

use super::{Desk, normalise};
use crate::support::smtp::header;

const BOUNCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/postfix_bounce_dsn.eml");

/// `<a@x> <b@y>` as `["a@x", "b@y"]`.
fn ids(value: Option<String>) -> Vec<String> {
    value.unwrap_or_default().split_whitespace().map(|id| id.trim_matches(['<', '>']).to_owned()).collect()
}

fn message_id(raw: &str) -> String {
    header(raw, "Message-ID").expect("a Message-ID").trim_matches(['<', '>']).to_owned()
}

impl Desk {
    /// The agents' mail the customer got on case `tag` (not the acknowledgement), in order.
    fn agents_mail_to(&self, rcpt: &str, tag: &str) -> Vec<String> {
        let ours = |raw: &String| {
            header(raw, "Subject").is_some_and(|s| s.starts_with(tag)) && header(raw, "Auto-Submitted").is_none()
        };
        self.smtp.delivered_to(rcpt).into_iter().filter(ours).collect()
    }

    fn message_ids_on(&self, tag: &str) -> Vec<String> {
        let case = self.case(tag);
        case["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["message_id"].as_str().map(str::to_owned))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn relay_and_resolution_thread_for_the_customer_and_reach_her_colleague() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Printer offline").await;
    let first = format!("customer-1-{}@acme.example", "Printer offline".len());
    let acks = desk.smtp.delivered_to("customer1@acme.example");
    assert_eq!(acks.len(), 1, "the acknowledgement");
    let ack = message_id(&acks[0]);

    // A colleague of the customer writes on the case, replying to her message.
    let colleague = format!(
        "From: Colin Colleague <colin@acme.example>\r\nTo: support@example.com\r\nSubject: Re: {tag} Printer offline\r\n\
         Message-ID: <colin-1@acme.example>\r\nIn-Reply-To: <{first}>\r\nReferences: <{first}>\r\n\
         Date: Mon, 23 Nov 2026 10:10:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSame on floor 3.\r\n"
    );
    desk.server.append(&[colleague.into_bytes()]).await;
    desk.run();
    assert!(desk.message_ids_on(&tag).contains(&"colin-1@acme.example".to_owned()), "the colleague wrote on the case");

    desk.agent_replies(&tag, "Hello,\n\nWe are restarting the print server now.\n\nKind regards,\nAlice").await;
    let relays = desk.agents_mail_to("customer1@acme.example", &tag);
    assert_eq!(relays.len(), 1, "one relay");
    let relay = &relays[0];
    assert!(header(relay, "To").unwrap().contains("customer1@acme.example"), "{relay}");
    let cc = header(relay, "Cc").unwrap_or_default();
    assert!(cc.contains("colin@acme.example") && cc.contains("boss@acme.example"), "Cc: {cc}");
    assert_eq!(ids(header(relay, "In-Reply-To")), [first.as_str()], "her message, not her colleague's later one");
    assert_eq!(ids(header(relay, "References")), [first.clone(), ack.clone()], "what she has seen: hers and our ack");
    let r1 = message_id(relay);
    assert_eq!(desk.agents_mail_to("colin@acme.example", &tag), relays, "the colleague receives the relay");
    let text = normalise(&supportd::mail::parse(relay.as_bytes()).unwrap().text_body);
    assert!(text.contains("now.\n\nKind regards,\nAlice\n--"), "{text}");
    assert!(!text.contains("Alice Smith"), "signed once: {text}");

    // The boss's server bounces the relay; the bounce comes from an address of the company.
    let bounce = std::fs::read_to_string(BOUNCE)
        .unwrap()
        .replace("MAILER-DAEMON@mx.acme.example", "postmaster@acme.example")
        .replace("gone@acme.example", "boss@acme.example")
        .replace("supportd.000001.ack.1@example.com", &r1);
    desk.server.append(&[bounce.into_bytes()]).await;
    desk.run();
    let bounce_id = "20261123100700.ABC123@mx.acme.example".to_owned();
    assert!(desk.message_ids_on(&tag).contains(&bounce_id), "the bounce is on the case");

    desk.agent_replies(&tag, "The spooler restarts in ten minutes.").await;
    let relays = desk.agents_mail_to("customer1@acme.example", &tag);
    assert_eq!(relays.len(), 2, "a second relay");
    let relay = &relays[1];
    assert_eq!(ids(header(relay, "In-Reply-To")), [first.as_str()], "not the bounce");
    assert_eq!(ids(header(relay, "References")), [first.clone(), ack.clone(), r1.clone()]);
    let r2 = message_id(relay);
    let text = normalise(&supportd::mail::parse(relay.as_bytes()).unwrap().text_body);
    assert!(text.starts_with("The spooler restarts in ten minutes.\n\nAlice Smith\n--"), "unsigned: her name: {text}");

    // The customer answers; the agent resolves with her own greeting and sign-off.
    let answer = super::customer(1, &format!("Re: {tag} Printer offline"), "It prints again, thank you!");
    let answer_id = message_id(&String::from_utf8_lossy(&answer));
    desk.server.append(&[answer]).await;
    desk.run();
    let resolve = "#solution Restarted the print spooler\n#status resolved\nHi Customer,\n\nGlad it works again.\n\n\
                   Kind regards,\nAlice";
    desk.agent_replies(&tag, resolve).await;
    let sent = desk.agents_mail_to("customer1@acme.example", &tag);
    let resolution = sent.iter().find(|raw| header(raw, "Subject").unwrap().contains("Resolved:")).expect("resolution");
    assert_eq!(ids(header(resolution, "In-Reply-To")), [answer_id.as_str()], "her latest message");
    let references = ids(header(resolution, "References"));
    assert_eq!(references.first(), Some(&first), "the thread's root first: {references:?}");
    let mut seen = references.clone();
    seen.sort();
    let mut want = vec![first.clone(), ack, r1, r2, answer_id];
    want.sort();
    assert_eq!(seen, want, "hers and ours to her, never the colleague's or the bounce");
    let cc = header(resolution, "Cc").unwrap_or_default();
    assert!(cc.contains("colin@acme.example") && cc.contains("boss@acme.example"), "Cc: {cc}");
    assert!(desk.agents_mail_to("colin@acme.example", &tag).contains(resolution), "the colleague hears of it");
    let text = normalise(&supportd::mail::parse(resolution.as_bytes()).unwrap().text_body);
    assert!(text.starts_with("Hi Customer,\n\nGlad it works again.\n\nYour case"), "her greeting, once: {text}");
    assert!(!text.contains("Hello"), "{text}");
    assert!(text.contains("Restarted the print spooler"), "{text}");
    assert!(text.contains("after that it is closed.\n\nKind regards,\nAlice\n--"), "{text}");
    assert!(!text.contains("Alice Smith"), "signed once: {text}");

    assert!(desk.smtp.delivered_to("postmaster@acme.example").is_empty(), "the bounce's sender gets nothing");
    assert!(desk.smtp.delivered_to("MAILER-DAEMON@mx.acme.example").is_empty());
}

/// A partner the customer copied replies: the agents' notification shows the case's company
/// and its reference notes, not the partner's (none). A case of no company shows no notes
/// heading at all.
#[tokio::test(flavor = "multi_thread")]
async fn follow_up_notifications_show_the_cases_company_whoever_writes() {
    // The customer is a key member by address, so the partner she copies is taken in.
    let example = "# members = [\"jane@acme.example\", \"*@it.acme.example\"]";
    let desk = Desk::start(|c| c.replace(example, "members = [\"customer1@acme.example\"]")).await;
    let mail = |from: &str, cc: &str, subject: &str, id: &str, body: &str| {
        format!(
            "From: {from}\r\nTo: support@example.com\r\n{cc}Subject: {subject}\r\nMessage-ID: <{id}>\r\n\
             Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        )
        .into_bytes()
    };
    let opening = mail(
        "Customer 1 <customer1@acme.example>",
        "Cc: Pat Partner <pat@partner.example>\r\n",
        "Data feed broken",
        "feed-1@acme.example",
        "The nightly feed did not arrive.",
    );
    desk.server.append(&[opening]).await;
    desk.run();
    let case = desk.sandbox.cases().into_iter().find(|c| c["summary"] == "Data feed broken").expect("the case");
    let tag = format!("[Case #{}]", case["number"].as_str().unwrap());
    let reply = mail(
        "Pat Partner <pat@partner.example>",
        "",
        &format!("Re: {tag} Data feed broken"),
        "pat-1@partner.example",
        "The feed is missing on our side too.",
    );
    desk.server.append(&[reply]).await;
    desk.run();
    let (raw, notice) = desk
        .sent_to("alice@example.com")
        .into_iter()
        .find(|(raw, _)| header(raw, "Subject").is_some_and(|s| s.contains(&tag) && s.contains("Customer reply")))
        .expect("Alice hears of the partner's reply");
    assert!(header(&raw, "Subject").unwrap().contains("(S3, Acme Corporation)"), "{raw}");
    let text = normalise(&notice.text_body);
    assert!(text.contains("Customer reply") && text.contains("from Pat Partner <pat@partner.example>"), "{text}");
    assert!(text.contains("Company:  Acme Corporation"), "{text}");
    assert!(
        text.contains("*** Reference notes for Acme Corporation ***\nProduction site is acme.example;"),
        "the case's company's notes: {text}"
    );
    assert!(!text.contains("no known company"), "{text}");

    desk.server.append(&[mail("Sam <sam@other.example>", "", "Hello there", "sam-1@other.example", "Hi.")]).await;
    desk.run();
    let (raw, notice) = desk
        .sent_to("alice@example.com")
        .into_iter()
        .find(|(raw, _)| header(raw, "Subject").is_some_and(|s| s.contains("Hello there")))
        .expect("Alice hears of the new case");
    assert!(header(&raw, "Subject").unwrap().contains("no known company"), "{raw}");
    let text = normalise(&notice.text_body);
    assert!(!text.contains("Reference notes") && !text.contains("***"), "no empty notes heading: {text}");
    let html = notice.html_body.clone().unwrap_or_default();
    assert!(!html.contains("Reference notes"), "{html}");
}

/// `#company` files a case from an unknown sender under a company: the change is an event,
/// and the next notification on the case shows the company and its reference notes.
#[tokio::test(flavor = "multi_thread")]
async fn company_sets_the_company_and_the_next_notification_carries_its_notes() {
    let desk = Desk::start(|c| c).await;
    let mail = |id: &str, subject: &str| {
        format!(
            "From: Rob <rob@gmail.example>\r\nTo: support@example.com\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
             Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nFrom my phone.\r\n"
        )
        .into_bytes()
    };
    desk.server.append(&[mail("rob-1@gmail.example", "Acme shop down")]).await;
    desk.run();
    let case = desk.sandbox.cases().into_iter().find(|c| c["summary"] == "Acme shop down").expect("the case");
    let tag = format!("[Case #{}]", case["number"].as_str().unwrap());
    assert!(case["company"].is_null(), "an unknown sender's case has no company: {case}");

    desk.agent_replies(&tag, "#company nosuch\nLooking into it.").await;
    let refusal = desk
        .sent_to("alice@example.com")
        .into_iter()
        .find(|(raw, _)| header(raw, "Subject").is_some_and(|s| s.contains(&tag) && !s.contains("New case")));
    let (_, refusal) = refusal.expect("Alice hears why nothing was applied");
    assert!(
        normalise(&refusal.text_body).contains("#company nosuch: no [[company]] has that slug or name (known: acme)")
    );

    desk.agent_replies(&tag, "#company Acme Corporation\nLooking into it.").await;
    let case = desk.case(&tag);
    assert_eq!(case["company"], "Acme Corporation", "{case}");
    let event = case["events"].as_array().unwrap().iter().find(|e| e["kind"] == "company").expect("an event");
    assert_eq!(event["new_value"], "acme", "{event}");

    desk.server.append(&[mail("rob-2@gmail.example", &format!("Re: {tag} Acme shop down"))]).await;
    desk.run();
    let (raw, notice) = desk
        .sent_to("alice@example.com")
        .into_iter()
        .find(|(raw, _)| header(raw, "Subject").is_some_and(|s| s.contains(&tag) && s.contains("Customer reply")))
        .expect("Alice hears of Rob's reply");
    assert!(header(&raw, "Subject").unwrap().contains("(S3, Acme Corporation)"), "{raw}");
    let text = normalise(&notice.text_body);
    assert!(text.contains("*** Reference notes for Acme Corporation ***\nProduction site is acme.example;"), "{text}");
}
