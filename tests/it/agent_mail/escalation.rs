//! Escalation to the Engineering, Operations, Hosting and Account teams (`#escalate`), by
//! mail through Dovecot and the SMTP receiver.

use super::{Desk, event_kinds, normalise};

const TEAMS: &str = "\n[[team]]\nname = \"hosting\"\naddress = \"hosting@example.com\"\n\n\
                     [[team]]\nname = \"engineering\"\naddress = \"engineering@example.com\"\n";

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
