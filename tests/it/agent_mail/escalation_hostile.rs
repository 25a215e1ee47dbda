//! Escalation as a customer, a forger and a busy desk would try it: a token is not an
//! identity, the CRM's brief carries no desk notes, a company change in the same reply
//! briefs the new company's CRM, a team gone from the config is named as what it was, a
//! bounced brief is not blamed on the customer, the brief keeps what the customer said last.

use super::escalation::{TEAMS, brief, escalations, team_answers, with_team_breaches};
use super::{Desk, event_kinds, normalise};
use crate::support::smtp::header;

const GLOBEX: &str = "[[company]]\nname = \"Globex\"\nslug = \"globex\"\ndomains = [\"globex.example\"]\n\
                      crm_name = \"Dave CRM\"\ncrm_email = \"dave@example.com\"\n\
                      notes = \"GLOBEX-INTERNAL: VIP.\"\n\n[budget]\n";

fn subjects_to(desk: &Desk, to: &str, containing: &str) -> usize {
    desk.sent_to(to).iter().filter(|(raw, _)| header(raw, "Subject").is_some_and(|s| s.contains(containing))).count()
}

/// The customer, Cc'd on the team's answer, replies all to the team's token address: she is
/// still the customer (a follow-up for the agent), and her `#return` ends nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_customer_replying_to_the_teams_address_is_still_the_customer() {
    let desk = Desk::start(|c| c + TEAMS).await;
    let tag = desk.customer_writes(1, "Checkout times out").await;
    desk.agent_replies(&tag, "#assign me\n#escalate hosting Database server unreachable").await;
    let (raw, _) = brief(&desk, "hosting@example.com", &tag);
    let token_address = header(&raw, "Reply-To").unwrap();
    let before = subjects_to(&desk, "alice@example.com", "Customer reply");
    let from = "Customer 1 <customer1@acme.example>";
    team_answers(&desk, "hosting@example.com", &tag, from, Some(&token_address), "#return Still broken!").await;
    let case = desk.case(&tag);
    assert_eq!(case["with_teams"], serde_json::json!(["hosting"]), "{case}");
    let hers =
        case["messages"].as_array().unwrap().iter().find(|m| m["text_body"].as_str().unwrap().contains("Still broken"));
    assert_eq!(hers.expect("her message is on the case")["internal"], false);
    assert_eq!(subjects_to(&desk, "alice@example.com", "Customer reply"), before + 1, "a follow-up for the agent");
}

/// The CRM is outside the desk: its brief has no reference notes (as its alerts have none).
/// `#company` in the same reply makes it the new company's CRM. A forged `#return` (the CRM's
/// From, without the company's token) changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn the_crm_brief_is_the_cases_company_and_a_forged_return_changes_nothing() {
    let desk = Desk::start(|c| c.replace("[budget]\n", GLOBEX) + TEAMS).await;
    let tag = desk.customer_writes(1, "Renewal of our contract").await;
    desk.agent_replies(&tag, "#escalate account renewal\n#company globex").await;
    assert!(desk.sent_to("carol@example.com").is_empty(), "not Acme's CRM");
    let (_, msg) = brief(&desk, "dave@example.com", &tag);
    let text = normalise(&msg.text_body);
    assert!(text.contains("Company:    Globex") && !text.contains("GLOBEX-INTERNAL"), "{text}");

    let forged = "Dave CRM <dave@example.com>";
    team_answers(&desk, "dave@example.com", &tag, forged, Some("support@example.com"), "#return done").await;
    let case = desk.case(&tag);
    assert_eq!(case["with_teams"], serde_json::json!(["account"]), "{case}");
    assert!(event_kinds(&case).contains(&"unverified_team_reply".to_owned()), "{case}");
}

/// `#deescalate hosting` then `#escalate hosting` in one reply starts a new escalation; a
/// team removed from the config is still named in alerts, as what it was.
#[tokio::test(flavor = "multi_thread")]
async fn a_team_can_be_briefed_afresh_and_a_removed_team_keeps_its_name() {
    let desk = Desk::start(with_team_breaches).await;
    let tag = desk.customer_writes(1, "Checkout times out").await;
    desk.agent_replies(&tag, "#escalate hosting Database server unreachable").await;
    desk.agent_replies(&tag, "#deescalate hosting\n#escalate hosting It is back").await;
    let case = desk.case(&tag);
    let all = escalations(&case);
    assert_eq!(all.len(), 2, "{case}");
    assert!(all[0]["until"].is_string() && all[1]["until"].is_null(), "{case}");
    assert_eq!(all[1]["reason"], "It is back");

    desk.sandbox.edit_config(|c| c.replace("[[team]]\nname = \"hosting\"\naddress = \"hosting@example.com\"\n", ""));
    desk.run_at(chrono::Utc::now() + chrono::Duration::days(7));
    let alert = desk
        .smtp
        .messages()
        .into_iter()
        .find(|raw| header(raw, "Message-ID").is_some_and(|id| id.contains(".alert-breach")));
    let text = normalise(&supportd::mail::parse(alert.expect("a breach").as_bytes()).unwrap().text_body);
    assert!(text.contains("Escalated to hosting (no [[team]] by that name now)"), "{text}");
}

/// A bounce of the brief says which address failed, not that the customer missed our mail.
#[tokio::test(flavor = "multi_thread")]
async fn a_bounced_brief_names_the_address_that_failed() {
    const BOUNCE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/postfix_bounce_dsn.eml"));
    let desk = Desk::start(|c| c + TEAMS).await;
    let tag = desk.customer_writes(1, "Checkout times out").await;
    desk.agent_replies(&tag, "#assign me\n#escalate hosting Database server unreachable").await;
    let (raw, _) = brief(&desk, "hosting@example.com", &tag);
    let bounce = BOUNCE
        .replace("<supportd.000001.ack.1@example.com>", &header(&raw, "Message-ID").unwrap())
        .replace("[Case #000001] ", "")
        .replace("gone@acme.example", "hosting@example.com");
    desk.server.append(&[bounce.into_bytes()]).await;
    desk.run();
    let (_, notice) = desk
        .sent_to("alice@example.com")
        .into_iter()
        .find(|(r, _)| header(r, "Subject").is_some_and(|s| s.contains("Delivery failure")))
        .expect("a delivery failure notice");
    let text = notice.text_body.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("an email we sent on this case did not arrive"), "{text}");
    assert!(
        text.contains("Final-Recipient: rfc822; hosting@example.com") && !text.contains("the customer did not"),
        "{text}"
    );
}

/// With a small `excerpt_bytes`, the brief spends it on the latest message first.
#[tokio::test(flavor = "multi_thread")]
async fn the_brief_keeps_the_latest_message_when_the_excerpt_is_small() {
    let desk = Desk::start(|c| c.replace("excerpt_bytes = \"64KB\"", "excerpt_bytes = \"300\"") + TEAMS).await;
    desk.server.append(&[super::customer(1, "Checkout times out", &"Old background. ".repeat(40))]).await;
    desk.run();
    let case = desk.sandbox.cases().into_iter().find(|c| c["summary"] == "Checkout times out").unwrap();
    let tag = format!("[Case #{}]", case["number"].as_str().unwrap());
    let latest = super::customer(1, &format!("Re: {tag} Checkout times out"), "LATEST: the site is down for everyone");
    desk.server.append(&[latest]).await;
    desk.run();
    desk.agent_replies(&tag, "#escalate hosting see the latest").await;
    let (_, msg) = brief(&desk, "hosting@example.com", &tag);
    let text = normalise(&msg.text_body);
    assert!(text.contains("LATEST: the site is down for everyone"), "{text}");
    assert!(text.contains("Old background.") && text.contains("some messages are cut short"), "{text}");
}
