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
    // To the second: `sla due` prints whole seconds, and a call logged in business hours
    // is due at its own instant plus an hour, fractions of a second included.
    let stored = case["first_response_due"].as_str().unwrap();
    assert_eq!(stored[..19], due(&desk, "S1", received)[..19], "a 1-hour target from the call");
    assert!(desk.smtp.delivered_to("jane@acme.example").is_empty(), "no email unless asked (--ack)");
    assert_eq!(phone["assignee"], "alice@example.com", "the agent who took the call has the case");
    let told = desk.smtp.delivered_to("alice@example.com");
    assert!(
        told.iter().all(|m| !header(m, "Subject").unwrap().contains("Checkout down")),
        "no news of her own call: {told:?}"
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
    assert_eq!(logged.trim(), "logged a phone call on case 000001");
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

/// `cases update` is the command-line twin of the `#commands`: the same checks and messages,
/// the same events, the same resolution notice to the customer.
#[tokio::test(flavor = "multi_thread")]
async fn cases_update_changes_a_case_as_the_commands_do() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Printer offline").await;
    let number = tag.trim_start_matches("[Case #").trim_end_matches(']').to_owned();
    let refused =
        desk.sandbox.run(&["cases", "update", &number, "--as", "alice", "--severity", "S9", "--priority", "high"]);
    assert_eq!(refused.status.code(), Some(65));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("nothing was applied: #severity S9: expected a severity (S1, S2, S3, S4), got \"S9\""),
        "{err}"
    );
    assert_eq!(desk.case(&tag)["priority"], "normal", "nothing applied");

    let out = run(
        &desk,
        &["cases", "update", &number, "--as", "alice", "--severity", "S2", "--priority", "high", "--assign", "me"],
    );
    assert!(out.contains("commands applied"), "{out}");
    let case = desk.case(&tag);
    assert_eq!((case["severity"].as_str(), case["priority"].as_str()), (Some("S2"), Some("high")));
    assert_eq!(case["assignee"], "alice@example.com");
    let kinds = crate::agent_mail::event_kinds(&case);
    for kind in ["severity", "priority", "assignee"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind}: {kinds:?}");
    }

    let out = run(
        &desk,
        &[
            "cases",
            "update",
            &number,
            "--as",
            "alice",
            "--solution",
            "Restarted the print spooler.",
            "--status",
            "resolved",
        ],
    );
    assert!(out.contains("resolution sent to the customer"), "{out}");
    desk.run();
    let to_her = desk.smtp.delivered_to("customer1@acme.example");
    let resolution = to_her.last().unwrap();
    assert!(
        crate::agent_mail::normalise(&supportd::mail::parse(resolution.as_bytes()).unwrap().text_body)
            .contains("Restarted the print spooler.")
    );
    assert_eq!(desk.case(&tag)["status"], "resolved");
    assert_eq!(desk.sandbox.run(&["cases", "update", &number, "--as", "alice"]).status.code(), Some(64));
}

/// `cases open --as bob`: the case is Bob's, Bob is not told of his own call (the others
/// are), and the acknowledgement says Bob chose the severity and type, not the customer.
#[tokio::test(flavor = "multi_thread")]
async fn a_case_opened_by_an_agent_is_his_and_its_ack_says_he_chose() {
    let desk = Desk::start(|c| {
        let alice = "email = \"alice@example.com\"\n";
        c.replace(alice, &format!("{alice}\n[[agent]]\nname = \"Bob Jones\"\nemail = \"bob@example.com\"\n"))
    })
    .await;
    #[rustfmt::skip]
    let opened = run(&desk, &[
        "cases", "open", "--channel", "phone", "--company", "acme", "--contact", "jane@acme.example",
        "--name", "Jane Doe", "--summary", "Checkout down", "--severity", "S1", "--type", "Bug", "--ack",
        "--as", "bob",
    ]);
    assert_eq!(opened.trim(), "opened case 000001 (phone)");
    desk.run();
    let case = desk.case("[Case #000001]");
    assert_eq!(case["assignee"], "bob@example.com");
    assert!(desk.smtp.delivered_to("bob@example.com").is_empty(), "Bob is not told of his own call");
    let told = desk.smtp.delivered_to("alice@example.com");
    assert!(
        told.iter().any(|m| header(m, "Subject").unwrap().contains("New case (S1, Acme Corporation): Checkout down")),
        "the other agents hear of it: {told:?}"
    );
    let acks = desk.sent_to("jane@acme.example");
    assert_eq!(acks.len(), 1, "asked for with --ack");
    let ack = acks[0].1.text_body.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        ack.contains(
            "Bob Jones of our support team chose severity S1 (Critical – site offline for all users) and type Bug."
        ),
        "{ack}"
    );
    assert!(!ack.contains("You chose"), "{ack}");
}
