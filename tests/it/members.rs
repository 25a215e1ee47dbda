//! Key members only, through Dovecot: under `who_may_open = "members"` a non-member's new
//! message is held and they hear once who may open cases and whom to ask; a member's mail
//! opens a case; a party's reply is never held; `held release --add-member` opens the case
//! and lets them open the next ones themselves.

use crate::agent_mail::Desk;
use crate::support::smtp::header;

fn mail(from: &str, id: &str, subject: &str, extra: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@example.com\r\nSubject: {subject}\r\nMessage-ID: <{id}@acme.example>\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n{extra}Content-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n"
    )
    .into_bytes()
}

fn held(desk: &Desk) -> Vec<serde_json::Value> {
    let out = desk.sandbox.run(&["held", "list", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn only_key_members_open_cases_and_a_non_member_hears_once_whom_to_ask() {
    let desk = Desk::start(|c| {
        let c = c.replace("who_may_open = \"anyone\"", "who_may_open = \"members\"");
        let example = "# members = [\"jane@acme.example\", \"*@it.acme.example\"]";
        assert!(c.contains(example), "daemon.toml shows the members key");
        c.replace(example, "members = [\"customer1@acme.example\", \"*@it.acme.example\"]")
    })
    .await;
    let tag = desk.customer_writes(1, "Printer offline").await;
    assert_eq!(desk.smtp.delivered_to("customer1@acme.example").len(), 1, "a member is acknowledged");

    let sam = "Sam Smith <sam@acme.example>";
    desk.server
        .append(&[
            mail(sam, "sam-1", "Need help with exports", ""),
            mail(sam, "sam-2", "Exports again", ""),
            mail(sam, "sam-ooo", "Automatic reply: Exports", "Auto-Submitted: auto-replied\r\n"),
            mail("Ivy <ivy@it.acme.example>", "ivy-1", "VPN down", ""),
            // A colleague's reply on the member's case is a party's reply: never held.
            mail(sam, "sam-reply", &format!("Re: {tag} Printer offline"), ""),
        ])
        .await;
    desk.run();

    let cases = desk.sandbox.cases();
    assert_eq!(cases.len(), 2, "the member's case and Ivy's (*@it.acme.example): {cases:?}");
    assert_eq!(desk.case(&tag)["messages"].as_array().unwrap().len(), 2, "Sam's reply joined the case");
    let rows = held(&desk);
    let kinds: Vec<&str> = rows.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["not_member", "not_member", "auto_reply"], "{rows:?}");
    assert!(rows[0]["reason"].as_str().unwrap().contains("sam@acme.example is not a key member"), "{rows:?}");

    let contacts = desk.sandbox.count("SELECT COUNT(*) FROM contacts WHERE email = 'sam@acme.example'").await;
    assert_eq!(contacts, 1, "Sam is a contact by his reply on the member's case, once");
    let to_sam = desk.smtp.delivered_to("sam@acme.example");
    assert_eq!(to_sam.len(), 1, "one polite reply, none for the second message or the auto-reply");
    assert_eq!(header(&to_sam[0], "Auto-Submitted").as_deref(), Some("auto-replied"));
    let reply = supportd::mail::parse(to_sam[0].as_bytes()).unwrap();
    let text = reply.text_body.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("Support cases are opened by key members of our customers' teams"), "{text}");
    assert!(
        text.contains("Carol CRM, the Client Relationship Manager for Acme Corporation, at carol@example.com"),
        "{text}"
    );
    let notified: Vec<String> = desk
        .smtp
        .delivered_to("alice@example.com")
        .iter()
        .filter_map(|m| header(m, "Subject"))
        .filter(|s| s.contains("Exports") || s.contains("exports"))
        .collect();
    assert!(notified.is_empty(), "held mail is no case to be notified of: {notified:?}");
    // The agents hear of it once, in the digest of people's held mail (his auto-reply is no
    // person's mail, and is not listed).
    let digests: Vec<String> = desk
        .smtp
        .delivered_to("alice@example.com")
        .iter()
        .filter(|m| header(m, "Subject").is_some_and(|s| s.starts_with("Held mail to review: 2 message")))
        .map(|m| supportd::mail::parse(m.as_bytes()).unwrap().text_body)
        .collect();
    assert_eq!(digests.len(), 1, "one digest");
    assert!(digests[0].contains("Need help with exports") && digests[0].contains("Exports again"), "{}", digests[0]);
    assert!(!digests[0].contains("Automatic reply"), "{}", digests[0]);

    // An agent lets Sam in: the held message opens a case, and his next one opens its own.
    let id = rows[0]["id"].to_string();
    let out = desk.sandbox.run(&["held", "release", &id, "--add-member"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let members = desk.sandbox.run(&["members", "list", "acme", "--format", "json"]);
    let members: Vec<serde_json::Value> = serde_json::from_slice(&members.stdout).unwrap();
    assert!(members.iter().any(|m| m["member"] == "sam@acme.example" && m["source"] == "added"), "{members:?}");
    desk.server.append(&[mail(sam, "sam-3", "Exports, third time", "")]).await;
    desk.run();
    let summaries: Vec<String> =
        desk.sandbox.cases().iter().map(|c| c["summary"].as_str().unwrap().to_owned()).collect();
    assert!(summaries.contains(&"Need help with exports".to_owned()), "{summaries:?}");
    assert!(summaries.contains(&"Exports, third time".to_owned()), "{summaries:?}");
    assert_eq!(held(&desk).len(), 2, "the second message and the auto-reply are still held");

    let out = desk.sandbox.run(&["members", "remove", "acme", "sam@acme.example"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(desk.sandbox.run(&["members", "remove", "acme", "sam@acme.example"]).status.code(), Some(64));
    assert_eq!(desk.sandbox.run(&["members", "add", "nosuch", "sam@acme.example"]).status.code(), Some(64));
}

/// A stranger's subject is theirs to fill: 10,000 characters with a bidi override, and an
/// advert for a display name. The polite reply quotes a short clean subject, on a line of
/// its own between paragraphs, in its Subject and body, and never the display name.
#[tokio::test(flavor = "multi_thread")]
async fn the_reply_to_a_non_member_quotes_a_short_clean_subject_and_no_display_name() {
    let desk = Desk::start(|c| c.replace("who_may_open = \"anyone\"", "who_may_open = \"members\"")).await;
    let words = "exports fail again ".repeat(530);
    let folded = words.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>();
    let subject = format!("\u{202E}Urgent\u{2066} {}", folded.join("\r\n "));
    let from = "\"Cheap pills at pills.example\" <sam@acme.example>";
    desk.server.append(&[mail(from, "sam-long", &subject, "")]).await;
    desk.run();
    assert_eq!(held(&desk).len(), 1, "Sam's message is held");
    let to_sam = desk.smtp.delivered_to("sam@acme.example");
    assert_eq!(to_sam.len(), 1);
    let (raw, reply) = (&to_sam[0], supportd::mail::parse(to_sam[0].as_bytes()).unwrap());
    assert_eq!(header(raw, "To").as_deref(), Some("sam@acme.example"), "no display name in To");
    let text = &crate::agent_mail::normalise(&reply.text_body);
    let html = reply.html_body.clone().unwrap_or_default();
    for part in [raw.as_str(), reply.subject.as_str(), text, &html] {
        assert!(!part.contains("pills"), "the display name is not repeated: {part}");
        assert!(!part.contains(['\u{202E}', '\u{2066}']), "no bidi control: {part}");
    }
    let quoted = reply.subject.strip_prefix("Your message to support: ").expect("the subject's prefix");
    assert!(quoted.starts_with("Urgent exports fail again exports") && quoted.ends_with('…'), "{quoted}");
    assert!(quoted.chars().count() <= 101, "{} characters: {quoted}", quoted.chars().count());
    // Paragraphs separated by blank lines, the subject quoted on a line of its own.
    let paragraphs: Vec<&str> = text.split("\n\n").map(str::trim_end).collect();
    assert_eq!(
        paragraphs[..3],
        ["Hello,", "Thank you for your message to support@example.com:", &format!("  {quoted}")]
    );
    assert!(
        paragraphs[3].starts_with("Support cases are opened by key members") && paragraphs[3].ends_with("review it.")
    );
    assert!(text.lines().all(|l| l.chars().count() <= 103), "no long line: {text}");
    let crm = "open cases, or Carol CRM, the Client Relationship Manager\nfor Acme Corporation, at carol@example.com.";
    assert!(paragraphs[4].ends_with(crm), "{text}");
    assert!(html.contains(&format!(">{quoted}</p>")), "{html}");
}
