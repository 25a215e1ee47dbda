//! One truth for a target: a case closed with no response reads missed or breached in
//! `cases show`, `report cases` (CSV and JSON), `report sla` and `/api/cases/N` alike, never
//! met, and is not counted as responded. And the report's times: one zone in a column, and a
//! last update that counts an agent's internal note and time entry.

use chrono::{DateTime, Timelike, Utc};
use std::collections::BTreeMap;

use crate::agent_mail::{Desk, customer, event_kinds};
use crate::support::http::get;
use crate::support::sandbox::Daemon;
use crate::support::{Backend, Sandbox, csv_table};

/// When everything is read: Wednesday 2 December 2026, 12:00 UTC.
const NOW: &str = "2026-12-02T12:00:00Z";

/// Opens an Acme case by phone at `received`, as alice, with no first response.
fn open(sandbox: &Sandbox, received: &str, severity: &str, summary: &str) {
    let args = ["cases", "open", "--channel", "phone", "--company", "acme", "--contact", "jane@acme.example"];
    let rest = ["--summary", summary, "--severity", severity, "--received-at", received, "--as", "alice"];
    sandbox.run_at(received, &[&args[..], &rest[..]].concat());
}

/// Each case's response target as a view words it, reduced to its first word.
type Verdicts = BTreeMap<String, String>;

fn first_word(s: &str) -> String {
    s.split([' ', ':']).next().unwrap_or_default().to_owned()
}

fn response_state(case: &serde_json::Value) -> String {
    let sla = case["sla"].as_array().unwrap_or_else(|| panic!("no targets: {case}"));
    let respond = sla.iter().find(|t| t["target"] == "respond").expect("a response target");
    respond["state"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_closed_without_a_response_reads_missed_in_every_view_on_sqlite() {
    closed_without_a_response_reads_missed_in_every_view_and_is_not_counted_as_responded(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_closed_without_a_response_reads_missed_in_every_view_on_postgres() {
    closed_without_a_response_reads_missed_in_every_view_and_is_not_counted_as_responded(Backend::Postgres).await;
}

async fn closed_without_a_response_reads_missed_in_every_view_and_is_not_counted_as_responded(backend: Backend) {
    let sandbox = Sandbox::new(backend).await;
    // 1: S3, due to be answered by Monday 17:00; closed at 10:00 without a word.
    open(&sandbox, "2026-11-30T09:00:00Z", "S3", "Closed early");
    sandbox.run_at("2026-11-30T10:00:00Z", &["cases", "update", "1", "--as", "alice", "--status", "closed"]);
    // 2: S1, due to be answered by 10:00; closed at 11:00 without a word.
    open(&sandbox, "2026-11-30T09:00:00Z", "S1", "Closed late");
    sandbox.run_at("2026-11-30T11:00:00Z", &["cases", "update", "2", "--as", "alice", "--status", "closed"]);
    // 3: S3 answered in half an hour, so that every view is seen to say met when it is.
    open(&sandbox, "2026-11-30T09:00:00Z", "S3", "Answered");
    let log = ["cases", "log", "3", "--channel", "phone", "--as", "alice", "--text", "Called back"];
    sandbox.run_at("2026-11-30T09:30:00Z", &log);
    // 4: S2, opened this morning and not answered yet: its response target still runs.
    open(&sandbox, "2026-12-02T10:00:00Z", "S2", "Still running");
    let want: Verdicts =
        [("000001", "missed"), ("000002", "breached"), ("000003", "met")].map(|(n, s)| (n.into(), s.into())).into();

    let mut show = Verdicts::new();
    for n in ["000001", "000002", "000003"] {
        let json: serde_json::Value =
            serde_json::from_str(&sandbox.run_at(NOW, &["cases", "show", n, "--format", "json"])).unwrap();
        show.insert(n.into(), response_state(&json));
    }
    assert_eq!(show, want, "cases show --format json");
    let text = sandbox.run_at(NOW, &["cases", "show", "1"]);
    let respond = text.lines().find(|l| l.trim_start().starts_with("respond")).expect("the response line");
    assert!(respond.contains("missed: closed without a response (7 h before it was due)"), "{text}");
    assert!(!respond.contains("left"), "a closed case has no time left: {respond}");
    assert!(!text.contains("business min"), "times are worded as everywhere else: {text}");

    // `cases list` gives the due time only while the target runs; else how it ended.
    let list = sandbox.run_at(NOW, &["cases", "list"]);
    let column = list.lines().next().unwrap().find("RESPOND BY").unwrap_or_else(|| panic!("{list}"));
    let respond_by = |n: &str| {
        let row = list.lines().find(|l| l.starts_with(n)).unwrap_or_else(|| panic!("{n}: {list}"));
        first_word(&row[column..])
    };
    let listed: Verdicts = ["000001", "000002", "000003"].map(|n| (n.to_owned(), respond_by(n))).into();
    assert_eq!(listed, want, "cases list: {list}");
    assert_eq!(respond_by("000004"), "2026-12-02", "a running target shows its due time: {list}");
    // A day later it has lapsed unanswered: the due time says so.
    let later = sandbox.run_at("2026-12-03T12:00:00Z", &["cases", "list"]);
    let row = later.lines().find(|l| l.starts_with("000004")).unwrap_or_else(|| panic!("{later}"));
    assert!(row[column..].starts_with("2026-12-02 14:00 GMT (breached)"), "{later}");

    // The terminal table has room for the word, not a cut reason.
    let table = sandbox.run_at(NOW, &["report", "cases", "--company", "acme"]);
    let column = table.lines().next().unwrap().find("RESPONSE").unwrap_or_else(|| panic!("{table}"));
    let row = table.lines().find(|l| l.starts_with("000001")).unwrap_or_else(|| panic!("{table}"));
    assert_eq!(first_word(&row[column..]), "missed", "{table}");
    assert!(!table.contains('…'), "nothing is cut: {table}");

    let (_, rows) = csv_table(&sandbox.run_at(NOW, &["report", "cases", "--format", "csv"]));
    let csv: Verdicts = rows
        .iter()
        .filter(|r| r["Case Number"] != "000004")
        .map(|r| (r["Case Number"].clone(), first_word(&r["Response Target"])))
        .collect();
    assert_eq!(csv, want, "report cases --format csv: {rows:?}");
    assert_eq!(rows[0]["Response Target"], "missed (closed without response)");
    let json: serde_json::Value =
        serde_json::from_str(&sandbox.run_at(NOW, &["report", "cases", "--format", "json"])).unwrap();
    let report_json: Verdicts = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["case_number"].as_str().unwrap().to_owned(), r["response_target"].as_str().unwrap().to_owned()))
        .filter(|(n, _)| n != "000004")
        .collect();
    assert_eq!(report_json, want, "report cases --format json");

    let (_, sla) = csv_table(&sandbox.run_at(NOW, &["report", "sla", "--format", "csv"]));
    let line = |sev: &str| sla.iter().find(|r| r["Severity"] == sev).unwrap_or_else(|| panic!("{sev}: {sla:?}"));
    let responded = |sev: &str| {
        let l = line(sev);
        (l["Responses Met"].as_str(), l["Responses Decided"].as_str(), l["Responses Met %"].as_str())
    };
    assert_eq!(responded("S3"), ("1", "2", "50.0"), "only the answered S3 case responded: {sla:?}");
    assert_eq!(responded("S1"), ("0", "1", "0.0"), "{sla:?}");
    let missed = |sev: &str| (line(sev)["Breaches"].as_str(), line(sev)["Closed Unanswered"].as_str());
    assert_eq!(missed("S3"), ("0", "1"), "closed unanswered before it was due: missed, not breached");
    assert_eq!(missed("S1"), ("1", "0"), "closed unanswered after it was due: breached");
    let json: serde_json::Value =
        serde_json::from_str(&sandbox.run_at(NOW, &["report", "sla", "--format", "json"])).unwrap();
    let s3 = json.as_array().unwrap().iter().find(|l| l["severity"] == "S3").expect("an S3 line");
    assert_eq!((&s3["breaches"], &s3["closed_unanswered"]), (&0.into(), &1.into()), "report sla --format json");
    let table = sandbox.run_at(NOW, &["report", "sla", "--company", "acme"]);
    assert!(table.lines().next().unwrap().ends_with("CLOSED UNANSWERED"), "{table}");

    // The monthly report says the same.
    let send = ["report", "send", "acme", "--month", "2026-11", "--to", "lead@example.com"];
    sandbox.run_at(NOW, &send);
    sandbox.run_at(NOW, &["run", "--once"]);
    let report = sandbox.outbox_messages().into_iter().find(|m| m.contains("Message-ID: <supportd.report."));
    let mail = supportd::mail::parse(report.expect("the report mail").as_bytes()).unwrap();
    let s3 = mail.text_body.lines().find(|l| l.contains("S3:")).map(str::to_owned);
    let s3 = s3.unwrap_or_else(|| panic!("an S3 line: {}", mail.text_body));
    assert!(s3.contains("; 0 target(s) breached; 1 closed without a response"), "{s3}");
    let html = mail.html_body.unwrap_or_default();
    assert!(html.contains(">Breaches</th><th align=\"left\">Closed without a response</th>"), "{html}");

    let mut run = sandbox.cmd(&["run"]);
    run.env("SUPPORTD_NOW", NOW);
    let mut daemon = Daemon::spawn(run);
    let addr = daemon.web_address();
    let mut api = Verdicts::new();
    for n in ["000001", "000002", "000003"] {
        let reply = get(&addr, &format!("/api/cases/{n}"), None);
        assert_eq!(reply.status, 200, "{}", reply.body);
        api.insert(n.into(), response_state(&serde_json::from_str(&reply.body).unwrap()));
    }
    assert_eq!(api, want, "/api/cases/N");
}

/// `"02-Dec-2026 10:00:00 +0000"`: an IMAP INTERNALDATE, the time a message arrived.
fn internal_date(t: DateTime<Utc>) -> String {
    format!("\"{}\"", t.format("%d-%b-%Y %H:%M:%S +0000"))
}

/// Appends `raw` to the desk's INBOX as having arrived at `t` (Dovecot keeps a past
/// INTERNALDATE; the desk takes a message's arrival from it), and reads it a minute later.
async fn arrives(desk: &Desk, raw: &[u8], t: DateTime<Utc>) {
    let mut imap = desk.server.client().await;
    imap.append("INBOX", None, Some(&internal_date(t)), raw).await.expect("APPEND");
    imap.logout().await.ok();
    let read = (t + chrono::Duration::minutes(1)).to_rfc3339();
    let out = desk.sandbox.cmd(&["run", "--once"]).env("SUPPORTD_NOW", read).output().unwrap();
    assert!(out.status.success(), "run --once: {}", String::from_utf8_lossy(&out.stderr));
}

/// The last update of the only case in Acme's report.
fn last_update(desk: &Desk) -> DateTime<chrono::FixedOffset> {
    let args = ["report", "cases", "--company", "acme", "--format", "json"];
    let out = desk.sandbox.run(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    DateTime::parse_from_rfc3339(json[0]["last_update"].as_str().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_last_update_counts_an_internal_note_and_a_time_entry() {
    let desk = Desk::start(|c| c).await;
    let today = Utc::now().with_nanosecond(0).unwrap();
    let day = |n: i64| today - chrono::Duration::days(n);
    arrives(&desk, &customer(1, "Printer offline", "The printer shows OFFLINE."), day(3)).await;
    let tag = "[Case #000001]";
    let opened = last_update(&desk);
    assert_eq!(opened, day(3) + chrono::Duration::minutes(1), "read a minute after it arrived");
    // Alice's note arrives two days ago: the case's last update.
    arrives(&desk, &desk.agent_reply(tag, None, "#note\nAsked ops about the print server.", ""), day(2)).await;
    let noted = last_update(&desk);
    assert_eq!(noted, day(2), "the note is the last update");
    assert_eq!(noted.offset().local_minus_utc(), -5 * 3600, "in Acme's New York time");
    // Her time a day ago: the time entry is.
    arrives(&desk, &desk.agent_reply(tag, None, "#time 45m", ""), day(1)).await;
    let case = desk.case(tag);
    let entries = case["time"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "the time entry was recorded: {case}");
    assert_eq!(entries[0]["agent_name"], "Alice Smith", "{case}");
    let show = desk.sandbox.run(&["cases", "show", "1"]);
    let show = String::from_utf8(show.stdout).unwrap();
    let time = show.lines().skip_while(|l| *l != "Time:").nth(1).unwrap_or_else(|| panic!("{show}"));
    assert!(time.contains(" Alice Smith 45m "), "named, not by address: {time}");
    let entry_at = DateTime::parse_from_rfc3339(entries[0]["at"].as_str().unwrap()).unwrap();
    assert!(entry_at >= day(1), "{entry_at}");
    assert_eq!(last_update(&desk), entry_at, "the time entry is the last update");
    let notes = case["messages"].as_array().unwrap().iter().filter(|m| m["internal"] == true).count();
    assert_eq!(notes, 2, "the note and the time are internal: {case}");
    // The CRM's note, twelve hours ago, is an internal note too: the last update.
    let crm = "From: Carol CRM <carol@example.com>\r\nTo: support@example.com\r\n\
               Subject: Re: [Case #000001] Printer offline\r\nMessage-ID: <crm-note@example.com>\r\n\
               Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nThey renew next week.\r\n";
    let half_a_day = today - chrono::Duration::hours(12);
    arrives(&desk, crm.as_bytes(), half_a_day).await;
    assert!(event_kinds(&desk.case(tag)).contains(&"crm_note".to_owned()), "{}", desk.case(tag));
    assert_eq!(last_update(&desk), half_a_day, "the CRM's note is the last update");
}

/// Agents are named by their names: `cases list` has the assignee, the pages show the name
/// with the address on hover, and JSON has both.
#[tokio::test(flavor = "multi_thread")]
async fn lists_and_pages_name_the_assigned_agent() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.edit_config(|c| c + "\n[[team]]\nname = \"hosting\"\naddress = \"hosting@example.com\"\n");
    open(&sandbox, "2026-11-30T09:00:00Z", "S3", "Printer offline");
    sandbox.run_at("2026-11-30T09:10:00Z", &["cases", "update", "1", "--as", "alice", "--assign", "alice"]);
    sandbox.run_at("2026-11-30T09:20:00Z", &["cases", "escalate", "1", "hosting", "--as", "alice"]);
    sandbox.run_at("2026-11-30T09:30:00Z", &["cases", "deescalate", "1", "--as", "alice"]);
    let list = sandbox.run_at(NOW, &["cases", "list"]);
    let header = list.lines().next().unwrap();
    let row = list.lines().find(|l| l.starts_with("000001")).unwrap_or_else(|| panic!("{list}"));
    let column = header.find("ASSIGNEE").unwrap_or_else(|| panic!("an assignee column: {list}"));
    assert!(row[column..].starts_with("Alice Smith "), "{list}");
    let json: serde_json::Value =
        serde_json::from_str(&sandbox.run_at(NOW, &["cases", "list", "--format", "json"])).unwrap();
    assert_eq!(
        (json[0]["assignee"].as_str(), json[0]["assignee_name"].as_str()),
        (Some("alice@example.com"), Some("Alice Smith"))
    );
    // The events say who: her name in the table, her address in JSON as written.
    let show = sandbox.run_at(NOW, &["cases", "show", "1"]);
    let events: Vec<&str> = show.lines().skip_while(|l| *l != "Events:").skip(1).collect();
    assert!(events.iter().any(|l| l.contains(" Alice Smith opened")), "{show}");
    assert!(!events.iter().any(|l| l.contains("alice@example.com")), "named, not by address: {show}");
    // So do the escalations: who sent the case to the team, and who ended it.
    let escalation = show.lines().find(|l| l.contains("was with hosting")).unwrap_or_else(|| panic!("{show}"));
    assert!(escalation.contains("(by Alice Smith, ended by Alice Smith)"), "{escalation}");
    let shown: serde_json::Value =
        serde_json::from_str(&sandbox.run_at(NOW, &["cases", "show", "1", "--format", "json"])).unwrap();
    assert_eq!(
        (shown["events"][0]["actor"].as_str(), shown["events"][0]["actor_name"].as_str()),
        (Some("agent:alice@example.com"), Some("Alice Smith")),
        "{shown}"
    );
    let escalated = &shown["escalations"][0];
    assert_eq!(
        [&escalated["by"], &escalated["by_name"], &escalated["ended_by"], &escalated["ended_by_name"]],
        ["agent:alice@example.com", "Alice Smith", "agent:alice@example.com", "Alice Smith"],
        "{shown}"
    );

    let mut run = sandbox.cmd(&["run"]);
    run.env("SUPPORTD_NOW", NOW);
    let mut daemon = Daemon::spawn(run);
    let addr = daemon.web_address();
    let named = "<span title=\"alice@example.com\">Alice Smith</span>";
    let live = get(&addr, "/", None).body;
    assert!(live.contains(named), "the case's row: {live}");
    assert!(live.contains(" title=\"alice@example.com\">Alice Smith (1)</a>"), "her queue, a link to it: {live}");
    let page = get(&addr, "/cases/000001", None).body;
    assert!(page.contains(named), "{page}");
    assert!(!page.contains(">alice@example.com<"), "never the bare address: {page}");
    let events = &page[page.find("<section id=\"events\">").expect("the events")..];
    assert!(events.contains(&format!("<td data-label=\"Who\">{named}</td>")), "{events}");
    assert!(events.contains(">assignee: Alice Smith<"), "{events}");
    let escalations = &page[page.find("<section id=\"escalations\">").expect("the escalations")..];
    let escalations = &escalations[..escalations.find("</section>").unwrap()];
    assert!(escalations.contains("<li>hosting since "), "{escalations}");
    assert!(escalations.contains(&format!(", by {named}; ended ")), "{escalations}");
    assert!(escalations.contains(&format!(" by {named}</li>")), "who ended it: {escalations}");
    assert!(!escalations.contains("agent:"), "{escalations}");
    assert!(!events.contains("agent:alice") && !events.contains(">alice@example.com"), "{events}");
}

/// A notification after the first response keeps its due time and says the target was met
/// (it read "Response: 8 business hours, due met").
#[tokio::test(flavor = "multi_thread")]
async fn a_follow_up_notification_says_the_response_target_was_met_by_its_due_time() {
    let desk = Desk::start(|c| c).await;
    let tag = desk.customer_writes(1, "Printer offline").await;
    desk.agent_replies(&tag, "We are looking at the printer now.").await;
    desk.server.append(&[customer(1, &format!("Re: {tag} Printer offline"), "It is still offline.")]).await;
    desk.run();
    let follow_up = desk
        .sent_to("alice@example.com")
        .into_iter()
        .map(|(_, m)| m.text_body)
        .find(|t| t.contains("It is still offline."))
        .unwrap_or_else(|| panic!("a follow-up notification: {:?}", desk.smtp.messages()));
    let response = follow_up.lines().find(|l| l.starts_with("Response:")).expect("a response line");
    assert!(!response.contains("due met"), "{response}");
    assert!(response.contains(", due ") && response.ends_with("(met)"), "{response}");
}

/// The report mail words a median under an hour in minutes (a two-minute first response
/// read "median first response 0 h").
#[tokio::test(flavor = "multi_thread")]
async fn the_report_mail_words_a_short_median_in_minutes() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    open(&sandbox, "2026-11-02T10:00:00Z", "S1", "Checkout down");
    let log = ["cases", "log", "1", "--channel", "phone", "--as", "alice", "--text", "Called back"];
    sandbox.run_at("2026-11-02T10:02:00Z", &log);
    let send = ["report", "send", "acme", "--month", "2026-11", "--to", "lead@example.com"];
    sandbox.run_at("2026-12-02T09:00:00Z", &send);
    sandbox.run_at("2026-12-02T09:00:00Z", &["run", "--once"]);
    let report = sandbox
        .outbox_messages()
        .into_iter()
        .find(|m| m.contains("Message-ID: <supportd.report."))
        .expect("the report mail");
    let text = supportd::mail::parse(report.as_bytes()).unwrap().text_body;
    let line = text.lines().find(|l| l.contains("S1:")).unwrap_or_else(|| panic!("an S1 line: {text}"));
    assert!(line.contains("median first response 2 min,"), "{line}");
}

/// Each target's (state, due) in `cases show` at `now`.
fn targets_at(sandbox: &Sandbox, n: &str, now: &str) -> BTreeMap<String, (String, String)> {
    let case: serde_json::Value =
        serde_json::from_str(&sandbox.run_at(now, &["cases", "show", n, "--format", "json"])).unwrap();
    let sla = case["sla"].as_array().unwrap_or_else(|| panic!("no targets: {case}"));
    let pair = |t: &serde_json::Value| (t["state"].as_str().unwrap().to_owned(), t["due"].as_str().unwrap().to_owned());
    sla.iter().map(|t| (t["target"].as_str().unwrap().to_owned(), pair(t))).collect()
}

fn targets(respond: (&str, &str), resolve: (&str, &str)) -> BTreeMap<String, (String, String)> {
    let due = |s: &str| s.parse::<DateTime<Utc>>().unwrap().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    [("respond", respond), ("resolve", resolve)].map(|(t, (state, at))| (t.into(), (state.into(), due(at)))).into()
}

/// An agent who opens a resolved case again (`cases update --status open`, as `#status open`)
/// opens it as a customer's reply does: the earlier resolution no longer decides the outcome,
/// and the SLA starts afresh. Resolved in time on Monday, reopened on Tuesday and closed the
/// Monday after, past the new due time, the resolution reads breached (it read met, from
/// Monday's `resolved_at`).
#[tokio::test(flavor = "multi_thread")]
async fn an_agent_who_reopens_a_resolved_case_has_its_next_resolution_judged_afresh() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let update =
        |at: &str, args: &[&str]| sandbox.run_at(at, &[&["cases", "update", "1", "--as", "alice"], args].concat());
    // S3 from Monday 30 November 09:00 (London): respond by 17:00, resolve in 3 business days.
    open(&sandbox, "2026-11-30T09:00:00Z", "S3", "Printer offline");
    sandbox.run_at(
        "2026-11-30T09:30:00Z",
        &["cases", "log", "1", "--channel", "phone", "--as", "alice", "--text", "Called back"],
    );
    update("2026-11-30T10:00:00Z", &["--solution", "Restarted the spooler", "--status", "resolved"]);
    let resolved = targets(("met", "2026-11-30T17:00:00Z"), ("met", "2026-12-02T17:00:00Z"));
    assert_eq!(targets_at(&sandbox, "000001", "2026-11-30T12:00:00Z"), resolved);

    update("2026-12-01T10:00:00Z", &["--status", "open"]);
    let reopened = targets(("ok", "2026-12-02T10:00:00Z"), ("ok", "2026-12-04T10:00:00Z"));
    assert_eq!(targets_at(&sandbox, "000001", "2026-12-01T12:00:00Z"), reopened, "both due from Tuesday 10:00");
    let text = sandbox.run_at("2026-12-01T12:00:00Z", &["cases", "show", "1"]);
    let resolve = text.lines().find(|l| l.trim_start().starts_with("resolve")).expect("the resolution line");
    assert!(!resolve.contains("met"), "{text}");

    update("2026-12-07T10:00:00Z", &["--status", "closed"]);
    let closed = targets(("breached", "2026-12-02T10:00:00Z"), ("breached", "2026-12-04T10:00:00Z"));
    assert_eq!(targets_at(&sandbox, "000001", "2026-12-07T12:00:00Z"), closed, "closed past the new due times");
    let (_, rows) = csv_table(&sandbox.run_at("2026-12-07T12:00:00Z", &["report", "cases", "--format", "csv"]));
    assert_eq!(first_word(&rows[0]["Resolution Target"]), "breached", "{rows:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_the_outcomes_cases_show_reads_on_sqlite() {
    metrics_count_the_outcomes_cases_show_reads(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_the_outcomes_cases_show_reads_on_postgres() {
    metrics_count_the_outcomes_cases_show_reads(Backend::Postgres).await;
}

/// `/metrics` counts the open cases' targets by the outcome `cases show` reads, in the edge
/// states: answered in time and late, unanswered past due, running, paused, and lapsed before
/// it paused (once counted as not breached); a case closed unanswered is not open.
async fn metrics_count_the_outcomes_cases_show_reads(backend: Backend) {
    let sandbox = Sandbox::new(backend).await;
    let answer = |n: &str, at: &str| {
        sandbox.run_at(at, &["cases", "log", n, "--channel", "phone", "--as", "alice", "--text", "Called back"]);
    };
    let status = |n: &str, at: &str, s: &str| {
        sandbox.run_at(at, &["cases", "update", n, "--as", "alice", "--status", s]);
    };
    // 1: S3 answered in time; to be resolved by Wednesday 17:00.
    open(&sandbox, "2026-11-30T09:00:00Z", "S3", "Answered");
    answer("1", "2026-11-30T09:30:00Z");
    // 2: S1 due to be answered by 10:00, answered at 11:00; resolution lapsed Monday 17:00.
    open(&sandbox, "2026-11-30T09:00:00Z", "S1", "Answered late");
    answer("2", "2026-11-30T11:00:00Z");
    // 3: S2 to be resolved by Tuesday 17:00, pending only on Wednesday.
    open(&sandbox, "2026-11-30T09:00:00Z", "S2", "Lapsed, then pending");
    answer("3", "2026-11-30T09:30:00Z");
    status("3", "2026-12-02T10:00:00Z", "pending");
    // 4: S2 pending in time.
    open(&sandbox, "2026-12-01T09:00:00Z", "S2", "Pending");
    answer("4", "2026-12-01T09:30:00Z");
    status("4", "2026-12-01T10:00:00Z", "pending");
    // 5: S3 never answered; 6: S3 opened this morning; 7: closed without a response.
    open(&sandbox, "2026-11-30T09:00:00Z", "S3", "Unanswered");
    open(&sandbox, "2026-12-02T09:00:00Z", "S3", "New today");
    open(&sandbox, "2026-11-30T09:00:00Z", "S3", "Closed unanswered");
    status("7", "2026-11-30T10:00:00Z", "closed");

    // What `cases show` reads, counted as /metrics counts: open cases only, "ok" and
    // "warned" are running, and breached-and-not-reached is `cases_breached`.
    let mut shown: BTreeMap<String, f64> = BTreeMap::new();
    for n in 1..=7 {
        let json: serde_json::Value =
            serde_json::from_str(&sandbox.run_at(NOW, &["cases", "show", &n.to_string(), "--format", "json"])).unwrap();
        if json["status"] == "closed" {
            assert_eq!(response_state(&json), "missed", "{json}");
            continue;
        }
        for t in json["sla"].as_array().unwrap() {
            let target = t["target"].as_str().unwrap();
            let outcome = match t["state"].as_str().unwrap() {
                "ok" | "warned" => "running",
                other => other,
            };
            *shown
                .entry(format!("supportd_open_case_targets{{target=\"{target}\",outcome=\"{outcome}\"}}"))
                .or_default() += 1.0;
            if outcome == "breached" && t["settled_at"].is_null() {
                *shown.entry(format!("supportd_cases_breached{{target=\"{target}\"}}")).or_default() += 1.0;
            }
        }
    }
    let want: BTreeMap<String, f64> = [
        ("supportd_open_case_targets{target=\"respond\",outcome=\"met\"}", 3.0),
        ("supportd_open_case_targets{target=\"respond\",outcome=\"breached\"}", 2.0),
        ("supportd_open_case_targets{target=\"respond\",outcome=\"running\"}", 1.0),
        ("supportd_open_case_targets{target=\"resolve\",outcome=\"running\"}", 3.0),
        ("supportd_open_case_targets{target=\"resolve\",outcome=\"breached\"}", 2.0),
        ("supportd_open_case_targets{target=\"resolve\",outcome=\"paused\"}", 1.0),
        ("supportd_cases_breached{target=\"respond\"}", 1.0),
        ("supportd_cases_breached{target=\"resolve\"}", 2.0),
    ]
    .map(|(s, n)| (s.to_owned(), n))
    .into();
    assert_eq!(shown, want, "cases show reads each edge state");

    let mut run = sandbox.cmd(&["run"]);
    run.env("SUPPORTD_NOW", NOW);
    let mut daemon = Daemon::spawn(run);
    let scraped = crate::web::samples(&get(&daemon.web_address(), "/metrics", None).body);
    let counted: BTreeMap<String, f64> = scraped
        .into_iter()
        .filter(|(s, n)| {
            (s.starts_with("supportd_open_case_targets{") || s.starts_with("supportd_cases_breached{")) && *n > 0.0
        })
        .collect();
    assert_eq!(counted, want, "/metrics agrees with cases show");
}

/// A follow-up to a case whose response target lapsed unanswered says so in the agents'
/// notification, not just the due time.
#[tokio::test(flavor = "multi_thread")]
async fn a_follow_up_after_a_lapsed_response_target_says_it_was_breached() {
    let desk = Desk::start(|c| c).await;
    let today = Utc::now().with_nanosecond(0).unwrap();
    arrives(&desk, &customer(1, "Printer offline", "The printer shows OFFLINE."), today - chrono::Duration::days(7))
        .await;
    let follow_up = customer(1, "Re: [Case #000001] Printer offline", "Still nobody?");
    arrives(&desk, &follow_up, today - chrono::Duration::days(1)).await;
    let text = desk
        .sent_to("alice@example.com")
        .into_iter()
        .map(|(_, m)| m.text_body)
        .find(|t| t.contains("Still nobody?"))
        .unwrap_or_else(|| panic!("a follow-up notification: {:?}", desk.smtp.messages()));
    let response = text.lines().find(|l| l.starts_with("Response:")).expect("a response line");
    assert!(response.ends_with("(breached)"), "{response}");
}
