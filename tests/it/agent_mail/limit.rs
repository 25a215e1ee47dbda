//! Mail to the desk's own people is bounded: a flood of new cases and of refused replies
//! yields at most `[agents] mail_limit_per_hour` emails to one agent; the one that reaches
//! the limit says so, the rest are kept unsent (outbox `limited`, an event on each case) and
//! the next email an hour later lists them.

use chrono::Utc;

use super::{Desk, customer, normalise};
use crate::support::smtp::header;

const LIMIT: usize = 3;

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_agent_mail_yields_at_most_the_limit_and_the_rest_is_listed_later() {
    let desk = Desk::start(|c| {
        assert!(c.contains("mail_limit_per_hour = 30"), "daemon.toml sets the limit");
        c.replace("mail_limit_per_hour = 30", &format!("mail_limit_per_hour = {LIMIT}"))
    })
    .await;
    let tag = desk.customer_writes(1, "Printer offline").await;
    assert_eq!(desk.smtp.delivered_to("alice@example.com").len(), 1, "the first notification");

    // In one pass: three replies whose commands are refused, and four new cases.
    let mut flood: Vec<Vec<u8>> =
        (0..3).map(|n| desk.agent_reply(&tag, None, &format!("#status sleeping{n}\nOn it."), "")).collect();
    flood.extend((2..6).map(|n| customer(n, &format!("Flood case {n}"), "Printer offline too.")));
    let events = 1 + flood.len();
    desk.server.append(&flood).await;
    desk.run();

    let to_alice = desk.smtp.delivered_to("alice@example.com");
    assert_eq!(to_alice.len(), LIMIT, "{events} agent-bound events, {LIMIT} emails");
    let last = normalise(&supportd::mail::parse(to_alice[LIMIT - 1].as_bytes()).unwrap().text_body);
    assert!(last.contains(&format!("LIMIT REACHED: You have now had {LIMIT} emails")), "the last one says so: {last}");
    for earlier in &to_alice[..LIMIT - 1] {
        assert!(!earlier.contains("LIMIT REACHED"), "{earlier}");
    }

    let held: Vec<serde_json::Value> =
        desk.sandbox.outbox_rows().into_iter().filter(|r| r["status"] == "limited").collect();
    assert_eq!(held.len(), events - LIMIT, "the rest is kept: {held:?}");
    for row in &held {
        assert_eq!(row["to"], "alice@example.com");
        assert!(row["last_error"].as_str().unwrap().contains("mail_limit_per_hour"), "{row}");
    }
    let kinds: std::collections::BTreeSet<&str> = held.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["agent_error", "notify"].into(), "both kinds count toward the limit");
    let recorded: usize = desk
        .sandbox
        .cases()
        .iter()
        .map(|c| {
            let case = desk.case(&format!("[Case #{}]", c["number"].as_str().unwrap()));
            case["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "agent_mail_limited").count()
        })
        .sum();
    assert_eq!(recorded, held.len(), "each held email is an event on its case");
    // Every flood case exists and was acknowledged: only the agents' mail is limited.
    for n in 2..6 {
        assert_eq!(desk.smtp.delivered_to(&format!("customer{n}@acme.example")).len(), 1, "customer {n}'s ack");
    }

    // An hour later the next notification goes out, and lists what was held back.
    desk.server.append(&[customer(6, "After the flood", "One more.")]).await;
    desk.run_at(Utc::now() + chrono::Duration::minutes(61));
    let to_alice = desk.smtp.delivered_to("alice@example.com");
    assert_eq!(to_alice.len(), LIMIT + 1);
    let next = &to_alice[LIMIT];
    assert!(header(next, "Subject").unwrap().contains("After the flood"), "{next}");
    let text = normalise(&supportd::mail::parse(next.as_bytes()).unwrap().text_body);
    let note = format!("NOT SENT TO YOU: {} emails to you were not sent since", held.len());
    assert!(text.contains(&note), "{text}");
    for row in &held {
        assert!(text.contains(row["subject"].as_str().unwrap()), "lists {}: {text}", row["subject"]);
    }
    assert!(!text.contains("LIMIT REACHED"), "{text}");
}
