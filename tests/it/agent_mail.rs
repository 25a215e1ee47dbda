//! Agents work by email, end to end through a real Dovecot (IMAP) and a real SMTP receiver:
//! a new case notifies the agents, their replies (as Outlook, Gmail, Apple Mail and
//! Thunderbird quote) reach the customer without the quoted notification, commands change
//! the case all together or not at all, and forged replies change nothing.

mod bounce;
mod crm_reply;
mod csm_request;
mod escalation;
mod escalation_hostile;
mod limit;
mod readers;
mod regrade;
mod report_request;

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use supportd::mail::{ParsedMessage, parse};

use crate::support::smtp::header;
use crate::support::{Backend, Sandbox, TestMailServer, TestSmtp};

mod alerts;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/agent_replies");
const MARKER: &str = "##- Please type your reply above this line -##";

/// A desk reading a Dovecot mailbox and sending through the SMTP receiver.
pub struct Desk {
    pub server: TestMailServer,
    pub smtp: TestSmtp,
    pub sandbox: Sandbox,
}

impl Desk {
    pub async fn start(edit: impl FnOnce(String) -> String) -> Desk {
        let server = TestMailServer::start();
        let smtp = TestSmtp::start();
        let sandbox = Sandbox::as_shipped(Backend::Sqlite).await;
        sandbox.set_outbound(&smtp.outbound_toml());
        sandbox.edit_config(|c| edit(c + &server.mailbox_toml("plain", "")));
        Desk { server, smtp, sandbox }
    }

    pub fn run(&self) {
        let out = self.sandbox.run(&["run", "--once"]);
        assert!(out.status.success(), "run --once: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn run_at(&self, now: DateTime<Utc>) {
        let out = self.sandbox.cmd(&["run", "--once"]).env("SUPPORTD_NOW", now.to_rfc3339()).output().unwrap();
        assert!(out.status.success(), "run --once: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Every message the SMTP receiver got to `to`, raw and parsed.
    pub fn sent_to(&self, to: &str) -> Vec<(String, ParsedMessage)> {
        self.smtp
            .messages()
            .into_iter()
            .filter(|raw| header(raw, "To").is_some_and(|t| t.contains(to)))
            .map(|raw| {
                let parsed = parse(raw.as_bytes()).expect("sent mail parses");
                (raw, parsed)
            })
            .collect()
    }

    /// A customer writes in and the desk runs: returns the case tag of the new case.
    pub async fn customer_writes(&self, n: usize, subject: &str) -> String {
        self.server.append(&[customer(n, subject, "The printer on floor 2 shows OFFLINE.")]).await;
        self.run();
        let case = self.sandbox.cases().into_iter().find(|c| c["summary"] == subject).expect("the case");
        format!("[Case #{}]", case["number"].as_str().unwrap())
    }

    /// Alice's notification of the case `tag`: (Message-ID, Reply-To, subject).
    pub fn notification(&self, tag: &str) -> (String, String, String) {
        let (raw, _) = self
            .sent_to("alice@example.com")
            .into_iter()
            .find(|(raw, _)| header(raw, "Subject").is_some_and(|s| s.contains(tag) && s.contains("New case")))
            .unwrap_or_else(|| panic!("no notification of {tag}: {:?}", self.smtp.messages()));
        let id = header(&raw, "Message-ID").unwrap().trim_matches(['<', '>']).to_owned();
        (id, header(&raw, "Reply-To").unwrap(), header(&raw, "Subject").unwrap())
    }

    /// Alice answers the notification of `tag` with `body` above the quoted notification.
    pub async fn agent_replies(&self, tag: &str, body: &str) {
        self.agent_replies_with(tag, body, "").await;
    }

    async fn agent_replies_with(&self, tag: &str, body: &str, extra_headers: &str) {
        self.server.append(&[self.agent_reply(tag, None, body, extra_headers)]).await;
        self.run();
    }

    /// Alice's answer to the notification of `tag`, above the quoted notification, sent to
    /// `to` (by default the notification's Reply-To).
    pub fn agent_reply(&self, tag: &str, to: Option<&str>, body: &str, extra_headers: &str) -> Vec<u8> {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let (id, reply_to, subject) = self.notification(tag);
        let to = to.unwrap_or(&reply_to);
        format!(
            "{extra_headers}From: Alice Smith <alice@example.com>\r\nTo: {to}\r\nSubject: Re: {subject}\r\n\
             Message-ID: <agent-{}@example.com>\r\nIn-Reply-To: <{id}>\r\nReferences: <{id}>\r\n\
             Date: Mon, 23 Nov 2026 10:20:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
             {body}\r\n\r\nOn Mon, 23 Nov 2026 at 10:05, Support <support@example.com> wrote:\r\n\
             > {MARKER}\r\n>\r\n> New case {tag} from Customer\r\n",
            SEQ.fetch_add(1, Ordering::Relaxed)
        )
        .into_bytes()
    }

    pub fn case(&self, tag: &str) -> serde_json::Value {
        let number = tag.trim_start_matches("[Case #").trim_end_matches(']');
        let out = self.sandbox.run(&["cases", "show", number, "--format", "json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

pub fn customer(n: usize, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Customer {n} <customer{n}@acme.example>\r\nTo: support@example.com\r\nCc: Boss <boss@acme.example>\r\n\
         Subject: {subject}\r\nMessage-ID: <customer-{n}-{}@acme.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        subject.len()
    )
    .into_bytes()
}

pub fn event_kinds(case: &serde_json::Value) -> Vec<String> {
    case["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
}

/// The new text of each client's reply, as the customer must receive it.
const CLIENTS: &[(&str, &str)] = &[
    (
        "outlook.eml",
        "Hello,\n\nPlease restart the print spooler on PRN-02 – that clears the queue. Let us know if it doesn’t.\n\nKind regards,\nAlice",
    ),
    ("gmail.eml", "Hi,\n\nWe have reset the printer queue; it should print again within a few minutes.\n\nAlice"),
    ("apple_mail.eml", "The printer driver needed an update — done now, please try again.\n\nAlice"),
    (
        "thunderbird.eml",
        "Thanks for the details. We have restarted the spooler service; the queue \nis empty again.\n\nAlice",
    ),
];

fn fixture(name: &str, tag: &str, summary: &str, notify_id: &str, reply_to: &str, n: usize) -> Vec<u8> {
    std::fs::read_to_string(format!("{FIXTURES}/{name}"))
        .expect("fixture")
        .replace("{{TAG}}", tag)
        .replace("{{SUMMARY}}", summary)
        .replace("{{NOTIFY_ID}}", notify_id)
        .replace("{{REPLY_TO}}", reply_to)
        .replace("{{N}}", &n.to_string())
        .into_bytes()
}

/// Each client's quote header (and the quoted marker under it) is cut, without a server.
#[test]
fn each_clients_quoting_is_cut_at_the_marker_and_its_attribution() {
    for (n, (name, want)) in CLIENTS.iter().enumerate() {
        let raw =
            fixture(name, "[Case #000001]", "Printer offline", "notify-1@example.com", "support+t@example.com", n);
        let msg = parse(&raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = supportd::threading::new_text(&msg.text_body, Some(MARKER));
        assert_eq!(normalise(got), normalise(want), "{name}");
    }
}

/// Line endings and format=flowed soft breaks aside.
pub fn normalise(s: &str) -> String {
    s.replace("\r\n", "\n").lines().map(str::trim_end).collect::<Vec<_>>().join("\n").trim().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn agents_hear_of_new_cases_and_their_replies_reach_the_customer_without_the_quote() {
    let desk = Desk::start(|c| c).await;
    for (n, (name, want)) in CLIENTS.iter().enumerate() {
        let summary = format!("Printer offline {n}");
        let tag = desk.customer_writes(n, &summary).await;
        let (notify_id, reply_to, _) = desk.notification(&tag);
        let (raw, notice) = desk
            .sent_to("alice@example.com")
            .into_iter()
            .find(|(raw, _)| raw.contains(&notify_id))
            .expect("notification");
        assert!(notice.text_body.starts_with(MARKER), "the marker comes first: {}", notice.text_body);
        assert!(notice.text_body.contains("never restart it during US business hours"), "reference notes");
        assert!(notice.text_body.contains("The printer on floor 2 shows OFFLINE."), "the customer's message");
        assert!(reply_to.starts_with("support+") && reply_to.ends_with("@example.com"), "{reply_to}");
        assert_eq!(header(&raw, "Auto-Submitted").as_deref(), Some("auto-generated"));

        desk.server.append(&[fixture(name, &tag, &summary, &notify_id, &reply_to, n)]).await;
        desk.run();
        let to_customer: Vec<_> = desk
            .sent_to(&format!("customer{n}@acme.example"))
            .into_iter()
            .filter(|(raw, _)| header(raw, "Auto-Submitted").is_none())
            .collect();
        assert_eq!(to_customer.len(), 1, "{name}: one reply relayed");
        let (raw, relay) = &to_customer[0];
        assert_eq!(header(raw, "From").as_deref(), Some("\"Alice Smith via Support\" <support@example.com>"), "{name}");
        assert_eq!(header(raw, "Reply-To").as_deref(), Some("support@example.com"), "no token, no agent address");
        assert!(header(raw, "Subject").unwrap().starts_with(&tag), "{name}: the case tag");
        let parent = format!("<customer-{n}-{}@acme.example>", summary.len());
        assert_eq!(header(raw, "In-Reply-To").as_deref(), Some(parent.as_str()), "{name}");
        assert!(header(raw, "References").unwrap().contains(&parent), "{name}");
        assert!(header(raw, "Cc").is_some_and(|cc| cc.contains("boss@acme.example")), "remembered Cc");
        assert!(!raw.contains("alice@example.com"), "{name}: the agent's address is not exposed");
        let text = normalise(&relay.text_body);
        assert!(text.starts_with(&normalise(want)), "{name}: {text}");
        assert!(!text.contains("Please type your reply") && !text.contains("Reference notes"), "{name}: {text}");
        assert!(!text.contains("wrote:") && !text.contains("From: Support"), "{name}: {text}");

        let case = desk.case(&tag);
        assert_eq!(case["status"], "open");
        assert!(case["first_response_at"].is_string(), "the relay is the first response");
        let states: Vec<&str> = case["sla"].as_array().unwrap().iter().map(|t| t["state"].as_str().unwrap()).collect();
        assert_eq!(states.first(), Some(&"met"), "{states:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_change_the_case_each_with_an_event() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Export fails").await;
    let commands = "#severity S2\n#type Bug\n#priority high\n#assign me\n#category data\n#client-config\n\
                    #time 45m consultancy\n#solution Re-ran the nightly export\n#status resolved\n\
                    The export ran again and your file is ready.";
    desk.agent_replies(&tag, commands).await;
    let case = desk.case(&tag);
    assert_eq!(case["severity"], "S2");
    assert_eq!(case["case_type"], "Bug");
    assert_eq!(case["priority"], "high");
    assert_eq!(case["assignee"], "alice@example.com");
    assert_eq!(case["error_category"], "Data", "written as the configured category");
    assert_eq!(case["client_config"], true);
    assert_eq!(case["solution"], "Re-ran the nightly export");
    assert_eq!(case["status"], "resolved");
    let kinds = event_kinds(&case);
    for kind in ["severity", "type", "client_config", "priority", "assignee", "category", "solution", "time", "status"]
    {
        let event = case["events"].as_array().unwrap().iter().find(|e| e["kind"] == kind);
        let event = event.unwrap_or_else(|| panic!("no {kind} event in {kinds:?}"));
        assert_eq!(event["actor"], "agent:alice@example.com", "{kind}");
        assert!(event["new_value"].is_string(), "{kind}: old and new values");
    }
    // 45 consultancy minutes at 150/h against a budget kept in standard hours at 100/h.
    assert_eq!(case["time"][0]["minutes"], 45);
    assert_eq!(case["time"][0]["rate"], "consultancy");
    assert_eq!(case["time"][0]["budget_hours"], 1.125);
    // Resolved with a solution: the customer gets the resolution notice, carrying the text.
    let sent = desk.sent_to("customer1@acme.example");
    let (raw, resolution) = sent.iter().find(|(raw, _)| raw.contains("Resolved:")).expect("resolution notice");
    assert!(header(raw, "Subject").unwrap().starts_with(&format!("{tag} Resolved:")));
    assert!(resolution.text_body.contains("Re-ran the nightly export"));
    assert!(resolution.text_body.contains("The export ran again and your file is ready."), "{}", resolution.text_body);
    assert!(!resolution.text_body.contains("#status"), "commands are not relayed");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_command_applies_nothing_relays_nothing_and_tells_the_agent() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Slow dashboard").await;
    let before = desk.sent_to("customer1@acme.example").len();
    desk.agent_replies(&tag, "#priority urgent\n#status sleeping\n#assign nobody\nWe are on it.").await;
    let case = desk.case(&tag);
    assert_eq!(case["priority"], "normal", "nothing applied");
    assert_eq!(case["status"], "new");
    assert!(case["assignee"].is_null());
    assert_eq!(desk.sent_to("customer1@acme.example").len(), before, "nothing relayed");
    let errors: Vec<_> =
        desk.sent_to("alice@example.com").into_iter().filter(|(raw, _)| raw.contains("was not applied")).collect();
    assert_eq!(errors.len(), 1);
    let text = &errors[0].1.text_body;
    assert!(text.contains("#status sleeping") && text.contains("#assign nobody"), "each problem listed: {text}");
    assert!(!text.contains("#priority urgent:"), "the valid command is not a problem: {text}");
    assert!(event_kinds(&case).contains(&"commands_rejected".to_owned()));
    let stored = case["messages"].as_array().unwrap().iter().find(|m| m["direction"] == "agent").expect("kept");
    assert_eq!(stored["internal"], true);
}

/// `#time 1e10h60m` was once 59 minutes (a float cast and a wrapping add): now a duration
/// out of its grammar or above a day's work records nothing, and the agent hears why.
#[tokio::test(flavor = "multi_thread")]
async fn an_impossible_time_entry_records_nothing_and_the_agent_hears_why() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Report totals wrong").await;
    desk.agent_replies(&tag, "#time 1e10h60m\n#time 25h consultancy\nLooking into it.").await;
    let case = desk.case(&tag);
    assert_eq!(case["time"].as_array().map(Vec::len), Some(0), "no time entry: {}", case["time"]);
    let errors: Vec<_> =
        desk.sent_to("alice@example.com").into_iter().filter(|(raw, _)| raw.contains("was not applied")).collect();
    assert_eq!(errors.len(), 1);
    let text = &errors[0].1.text_body;
    assert!(text.contains("#time 1e10h60m: expected a duration such as 45m, 1h30m or 1.5h"), "{text}");
    assert!(text.contains("#time 25h consultancy: \"25h\" is too long: at most 24 hours"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_note_relays_nothing() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Login loop").await;
    let before = desk.sent_to("customer1@acme.example").len();
    desk.agent_replies(&tag, "#note\n#time 30m\nLooks like their SSO certificate expired; checking with ops.").await;
    assert_eq!(desk.sent_to("customer1@acme.example").len(), before, "a note is not relayed");
    let case = desk.case(&tag);
    assert!(case["first_response_at"].is_null(), "a note is no response");
    assert_eq!(case["time"][0]["budget_hours"], 0.5);
    let note = case["messages"].as_array().unwrap().iter().find(|m| m["direction"] == "agent").expect("stored");
    assert_eq!(note["internal"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_agent_replies_change_nothing_and_relay_nothing() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Invoice question").await;
    for to in ["support+0000000000deadbeef00@example.com", "support@example.com"] {
        let forged = desk.agent_reply(&tag, Some(to), "#status closed\n#priority low\nPlease pay to IBAN XX00.", "");
        desk.server.append(&[forged]).await;
        desk.run();
    }
    let case = desk.case(&tag);
    assert_eq!(case["status"], "new");
    assert_eq!(case["priority"], "normal");
    assert!(desk.sent_to("customer1@acme.example").iter().all(|(raw, _)| !raw.contains("IBAN")), "nothing relayed");
    let warnings = desk.sent_to("alice@example.com").into_iter().filter(|(r, _)| r.contains("was not applied")).count();
    assert_eq!(warnings, 2, "the real agent hears of each");
    let unverified = event_kinds(&case).iter().filter(|k| *k == "unverified_reply").count();
    assert_eq!(unverified, 2);
}

/// Forged `Authentication-Results`, each what a forger can make the trusted server write (a
/// quoted MAIL FROM local part, a comment) or write himself (a header below the server's, or
/// only headers of other servers): the commands change nothing and nothing is relayed. The
/// genuine header still passes, so the table cannot pass by refusing everything.
#[tokio::test(flavor = "multi_thread")]
async fn forged_authentication_results_change_nothing_and_relay_nothing() {
    let desk = Desk::start(|c| {
        c.replace("verify = \"token\"", "verify = \"auth-results\"")
            .replace("# authserv_id = \"mx.example.com\"", "authserv_id = \"mx.example.com\"")
    })
    .await;
    let tag = desk.customer_writes(1, "Password reset").await;
    let forged: &[(&str, &str)] = &[
        (
            "a quoted value holding \"; dkim=pass\"",
            "Authentication-Results: mx.example.com; spf=fail \
             smtp.mailfrom=\"x@evil.test; dkim=pass header.d=example.com\"\r\n",
        ),
        (
            "a comment holding dkim=pass behind an escaped parenthesis",
            "Authentication-Results: mx.example.com; dkim=fail (bad signature \\) ; dkim=pass header.d=example.com) \
             header.d=example.com\r\n",
        ),
        (
            "a comment holding dkim=pass",
            "Authentication-Results: mx.example.com; dkim=fail (dkim=pass header.d=example.com) header.d=example.com\r\n",
        ),
        (
            "a forged header below the trusted one",
            "Authentication-Results: mx.example.com; dkim=fail header.d=example.com; dmarc=fail\r\n\
             Authentication-Results: mx.example.com; dkim=pass header.d=example.com\r\n",
        ),
        (
            "no header from the trusted server",
            "Authentication-Results: mx.evil.test; dkim=pass header.d=example.com; dmarc=pass header.from=example.com\r\n\
             Authentication-Results: (mx.example.com) mx.evil.test; dkim=pass header.d=example.com\r\n",
        ),
    ];
    for (n, (what, headers)) in forged.iter().enumerate() {
        let body = format!("#status closed\n#priority low\nForged text {n}: pay to IBAN XX00.");
        desk.agent_replies_with(&tag, &body, headers).await;
        let case = desk.case(&tag);
        assert_eq!((&case["status"], &case["priority"]), (&"new".into(), &"normal".into()), "{what}: nothing applied");
        let relayed = desk.sent_to("customer1@acme.example").into_iter().filter(|(raw, _)| raw.contains("Forged text"));
        assert_eq!(relayed.count(), 0, "{what}: nothing relayed");
        let unverified = event_kinds(&case).iter().filter(|k| *k == "unverified_reply").count();
        assert_eq!(unverified, n + 1, "{what}: recorded as unverified");
    }
    let genuine = "Authentication-Results: mx.example.com; dkim=pass header.d=example.com header.s=sel\r\n";
    desk.agent_replies_with(&tag, "#priority high\nWe have reset it; check your inbox.", genuine).await;
    assert_eq!(desk.case(&tag)["priority"], "high", "a genuine reply's commands apply");
    assert!(
        desk.sent_to("customer1@acme.example").iter().any(|(_, m)| m.text_body.contains("We have reset it")),
        "a genuine reply is relayed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_reply_stops_the_response_clock_and_pending_pauses_resolution() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Checkout broken").await;
    let case = desk.case(&tag);
    let respond_due: DateTime<Utc> = case["first_response_due"].as_str().unwrap().parse().unwrap();
    desk.agent_replies(&tag, "Looking into it now.").await;
    // Well past the response target: no warning and no breach follows the answer.
    desk.run_at(respond_due + chrono::Duration::hours(30));
    let alerts = desk.smtp.messages().into_iter().filter(|m| m.contains("first response")).count();
    assert_eq!(alerts, 0, "answered in time: no alert");

    let config = supportd::config::Config::load(&desk.sandbox.path("daemon.toml")).unwrap();
    let cal = &config.calendar;
    let resolve_due: DateTime<Utc> = desk.case(&tag)["resolution_due"].as_str().unwrap().parse().unwrap();
    let paused_at = respond_due + chrono::Duration::hours(31);
    let pending = desk.agent_reply(&tag, None, "#status pending\nCould you send us the browser console output?", "");
    desk.server.append(&[pending]).await;
    desk.run_at(paused_at);
    assert_eq!(desk.case(&tag)["status"], "pending");
    let resumed_at = paused_at + chrono::Duration::days(4);
    desk.server.append(&[customer(1, &format!("Re: {tag} Checkout broken"), "Here is the console output.")]).await;
    desk.run_at(resumed_at);
    let case = desk.case(&tag);
    assert_eq!(case["status"], "open", "the customer's reply sets it open again");
    let new_due: DateTime<Utc> = case["resolution_due"].as_str().unwrap().parse().unwrap();
    let left_when_paused = cal.business_between(paused_at, resolve_due);
    assert_eq!(cal.business_between(resumed_at, new_due), left_when_paused, "the paused time is excluded");
    assert!(new_due > resolve_due);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_assigned_agent_hears_follow_ups_attachments_are_relayed_and_resolved_cases_close() {
    let desk = Desk::start(|c| {
        let alice = "email = \"alice@example.com\"\n";
        c.replace(alice, &format!("{alice}\n[[agent]]\nname = \"Bob Jones\"\nemail = \"bob@example.com\"\n"))
    })
    .await;
    let tag = desk.customer_writes(1, "Report layout").await;
    assert_eq!(desk.sent_to("bob@example.com").len(), 1, "every agent hears of a new case");
    // Alice takes the case and sends a file.
    let (id, reply_to, subject) = desk.notification(&tag);
    let with_file = format!(
        "From: Alice Smith <alice@example.com>\r\nTo: {reply_to}\r\nSubject: Re: {subject}\r\n\
         Message-ID: <agent-file@example.com>\r\nIn-Reply-To: <{id}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         #assign me\r\nThe corrected template is attached.\r\n--b1\r\nContent-Type: application/pdf\r\n\
         Content-Disposition: attachment; filename=\"layout.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         JVBERi0xLjQKJcfsj6IK\r\n--b1--\r\n"
    );
    desk.server.append(&[with_file.into_bytes()]).await;
    desk.run();
    let (_, relay) = desk.sent_to("customer1@acme.example").into_iter().last().expect("relayed");
    assert!(relay.text_body.contains("The corrected template is attached."));
    assert_eq!(relay.attachments.len(), 1);
    assert_eq!(relay.attachments[0].filename.as_deref(), Some("layout.pdf"));
    assert_eq!(relay.attachments[0].data, b"%PDF-1.4\n%\xc7\xec\x8f\xa2\n");

    // The customer follows up: only the assigned agent hears of it.
    let follow_up = customer(1, &format!("Re: {tag} Report layout"), "Thanks, the footer is still wrong.");
    desk.server.append(&[follow_up]).await;
    desk.run();
    let to_alice = desk.sent_to("alice@example.com");
    let (_, notice) = to_alice.iter().find(|(raw, _)| raw.contains("Customer reply")).expect("Alice is told");
    assert!(notice.text_body.contains("Thanks, the footer is still wrong."));
    assert_eq!(desk.sent_to("bob@example.com").len(), 1, "Bob is not assigned");

    // Resolved, then silence for longer than auto_close_after_days (7): closed.
    desk.agent_replies(&tag, "#solution Fixed the footer\n#status resolved").await;
    let case = desk.case(&tag);
    assert_eq!(case["status"], "resolved");
    desk.run_at(Utc::now() + chrono::Duration::days(6));
    assert_eq!(desk.case(&tag)["status"], "resolved");
    desk.run_at(Utc::now() + chrono::Duration::days(8));
    let case = desk.case(&tag);
    assert_eq!(case["status"], "closed");
    assert!(event_kinds(&case).contains(&"auto_close".to_owned()));
}
