//! Escalation to the Engineering, Operations, Hosting and Account teams (`#escalate`), by
//! mail through Dovecot and the SMTP receiver.

use std::sync::atomic::{AtomicUsize, Ordering};

use supportd::mail::ParsedMessage;

use super::{Desk, MARKER, event_kinds, normalise};
use crate::support::smtp::header;

pub(super) const TEAMS: &str = "\n[[team]]\nname = \"hosting\"\naddress = \"hosting@example.com\"\n\n\
                     [[team]]\nname = \"engineering\"\naddress = \"engineering@example.com\"\n\
                     title = \"Engineering\"\n";

/// An unknown team is refused like any invalid command: nothing applied, nothing relayed,
/// and the agent's one error mail lists the teams there are.
#[tokio::test(flavor = "multi_thread")]
async fn escalating_to_an_unknown_team_applies_nothing_and_lists_the_teams() {
    let desk = Desk::start(|c| c + TEAMS).await;
    let tag = desk.customer_writes(1, "Checkout times out").await;
    let before = desk.sent_to("customer1@acme.example").len();
    desk.agent_replies(&tag, "#escalate nowhere Database server unreachable\n#priority urgent\nOn it.").await;
    let case = desk.case(&tag);
    assert_eq!(case["priority"], "normal", "nothing applied: {case}");
    assert_eq!(desk.sent_to("customer1@acme.example").len(), before, "nothing relayed");
    assert!(desk.sent_to("hosting@example.com").is_empty() && desk.sent_to("engineering@example.com").is_empty());
    assert!(event_kinds(&case).contains(&"commands_rejected".to_owned()), "{case}");
    let errors: Vec<_> =
        desk.sent_to("alice@example.com").into_iter().filter(|(raw, _)| raw.contains("was not applied")).collect();
    assert_eq!(errors.len(), 1, "one error mail");
    let text = normalise(&errors[0].1.text_body);
    assert!(
        text.contains("#escalate nowhere: no [[team]] is named \"nowhere\" (teams: hosting, engineering)"),
        "{text}"
    );
}

const BOB: &str = "\n[[agent]]\nname = \"Bob Jones\"\nemail = \"bob@example.com\"\n";

/// The shipped config with the teams, and breaches copied to the teams a case is with
/// instead of the CRM.
pub(super) fn with_team_breaches(c: String) -> String {
    let shipped = "breach_recipients = [\"agents\", \"crm\", \"escalation\"]";
    assert!(c.contains(shipped), "the shipped breach_recipients");
    c.replace(shipped, "breach_recipients = [\"agents\", \"escalation\", \"team\"]") + TEAMS
}

/// The team's mail: its one brief of `tag`, raw and parsed.
pub(super) fn brief(desk: &Desk, team: &str, tag: &str) -> (String, ParsedMessage) {
    let mut briefs: Vec<_> = desk
        .sent_to(team)
        .into_iter()
        .filter(|(raw, _)| header(raw, "Subject").is_some_and(|s| s.contains(tag) && s.contains("Escalated to")))
        .collect();
    assert_eq!(briefs.len(), 1, "one brief of {tag} to {team}");
    briefs.pop().unwrap()
}

/// Someone answers the team's brief of `tag` from `from`, to `to` (by default the brief's
/// Reply-To), with `body` above the quoted brief.
pub(super) async fn team_answers(desk: &Desk, team: &str, tag: &str, from: &str, to: Option<&str>, body: &str) {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let (raw, _) = brief(desk, team, tag);
    let reply_to = header(&raw, "Reply-To").unwrap();
    let id = header(&raw, "Message-ID").unwrap();
    let subject = header(&raw, "Subject").unwrap();
    let mail = format!(
        "From: {from}\r\nTo: {}\r\nSubject: Re: {subject}\r\nMessage-ID: <team-{}@example.com>\r\n\
         In-Reply-To: {id}\r\nReferences: {id}\r\nDate: Mon, 23 Nov 2026 11:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n\r\n> {MARKER}\r\n> {tag} is escalated\r\n",
        to.unwrap_or(&reply_to),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    desk.server.append(&[mail.into_bytes()]).await;
    desk.run();
}

pub(super) fn escalations(case: &serde_json::Value) -> Vec<serde_json::Value> {
    case["escalations"].as_array().expect("escalations").clone()
}

/// The brief carries what the team needs without the desk (the case tag, the company's
/// reference notes, the SLA clocks, why, the customer's message) and a Reply-To of its own;
/// the customer hears nothing; the case records who escalated to whom and why. Two teams at
/// once, and `#deescalate` ends one.
#[tokio::test(flavor = "multi_thread")]
async fn escalating_briefs_the_team_records_who_and_why_and_deescalate_ends_it() {
    let desk = Desk::start(|c| c + TEAMS).await;
    let tag = desk.customer_writes(1, "Checkout times out").await;
    let before = desk.sent_to("customer1@acme.example").len();
    desk.agent_replies(&tag, "#escalate hosting Database server unreachable\n#escalate engineering").await;

    let (raw, msg) = brief(&desk, "hosting@example.com", &tag);
    let subject = header(&raw, "Subject").unwrap();
    assert!(subject.contains("Escalated to the Hosting team") && subject.contains("Checkout times out"), "{subject}");
    let text = normalise(&msg.text_body);
    for want in [
        "is escalated to the Hosting team by Alice Smith",
        "Why: Database server unreachable",
        "Production site is acme.example; never restart it during US business hours.",
        "Response:   due ",
        "Customer 1 <customer1@acme.example>",
        "The printer on floor 2 shows OFFLINE.",
    ] {
        assert!(text.contains(want), "{want:?} missing from the brief:\n{text}");
    }
    let reply_to = header(&raw, "Reply-To").unwrap();
    let (_, alices, _) = desk.notification(&tag);
    assert!(reply_to.starts_with("support+") && reply_to.ends_with("@example.com"), "{reply_to}");
    assert_ne!(reply_to, alices, "the team has a token of its own");
    let engineering = normalise(&brief(&desk, "engineering@example.com", &tag).1.text_body);
    assert!(
        engineering.contains("is escalated to Engineering by Alice Smith") && !engineering.contains("Why:"),
        "{engineering}"
    );
    assert_eq!(desk.sent_to("customer1@acme.example").len(), before, "the customer is not told");

    let case = desk.case(&tag);
    assert_eq!(case["with_teams"], serde_json::json!(["hosting", "engineering"]), "{case}");
    let listed = desk.sandbox.cases().into_iter().find(|c| c["summary"] == "Checkout times out").unwrap();
    assert_eq!(listed["with_teams"], serde_json::json!(["hosting", "engineering"]), "cases list: {listed}");
    let all = escalations(&case);
    assert_eq!(all[0]["team"], "hosting");
    assert_eq!(all[0]["by"], "agent:alice@example.com");
    assert_eq!(all[0]["reason"], "Database server unreachable");
    assert!(all[0]["since"].is_string() && all[0]["until"].is_null(), "{case}");
    let escalated: Vec<_> = case["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "escalated").collect();
    assert_eq!(escalated.len(), 2, "{case}");
    assert_eq!(escalated[0]["new_value"], "hosting");
    assert_eq!(escalated[0]["detail"], "Database server unreachable");

    desk.agent_replies(&tag, "#deescalate engineering").await;
    let case = desk.case(&tag);
    assert_eq!(case["with_teams"], serde_json::json!(["hosting"]), "{case}");
    assert_eq!(desk.sent_to("customer1@acme.example").len(), before, "a reply of commands only tells her nothing");
    let ended = &escalations(&case)[1];
    assert_eq!(ended["team"], "engineering");
    assert_eq!(ended["ended_by"], "agent:alice@example.com");
    assert!(ended["until"].is_string(), "{case}");
    assert!(event_kinds(&case).contains(&"escalation_ended".to_owned()));
}

/// The team's answer is an internal note for the assigned agent only, never relayed; a
/// forged answer (the team's From without its token) changes nothing and tells no one;
/// `#return` ends the escalation.
#[tokio::test(flavor = "multi_thread")]
async fn the_teams_answer_is_a_note_for_the_agent_and_return_ends_the_escalation() {
    let desk = Desk::start(|c| c + TEAMS + BOB).await;
    let tag = desk.customer_writes(1, "Checkout times out").await;
    desk.agent_replies(&tag, "#assign me\n#escalate hosting Database server unreachable").await;
    let to_customer = desk.sent_to("customer1@acme.example").len();
    let answers = |who: &str| {
        desk.sent_to(who)
            .into_iter()
            .filter(|(raw, _)| header(raw, "Subject").is_some_and(|s| s.contains("Team answer")))
            .count()
    };

    team_answers(
        &desk,
        "hosting@example.com",
        &tag,
        "Hosting <hosting@example.com>",
        Some("support@example.com"),
        "#return all fine, forged",
    )
    .await;
    let case = desk.case(&tag);
    assert_eq!(case["with_teams"], serde_json::json!(["hosting"]), "a forged #return changes nothing: {case}");
    assert!(event_kinds(&case).contains(&"unverified_team_reply".to_owned()), "{case}");
    assert_eq!(answers("alice@example.com"), 0, "a forged answer tells no one");

    team_answers(
        &desk,
        "hosting@example.com",
        &tag,
        "Hosting <hosting@example.com>",
        None,
        "The database disk was full; we are moving it.",
    )
    .await;
    let case = desk.case(&tag);
    let note = case["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["text_body"].as_str().unwrap().contains("disk was full") && m["from"] == "hosting@example.com");
    let note = note.unwrap_or_else(|| panic!("the answer is on the case: {case}"));
    assert_eq!(note["internal"], true, "{note}");
    assert_eq!(desk.sent_to("customer1@acme.example").len(), to_customer, "nothing relayed to the customer");
    assert_eq!(answers("alice@example.com"), 1, "the assigned agent hears of it");
    assert_eq!(answers("bob@example.com"), 0, "only the assigned agent");
    let (raw, notice) = desk
        .sent_to("alice@example.com")
        .into_iter()
        .find(|(raw, _)| header(raw, "Subject").is_some_and(|s| s.contains("Team answer")))
        .unwrap();
    assert_eq!(
        header(&raw, "Subject").unwrap(),
        format!("{tag} Team answer (S3, Acme Corporation): Checkout times out")
    );
    let (_, alices, _) = desk.notification(&tag);
    assert_eq!(header(&raw, "Reply-To").unwrap(), alices, "Alice's own reply address: she can answer it");
    let text = normalise(&notice.text_body);
    assert!(text.contains("The team's answer") && text.contains("The database disk was full"), "{text}");
    assert!(!text.contains("is escalated"), "the quoted brief is cut: {text}");
    assert_eq!(case["with_teams"], serde_json::json!(["hosting"]));

    team_answers(
        &desk,
        "hosting@example.com",
        &tag,
        "Hosting <hosting@example.com>",
        None,
        "#return Moved to a bigger disk.",
    )
    .await;
    let case = desk.case(&tag);
    assert_eq!(case["with_teams"], serde_json::json!([]), "{case}");
    let done = &escalations(&case)[0];
    assert_eq!(done["ended_by"], "team:hosting@example.com");
    assert_eq!(done["end_note"], "Moved to a bigger disk.");
    assert_eq!(desk.sent_to("customer1@acme.example").len(), to_customer, "still nothing relayed");
    assert_eq!(answers("alice@example.com"), 2);
}

/// With no `account` team, account matters go to the company's CRM, threaded back to the case.
#[tokio::test(flavor = "multi_thread")]
async fn escalating_to_account_without_an_account_team_reaches_the_crm() {
    let desk = Desk::start(|c| c + TEAMS).await;
    let tag = desk.customer_writes(1, "Renewal of our contract").await;
    desk.agent_replies(&tag, "#escalate account The customer asks about renewal terms").await;
    let (raw, msg) = brief(&desk, "carol@example.com", &tag);
    assert!(header(&raw, "To").unwrap().contains("Carol CRM"), "{raw}");
    assert!(normalise(&msg.text_body).contains("Why: The customer asks about renewal terms"));
    let case = desk.case(&tag);
    assert_eq!(case["with_teams"], serde_json::json!(["account"]), "{case}");

    // The CRM answers as CRMs do (a note for the agents), and `#return` hands the case back.
    let to_customer = desk.sent_to("customer1@acme.example").len();
    team_answers(
        &desk,
        "carol@example.com",
        &tag,
        "Carol CRM <carol@example.com>",
        None,
        "#return Renewal terms sent.",
    )
    .await;
    let case = desk.case(&tag);
    assert_eq!(case["with_teams"], serde_json::json!([]), "{case}");
    assert_eq!(escalations(&case)[0]["end_note"], "Renewal terms sent.");
    assert!(event_kinds(&case).contains(&"crm_note".to_owned()), "{case}");
    assert_eq!(desk.sent_to("customer1@acme.example").len(), to_customer, "nothing relayed to the customer");
}

/// Support's targets keep running while a case is with a team: the breach names the team,
/// and with "team" in `breach_recipients` the team (and only the one it is with) gets it.
#[tokio::test(flavor = "multi_thread")]
async fn a_breach_on_an_escalated_case_names_the_team_and_copies_it() {
    let desk = Desk::start(with_team_breaches).await;
    let tag = desk.customer_writes(1, "Checkout times out").await;
    desk.agent_replies(&tag, "#escalate hosting Database server unreachable").await;
    desk.run_at(chrono::Utc::now() + chrono::Duration::days(7));
    let alerts: Vec<(String, ParsedMessage)> = desk
        .smtp
        .messages()
        .into_iter()
        .filter(|raw| header(raw, "Message-ID").is_some_and(|id| id.contains(".alert-breach")))
        .map(|raw| {
            let parsed = supportd::mail::parse(raw.as_bytes()).unwrap();
            (raw, parsed)
        })
        .collect();
    // Both targets lapsed a week later: one mail names the worse, as ever (Alice's own, and
    // the desk's other addresses').
    let subjects: Vec<&String> = alerts.iter().map(|a| &a.1.subject).collect();
    assert_eq!(alerts.len(), 2, "Alice's breach mail and the desk's: {subjects:?}");
    assert!(alerts.iter().any(|(raw, _)| header(raw, "To").unwrap().contains("alice@example.com")), "{subjects:?}");
    let (raw, msg) = alerts.iter().find(|(raw, _)| !header(raw, "To").unwrap().contains("alice@")).unwrap();
    let to = header(raw, "To").unwrap();
    assert!(to.contains("hosting@example.com") && to.contains("support-lead@example.com"), "{to}");
    assert!(!to.contains("engineering@example.com"), "only the team the case is with: {to}");
    let text = normalise(&msg.text_body);
    assert!(text.contains("Escalated to the Hosting team (since "), "{text}");
    assert!(text.contains("the target is still Support's"), "{text}");
}

/// `cases escalate` and `cases deescalate` are the command-line twins of the commands, and
/// `cases show` says whom the case is with and since when.
#[tokio::test(flavor = "multi_thread")]
async fn cases_escalate_and_deescalate_work_from_the_command_line() {
    let desk = Desk::start(|c| c + TEAMS).await;
    let tag = desk.customer_writes(1, "Checkout times out").await;
    let number = tag.trim_start_matches("[Case #").trim_end_matches(']').to_owned();
    let run = |args: &[&str]| {
        let out = desk.sandbox.run(args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, err) = run(&["cases", "escalate", &number, "nowhere", "--as", "alice"]);
    assert_eq!(code, Some(65), "{err}");
    assert!(err.contains("no [[team]] is named \"nowhere\" (teams: hosting, engineering)"), "{err}");

    let (code, out, err) =
        run(&["cases", "escalate", &number, "hosting", "--as", "alice", "--reason", "Database server unreachable"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("escalated; nothing was sent to the customer"), "{out}");
    desk.run();
    let (_, msg) = brief(&desk, "hosting@example.com", &tag);
    assert!(normalise(&msg.text_body).contains("Why: Database server unreachable"));
    let (_, shown, _) = run(&["cases", "show", &number]);
    assert!(
        shown.contains("with hosting since ") && shown.contains("(by Alice Smith): Database server unreachable"),
        "{shown}"
    );

    let (code, _, err) = run(&["cases", "deescalate", &number, "engineering", "--as", "alice"]);
    assert_eq!(code, Some(65), "{err}");
    assert!(err.contains("this case is not with engineering (it is with hosting)"), "{err}");
    let (code, _, err) = run(&["cases", "deescalate", &number, "--as", "alice"]);
    assert_eq!(code, Some(0), "{err}");
    let (_, shown, _) = run(&["cases", "show", &number]);
    assert!(shown.contains("was with hosting from ") && shown.contains("ended by Alice Smith"), "{shown}");
    assert_eq!(desk.case(&tag)["with_teams"], serde_json::json!([]));
}

/// A reply that escalates and has text for the customer relays the text, as any reply does.
#[tokio::test(flavor = "multi_thread")]
async fn an_escalating_reply_with_text_relays_the_text_to_the_customer() {
    let desk = Desk::start(|c| c + TEAMS).await;
    let tag = desk.customer_writes(1, "Checkout times out").await;
    let before = desk.sent_to("customer1@acme.example").len();
    desk.agent_replies(&tag, "#escalate engineering Stack trace attached\nWe have asked our engineers to look at it.")
        .await;
    let to_her = desk.sent_to("customer1@acme.example");
    assert_eq!(to_her.len(), before + 1, "the relay");
    let text = normalise(&to_her.last().unwrap().1.text_body);
    assert!(text.contains("We have asked our engineers to look at it.") && !text.contains("#escalate"), "{text}");
    assert!(!text.contains("Stack trace attached"), "the reason is for the team: {text}");
    brief(&desk, "engineering@example.com", &tag);
}
