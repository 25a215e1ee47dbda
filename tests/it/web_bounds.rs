//! What a page costs does not grow with the backlog: with `[http] page_size = 3` each list of
//! the live view shows three cases, its count and a "more" link whose pages, followed in
//! Chromium to the end, show every case of the list once, most urgent first; `/api/sla` and
//! `/api/cases` page the same way through `Link: rel="next"`, never more than the cap.

use std::collections::BTreeSet;

use crate::support::browser::dump_dom;
use crate::support::http::{Reply, get};
use crate::support::sandbox::Daemon;
use crate::support::{Backend, Sandbox, customer_mail};

/// Received Monday 23 November 2026, 09:00 London; the pages are read at 12:30 that day.
const RECEIVED: &str = "2026-11-23T09:00:00Z";
const NOW: &str = "2026-11-23T12:30:00Z";

/// The severity of cases 1 to 11, in the order they arrive. At 12:30 an S1 (respond within
/// 1 h) is breached, an S2 (4 h, due 13:00) due soon, an S3 (8 h) and an S4 (16 h) on track.
const SEVERITIES: [&str; 11] = ["S3", "S1", "S4", "S2", "S1", "S2", "S3", "S1", "S2", "S1", "S2"];

fn numbers(severity: &str) -> Vec<String> {
    (1..=11).filter(|n| SEVERITIES[n - 1] == severity).map(|n| format!("{n:06}")).collect()
}

async fn desk() -> (Sandbox, Daemon, String) {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    for (i, severity) in SEVERITIES.iter().enumerate() {
        let n = i + 1;
        // Named so that they are read, and numbered, in this order.
        sandbox.deliver_at(&format!("{n:02}.eml"), &customer_mail(n, &format!("[{severity}] Problem {n}")), RECEIVED);
    }
    let out = sandbox.cmd(&["run", "--once"]).env("SUPPORTD_NOW", RECEIVED).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut run = sandbox.cmd(&["run"]);
    // No warning or breach alert moves a case between lists while the test reads them.
    run.env("SUPPORTD_NOW", NOW)
        .env("SUPPORTD_HTTP__PAGE_SIZE", "3")
        .env("SUPPORTD_SCHEDULER__ESCALATIONS", "0 0 3 1 1 *");
    let mut daemon = Daemon::spawn(run);
    let addr = daemon.web_address();
    (sandbox, daemon, addr)
}

/// The part of `dom` inside `<section id="{id}">`.
fn section<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom.find(&format!("<section id=\"{id}\"")).unwrap_or_else(|| panic!("no section {id} in {dom}"));
    let rest = &dom[start..];
    &rest[..rest.find("</section>").expect("the section ends")]
}

/// The case rows of `html`, in order.
fn rows(html: &str) -> Vec<String> {
    html.split("<tr class=\"case ").skip(1).map(|r| r.split("data-case=\"").nth(1).unwrap()[..6].to_owned()).collect()
}

/// The "more" link's address, as the browser resolves it from `/`.
fn more(html: &str) -> Option<String> {
    let at = html.find("rel=\"next\"")?;
    let href = &html[html[..at].rfind("href=\"").expect("the link's href") + 6..];
    Some(href[..href.find('"').unwrap()].replace("&amp;", "&"))
}

/// Every page of a list in Chromium, from the live view's section `id` on: each page's rows.
fn follow(addr: &str, live: &str, id: &str) -> Vec<Vec<String>> {
    let first = section(live, id);
    let mut pages = vec![rows(first)];
    let mut next = more(first);
    while let Some(link) = next {
        assert!(pages.len() < 10, "the pages of {id} never end");
        let dom = dump_dom(&format!("http://{addr}/{link}"));
        let list = section(&dom, "list");
        pages.push(rows(list));
        next = more(list);
    }
    pages
}

fn flat(pages: &[Vec<String>]) -> Vec<String> {
    pages.iter().flatten().cloned().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_list_shows_a_page_with_its_count_and_more_links_that_reach_every_case_once() {
    let (_sandbox, mut daemon, addr) = desk().await;
    let live = dump_dom(&format!("http://{addr}/"));
    assert!(live.contains("http-equiv=\"refresh\""), "the bounded view still refreshes itself");
    for (id, heading) in
        [("breached", "Breached</a> (4)"), ("at-risk", "At risk</a> (4)"), ("open", "Open cases</a> (11)")]
    {
        assert!(section(&live, id).contains(heading), "{id}: {}", section(&live, id));
        assert_eq!(rows(section(&live, id)).len(), 3, "{id} shows a page of 3");
    }

    let breached = follow(&addr, &live, "breached");
    assert_eq!(breached.iter().map(Vec::len).collect::<Vec<_>>(), [3, 1], "{breached:?}");
    assert_eq!(flat(&breached), numbers("S1"), "every breached case once, by due time then number");
    let at_risk = follow(&addr, &live, "at-risk");
    assert_eq!(flat(&at_risk), numbers("S2"), "{at_risk:?}");
    let open = follow(&addr, &live, "open");
    assert_eq!(open.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 3, 2], "{open:?}");
    let want: Vec<String> = ["S1", "S2", "S3", "S4"].iter().flat_map(|s| numbers(s)).collect();
    assert_eq!(flat(&open), want, "most urgent first, no case twice, none left out");
    assert_eq!(flat(&open).into_iter().collect::<BTreeSet<_>>().len(), 11);

    // A list page says where it is and links back; the queue's page is the unassigned cases.
    let queues = section(&live, "queues");
    assert!(queues.contains("href=\"?section=queue&amp;agent=none\">Unassigned (11)</a>"), "{queues}");
    let unassigned = dump_dom(&format!("http://{addr}/?section=queue&agent=none"));
    assert!(unassigned.contains("<h1>Unassigned (11)</h1>"), "{unassigned}");
    assert_eq!(rows(section(&unassigned, "list")), want[..3]);
    let second = get(&addr, &format!("/{}", more(section(&live, "open")).unwrap()), None);
    assert_eq!(second.status, 200);
    assert!(
        second.body.contains("First page</a>") && !second.body.contains("http-equiv=\"refresh\""),
        "{}",
        second.body
    );

    for bad in ["/?section=all", "/?section=open&after=nowhere", "/?page=2", "/?section=queue"] {
        assert_eq!(get(&addr, bad, None).status, 400, "{bad}");
    }
    assert_eq!(get(&addr, "/?section=queue&agent=999", None).status, 404);
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(std::time::Duration::from_secs(10)).expect("exits").success());
}

/// The next page's path, as a client resolves the `Link` of the page at `asked`.
fn next(asked: &str, reply: &Reply) -> Option<String> {
    let link = reply.header("link")?;
    assert!(link.ends_with("; rel=\"next\""), "{link}");
    let target = link.trim_start_matches('<').split('>').next().unwrap();
    assert!(target.starts_with('?'), "only a query, so that it holds under a proxy's path prefix: {link}");
    Some(format!("{}{target}", asked.split('?').next().unwrap()))
}

fn case_numbers(reply: &Reply) -> Vec<String> {
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body));
    rows.iter().map(|c| c["number"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn api_sla_pages_by_link_until_every_open_case_came_once_and_no_list_passes_the_cap() {
    let (_sandbox, mut daemon, addr) = desk().await;
    let all: Vec<String> = (1..=11).map(|n| format!("{n:06}")).collect();
    let mut seen = Vec::new();
    let mut path = Some("/api/sla?limit=4".to_owned());
    let mut remaining = Vec::new();
    while let Some(p) = path {
        let reply = get(&addr, &p, None);
        assert_eq!(reply.status, 200, "{p}: {}", reply.body);
        assert_eq!(reply.header("x-total-count"), Some("11"), "{p}");
        remaining.push(reply.header("x-remaining-count").unwrap().to_owned());
        let page = case_numbers(&reply);
        assert!(page.len() <= 4, "{p}: {page:?}");
        let sla: Vec<serde_json::Value> = serde_json::from_str(&reply.body).unwrap();
        assert!(sla.iter().all(|l| l["sla"].as_array().is_some_and(|t| !t.is_empty())), "each line has its targets");
        seen.extend(page);
        path = next(&p, &reply);
    }
    assert_eq!(seen, all, "every open case once, by number");
    assert_eq!(remaining, ["7", "3", "0"]);

    // Without a limit, `[http] page_size`; never more than the cap, whatever is asked.
    let first = get(&addr, "/api/sla", None);
    assert_eq!(case_numbers(&first), all[..3]);
    assert_eq!(next("/api/sla", &first).as_deref(), Some("/api/sla?after=000003&limit=3"));
    let cases = get(&addr, "/api/cases?status=new", None);
    assert_eq!((case_numbers(&cases), cases.header("x-total-count")), (all[..3].to_vec(), Some("11")));
    assert_eq!(next("/api/cases?status=new", &cases).as_deref(), Some("/api/cases?status=new&after=000003&limit=3"));
    assert_eq!(case_numbers(&get(&addr, "/api/cases?limit=1000", None)).len(), 11);
    for bad in ["/api/sla?limit=1001", "/api/cases?limit=1001", "/api/sla?status=closed", "/api/sla?after=x"] {
        assert_eq!(get(&addr, bad, None).status, 400, "{bad}");
    }
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(std::time::Duration::from_secs(10)).expect("exits").success());
}

/// A customer's follow-ups and a pasted log do not grow a case page: it shows the latest
/// `page_size` messages and the first part of each text, says how many there are and where
/// to read them all; `/api/cases/N` reads the same window.
async fn a_case_page_shows_its_latest_messages_and_the_first_part_of_each_text(backend: Backend) {
    let sandbox = Sandbox::new(backend).await;
    sandbox.deliver_at("00.eml", &customer_mail(1, "Problem"), RECEIVED);
    let follow_ups = ["first-follow-up", "second-follow-up-x", "third-follow-up-xx", "fourth-follow-up-xxx"];
    for (i, word) in follow_ups.iter().enumerate() {
        let mut mail = String::from_utf8(customer_mail(1, &format!("[Case #000001] {word}"))).unwrap();
        if i == 3 {
            mail.push_str(&format!("START-OF-LOG {} END-OF-LOG\r\n", "x".repeat(30_000)));
        }
        sandbox.deliver_at(&format!("{:02}.eml", i + 1), mail.as_bytes(), RECEIVED);
    }
    let out = sandbox.cmd(&["run", "--once"]).env("SUPPORTD_NOW", RECEIVED).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut run = sandbox.cmd(&["run"]);
    run.env("SUPPORTD_NOW", NOW).env("SUPPORTD_HTTP__PAGE_SIZE", "3");
    let mut daemon = Daemon::spawn(run);
    let addr = daemon.web_address();

    let dom = dump_dom(&format!("http://{addr}/cases/000001"));
    let messages = section(&dom, "messages");
    assert_eq!(messages.matches("<article").count(), 3, "{messages}");
    assert!(messages.contains("The latest 3 of 5 messages: `supportd cases show 000001` shows them all."));
    for shown in &follow_ups[1..] {
        assert!(messages.contains(shown), "{shown} is among the latest");
    }
    assert!(!messages.contains("first-follow-up"), "the older ones wait for `cases show`");
    assert!(messages.contains("START-OF-LOG") && !messages.contains("END-OF-LOG"), "the log's first part only");
    assert!(messages.contains("more characters: `supportd cases show 000001` shows the whole message]"));

    let api = get(&addr, "/api/cases/000001", None);
    assert_eq!(api.status, 200, "{}", api.body);
    let case: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(case["messages_total"], 5);
    let texts: Vec<&str> =
        case["messages"].as_array().unwrap().iter().map(|m| m["text_body"].as_str().unwrap()).collect();
    assert_eq!(texts.len(), 3);
    assert!(texts[2].contains("START-OF-LOG") && !texts[2].contains("END-OF-LOG"));
    assert!(case["messages"][2]["body_chars"].as_i64().unwrap() > 30_000);
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(std::time::Duration::from_secs(10)).expect("exits").success());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_page_shows_its_latest_messages_and_the_first_part_of_each_text_on_sqlite() {
    a_case_page_shows_its_latest_messages_and_the_first_part_of_each_text(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_page_shows_its_latest_messages_and_the_first_part_of_each_text_on_postgres() {
    a_case_page_shows_its_latest_messages_and_the_first_part_of_each_text(Backend::Postgres).await;
}
