//! Addresses compared as mail systems compare them (issue 27), through Dovecot and the SMTP
//! receiver: a look-alike domain (a Kelvin sign for the `k` of `kiwi.example`) and mail with
//! two senders change nothing for a company; a quoted local part lettre cannot carry opens a
//! case without an ack; a member added with `members add` joins the company's case; team
//! and agent addresses are recognised in any letter case and in either IDNA form.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::agent_mail::{Desk, event_kinds, normalise};
use crate::support::smtp::header;

const KIWI: &str = "\n[[company]]\nname = \"Kiwi Ltd\"\nslug = \"kiwi\"\ndomains = [\"kiwi.example\"]\n\
                    members = [\"x@kiwi.example\"]\n";

fn mail(from: &str, subject: &str, extra: &str, body: &str) -> Vec<u8> {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    format!(
        "From: {from}\r\nTo: support@example.com\r\n{extra}Subject: {subject}\r\n\
         Message-ID: <addr-{}@mail.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
    .into_bytes()
}

fn held(desk: &Desk) -> Vec<serde_json::Value> {
    let out = desk.sandbox.run(&["held", "list", "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn case_with(desk: &Desk, summary: &str) -> serde_json::Value {
    let found = desk.sandbox.cases().into_iter().find(|c| c["summary"] == summary);
    let number = found.unwrap_or_else(|| panic!("no case {summary:?}: {:?}", desk.sandbox.cases()))["number"].clone();
    desk.case(&format!("[Case #{}]", number.as_str().unwrap()))
}

fn messages(case: &serde_json::Value) -> &Vec<serde_json::Value> {
    case["messages"].as_array().unwrap()
}

/// `x@Kiwi.example` with U+212A KELVIN SIGN: Unicode lower-cases it to `kiwi.example`,
/// IDNA maps it there too. It is nobody of Kiwi: no member, no party, his Cc never copied,
/// no mail to the look-alike (a relay might map it to Kiwi); a stranger's case, or held.
#[tokio::test(flavor = "multi_thread")]
async fn a_kelvin_sign_domain_changes_nothing_for_the_company_it_imitates() {
    let desk = Desk::start(|c| c + KIWI).await;
    let kelvin = "X <x@\u{212A}iwi.example>";
    desk.server.append(&[mail("Jane <jane@kiwi.example>", "Router down", "", "The router is down.")]).await;
    desk.run();
    let tag = "[Case #000001]";
    assert_eq!(desk.case(tag)["company"], "Kiwi Ltd");
    let forged = mail(kelvin, &format!("Re: {tag} Router down"), "Cc: Eve <eve@evil.example>\r\n", "Send me the logs.");
    desk.server.append(&[forged]).await;
    desk.run();

    let kiwi_case = desk.case(tag);
    assert_eq!(messages(&kiwi_case).len(), 1, "he did not join Kiwi's case: {kiwi_case}");
    assert!(!kiwi_case["cc"].to_string().contains("evil.example"), "his Cc is not remembered: {kiwi_case}");
    let his = desk.case("[Case #000002]");
    assert!(his["company"].is_null(), "a stranger's case, of no company: {his}");
    let because = his["opened_because"].as_str().unwrap();
    assert!(because.contains("is not a party to case [Case #000001]"), "{because}");
    let no_ack = messages(&his)[0]["no_ack_reason"].as_str().unwrap_or_default().to_owned();
    assert!(no_ack.contains("does not map to ASCII cleanly"), "no mail to the look-alike: {no_ack}");

    desk.agent_replies(tag, "We have restarted the router.").await;
    let relays: Vec<String> =
        desk.smtp.messages().into_iter().filter(|m| m.contains("We have restarted the router.")).collect();
    assert_eq!(relays.len(), 1, "{relays:?}");
    assert!(!relays[0].contains("evil.example") && !relays[0].contains('\u{212A}'), "{}", relays[0]);
    assert!(desk.smtp.delivered_to("x@kiwi.example").is_empty(), "nothing reached the imitated mailbox");
    assert!(desk.smtp.delivered_to("eve@evil.example").is_empty());

    // Where only key members may open cases, he is held as a non-member would be.
    desk.sandbox.edit_config(|c| c.replace("who_may_open = \"anyone\"", "who_may_open = \"members\""));
    desk.server.append(&[mail(kelvin, "New request", "", "Please open this.")]).await;
    desk.run();
    let rows = held(&desk);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["kind"], "not_member", "{rows:?}");
    assert_eq!(desk.sandbox.cases().len(), 2, "no case for the held message");
}

/// Two From headers (a DMARC checker reads the first, a parser may read the last), or one
/// From naming two mailboxes: the sender is a stranger. An agent's address verifies nothing,
/// even with the agent's token; a key member's opens nothing under `members`.
#[tokio::test(flavor = "multi_thread")]
async fn mail_with_two_senders_is_a_strangers() {
    let desk = Desk::start(|c| {
        let example = "# members = [\"jane@acme.example\", \"*@it.acme.example\"]";
        c.replace(example, "members = [\"customer1@acme.example\"]")
    })
    .await;
    let tag = desk.customer_writes(1, "Printer offline").await;
    let forged = desk.agent_reply(tag.as_str(), None, "#priority urgent\nPay the invoice to IBAN X.", "");
    let forged = String::from_utf8(forged).unwrap().replace(
        "From: Alice Smith <alice@example.com>\r\n",
        "From: Alice Smith <alice@example.com>\r\nFrom: Eve <eve@evil.example>\r\n",
    );
    desk.server.append(&[forged.into_bytes()]).await;
    desk.run();

    let case = desk.case(&tag);
    assert_eq!(case["priority"], "normal", "no agent command applied: {case}");
    assert!(!event_kinds(&case).contains(&"relayed".to_owned()), "{case}");
    let relayed = desk.smtp.delivered_to("customer1@acme.example").into_iter().filter(|m| m.contains("IBAN")).count();
    assert_eq!(relayed, 0, "nothing reached the customer");
    let strangers = desk.case("[Case #000002]");
    let because = strangers["opened_because"].as_str().unwrap();
    assert!(because.contains("is not a party to case") && because.contains("2 From headers"), "{because}");
    assert!(strangers["company"].is_null(), "{strangers}");

    // Under `members`, a key member's address beside another opens nothing.
    desk.sandbox.edit_config(|c| c.replace("who_may_open = \"anyone\"", "who_may_open = \"members\""));
    let both = "customer1@acme.example, Eve <eve@evil.example>";
    desk.server.append(&[mail(both, "Invoice question", "", "Hello.")]).await;
    desk.run();
    let rows = held(&desk);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let reason = rows[0]["reason"].as_str().unwrap();
    assert!(reason.contains("names 2 mailboxes") && reason.contains("no one's member"), "{reason}");
    assert_eq!(desk.sandbox.cases().len(), 2);
}

/// `"a@b:c"@acme.example` is a valid address lettre cannot carry (it writes a header it
/// cannot read back, and builds no envelope): the case opens, the ack is skipped with the
/// reason, and nothing is quarantined or retried.
#[tokio::test(flavor = "multi_thread")]
async fn a_quoted_local_part_opens_a_case_without_an_ack() {
    let desk = Desk::start(|c| c).await;
    desk.server
        .append(&[
            mail("\"a@b:c\"@acme.example", "Quoted bare", "", "Hi."),
            mail("Q <\"x[y]\"@acme.example>", "Quoted in brackets", "", "Hi."),
        ])
        .await;
    desk.run();
    for (summary, from) in [("Quoted bare", "\"a@b:c\"@acme.example"), ("Quoted in brackets", "\"x[y]\"@acme.example")]
    {
        let case = case_with(&desk, summary);
        assert_eq!(case["contact"], from, "{case}");
        let reason = messages(&case)[0]["no_ack_reason"].as_str().unwrap_or_default().to_owned();
        assert!(reason.contains("cannot be carried"), "{summary}: {reason}");
    }
    let quarantined = desk.sandbox.run(&["quarantine", "list", "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&quarantined.stdout).unwrap();
    assert!(rows.is_empty(), "{rows:?}");
    let outbox = desk.sandbox.outbox_rows();
    assert!(outbox.iter().all(|r| r["kind"] != "ack"), "no ack queued: {outbox:?}");
}

/// A key member added at run time is the company's as a configured one is: their reply to
/// the company's case by its tag joins it (before, it opened a case of its own).
#[tokio::test(flavor = "multi_thread")]
async fn a_member_added_with_members_add_joins_the_companys_case_by_tag() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Printer offline").await;
    let pat = "Pat <pat@partner.example>";
    desk.server.append(&[mail(pat, &format!("Re: {tag} Printer offline"), "", "Before.")]).await;
    desk.run();
    assert_eq!(messages(&desk.case(&tag)).len(), 1, "not yet a member: a case of Pat's own");
    assert_eq!(desk.sandbox.cases().len(), 2);

    let out = desk.sandbox.run(&["members", "add", "acme", "PAT@Partner.example"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = desk.sandbox.run(&["members", "add", "acme", "pat@partner.example"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already"), "one mailbox, stored once");
    desk.server.append(&[mail(pat, &format!("Re: {tag} Printer offline"), "", "After.")]).await;
    desk.run();
    let case = desk.case(&tag);
    assert_eq!(messages(&case).len(), 2, "Pat's reply joined by tag: {case}");
    assert_eq!(desk.sandbox.cases().len(), 2, "no third case");

    let refused = desk.sandbox.run(&["members", "add", "acme", "x@\u{212A}iwi.example"]);
    assert_eq!(refused.status.code(), Some(65), "a member who could match no one is refused (EX_DATAERR)");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("does not map to ASCII cleanly"));
    // `*@domain` stored as an address would be one literal mailbox anyone can write a From as.
    let wildcard = desk.sandbox.run(&["members", "add", "acme", "*@acme.example"]);
    assert_eq!(wildcard.status.code(), Some(65), "everyone at a domain is the config's to say");
    assert!(String::from_utf8_lossy(&wildcard.stderr).contains("belongs in [[company]] members in the config"));
    let listed = desk.sandbox.run(&["members", "list", "acme"]);
    assert!(!String::from_utf8_lossy(&listed.stdout).contains("*@acme.example"), "nothing was stored");
}

/// The team's address in upper case is the team: its answer on a case escalated to it is a
/// note, and its mail on a case never escalated to it is kept as a note too; neither opens a
/// customer case or is acknowledged.
#[tokio::test(flavor = "multi_thread")]
async fn a_team_address_in_any_case_is_the_team() {
    let teams = "\n[[team]]\nname = \"engineering\"\naddress = \"engineering@example.com\"\n";
    let desk = Desk::start(|c| c + teams).await;
    let tag = desk.customer_writes(1, "Checkout times out").await;
    let other = desk.customer_writes(2, "Invoice wrong").await;
    desk.agent_replies(&tag, "#escalate engineering Database unreachable\nLooking into it.").await;
    let brief = desk
        .sent_to("engineering@example.com")
        .into_iter()
        .find(|(raw, _)| header(raw, "Subject").is_some_and(|s| s.contains(&tag)))
        .expect("the brief");
    let reply_to = header(&brief.0, "Reply-To").unwrap();
    let from = "Engineering <ENGINEERING@EXAMPLE.COM>";
    let answer = |case: &str, body: &str| {
        mail(from, &format!("Re: Escalated to Engineering: {case}"), &format!("Cc: {reply_to}\r\n"), body)
    };
    desk.server.append(&[answer(&tag, "The index was missing."), answer(&other, "Wrong case, sorry.")]).await;
    desk.run();

    assert_eq!(desk.sandbox.cases().len(), 2, "no customer case from the team");
    assert!(event_kinds(&desk.case(&tag)).contains(&"team_answer".to_owned()));
    let kept = desk.case(&other);
    let note = messages(&kept).iter().find(|m| m["text_body"].as_str().unwrap().contains("Wrong case"));
    assert_eq!(note.map(|m| m["internal"].clone()), Some(serde_json::json!(true)), "a note: {kept}");
    assert!(desk.smtp.delivered_to("engineering@example.com").iter().all(|m| !m.contains("Acknowledg")));
    let acks = desk.sandbox.outbox_rows().into_iter().filter(|r| r["kind"] == "ack").count();
    assert_eq!(acks, 2, "the two customers' acks only");
}

/// An agent writes from `ALICE@EXAMPLE.COM`, or from the ASCII form of an IDNA alias: the
/// agent either way, her reply relayed. Under `local_part_case = "exact"` the upper-case
/// local part is someone else.
#[tokio::test(flavor = "multi_thread")]
async fn agent_addresses_compare_across_letter_case_and_idna_forms() {
    let desk = Desk::start(|c| {
        let alias = "# aliases = [\"a.smith@example.com\"]";
        assert!(c.contains(alias), "daemon.toml shows the aliases key");
        c.replace(alias, "aliases = [\"alice@BÜCHER.example\"]")
    })
    .await;
    let tag = desk.customer_writes(1, "Printer offline").await;
    let reply = |from: &str, body: &str| {
        let raw = desk.agent_reply(&tag, None, body, "");
        String::from_utf8(raw).unwrap().replace("Alice Smith <alice@example.com>", from).into_bytes()
    };
    desk.server.append(&[reply("Alice <ALICE@EXAMPLE.COM>", "Upper case reply.")]).await;
    desk.run();
    desk.server.append(&[reply("Alice <alice@xn--bcher-kva.example>", "Punycode reply.")]).await;
    desk.run();
    let to_customer: Vec<String> =
        desk.sent_to("customer1@acme.example").into_iter().map(|(_, m)| normalise(&m.text_body)).collect();
    for body in ["Upper case reply.", "Punycode reply."] {
        assert!(to_customer.iter().any(|t| t.contains(body)), "{body} relayed: {to_customer:?}");
    }
    assert_eq!(desk.sandbox.cases().len(), 1, "no case from the agent");

    desk.sandbox.edit_config(|c| {
        let shipped = "local_part_case = \"insensitive\"";
        assert!(c.contains(shipped), "daemon.toml shows local_part_case");
        c.replace(shipped, "local_part_case = \"exact\"")
    });
    desk.server.append(&[reply("Alice <ALICE@example.com>", "Exact reply.")]).await;
    desk.run();
    let relayed = desk.smtp.delivered_to("customer1@acme.example").into_iter().filter(|m| m.contains("Exact reply."));
    assert_eq!(relayed.count(), 0, "ALICE@ is not alice@ under exact");
    assert_eq!(desk.sandbox.cases().len(), 2, "a stranger's case instead");
}
