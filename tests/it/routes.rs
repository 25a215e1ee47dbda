//! `[[route]]` sends a new case's notification to the agents it names, through Dovecot: a
//! Site refresh reaches only the operations agent and is assigned to her, an S1 every agent,
//! and what no route matches every agent as before.

use crate::agent_mail::Desk;
use crate::support::smtp::header;

fn mail(n: usize, subject: &str) -> Vec<u8> {
    format!(
        "From: Customer {n} <customer{n}@acme.example>\r\nTo: support@example.com\r\nSubject: {subject}\r\n\
         Message-ID: <route-{n}@acme.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nPlease help.\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_route_sends_site_refresh_notifications_only_to_the_named_agents() {
    let desk = Desk::start(|c| {
        format!(
            "{c}\n[[agent]]\nname = \"Olga Ops\"\nemail = \"ops@example.com\"\n\n\
             [[route]]\ntype = \"Site refresh\"\nnotify = [\"ops@example.com\"]\nassign = \"ops@example.com\"\n\n\
             [[route]]\nseverity = [\"S1\", \"S2\"]\nnotify = \"all\"\n"
        )
    })
    .await;
    desk.server.append(&[mail(1, "[Site refresh] Staging from production"), mail(2, "[S1] Shop down")]).await;
    desk.server.append(&[mail(3, "How do I export orders?")]).await;
    desk.run();

    let subjects = |to: &str| -> Vec<String> {
        desk.smtp.delivered_to(to).iter().filter_map(|m| header(m, "Subject")).collect::<Vec<_>>()
    };
    let (alice, ops) = (subjects("alice@example.com"), subjects("ops@example.com"));
    let has = |list: &[String], what: &str| list.iter().any(|s| s.contains(what));
    assert!(has(&ops, "Staging from production"), "{ops:?}");
    assert!(!has(&alice, "Staging from production"), "the route names Olga only: {alice:?}");
    for list in [&alice, &ops] {
        assert!(has(list, "Shop down"), "S1: every agent {list:?}");
        assert!(has(list, "How do I export orders?"), "no route: every agent {list:?}");
    }
    let refresh = desk.case("[Case #000001]");
    assert_eq!(refresh["case_type"], "Site refresh");
    assert_eq!(refresh["assignee"], "ops@example.com", "{refresh}");
    assert!(desk.case("[Case #000002]")["assignee"].is_null());
}
