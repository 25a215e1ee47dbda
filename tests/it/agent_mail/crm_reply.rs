//! A CRM's reply to a report under the policies whose reports carry no token (`auth-results`,
//! `none`): it is known by the report's Message-ID it answers and verified as the policy
//! verifies her `#report`. Verified, it is a note to the agents; never a case, never
//! acknowledged; unverified, it is held for an agent, who may release it as the note.
//! Through Dovecot and the SMTP receiver.

use super::Desk;
use crate::support::smtp::header;

const PASS: &str = "Authentication-Results: mx.example.com; dkim=pass header.d=example.com; spf=pass\r\n";

async fn desk(verify: &str) -> Desk {
    Desk::start(|c| {
        c.replace("monthly_report = \"0 0 8 1 * *\"", "monthly_report = \"off\"")
            .replace("verify = \"token\"", &format!("verify = \"{verify}\""))
            .replace("# authserv_id = \"mx.example.com\"", "authserv_id = \"mx.example.com\"")
    })
    .await
}

/// Sends Carol October's report: its (Reply-To, Message-ID).
fn report_to_carol(desk: &Desk) -> (String, String) {
    desk.sandbox.run_at("2026-12-01T12:00:00Z", &["report", "send", "acme", "--month", "2026-10"]);
    desk.run();
    let (raw, _) = desk
        .sent_to("carol@example.com")
        .into_iter()
        .find(|(raw, _)| header(raw, "Subject").is_some_and(|s| s.starts_with("Support report for")))
        .expect("the report to Carol");
    (header(&raw, "Reply-To").unwrap(), header(&raw, "Message-ID").unwrap())
}

/// Carol's reply `n` to the mail `id`, written to `to`, with `headers` above hers.
fn reply(n: usize, headers: &str, to: &str, id: &str, text: &str) -> Vec<u8> {
    format!(
        "{headers}From: Carol CRM <carol@example.com>\r\nTo: {to}\r\nSubject: Re: Support report for Acme \
         Corporation, October 2026\r\nMessage-ID: <carol-{n}@example.com>\r\nIn-Reply-To: {id}\r\n\
         References: {id}\r\nDate: Mon, 07 Dec 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         {text}\r\n\r\nCarol\r\n"
    )
    .into_bytes()
}

/// The CRM notes Alice (an agent) received: their text bodies.
fn notes(desk: &Desk) -> Vec<String> {
    let notes = desk.sent_to("alice@example.com").into_iter().filter(|(raw, _)| raw.contains(".crm-reply."));
    notes.map(|(_, m)| super::normalise(&m.text_body).replace('\n', " ")).collect()
}

fn held_report_mail(desk: &Desk) -> Vec<serde_json::Value> {
    let out = desk.sandbox.run(&["held", "list", "--format", "json"]);
    let held: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("held list prints JSON");
    held.into_iter().filter(|h| h["kind"] == "report_request").collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn under_auth_results_a_signed_reply_to_a_report_is_a_note_and_an_unsigned_one_is_held() {
    let desk = desk("auth-results").await;
    let (reply_to, id) = report_to_carol(&desk);
    assert_eq!(reply_to, "support@example.com", "no token under auth-results");
    let to_carol = desk.sent_to("carol@example.com").len();

    desk.server.append(&[reply(1, PASS, &reply_to, &id, "Thanks! Can we talk about the S2 breaches?")]).await;
    desk.run();
    assert!(desk.sandbox.cases().is_empty(), "no case");
    assert_eq!(desk.sent_to("carol@example.com").len(), to_carol, "no acknowledgement");
    let notes_now = notes(&desk);
    assert_eq!(notes_now.len(), 1, "the agents get the note");
    assert!(notes_now[0].contains("replied to the desk's support report"), "{}", notes_now[0]);
    assert!(notes_now[0].contains("Can we talk about the S2 breaches?"), "{}", notes_now[0]);
    assert!(held_report_mail(&desk).is_empty());

    // The same words without the server's pass (a forger's, or a mail server that does not sign).
    let unsigned = "Authentication-Results: mx.example.com; dkim=fail header.d=example.com; dmarc=fail\r\n";
    desk.server.append(&[reply(2, unsigned, &reply_to, &id, "Please send the invoice to IBAN XX00.")]).await;
    desk.run();
    assert!(desk.sandbox.cases().is_empty(), "still no case");
    assert_eq!(desk.sent_to("carol@example.com").len(), to_carol, "nothing to her");
    assert_eq!(notes(&desk).len(), 1, "no note from an unverified reply");
    let held = held_report_mail(&desk);
    assert_eq!(held.len(), 1, "held for an agent: {held:?}");
    let reason = held[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(
            "a reply to the desk's support report from the CRM of Acme Corporation could not be verified: \
             the receiving server found no dkim or dmarc pass for example.com"
        ),
        "{reason}"
    );

    // An agent who reads it and vouches for it passes it on as the note.
    let out = desk.sandbox.run(&["held", "release", &held[0]["id"].to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("a reply from the CRM of acme, passed on to the agents"), "{said}");
    desk.run();
    let notes_now = notes(&desk);
    assert_eq!(notes_now.len(), 2, "{notes_now:?}");
    assert!(notes_now[1].contains("IBAN XX00"), "{}", notes_now[1]);
    assert!(desk.sandbox.cases().is_empty(), "a release opens no case either");
    assert_eq!(desk.sent_to("carol@example.com").len(), to_carol);
}

#[tokio::test(flavor = "multi_thread")]
async fn under_none_a_reply_to_a_report_from_the_crm_is_a_note() {
    let desk = desk("none").await;
    let (reply_to, id) = report_to_carol(&desk);
    assert_eq!(reply_to, "support@example.com", "no token when nothing is verified");
    let to_carol = desk.sent_to("carol@example.com").len();
    desk.server.append(&[reply(1, "", &reply_to, &id, "Looks good, thank you.")]).await;
    desk.run();
    assert!(desk.sandbox.cases().is_empty(), "no case");
    assert_eq!(desk.sent_to("carol@example.com").len(), to_carol, "no acknowledgement");
    let notes_now = notes(&desk);
    assert_eq!(notes_now.len(), 1, "the agents get the note");
    assert!(notes_now[0].contains("Looks good, thank you."), "{}", notes_now[0]);
    assert!(held_report_mail(&desk).is_empty());
    // The same mail delivered again is passed on once.
    desk.server.append(&[reply(1, "", &reply_to, &id, "Looks good, thank you.")]).await;
    desk.run();
    assert_eq!(notes(&desk).len(), 1, "once");

    // A reply from the CRM naming no mail the desk sent her is an ordinary message.
    desk.server.append(&[reply(2, "", &reply_to, "<unknown@example.com>", "A new question about printers.")]).await;
    desk.run();
    assert_eq!(desk.sandbox.cases().len(), 1, "an ordinary message opens a case");
    assert_eq!(notes(&desk).len(), 1);
}

/// The budget mail, too: under `auth-results` its Reply-To is the support address, and Carol's
/// signed answer to it is a note, not a second case.
#[tokio::test(flavor = "multi_thread")]
async fn under_auth_results_a_signed_reply_to_a_budget_mail_is_a_note() {
    let desk = desk("auth-results").await;
    let open = ["cases", "open", "--channel", "phone", "--company", "acme", "--contact", "jane@acme.example"];
    desk.sandbox.run_at("2026-11-02T09:00:00Z", &[&open[..], &["--summary", "Migration", "--as", "alice"]].concat());
    // 42 of Acme's 40 h: one entry records at most 24 h.
    let log = ["cases", "log", "1", "--channel", "phone", "--as", "alice", "--text", "Work", "--minutes", "21h"];
    for at in ["2026-11-02T10:00:00Z", "2026-11-03T10:00:00Z"] {
        desk.sandbox.run_at(at, &[&log[..], &["--rate", "standard"]].concat());
    }
    desk.sandbox.run_at("2026-11-03T11:00:00Z", &["run", "--once"]);
    let (raw, budget) = desk
        .sent_to("carol@example.com")
        .into_iter()
        .find(|(raw, _)| raw.contains(".budget."))
        .expect("the budget mail to Carol");
    assert_eq!(header(&raw, "Reply-To").as_deref(), Some("support@example.com"));
    let text = super::normalise(&budget.text_body).replace('\n', " ");
    assert!(text.contains("A reply to this email reaches the support team as a note"), "{text}");
    let to_carol = desk.sent_to("carol@example.com").len();

    let id = header(&raw, "Message-ID").unwrap();
    desk.server.append(&[reply(1, PASS, "support@example.com", &id, "We will top up 20 h next week.")]).await;
    // Minutes later, before the case's targets lapse: no alert goes to her either.
    desk.run_at("2026-11-03T11:05:00Z".parse().unwrap());
    assert_eq!(desk.sandbox.cases().len(), 1, "no second case");
    let subjects: Vec<_> = desk.sent_to("carol@example.com").iter().filter_map(|(r, _)| header(r, "Subject")).collect();
    assert_eq!(subjects.len(), to_carol, "no acknowledgement: {subjects:?}");
    let notes_now = notes(&desk);
    assert_eq!(notes_now.len(), 1, "the agents get the note");
    assert!(notes_now[0].contains("replied to the desk's budget email"), "{}", notes_now[0]);
    assert!(notes_now[0].contains("We will top up 20 h next week."), "{}", notes_now[0]);
}
