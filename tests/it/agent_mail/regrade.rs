//! A re-grade is told to the customer, as the acknowledgement promises: one notice in the
//! case's thread with the new due time, or one line of the agent's relayed reply that made it
//! (then no notice). Through Dovecot and the SMTP receiver.

use chrono::{DateTime, Utc};

use super::{Desk, normalise};
use crate::support::smtp::header;

const CUSTOMER: &str = "customer1@acme.example";

/// `case`'s `field` (a due time) as the customer reads it: Acme is in New York.
fn in_new_york(case: &serde_json::Value, field: &str) -> String {
    let due: DateTime<Utc> = case[field].as_str().unwrap_or_else(|| panic!("{field} in {case}")).parse().unwrap();
    due.with_timezone(&chrono_tz::America::New_York).format("%A %-d %B %Y, %H:%M %Z").to_string()
}

fn text(raw: &str) -> String {
    normalise(&supportd::mail::parse(raw.as_bytes()).expect("parses").text_body)
}

fn notices(desk: &Desk) -> Vec<String> {
    let regrade = |raw: &String| header(raw, "Subject").is_some_and(|s| s.contains("Re-graded to"));
    desk.smtp.delivered_to(CUSTOMER).into_iter().filter(regrade).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn severity_s1_on_an_s3_case_sends_the_customer_one_notice_with_the_new_due_time() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Printer offline").await;
    let acks = desk.smtp.delivered_to(CUSTOMER);
    assert_eq!(acks.len(), 1, "the acknowledgement");
    assert!(text(&acks[0]).contains("may re-grade its severity or type; we will tell you if we do"));
    assert_eq!(desk.case(&tag)["severity"], "S3");

    desk.agent_replies(&tag, "#severity S1").await;
    desk.run();
    let case = desk.case(&tag);
    assert_eq!(case["severity"], "S1");
    let to_her = desk.smtp.delivered_to(CUSTOMER);
    assert_eq!(to_her.len(), 2, "the acknowledgement and one notice: {to_her:?}");
    let notice = &to_her[1];
    assert_eq!(header(notice, "Subject").unwrap(), format!("{tag} Re-graded to S1, Query: Printer offline"));
    let first = format!("customer-1-{}@acme.example", "Printer offline".len());
    assert_eq!(header(notice, "In-Reply-To").unwrap(), format!("<{first}>"), "in the case's thread");
    assert!(header(notice, "References").unwrap().contains(&first));
    let due = in_new_york(&case, "first_response_due");
    assert!(due.ends_with("EST"), "{due}");
    let body = text(notice);
    assert!(
        body.contains(&format!(
            "We have re-graded this case to severity S1 (Critical – site offline for all users); we will respond by \
             {due} and aim to resolve it by {}.",
            in_new_york(&case, "resolution_due")
        )),
        "{body}"
    );
    assert!(body.contains("It was severity S3 (Medium – a subset of users affected) before."), "{body}");
    assert!(!body.contains("#severity"), "{body}");
    assert!(notices(&desk).len() == 1 && header(notice, "Cc").is_some_and(|cc| cc.contains("boss@acme.example")));

    // The same severity again is no re-grade: nothing more goes to her.
    desk.agent_replies(&tag, "#severity S1").await;
    desk.run();
    assert_eq!(desk.smtp.delivered_to(CUSTOMER).len(), 2, "no change, no notice");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_with_text_carries_the_regrade_and_no_second_notice_goes() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Checkout slow").await;
    desk.agent_replies(&tag, "#severity S1\n#type Bug\nWe are looking at the checkout now.\n\nKind regards,\nAlice")
        .await;
    desk.run();
    let case = desk.case(&tag);
    assert_eq!((case["severity"].as_str(), case["case_type"].as_str()), (Some("S1"), Some("Bug")));
    let to_her = desk.smtp.delivered_to(CUSTOMER);
    assert_eq!(to_her.len(), 2, "the acknowledgement and the relay, no notice: {to_her:?}");
    assert!(notices(&desk).is_empty());
    let relay = text(&to_her[1]);
    // The relay is itself the first response: it promises none, only what is still ahead.
    assert!(case["first_response_at"].is_string(), "the relay answered her: {case}");
    let line = "We have re-graded this case to severity S1 (Critical – site offline for all users) and type Bug; no \
                resolution time applies to it.";
    assert!(
        relay.starts_with(&format!("We are looking at the checkout now.\n\n{line}\n\nKind regards,\nAlice")),
        "{relay}"
    );
    assert!(!relay.contains("respond by"), "{relay}");
}

/// A `#note` that re-grades still keeps the promise of the acknowledgement: the customer (and
/// her Cc) get one notice of the re-grade, and nothing of the note's words, which stay on the
/// case for the agents.
#[tokio::test(flavor = "multi_thread")]
async fn a_note_that_regrades_sends_one_notice_and_relays_nothing_of_the_note() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Printer offline").await;
    let secret = "Their whole floor is down; Bob says the switch, not the printer.";
    desk.agent_replies(&tag, &format!("#note\n#severity S1\n{secret}\n\nAlice")).await;
    let case = desk.case(&tag);
    assert_eq!(case["severity"], "S1");
    let to_her = desk.smtp.delivered_to(CUSTOMER);
    assert_eq!(to_her.len(), 2, "the acknowledgement and one notice: {to_her:?}");
    assert_eq!(notices(&desk).len(), 1);
    let notice = &to_her[1];
    assert_eq!(header(notice, "Subject").unwrap(), format!("{tag} Re-graded to S1, Query: Printer offline"));
    let body = text(notice);
    let due = in_new_york(&case, "first_response_due");
    assert!(
        body.contains(&format!("to severity S1 (Critical – site offline for all users); we will respond by {due}"))
    );
    for raw in desk.smtp.delivered_to(CUSTOMER).iter().chain(&desk.smtp.delivered_to("boss@acme.example")) {
        assert!(!raw.contains("switch") && !raw.contains("#note"), "the note stays internal: {raw}");
    }
    // The note is kept on the case, internal, for the agents.
    let events = serde_json::to_string(&case["events"]).unwrap();
    assert!(events.contains("the customer is told of the re-grade"), "{events}");
    let messages = case["messages"].as_array().unwrap();
    let note = messages.iter().find(|m| m["text_body"].as_str().is_some_and(|t| t.contains("switch, not the printer")));
    assert_eq!(note.expect("the note on the case")["internal"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn cases_update_tells_the_customer_of_a_regrade_once_for_all_its_changes() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Export fails").await;
    let number = tag.trim_start_matches("[Case #").trim_end_matches(']').to_owned();
    let update = |args: &[&str]| {
        let out = desk.sandbox.run(&[&["cases", "update", &number, "--as", "alice"], args].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let said = update(&["--severity", "S2", "--type", "Request"]);
    assert!(said.contains("the customer is told of the re-grade"), "{said}");
    desk.run();
    let sent = notices(&desk);
    assert_eq!(sent.len(), 1, "one notice for both changes");
    assert_eq!(header(&sent[0], "Subject").unwrap(), format!("{tag} Re-graded to S2, Request: Export fails"));
    let case = desk.case(&tag);
    let body = text(&sent[0]);
    assert!(
        body.contains(&format!(
            "to severity S2 (High – many users blocked, no workaround) and type Request; we will respond by {}",
            in_new_york(&case, "first_response_due")
        )),
        "{body}"
    );
    // A priority is the agents' field: nothing to tell.
    update(&["--severity", "S2", "--priority", "high"]);
    desk.run();
    assert_eq!(notices(&desk).len(), 1, "no re-grade, no notice");
}

/// A case opened from automated mail (an auto-reply an agent released from held mail) was
/// never acknowledged, and no re-grade notice goes to the robot either.
#[tokio::test(flavor = "multi_thread")]
async fn no_regrade_notice_goes_to_a_case_automated_mail_opened() {
    let desk = Desk::start(|c| c).await;
    let robot = "From: Out Of Office <robot@acme.example>\r\nTo: support@example.com\r\nSubject: Away until Monday\r\n\
                 Message-ID: <ooo-1@acme.example>\r\nAuto-Submitted: auto-replied\r\n\
                 Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nI am away.\r\n";
    desk.server.append(&[robot.as_bytes().to_vec()]).await;
    desk.run();
    let out = desk.sandbox.run(&["held", "list", "--format", "json"]);
    let held: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("held list prints JSON");
    let id = held.iter().find(|h| h["subject"] == "Away until Monday").expect("held")["id"].to_string();
    let out = desk.sandbox.run(&["held", "release", &id]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("opened case 000001; no acknowledgement"), "{out:?}");
    let out = desk.sandbox.run(&["cases", "update", "000001", "--as", "alice", "--severity", "S1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("commands applied; nothing to relay"), "{out:?}");
    desk.run();
    assert_eq!(desk.case("[Case #000001]")["severity"], "S1");
    assert!(desk.smtp.delivered_to("robot@acme.example").is_empty(), "nothing to the robot");
}
