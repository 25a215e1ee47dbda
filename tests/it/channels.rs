//! Every channel through one door: `cases open` opens a case for a phone call with the next
//! number, its targets and its routing, listed with its channel; `cases log` records a call
//! that meets the response target and books its time. Through Dovecot and the SMTP receiver.

use crate::agent_mail::Desk;
use crate::support::smtp::header;

fn run(desk: &Desk, args: &[&str]) -> String {
    let out = desk.sandbox.run(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn due(desk: &Desk, severity: &str, at: &str) -> String {
    run(desk, &["sla", "due", "--severity", severity, "--at", at]).lines().next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_call_opens_a_case_through_the_same_door_and_a_logged_call_answers_it() {
    let desk = Desk::start(|c| c).await;
    let opened = run(
        &desk,
        &[
            "cases",
            "open",
            "--channel",
            "phone",
            "--company",
            "acme",
            "--contact",
            "jane@acme.example",
            "--name",
            "Jane Doe",
            "--summary",
            "Checkout down",
            "--severity",
            "S1",
            "--as",
            "alice",
        ],
    );
    assert_eq!(opened.trim(), "opened case 000001 (phone)");
    desk.customer_writes(2, "Printer offline").await;
    let cases = desk.sandbox.cases();
    let phone = cases.iter().find(|c| c["number"] == "000001").unwrap();
    assert_eq!((phone["channel"].as_str(), phone["severity"].as_str()), (Some("phone"), Some("S1")));
    assert_eq!(phone["company"], "Acme Corporation");
    let mail = cases.iter().find(|c| c["summary"] == "Printer offline").unwrap();
    assert_eq!((mail["number"].as_str(), mail["channel"].as_str()), (Some("000002"), Some("email")), "one numbering");
    let list = run(&desk, &["cases", "list"]);
    assert!(list.lines().any(|l| l.starts_with("000001") && l.contains("phone")), "{list}");

    let case = desk.case("[Case #000001]");
    let received = case["messages"][0]["received_at"].as_str().unwrap();
    assert_eq!(case["first_response_due"], due(&desk, "S1", received), "a 1-hour target from the call");
    assert!(desk.smtp.delivered_to("jane@acme.example").is_empty(), "no email unless asked (--ack)");
    let told = desk.smtp.delivered_to("alice@example.com");
    assert!(
        told.iter().any(|m| header(m, "Subject").unwrap().contains("New case (S1, Acme Corporation): Checkout down"))
    );

    let logged = run(
        &desk,
        &[
            "cases",
            "log",
            "000001",
            "--channel",
            "phone",
            "--as",
            "alice",
            "--text",
            "Restarted the worker.",
            "--minutes",
            "30m",
        ],
    );
    assert_eq!(logged.trim(), "logged a phone on case 000001");
    let case = desk.case("[Case #000001]");
    assert!(case["first_response_at"].is_string(), "the call answered the customer: {case}");
    assert_eq!(case["time"][0]["minutes"], 30, "{case}");
    assert!(case["events"].as_array().unwrap().iter().any(|e| e["kind"] == "interaction" && e["new_value"] == "phone"));
    let messages = case["messages"].as_array().unwrap();
    assert!(messages.iter().any(|m| m["text_body"] == "Restarted the worker."), "{messages:?}");

    // Asked for, the acknowledgement goes by email; a call received earlier keeps its time.
    run(
        &desk,
        &[
            "cases",
            "open",
            "--channel",
            "chat",
            "--company",
            "acme",
            "--contact",
            "jane@acme.example",
            "--summary",
            "Export question",
            "--type",
            "Bug",
            "--received-at",
            "2026-11-23T10:00:00Z",
            "--ack",
        ],
    );
    desk.run();
    let ack = desk.smtp.delivered_to("jane@acme.example");
    assert_eq!(ack.len(), 1);
    assert!(header(&ack[0], "Subject").unwrap().contains("[Case #000003] Export question"));
    let chat = desk.case("[Case #000003]");
    assert_eq!(chat["first_response_due"], due(&desk, "S3", "2026-11-23T10:00:00Z"));
    assert!(chat["resolution_due"].is_null(), "a Bug has no resolution target");

    for (args, what) in [
        (
            &[
                "cases",
                "open",
                "--channel",
                "phone",
                "--company",
                "nosuch",
                "--contact",
                "a@b.example",
                "--summary",
                "x",
            ][..],
            "nosuch",
        ),
        (&["cases", "log", "000001", "--channel", "phone", "--as", "nobody", "--text", "x"][..], "nobody"),
        (&["cases", "log", "000099", "--channel", "phone", "--as", "alice", "--text", "x"][..], "no case 000099"),
    ] {
        let out = desk.sandbox.run(args);
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(what), "{args:?}");
    }
    assert_eq!(desk.sandbox.run(&["cases", "open", "--channel", "fax"]).status.code(), Some(2));
}
