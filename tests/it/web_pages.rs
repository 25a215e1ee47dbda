//! The live view and the case pages as a support lead sees them: opened in headless
//! Chromium while `supportd run` reads a real Dovecot mailbox and sends through the SMTP
//! receiver. A breached case is marked in words and colour, internal notes are marked, and
//! a customer's `<script>` and `<img onerror>` stay text: the browser runs nothing.

use std::time::Duration;

use chrono::Utc;

use crate::agent_mail::{Desk, customer};
use crate::support::browser::{dump_dom, screenshot};
use crate::support::http::{get, get_via_proxy};
use crate::support::sandbox::Daemon;

/// Script that, if it ever ran, would leave its mark on the page.
const XSS: &str =
    "<script>document.body.dataset.xss='script'</script><img src=x onerror=\"document.body.dataset.xss='img'\">";

/// The part of `dom` inside `<section id="{id}">`.
fn section<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom.find(&format!("<section id=\"{id}\"")).unwrap_or_else(|| panic!("no section {id} in {dom}"));
    let rest = &dom[start..];
    &rest[..rest.find("</section>").expect("the section ends")]
}

fn ran_nothing(dom: &str) {
    assert!(!dom.contains("data-xss"), "a payload ran: {dom}");
    assert!(!dom.contains("<script") && !dom.contains("<img"), "a payload became an element: {dom}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_live_view_and_case_pages_show_the_desk_in_a_browser_and_run_no_customer_script() {
    let desk = Desk::start(|c| c.replace("[http]\n", "[http]\npublic_url = \"https://desk.example.com/\"\n")).await;
    desk.server.append(&[customer(1, &format!("Site down {XSS}"), &format!("Our home page is blank. {XSS}"))]).await;
    desk.run();
    desk.server.append(&[customer(2, "[S4] Printer offline", "The printer on floor 2 shows OFFLINE.")]).await;
    desk.run();
    let tag = "[Case #000002]";
    desk.agent_replies(tag, "We are looking at the printer now.").await;
    desk.agent_replies(tag, "#note\nTheir print server's certificate expired; asked ops.").await;

    let (notified, _) = desk.sent_to("alice@example.com").into_iter().find(|(raw, _)| raw.contains("000002")).unwrap();
    assert!(notified.contains("Case page: https://desk.example.com/cases/000002"), "a link to the page: {notified}");

    // Two weeks on, the first case's response target has long lapsed; the second was answered.
    let later = (Utc::now() + chrono::Duration::days(14)).to_rfc3339();
    let mut run = desk.sandbox.cmd(&["run"]);
    run.env("SUPPORTD_NOW", &later).env("SUPPORTD_SCHEDULER__ESCALATIONS", "* * * * * *");
    let mut daemon = Daemon::spawn(run);
    let addr = daemon.web_address();
    daemon.wait_for("IMAP connected", Duration::from_secs(60));

    let reply = get(&addr, "/", None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.header("content-type").is_some_and(|t| t.starts_with("text/html")));
    let csp = reply.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "no script may run: {csp}");
    assert_eq!(get_via_proxy(&addr, "/").status, 200, "a header does not make a proxy: the peer does");

    let live = dump_dom(&format!("http://{addr}/"));
    assert!(live.contains("data-case=\"000001\"") && live.contains("data-case=\"000002\""), "{live}");
    let breached = section(&live, "breached");
    assert!(breached.contains("<tr class=\"case breached\" data-case=\"000001\">"), "{breached}");
    assert!(breached.contains("<strong>Breached</strong> first response"), "said in words: {breached}");
    assert!(!breached.contains("000002"), "the answered case is not breached: {breached}");
    assert!(live.contains("http-equiv=\"refresh\""), "the view refreshes itself");
    assert!(live.contains("Site down &lt;script&gt;document.body.dataset.xss"), "the subject is shown as text");
    ran_nothing(&live);
    // The links as the page has them, followed from where the page is.
    assert!(live.contains("<link rel=\"stylesheet\" href=\"style.css\">"), "{live}");
    assert!(live.contains("<a href=\"cases/000001\">000001</a>"), "{live}");
    let css = get(&addr, "/style.css", None);
    assert!(css.status == 200 && css.header("content-type").is_some_and(|t| t.starts_with("text/css")));
    assert!(section(&live, "queues").contains("Unassigned (2)"), "{live}");
    assert!(section(&live, "at-risk").contains("No case has been warned of"), "both are breached or met");
    // What the outbox holds now depends on the scheduler's ticks (breach alerts, a month's
    // reports when the fortnight crosses one): its counts are shown, whatever they are.
    assert!(section(&live, "outbox").contains("sent: <strong>"), "{live}");
    screenshot(&format!("http://{addr}/"), "live-view.png", "1280,2400");
    screenshot(&format!("http://{addr}/"), "live-view-phone.png", "390,1600");

    let first = dump_dom(&format!("http://{addr}/cases/000001"));
    assert!(first.contains("Our home page is blank. &lt;script&gt;"), "the body is shown as text: {first}");
    assert!(section(&first, "targets").contains("Breached"), "{first}");
    ran_nothing(&first);
    assert!(first.contains("<link rel=\"stylesheet\" href=\"../style.css\">"), "from /cases/: {first}");
    screenshot(&format!("http://{addr}/cases/000001"), "case-000001.png", "1280,2400");

    let second = dump_dom(&format!("http://{addr}/cases/000002"));
    let messages = section(&second, "messages");
    assert_eq!(messages.matches("Internal note</strong>").count(), 1, "one note among the messages: {messages}");
    let note = &messages[messages.find("Internal note").unwrap()..];
    assert!(note.contains("certificate expired"), "the note is the one marked: {messages}");
    assert!(messages.contains("We are looking at the printer now."), "{messages}");
    assert!(section(&second, "targets").contains("<strong>Met</strong> first response"), "{second}");
    assert_eq!(get(&addr, "/cases/999999", None).status, 404);

    // The breach alerts: the desk's links to the case page, the CRM's (no reference notes) does not.
    daemon.wait_for("to=carol@example.com subject=[Case #000001]", Duration::from_secs(60));
    daemon.wait_for("to=alice@example.com", Duration::from_secs(60));
    let alert = |to: &str| {
        desk.sent_to(to).into_iter().map(|(raw, _)| raw).find(|raw| raw.contains("target breached")).expect("an alert")
    };
    assert!(alert("alice@example.com").contains("Case page: https://desk.example.com/cases/000001"));
    assert!(!alert("carol@example.com").contains("desk.example.com/cases"), "the CRM's copy has no link");
    assert_eq!(get(&addr, "/cases/..%2Fetc", None).status, 400);
}

/// The colour Chromium computes for each clock's label in rows of every state, with the
/// shipped stylesheet and the case-line partial's markup: a clock's own state decides its
/// colour, so "On track" is green in a breached or warned row too.
#[test]
fn a_clock_is_coloured_by_its_own_state_whatever_its_row() {
    let css = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/web/style.css")).unwrap();
    let partial =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/partials/case_line.html.hbs")).unwrap();
    assert!(
        partial.contains("<tr class=\"case {{state}}\"") && partial.contains("<div class=\"clock {{state}}\"><strong>")
    );
    let mut rows = String::new();
    for row in ["breached", "warned", "soon", "ok", "missed"] {
        for clock in ["ok", "breached", "warned", "missed"] {
            rows.push_str(&format!(
                "<tr class=\"case {row}\"><td><div class=\"clock {clock}\"><strong id=\"{row}-{clock}\">x</strong></div></td></tr>"
            ));
        }
    }
    let page = format!(
        "<!doctype html><html><head><style>{css}</style></head><body><table>{rows}</table><script>\
         for (const s of document.querySelectorAll('strong')) s.dataset.color = getComputedStyle(s).color;\
         </script></body></html>"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clocks.html");
    std::fs::write(&file, page).unwrap();
    let dom = dump_dom(&format!("file://{}", file.display()));
    let colour = |id: &str| {
        let at = dom.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no {id} in {dom}"));
        let tag = &dom[dom[..at].rfind('<').unwrap()..];
        let from = tag.find("data-color=\"").expect("a computed colour") + "data-color=\"".len();
        tag[from..from + tag[from..].find('"').unwrap()].to_owned()
    };
    // --ok #1b6e1b, --warned #8a5a00, --breached #b00020.
    let (green, amber, red) = ("rgb(27, 110, 27)", "rgb(138, 90, 0)", "rgb(176, 0, 32)");
    for row in ["breached", "warned", "soon", "ok", "missed"] {
        assert_eq!(colour(&format!("{row}-ok")), green, "On track in a {row} row");
        assert_eq!(colour(&format!("{row}-warned")), amber, "Warning in a {row} row");
        assert_eq!(colour(&format!("{row}-breached")), red, "Breached in a {row} row");
        assert_eq!(colour(&format!("{row}-missed")), red, "Missed in a {row} row");
    }
}
