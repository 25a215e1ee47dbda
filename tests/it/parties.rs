//! One party rule on every path (issue 12): a stranger who replies by reference opens a case
//! of their own and their Cc is not remembered on someone else's; a mailbox's
//! `default_company` makes no one a member; the company's CRM writes internal notes.
//! Through the real Dovecot and SMTP receiver, read as the customer and agent would.

use crate::agent_mail::{Desk, event_kinds};

fn mail(from: &str, subject: &str, id: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@example.com\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{extra_headers}\
         Date: Mon, 23 Nov 2026 10:30:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stranger_replying_by_reference_opens_a_case_of_their_own_and_hears_nothing_of_the_first() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Printer offline").await;
    let first_id = format!("customer-1-{}@acme.example", "Printer offline".len());
    let stranger = mail(
        "Mallory <mallory@elsewhere.example>",
        "Re: Printer offline",
        "m1@elsewhere.example",
        &format!("In-Reply-To: <{first_id}>\r\nReferences: <{first_id}>\r\nCc: Eve <eve@elsewhere.example>\r\n"),
        "Please send the details to me as well.",
    );
    desk.server.append(&[stranger]).await;
    desk.run();

    let cases = desk.sandbox.cases();
    assert_eq!(cases.len(), 2, "the stranger opened a case of their own");
    let theirs = desk.case("[Case #000002]");
    let because = theirs["opened_because"].as_str().unwrap();
    assert!(because.contains("mallory@elsewhere.example is not a party to case [Case #000001]"), "{because}");
    assert_eq!(theirs["linked_case"], "000001", "the agents see which case it pointed at");
    let first = desk.case(&tag);
    assert_eq!(first["messages"].as_array().unwrap().len(), 1, "the stranger did not join");
    assert_eq!(first["cc"], serde_json::json!(["boss@acme.example"]), "the stranger's Cc is not remembered");

    desk.agent_replies(&tag, "We have restarted the spooler.").await;
    let relayed: Vec<String> =
        desk.smtp.messages().into_iter().filter(|raw| raw.contains("We have restarted the spooler.")).collect();
    assert_eq!(relayed.len(), 1, "one relay: {relayed:?}");
    let to = crate::support::smtp::header(&relayed[0], "To").unwrap();
    assert!(to.contains("customer1@acme.example"), "{to}");
    assert!(!relayed[0].contains("elsewhere.example"), "the relay names no stranger:\n{}", relayed[0]);
    for outsider in ["mallory@elsewhere.example", "eve@elsewhere.example"] {
        let got: Vec<String> = desk.sent_to(outsider).into_iter().map(|(raw, _)| raw).collect();
        assert!(
            got.iter().all(|raw| !raw.contains("spooler") && !raw.contains("[Case #000001]")),
            "{outsider}: {got:?}"
        );
    }
    assert!(desk.sent_to("eve@elsewhere.example").is_empty(), "eve was never written to");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sender_placed_in_a_company_only_by_default_company_is_a_party_only_to_their_own_cases() {
    let desk =
        Desk::start(|c| c.replace("poll_interval = \"1s\"\n", "poll_interval = \"1s\"\ndefault_company = \"acme\"\n"))
            .await;
    let first = mail("Sam <sam@freemail.example>", "VPN down", "s1@freemail.example", "", "The VPN is down.");
    desk.server.append(&[first]).await;
    desk.run();
    let case = desk.case("[Case #000001]");
    assert_eq!(case["company"], "Acme Corporation", "default_company still files the case");

    let own =
        mail("Sam <sam@freemail.example>", "Re: [Case #000001] VPN down", "s2@freemail.example", "", "Still down.");
    let other =
        mail("Tom <tom@otherfree.example>", "Re: [Case #000001] VPN down", "t1@otherfree.example", "", "Me too.");
    desk.server.append(&[own, other]).await;
    desk.run();
    assert_eq!(desk.case("[Case #000001]")["messages"].as_array().unwrap().len(), 2, "Sam's reply joined his case");
    assert_eq!(desk.sandbox.cases().len(), 2, "Tom's tagged mail opened a case of its own");
    let toms = desk.case("[Case #000002]");
    assert!(toms["opened_because"].as_str().unwrap().contains("tom@otherfree.example is not a party"), "{toms}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_crms_reply_is_an_internal_note_for_the_agents_with_no_acknowledgement() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Checkout fails").await;
    let before = desk.smtp.messages().len();
    let reply = mail(
        "Carol CRM <carol@example.com>",
        &format!("Re: {tag} Checkout fails"),
        "crm-1@example.com",
        "",
        "This client renews next week: please keep me posted.",
    );
    desk.server.append(&[reply]).await;
    desk.run();

    assert_eq!(desk.sandbox.cases().len(), 1, "no new case");
    let case = desk.case(&tag);
    let messages = case["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["internal"], true, "a note, never shown to the customer: {case}");
    assert!(event_kinds(&case).contains(&"crm_note".to_owned()), "{case}");
    assert!(desk.sent_to("carol@example.com").is_empty(), "the CRM is not acknowledged");
    let new_mail: Vec<String> = desk.smtp.messages().into_iter().skip(before).collect();
    assert!(
        new_mail.iter().all(|raw| !crate::support::smtp::header(raw, "To").unwrap().contains("customer1@")),
        "nothing goes to the customer: {new_mail:?}"
    );
    let notes: Vec<(String, _)> =
        desk.sent_to("alice@example.com").into_iter().filter(|(raw, _)| raw.contains("renews next week")).collect();
    assert_eq!(notes.len(), 1, "the (unassigned case's) agents hear of the note");
    let subject = crate::support::smtp::header(&notes[0].0, "Subject").unwrap();
    assert_eq!(subject, format!("{tag} CRM note (S3, Acme Corporation): Checkout fails"));
    let reply_to = crate::support::smtp::header(&notes[0].0, "Reply-To").unwrap();
    assert_eq!(reply_to, desk.notification(&tag).1, "Alice's own reply address: she can answer it");
}

/// Anyone can write a From at a company's domain, so a sender who is the company's only by its
/// domain (a colleague, a `*@domain` member, a contact who is no more) may add to a case but
/// brings in only the company's own people; the outsiders they copy are noted for the agents
/// and never written to. A key member named by address brings in whomever they copy. A new
/// case filed under the company by its domain is held to the same rule (issue 27).
#[tokio::test(flavor = "multi_thread")]
async fn a_sender_of_the_company_only_by_domain_brings_in_none_but_the_companys_own_people() {
    let members = "# members = [\"jane@acme.example\", \"*@it.acme.example\"]";
    let desk = Desk::start(|c| {
        assert!(c.contains(members), "daemon.toml shows acme's members");
        c.replace(members, "members = [\"lead@acme.example\", \"*@it.acme.example\"]")
    })
    .await;
    let tag = desk.customer_writes(1, "Printer offline").await;
    let subject = format!("Re: {tag} Printer offline");
    // (sender, the outsider it copies, a colleague at the company's domain it copies)
    let by_domain = [
        ("boss+tag@acme.example", "evil1@evil.test", "ops1@acme.example"),
        // A Cyrillic о in the local part: not the remembered boss@, a colleague by domain.
        ("b\u{43e}ss@acme.example", "evil2@evil.test", "ops2@acme.example"),
        ("anyone@it.acme.example", "evil3@evil.test", "ops3@it.acme.example"),
        // The case's contact, but no key member by address: no more than her domain vouches.
        ("customer1@acme.example", "auditor@audit.example", "ops4@acme.example"),
    ];
    let mut mails: Vec<Vec<u8>> = by_domain
        .iter()
        .enumerate()
        .map(|(n, (from, outsider, colleague))| {
            let headers = format!("Cc: <{outsider}>, <{colleague}>, Customer 1 <customer1@acme.example>\r\n");
            mail(&format!("<{from}>"), &subject, &format!("m{n}@acme.example"), &headers, &format!("Note {n}."))
        })
        .collect();
    let named = "Cc: <partner@partner.example>\r\n";
    mails.push(mail("Lead <lead@acme.example>", &subject, "lead-1@acme.example", named, "Adding our partner."));
    desk.server.append(&mails).await;
    desk.run();

    assert_eq!(desk.sandbox.cases().len(), 1, "every message joined the case");
    let case = desk.case(&tag);
    assert_eq!(case["messages"].as_array().unwrap().len(), 6, "{case}");
    let remembered: Vec<&str> = case["cc"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .filter(|a| !a.starts_with("customer1@"))
        .collect();
    let expected = [
        "boss@acme.example",
        "ops1@acme.example",
        "ops2@acme.example",
        "ops3@it.acme.example",
        "ops4@acme.example",
        "partner@partner.example",
    ];
    assert_eq!(remembered, expected, "the company's own people, and whom a key member copied");
    let noted = notes(&case);
    assert_eq!(noted.len(), 4, "one note per such mail: {noted:?}");
    for (note, (from, outsider, _)) in noted.iter().zip(&by_domain) {
        let said = format!(
            "copied {outsider}, who were not added to the case and get no replies: {from} is no key member of Acme Corporation by address"
        );
        assert!(note.starts_with(&said), "{note}");
        let listed = note.split(" who were").next().unwrap();
        assert!(!listed.contains("customer1@") && !listed.contains("ops"), "only the left out: {note}");
        assert!(note.ends_with(&format!("supportd members add acme {from}")), "{note}");
    }

    desk.agent_replies(&tag, "We have restarted the spooler.").await;
    let relayed: Vec<String> =
        desk.smtp.messages().into_iter().filter(|raw| raw.contains("We have restarted the spooler.")).collect();
    assert_eq!(relayed.len(), 1, "one relay: {relayed:?}");
    let copied = crate::support::smtp::header(&relayed[0], "Cc").unwrap();
    for party in expected {
        assert!(copied.contains(party), "{party} reads the reply: {copied}");
    }
    assert!(!relayed[0].contains("evil.test") && !relayed[0].contains("audit.example"), "{}", relayed[0]);
    for (_, outsider, _) in by_domain {
        assert!(desk.sent_to(outsider).is_empty(), "{outsider} was never written to");
    }

    // A new case from someone at the company's domain: filed under Acme, so the same rule.
    let new = mail(
        "Mark <mark@acme.example>",
        "Printer offline (case 000001)",
        "mark-1@acme.example",
        "Cc: <eve@evil.test>\r\n",
        "Also copying our consultant.",
    );
    desk.server.append(&[new]).await;
    desk.run();
    let second = desk.case("[Case #000002]");
    assert_eq!(second["company"], "Acme Corporation");
    assert_eq!(second["cc"], serde_json::json!([]), "the consultant is not taken in: {second}");
    assert!(notes(&second)[0].starts_with("copied eve@evil.test, who were not added"), "{second}");
}

fn notes(case: &serde_json::Value) -> Vec<String> {
    case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "cc_not_added")
        .map(|e| e["detail"].as_str().unwrap().to_owned())
        .collect()
}
