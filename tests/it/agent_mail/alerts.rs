//! Alerts and due times on a case agents work by email, through the real Dovecot and SMTP
//! receiver: a case closed or resolved by command, with no reply, hears no more alerts; a
//! `#severity` or `#type` change keeps the arithmetic of `sla due` (a target ending at closing
//! stays at closing); the CRM's alert is a mail of its own, without the desk's notes or
//! addresses, and her reply to it is a note on the case for the agents. The clock is
//! `SUPPORTD_NOW`, the receipt time the message's INTERNALDATE.

use chrono::{DateTime, Duration, Utc};

use supportd::mail::parse;

use super::{Desk, customer};
use crate::support::smtp::header;

/// A customer's message appended with `received` as its INTERNALDATE (IMAP's date-time:
/// `17-Nov-2026 19:00:00 +0000`), the SLA clock's start.
async fn customer_writes_at(desk: &Desk, n: usize, subject: &str, received: &str) {
    let mut session = desk.server.client().await;
    let raw = customer(n, subject, "The printer on floor 2 shows OFFLINE.");
    session.append("INBOX", None, Some(&format!("\"{received}\"")), &raw).await.expect("APPEND");
    session.logout().await.ok();
}

fn tag_of(desk: &Desk, subject: &str) -> String {
    let case = desk.sandbox.cases().into_iter().find(|c| c["summary"] == subject).expect("the case");
    format!("[Case #{}]", case["number"].as_str().unwrap())
}

/// An alert as the SMTP receiver got it.
struct Alert {
    subject: String,
    to: String,
    raw: String,
    /// The decoded text and HTML parts.
    text: String,
}

impl std::fmt::Debug for Alert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} to {:?}", self.subject, self.to)
    }
}

fn alerts(desk: &Desk) -> Vec<Alert> {
    desk.smtp
        .messages()
        .into_iter()
        .filter(|raw| header(raw, "Message-ID").is_some_and(|id| id.contains(".alert-")))
        .map(|raw| {
            let parsed = parse(raw.as_bytes()).expect("an alert parses");
            let text = format!("{}\n{}", parsed.text_body, parsed.html_body.unwrap_or_default());
            Alert { subject: parsed.subject, to: header(&raw, "To").unwrap(), raw, text }
        })
        .collect()
}

/// What `supportd sla due` prints first: the due time in UTC.
fn sla_due(desk: &Desk, args: &[&str]) -> DateTime<Utc> {
    let out = desk.sandbox.run(&[&["sla", "due"], args].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().next().unwrap().parse().unwrap()
}

fn due(case: &serde_json::Value, field: &str) -> Option<DateTime<Utc>> {
    case[field].as_str().map(|t| t.parse().expect("an RFC 3339 time"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_closed_or_resolved_without_a_reply_gets_no_alert_a_week_later() {
    let desk = Desk::start(|c| c).await;
    let closed = desk.customer_writes(1, "Printer offline").await;
    let resolved = desk.customer_writes(2, "Scanner offline").await;
    let open = desk.customer_writes(3, "Fax offline").await;
    desk.agent_replies(&closed, "#status closed").await;
    desk.agent_replies(&resolved, "#status resolved").await;
    for (tag, status) in [(&closed, "closed"), (&resolved, "resolved")] {
        let case = desk.case(tag);
        assert_eq!(case["status"], status);
        assert!(case["first_response_at"].is_null(), "{tag}: no public reply, so no response recorded");
    }
    desk.run_at(Utc::now() + Duration::days(7));
    let alerts = alerts(&desk);
    let about = |tag: &str| alerts.iter().filter(|a| a.subject.contains(tag)).count();
    assert!(about(&open) > 0, "the case left open breached: the tick ran ({alerts:?})");
    assert_eq!(about(&closed), 0, "closed by #status closed: {alerts:?}");
    assert_eq!(about(&resolved), 0, "resolved by #status resolved: {alerts:?}");
}

/// Received Tuesday 17 November 2026 at 19:00 London, after closing: S3 (the default) is
/// resolved within 3 business days from Wednesday 09:00, Friday 17:00; `#severity S2` makes
/// it Thursday 17:00, as `sla due` says, not Friday 09:00.
#[tokio::test(flavor = "multi_thread")]
async fn a_severity_change_keeps_a_due_time_that_ends_at_closing() {
    let desk = Desk::start(|c| c).await;
    customer_writes_at(&desk, 1, "Invoices missing", "17-Nov-2026 19:00:00 +0000").await;
    desk.run();
    let tag = tag_of(&desk, "Invoices missing");
    let received = ["--at", "2026-11-17T19:00:00Z"];
    let s3 = sla_due(&desk, &[&["--severity", "S3", "--target", "resolve"], &received[..]].concat());
    assert_eq!(s3, "2026-11-20T17:00:00Z".parse::<DateTime<Utc>>().unwrap());
    assert_eq!(due(&desk.case(&tag), "resolution_due"), Some(s3), "intake agrees with sla due");

    desk.agent_replies(&tag, "#severity S2").await;
    let case = desk.case(&tag);
    assert_eq!(case["severity"], "S2");
    let s2 = sla_due(&desk, &[&["--severity", "S2", "--target", "resolve"], &received[..]].concat());
    assert_eq!(s2, "2026-11-19T17:00:00Z".parse::<DateTime<Utc>>().unwrap(), "Thursday at closing");
    assert_eq!(due(&case, "resolution_due"), Some(s2));
    let respond = sla_due(&desk, &[&["--severity", "S2"], &received[..]].concat());
    assert_eq!(due(&case, "first_response_due"), Some(respond));

    // A type without a resolution target, and back: the same arithmetic again, no drift.
    desk.agent_replies(&tag, "#type Bug").await;
    assert_eq!(due(&desk.case(&tag), "resolution_due"), None);
    desk.agent_replies(&tag, "#type Query").await;
    assert_eq!(due(&desk.case(&tag), "resolution_due"), Some(s2));
}

/// Received Monday 16 November 2026 at 09:00: S3's response is due at 17:00, its 75% warning
/// at 15:00; the tick at 15:30 finds 1 h 30 min left. The CRM's copy is addressed to her by
/// name and tells the due time in Acme's zone (New York: 12:00 EST); the desk's keeps the
/// support calendar's (London), as notifications do.
#[tokio::test(flavor = "multi_thread")]
async fn the_crms_alert_is_her_own_mail_by_name_in_her_zone_without_notes_or_agent_addresses() {
    let desk = Desk::start(|c| c).await;
    customer_writes_at(&desk, 1, "Printer offline", "16-Nov-2026 09:00:00 +0000").await;
    desk.run_at("2026-11-16T09:05:00Z".parse().unwrap());
    assert!(alerts(&desk).is_empty(), "nothing due yet");
    desk.run_at("2026-11-16T15:30:00Z".parse().unwrap());
    let alerts = alerts(&desk);
    assert_eq!(alerts.len(), 2, "one mail for the desk, one for the CRM: {alerts:?}");
    let to =
        |who: &str| alerts.iter().find(|a| a.to.contains(who)).unwrap_or_else(|| panic!("none to {who}: {alerts:?}"));
    let (internal, crm) = (to("alice@example.com"), to("carol@example.com"));
    let want = "[Case #000001] S3: first response due in 1 h 30 min (75% of the target used) - Printer offline";
    assert_eq!((internal.subject.as_str(), crm.subject.as_str()), (want, want));
    assert!(internal.text.contains(want.trim_start_matches("[Case #000001] ").trim_end_matches(" - Printer offline")));
    let notes = "never restart it during US business hours";
    assert!(internal.text.contains(notes) && internal.text.contains("Reference notes"), "{}", internal.text);
    assert!(!crm.text.contains(notes) && !crm.text.contains("Reference notes"), "no notes, no heading: {}", crm.text);
    assert!(!crm.raw.contains("alice@example.com"), "no agent's address anywhere: {}", crm.raw);
    assert!(!internal.raw.contains("carol@example.com"), "nor the CRM's in the desk's: {}", internal.raw);
    assert_ne!(header(&internal.raw, "Message-ID"), header(&crm.raw, "Message-ID"));

    let (crm_text, internal_text) = (super::normalise(&crm.text), super::normalise(&internal.text));
    assert_eq!(crm.to, "\"Carol CRM\" <carol@example.com>");
    assert!(crm_text.starts_with("Hello Carol CRM,\n"), "{crm_text}");
    assert!(crm.text.starts_with("Hello Carol CRM,"), "no blank line above the greeting: {:?}", crm.text);
    assert!(crm_text.contains("<p>Hello Carol CRM,</p>"), "and in the HTML part: {crm_text}");
    assert!(crm_text.contains("Due: Monday 16 November 2026, 12:00 EST\n"), "{crm_text}");
    assert!(!crm_text.contains("GMT"), "no time in the desk's zone: {crm_text}");
    assert!(internal_text.contains("Due: Monday 16 November 2026, 17:00 GMT\n"), "{internal_text}");
    assert!(!internal_text.contains("Hello"), "the desk's copy greets no one: {internal_text}");
}

/// A breach a week later: Alice's copy of the alert is her own (its Reply-To carries her
/// token) and she answers it as she would a notification: the command applies and the text
/// reaches the customer. The support lead's copy says a reply to it answers nothing, and the
/// CRM's that a reply is a note for the team.
#[tokio::test(flavor = "multi_thread")]
async fn an_agents_reply_to_a_breach_alert_is_applied_and_relayed() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Printer offline").await;
    let (_, notify_reply_to, _) = desk.notification(&tag);
    desk.run_at(Utc::now() + Duration::days(7));
    let alerts = alerts(&desk);
    let breach = |to: &str| {
        alerts
            .iter()
            .find(|a| a.to.contains(to) && a.raw.contains(".alert-breach"))
            .unwrap_or_else(|| panic!("no breach alert to {to}: {alerts:?}"))
    };
    let (alice, lead, crm) =
        (breach("alice@example.com"), breach("support-lead@example.com"), breach("carol@example.com"));
    assert!(!lead.to.contains("alice@") && !alice.to.contains("support-lead@"), "one mail per agent: {alerts:?}");
    let reply_to = header(&alice.raw, "Reply-To").unwrap();
    assert_eq!(reply_to, notify_reply_to, "Alice's personal reply address, as on her notifications");
    assert!(alice.text.starts_with(super::MARKER), "{}", alice.text);
    assert!(alice.text.contains("Reply above the marker line to answer the customer"), "{}", alice.text);
    assert_eq!(header(&lead.raw, "Reply-To").unwrap(), "support@example.com");
    assert!(lead.text.contains("A reply to this copy does not answer on the case"), "{}", lead.text);
    assert!(crm.text.contains("reaches the support team as a note"), "{}", crm.text);

    let id = header(&alice.raw, "Message-ID").unwrap();
    let before = desk.sent_to("customer1@acme.example").len();
    let reply = format!(
        "From: Alice Smith <alice@example.com>\r\nTo: {reply_to}\r\nSubject: Re: {}\r\nMessage-ID: <alert-reply-1@example.com>\r\n\
         In-Reply-To: {id}\r\nReferences: {id}\r\nDate: Mon, 30 Nov 2026 10:20:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n#priority high\r\nSorry for the wait: a technician is on the way.\r\n\r\n\
         On Mon, 30 Nov 2026 at 10:05, Support <support@example.com> wrote:\r\n> {}\r\n>\r\n> {}\r\n",
        alice.subject,
        super::MARKER,
        alice.subject
    );
    desk.server.append(&[reply.into_bytes()]).await;
    desk.run();
    let case = desk.case(&tag);
    assert_eq!(case["priority"], "high", "the command applied: {case}");
    let relayed: Vec<_> = desk.sent_to("customer1@acme.example").into_iter().skip(before).collect();
    assert_eq!(relayed.len(), 1, "the text relayed once");
    let text = super::normalise(&relayed[0].1.text_body);
    assert!(text.contains("Sorry for the wait: a technician is on the way."), "{text}");
    assert!(!text.contains("#priority") && !text.contains("target breached"), "no command, no quoted alert: {text}");
}

/// The CRM's copy of a breach alert says a reply reaches the team as a note on the case, and
/// its Reply-To is her personal address (as on her reports), not the plain support address
/// nor an agent's. She replies: a CRM note on the case for the agents, no new case, nothing
/// back to her, nothing to the customer.
#[tokio::test(flavor = "multi_thread")]
async fn the_crms_reply_to_an_alert_is_a_note_on_the_case_for_the_agents() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Printer offline").await;
    let (_, alices, _) = desk.notification(&tag);
    desk.run_at(Utc::now() + Duration::days(7));
    let crm = alerts(&desk)
        .into_iter()
        .find(|a| a.to.contains("carol@example.com") && a.raw.contains(".alert-breach"))
        .expect("the CRM's breach alert");
    assert!(crm.text.contains("A reply to this email reaches the support team as a note on the case"), "{}", crm.text);
    let reply_to = header(&crm.raw, "Reply-To").unwrap();
    assert!(reply_to.starts_with("support+") && reply_to.ends_with("@example.com"), "her personal address: {reply_to}");
    assert_ne!(reply_to, alices, "not an agent's");

    let (before_her, before_customer) =
        (desk.sent_to("carol@example.com").len(), desk.sent_to("customer1@acme.example").len());
    let id = header(&crm.raw, "Message-ID").unwrap();
    let reply = format!(
        "From: Carol CRM <carol@example.com>\r\nTo: {reply_to}\r\nSubject: Re: {}\r\nMessage-ID: <crm-alert-reply@example.com>\r\n\
         In-Reply-To: {id}\r\nReferences: {id}\r\nDate: Mon, 30 Nov 2026 10:20:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nTheir CFO is asking about this one: please call her today.\r\n\r\n\
         Carol\r\n\r\nOn Mon, 30 Nov 2026 at 10:05, Support <support@example.com> wrote:\r\n> {}\r\n",
        crm.subject, crm.subject
    );
    desk.server.append(&[reply.into_bytes()]).await;
    desk.run();

    assert_eq!(desk.sandbox.cases().len(), 1, "no new case");
    let case = desk.case(&tag);
    let last = case["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["from"].as_str(), last["internal"].as_bool()), (Some("carol@example.com"), Some(true)), "{case}");
    assert!(super::event_kinds(&case).contains(&"crm_note".to_owned()), "{case}");
    assert_eq!(desk.sent_to("carol@example.com").len(), before_her, "no acknowledgement to her");
    assert_eq!(desk.sent_to("customer1@acme.example").len(), before_customer, "nothing to the customer");
    let notes: Vec<_> = desk
        .sent_to("alice@example.com")
        .into_iter()
        .filter(|(_, m)| m.text_body.contains("Their CFO is asking about this one"))
        .collect();
    assert_eq!(notes.len(), 1, "the agents hear of her note: {:?}", desk.smtp.messages());
    assert_eq!(notes[0].1.subject, format!("{tag} CRM note (S3, Acme Corporation): Printer offline"));
}
