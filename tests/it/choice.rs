//! Customers choose the severity and type of a new case, through Dovecot: a subject token or
//! lines at the top of the message; the acknowledgement confirms the choice and its targets,
//! names what it did not understand, and only the first message chooses.

use crate::agent_mail::Desk;

fn mail(n: usize, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Customer {n} <customer{n}@acme.example>\r\nTo: support@example.com\r\nSubject: {subject}\r\n\
         Message-ID: <choice-{n}@acme.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// The ack's text with its lines joined, as a customer reads it.
fn ack_text(desk: &Desk, n: usize) -> String {
    let acks = desk.sent_to(&format!("customer{n}@acme.example"));
    assert_eq!(acks.len(), 1, "one acknowledgement to customer {n}");
    acks[0].1.text_body.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What `sla due` says for `severity` from the case's first message's receipt.
fn due(desk: &Desk, case: &serde_json::Value, severity: &str, target: &str) -> String {
    let received = case["messages"][0]["received_at"].as_str().unwrap();
    let out = desk.sandbox.run(&["sla", "due", "--severity", severity, "--at", received, "--target", target]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn customers_choose_severity_and_type_and_the_ack_confirms_it() {
    let desk = Desk::start(|c| c).await;
    desk.server
        .append(&[
            mail(1, "[S1] Shop offline", "Nobody can buy anything."),
            mail(2, "Shop offline", "Severity: S1\r\n\r\nNobody can buy anything."),
            mail(3, "Checkout rounds prices wrong", "Type: Bug\r\nSeverity: High\r\n\r\nSee order 42."),
            mail(4, "[S9] Question", "Type: Outage\r\n\r\nHow do I export orders?"),
            mail(5, "[S9 Outage] Checkout down", "Nobody can pay."),
        ])
        .await;
    desk.run();

    for (n, tag) in [(1, "[Case #000001]"), (2, "[Case #000002]")] {
        let case = desk.case(tag);
        assert_eq!(case["severity"], "S1", "customer {n}");
        assert_eq!(case["summary"], "Shop offline", "the token is not part of the summary");
        assert_eq!(case["first_response_due"], due(&desk, &case, "S1", "respond"), "a 1-hour target");
        let ack = ack_text(&desk, n);
        assert!(
            ack.contains(
                "You chose severity S1 (Critical – site offline for all users); the type Query is our default."
            ),
            "{ack}"
        );
        assert!(ack.contains("We will respond within 1 business hour"), "{ack}");
        assert!(ack.contains("We aim to resolve it within 1 business day."), "{ack}");
        assert!(ack.contains("may re-grade its severity or type"), "{ack}");
        assert!(ack.contains("To choose when you write to us"), "the type was not chosen: {ack}");
    }

    let bug = desk.case("[Case #000003]");
    assert_eq!((bug["severity"].as_str(), bug["case_type"].as_str()), (Some("S2"), Some("Bug")));
    assert!(bug["resolution_due"].is_null(), "no resolution target for a Bug: {bug}");
    let ack = ack_text(&desk, 3);
    assert!(ack.contains("You chose severity S2 (High – many users blocked, no workaround) and type Bug."), "{ack}");
    assert!(!ack.contains("We aim to resolve it"), "{ack}");
    assert!(!ack.contains("To choose"), "both were chosen: {ack}");

    let invalid = desk.case("[Case #000004]");
    assert_eq!((invalid["severity"].as_str(), invalid["case_type"].as_str()), (Some("S3"), Some("Query")));
    assert_eq!(invalid["summary"], "Question");
    let ack = ack_text(&desk, 4);
    assert!(
        ack.contains(r#"We did not understand "[S9]", "Type: Outage", so the case has our defaults: severity S3"#),
        "{ack}"
    );
    assert!(
        ack.contains("Severities: S1 Critical, S2 High, S3 Medium, S4 Low. Types: Query, Request, Bug, Site refresh."),
        "{ack}"
    );

    // A bracket naming a severity code is a choice, even with words we do not know: named in
    // the ack, and not part of the summary.
    let outage = desk.case("[Case #000005]");
    assert_eq!((outage["severity"].as_str(), outage["summary"].as_str()), (Some("S3"), Some("Checkout down")));
    let ack = ack_text(&desk, 5);
    assert!(ack.contains(r#"We did not understand "[S9 Outage]", so the case has our defaults: severity S3"#), "{ack}");
    let subject = desk.sent_to("customer5@acme.example")[0].1.subject.clone();
    assert_eq!(subject, "[Case #000005] Checkout down");

    // Only the first message chooses: her reply asking for S1 changes nothing.
    let reply = String::from_utf8(mail(4, "Re: [Case #000004] Question", "Severity: S1\r\n\r\nIt is urgent now."))
        .unwrap()
        .replace("<choice-4@acme.example>", "<choice-4-reply@acme.example>");
    desk.server.append(&[reply.into_bytes()]).await;
    desk.run();
    let after = desk.case("[Case #000004]");
    assert_eq!(after["severity"], "S3");
    assert_eq!(after["first_response_due"], invalid["first_response_due"]);
}
