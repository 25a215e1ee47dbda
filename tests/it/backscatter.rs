//! No reply is a weapon (issue 27): a flood of forged senders gets at most the hourly caps of
//! replies, in all and per recipient domain with `+tags` folded; the rest is held back, noted,
//! counted and alarmed once; no reply carries a forger's display name or long subject. And
//! two auto-responders (a customer's, an agent's) stop at the per-case relay limit, while an
//! agent's out-of-office is never relayed.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use supportd::desk::{Desk, FixedClock};
use supportd::metrics::{Kind, metrics};

use crate::support::smtp::header;
use crate::support::{Backend, Sandbox};

/// In every forged display name, and never in a reply.
const NAME_MARKER: &str = "NAMEMARK-q7Zx";
/// At the end of every forged subject, past what a reply may quote of it.
const SUBJECT_TAIL: &str = "SUBJECTTAIL-k3Wv";
const ALL: i64 = 10;
const PER_DOMAIN: i64 = 4;
/// `[outbound] company_domain_mail_per_hour` in these tests.
const COMPANY: i64 = 12;
/// `[intake] ack_limit_per_hour` as shipped.
const ACK_LIMIT: i64 = 10;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

/// The shipped daemon.toml with the caps lowered to 10 an hour and 4 per domain, and health
/// alarms to ops@example.com.
async fn sandbox(who_may_open: &str, backend: Backend) -> Sandbox {
    let sandbox = Sandbox::new(backend).await;
    sandbox.edit_config(|c| {
        let c = c.replace("stranger_mail_per_hour = 100", &format!("stranger_mail_per_hour = {ALL}"));
        let c = c.replace(
            "stranger_mail_per_domain_per_hour = 20",
            &format!("stranger_mail_per_domain_per_hour = {PER_DOMAIN}"),
        );
        assert!(c.contains(&format!("stranger_mail_per_domain_per_hour = {PER_DOMAIN}")), "daemon.toml lists the caps");
        let c = c.replace("who_may_open = \"anyone\"", &format!("who_may_open = \"{who_may_open}\""));
        c.replace("[health]\n", "[health]\nnotify = [\"ops@example.com\"]\n")
    });
    sandbox
}

/// The desk of `sandbox`, in this process (so that its counters can be read), at `now`.
async fn desk(sandbox: &Sandbox, now: DateTime<Utc>) -> Desk {
    let config = supportd::config::Config::load(&sandbox.path("daemon.toml")).unwrap();
    assert_eq!(config.health.notify.len(), 1, "[health] notify is set");
    let templates = supportd::templates::Templates::load(&config.templates_dir).unwrap();
    let mut desk = supportd::app::open_desk(config, templates).await.unwrap();
    desk.clock = Arc::new(FixedClock(now));
    desk
}

/// A forged message from `from`, with a marker in its display name and a long subject.
fn forged(n: usize, from: &str) -> Vec<u8> {
    format!(
        "From: \"Your bank {NAME_MARKER} call +1 555 0100\" <{from}>\r\nTo: support@example.com\r\n\
         Subject: Cheap watches at evil.example, visit now, order {n}, the offer ends soon, and this line goes on \
         and on past what a reply may quote {SUBJECT_TAIL}\r\n\
         Message-ID: <forged-{n}@evil.example>\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nBuy now.\r\n"
    )
    .into_bytes()
}

/// 500 forged senders: 200 `victim+N@one.example`, 300 across 60 other domains.
fn flood(sandbox: &Sandbox) {
    for n in 0..500 {
        let from = match n {
            0..200 => format!("victim+{n}@one.example"),
            _ => format!("forger{n}@d{}.example", n % 60),
        };
        sandbox.drop_mail(&format!("{n:03}.eml"), &forged(n, &from));
    }
}

/// The counters are the process's: tests that read them run one at a time.
static COUNTERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn held_back(kind: &str) -> u64 {
    metrics().stranger_mail_held_back.get_or_create(&Kind { kind: kind.to_owned() }).get()
}

async fn count(sandbox: &Sandbox, sql: &str) -> i64 {
    sandbox.count(sql).await
}

/// Every mail that goes out, by its outbox row: none names the forger or quotes the whole
/// subject, and no domain gets more than its cap (acme's, a company's, has its own).
async fn assert_replies_are_clean(sandbox: &Sandbox, kind: &str) {
    let sent = sandbox.outbox_messages();
    assert!(!sent.is_empty());
    for raw in &sent {
        assert!(!raw.contains(NAME_MARKER), "a reply carries the forger's display name: {raw}");
        assert!(!raw.contains(SUBJECT_TAIL), "a reply quotes the forger's whole subject: {raw}");
    }
    let per_domain = format!(
        "SELECT COUNT(*) FROM (SELECT stranger_domain, COUNT(*) AS n FROM outbox WHERE kind = '{kind}' \
         AND status != 'limited' AND stranger_domain != 'acme.example' GROUP BY stranger_domain \
         HAVING COUNT(*) > {PER_DOMAIN}) AS over"
    );
    assert_eq!(count(sandbox, &per_domain).await, 0, "no domain gets more than {PER_DOMAIN}");
    let unmarked =
        format!("SELECT COUNT(*) FROM outbox WHERE kind = '{kind}' AND stranger_to IS NULL AND status != 'limited'");
    assert_eq!(count(sandbox, &unmarked).await, 0, "every reply to a stranger is counted by the caps");
}

#[tokio::test(flavor = "multi_thread")]
async fn five_hundred_forged_senders_get_at_most_the_caps_of_acknowledgements_and_one_alarm() {
    let sandbox = sandbox("anyone", Backend::Sqlite).await;
    let t0 = at("2026-12-07T10:00:00Z");
    let app = desk(&sandbox, t0).await;
    flood(&sandbox);
    let _counters = COUNTERS.lock().await;
    let before = held_back("ack");
    supportd::app::run_once(&app).await.unwrap();

    assert_eq!(count(&sandbox, "SELECT COUNT(*) FROM cases").await, 500, "every message is a case");
    let acks = "SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND status != 'limited'";
    assert_eq!(count(&sandbox, acks).await, ALL, "the cap in all");
    let to_victim = "SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND status != 'limited' \
                     AND stranger_to = 'victim@one.example'";
    assert_eq!(count(&sandbox, to_victim).await, PER_DOMAIN, "victim+N@ is one mailbox of one domain");
    assert_eq!(sandbox.outbox_messages().len() as i64, ALL, "only those went out");
    assert_replies_are_clean(&sandbox, "ack").await;

    // The rest: held back, each noted on its case, kept unsent, counted.
    let noted = "SELECT COUNT(*) FROM case_events WHERE kind = 'ack_skipped' AND detail LIKE 'held back: %'";
    assert_eq!(count(&sandbox, noted).await, 500 - ALL);
    let on_message = "SELECT COUNT(*) FROM messages WHERE no_ack_reason LIKE 'held back: %'";
    assert_eq!(count(&sandbox, on_message).await, 500 - ALL);
    let limited = "SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND status = 'limited'";
    assert_eq!(count(&sandbox, limited).await, 500 - ALL);
    assert_eq!(held_back("ack") - before, (500 - ALL) as u64, "supportd_stranger_mail_held_back_total");

    // One alarm, however often the health check runs; cleared once an hour passes.
    for _ in 0..3 {
        supportd::health::alarm_tick(&app).await.unwrap();
    }
    let alarms = "SELECT COUNT(*) FROM health_alarms WHERE subject = 'stranger_mail'";
    assert_eq!(count(&sandbox, alarms).await, 1);
    let mailed = "SELECT COUNT(*) FROM outbox WHERE kind = 'health' AND subject = 'supportd alarm: stranger_mail'";
    assert_eq!(count(&sandbox, mailed).await, 1);
    let open = "SELECT COUNT(*) FROM health_alarms WHERE subject = 'stranger_mail' AND cleared_at IS NULL";
    let mut later = app.clone();
    later.clock = Arc::new(FixedClock(t0 + Duration::minutes(30)));
    supportd::health::alarm_tick(&later).await.unwrap();
    assert_eq!(count(&sandbox, open).await, 1, "still within the hour");
    later.clock = Arc::new(FixedClock(t0 + Duration::minutes(61)));
    supportd::health::alarm_tick(&later).await.unwrap();
    assert_eq!(count(&sandbox, open).await, 0, "an hour without one clears it");
    let recovered =
        "SELECT COUNT(*) FROM outbox WHERE kind = 'health' AND subject = 'supportd recovered: stranger_mail'";
    assert_eq!(count(&sandbox, recovered).await, 1);

    // The next hour has its own allowance.
    sandbox.drop_mail("next.eml", &forged(900, "someone@fresh.example"));
    supportd::app::run_once(&later).await.unwrap();
    let fresh =
        "SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND status = 'sent' AND stranger_to = 'someone@fresh.example'";
    assert_eq!(count(&sandbox, fresh).await, 1);
}

/// A key member named by her address is no stranger: her acknowledgements are not capped
/// (nor counted).
#[tokio::test(flavor = "multi_thread")]
async fn a_key_members_acknowledgements_are_not_capped() {
    let sandbox = sandbox("anyone", Backend::Sqlite).await;
    let n = PER_DOMAIN as usize + 2;
    let named: Vec<String> = (0..n).map(|i| format!("\"customer{i}@acme.example\"")).collect();
    sandbox.edit_config(|c| {
        let example = "# members = [\"jane@acme.example\", \"*@it.acme.example\"]";
        assert!(c.contains(example), "daemon.toml shows the members key");
        c.replace(example, &format!("members = [{}]", named.join(", ")))
    });
    for i in 0..n {
        sandbox.drop_mail(&format!("{i}.eml"), &crate::support::customer_mail(i, &format!("Request {i}")));
    }
    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let acks = "SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND status = 'sent' AND stranger_to IS NULL";
    assert_eq!(count(&sandbox, acks).await, PER_DOMAIN + 2, "every member is acknowledged");
    let greeted = sandbox.outbox_messages().iter().filter(|m| m.contains("Hello Customer ")).count();
    assert_eq!(greeted as i64, PER_DOMAIN + 2, "a member is greeted by her name");
}

/// `*@acme.example` makes anyone there a key member, and so anyone a forger names: their
/// acknowledgements are a stranger's, capped. A company's own domain has a pool of its own
/// (`company_domain_mail_per_hour`): a flood forged at other domains that uses up the
/// strangers' cap cannot silence its members. A +tagged victim there is still one person.
#[tokio::test(flavor = "multi_thread")]
async fn a_member_by_domain_alone_is_acknowledged_from_the_companys_own_pool() {
    let sandbox = sandbox("members", Backend::Sqlite).await;
    sandbox.edit_config(|c| {
        let example = "# members = [\"jane@acme.example\", \"*@it.acme.example\"]";
        assert!(c.contains(example), "daemon.toml shows the members key");
        assert!(c.contains(&format!("ack_limit_per_hour = {ACK_LIMIT}\n")), "daemon.toml's per-person limit");
        let c = c.replace(example, "members = [\"*@acme.example\"]");
        let c = c.replace("who_may_open = \"members\"", "who_may_open = \"anyone\"");
        c.replace("company_domain_mail_per_hour = 50", &format!("company_domain_mail_per_hour = {COMPANY}"))
    });
    // The flood first, so that the strangers' cap is used up before acme's people write.
    for n in 0..100 {
        sandbox.drop_mail(&format!("0-{n:03}.eml"), &forged(n, &format!("forger{n}@x{}.example", n % 30)));
    }
    sandbox.drop_mail("1-000.eml", &forged(100, "person0@acme.example"));
    for n in 0..30 {
        sandbox.drop_mail(&format!("2-{n:03}.eml"), &forged(200 + n, &format!("victim+{n}@acme.example")));
    }
    for n in 1..4 {
        sandbox.drop_mail(&format!("3-{n:03}.eml"), &forged(300 + n, &format!("person{n}@acme.example")));
    }
    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(count(&sandbox, "SELECT COUNT(*) FROM cases").await, 134, "every sender opens a case");
    let elsewhere = "SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND status != 'limited' \
                     AND stranger_domain != 'acme.example'";
    assert_eq!(count(&sandbox, elsewhere).await, ALL, "the flood used up the strangers' cap");
    let to_acme = "SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND status != 'limited' \
                   AND stranger_domain = 'acme.example'";
    assert_eq!(count(&sandbox, to_acme).await, COMPANY, "acme's own pool, untouched by the flood elsewhere");
    let to_victim = "SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND status != 'limited' \
                     AND stranger_to = 'victim@acme.example'";
    assert_eq!(count(&sandbox, to_victim).await, ACK_LIMIT, "victim+N@ is one person: [intake] ack_limit_per_hour");
    let held = |like: &str| {
        format!(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND status = 'limited' AND envelope_to LIKE '%@acme.example' \
             AND last_error LIKE '{like}'"
        )
    };
    let by_person = held("%+tags counted as one ([intake] ack_limit_per_hour)%");
    assert_eq!(count(&sandbox, &by_person).await, 30 - ACK_LIMIT, "the victim's other tags: the per-person limit");
    let by_company = held("%a customer company''s domain%company_domain_mail_per_hour%");
    assert_eq!(count(&sandbox, &by_company).await, 4 - (COMPANY - ACK_LIMIT), "past acme's pool: its own cap, said so");
    assert_replies_are_clean(&sandbox, "ack").await;
}

/// Mail to strangers at other domains, meanwhile, has its cap whole: a company's domain
/// uses none of it, though the company's members by `*@domain` write first.
#[tokio::test(flavor = "multi_thread")]
async fn a_companys_own_pool_uses_none_of_the_strangers_cap() {
    let sandbox = sandbox("anyone", Backend::Postgres).await;
    sandbox.edit_config(|c| {
        c.replace("company_domain_mail_per_hour = 50", &format!("company_domain_mail_per_hour = {COMPANY}"))
    });
    for n in 0..COMPANY as usize {
        sandbox.drop_mail(&format!("0-{n:03}.eml"), &forged(n, &format!("person{n}@acme.example")));
    }
    for n in 0..60 {
        sandbox.drop_mail(&format!("1-{n:03}.eml"), &forged(100 + n, &format!("forger{n}@x{}.example", n % 30)));
    }
    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let elsewhere = "SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND status != 'limited' \
                     AND stranger_domain != 'acme.example'";
    assert_eq!(count(&sandbox, elsewhere).await, ALL, "the strangers' cap, whole");
    let to_acme = "SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND status != 'limited' \
                   AND stranger_domain = 'acme.example'";
    assert_eq!(count(&sandbox, to_acme).await, COMPANY);
}

/// Under `members`, the polite "who may open cases" replies share the caps; the held
/// messages say their reply was held back. On both databases: the caps are counted in SQL.
async fn not_member_replies_are_capped(backend: Backend) {
    let sandbox = sandbox("members", backend).await;
    let app = desk(&sandbox, at("2026-12-07T10:00:00Z")).await;
    for n in 0..60 {
        let from = match n {
            0..20 => format!("victim+{n}@one.example"),
            _ => format!("forger{n}@d{}.example", n % 7),
        };
        sandbox.drop_mail(&format!("{n:03}.eml"), &forged(n, &from));
    }
    let _counters = COUNTERS.lock().await;
    let before = held_back("not_member");
    supportd::app::run_once(&app).await.unwrap();
    assert_eq!(count(&sandbox, "SELECT COUNT(*) FROM cases").await, 0);
    assert_eq!(count(&sandbox, "SELECT COUNT(*) FROM held_mail").await, 60, "every message is held");
    let replies = "SELECT COUNT(*) FROM outbox WHERE kind = 'not_member' AND status != 'limited'";
    assert_eq!(count(&sandbox, replies).await, ALL);
    // victim+N@ are one mailbox at one domain: its cap, not one reply per tag.
    let to_victim = "SELECT COUNT(*) FROM outbox WHERE kind = 'not_member' AND status != 'limited' \
                     AND stranger_to = 'victim@one.example'";
    assert_eq!(count(&sandbox, to_victim).await, PER_DOMAIN);
    assert_replies_are_clean(&sandbox, "not_member").await;
    let noted = "SELECT COUNT(*) FROM held_mail WHERE reason LIKE '%; the reply was held back: %'";
    let held = count(&sandbox, noted).await;
    assert!(held > 0, "some replies were held back");
    let limited = "SELECT COUNT(*) FROM outbox WHERE kind = 'not_member' AND status = 'limited'";
    assert_eq!(count(&sandbox, limited).await, held, "each held back reply is kept unsent");
    assert_eq!(held_back("not_member") - before, held as u64);
    for raw in sandbox.outbox_messages() {
        assert!(header(&raw, "To").is_some_and(|to| !to.contains('"')), "addressed without a name: {raw}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn not_member_replies_to_forged_senders_are_capped_and_the_held_mail_says_so_on_sqlite() {
    not_member_replies_are_capped(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn not_member_replies_to_forged_senders_are_capped_and_the_held_mail_says_so_on_postgres() {
    not_member_replies_are_capped(Backend::Postgres).await;
}

const CUSTOMER: &str = "customer1@acme.example";
const AGENT: &str = "alice@example.com";
const RELAYS: i64 = 3;

/// The shipped desk (agents notified) with the per-case relay limit at 3 and the agents'
/// mail limit at 6, so that a loop the limits end ends soon.
async fn agents_desk() -> Sandbox {
    let sandbox = Sandbox::as_shipped(Backend::Sqlite).await;
    sandbox.edit_config(|c| {
        assert!(c.contains("relays_per_case_per_hour = 20"), "daemon.toml lists the relay limit");
        c.replace("relays_per_case_per_hour = 20", &format!("relays_per_case_per_hour = {RELAYS}"))
            .replace("mail_limit_per_hour = 30", "mail_limit_per_hour = 6")
    });
    sandbox
}

fn run_once(sandbox: &Sandbox) {
    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success(), "run --once: {}", String::from_utf8_lossy(&out.stderr));
}

/// An answer to `got` from `from`, the way a person's mail client replies: to its Reply-To,
/// threaded under it, with `extra` headers (none: an auto-responder that does not say so).
fn answer(got: &supportd::mail::ParsedMessage, from: &str, extra: &str, subject: &str, seq: usize) -> Vec<u8> {
    let reply_to = got.header("reply-to").unwrap_or("support@example.com");
    let to = reply_to.rsplit_once('<').map_or(reply_to, |(_, a)| a.trim_end_matches('>'));
    let id = got.message_id.clone().unwrap_or_default();
    format!(
        "{extra}From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <auto-{seq}@example.org>\r\n\
         In-Reply-To: <{id}>\r\nReferences: <{id}>\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nThank you for your message. I will answer it soon.\r\n"
    )
    .into_bytes()
}

/// The customer's and the agent's auto-responders answer every mail they get, without any
/// sign of being automatic: the per-case limit stops the relays, the agent hears of it once,
/// and the exchange dies out.
#[tokio::test(flavor = "multi_thread")]
async fn two_auto_responders_stop_at_the_cases_relay_limit() {
    let sandbox = agents_desk().await;
    sandbox.drop_mail("first.eml", &crate::support::customer_mail(1, "Printer offline"));
    let mut answered = std::collections::HashSet::new();
    let mut rounds = 0;
    loop {
        run_once(&sandbox);
        let mut answers = Vec::new();
        for name in sandbox.files_in("var/outbox") {
            if !name.ends_with(".eml") || !answered.insert(name.clone()) {
                continue;
            }
            let raw = std::fs::read(sandbox.path("var/outbox").join(&name)).unwrap();
            let got = supportd::mail::parse(&raw).unwrap();
            let to = got.to.iter().map(|p| p.address.to_string()).collect::<Vec<_>>();
            let subject = format!("Re: {}", got.subject);
            if to.iter().any(|t| t == CUSTOMER) {
                answers.push(answer(&got, &format!("Customer 1 <{CUSTOMER}>"), "", &subject, answered.len()));
            } else if to.iter().any(|t| t == AGENT) {
                answers.push(answer(&got, &format!("Alice Smith <{AGENT}>"), "", &subject, answered.len()));
            }
        }
        if answers.is_empty() {
            break;
        }
        for (i, raw) in answers.iter().enumerate() {
            sandbox.drop_mail(&format!("r{rounds:02}-{i}.eml"), raw);
        }
        rounds += 1;
        assert!(rounds < 40, "the auto-responders never stop");
    }
    let relays = "SELECT COUNT(*) FROM outbox WHERE kind IN ('relay', 'resolution') AND status = 'sent'";
    assert_eq!(sandbox.count(relays).await, RELAYS, "the customer got the limit of relays, no more");
    let held = "SELECT COUNT(*) FROM case_events WHERE kind = 'relay_held_back'";
    assert!(sandbox.count(held).await >= 1, "the held-back reply is noted on the case");
    let noted = "SELECT COUNT(*) FROM messages WHERE flags LIKE '%held back: %relays_per_case_per_hour%'";
    assert!(sandbox.count(noted).await >= 1, "the reply itself is kept on the case");
    let told = sandbox
        .outbox_messages()
        .into_iter()
        .map(|raw| supportd::mail::parse(raw.as_bytes()).unwrap())
        .filter(|m| m.to.iter().any(|p| p.address.as_str() == AGENT))
        .filter(|m| supportd::domain::text::one_line(&m.text_body).contains("relays_per_case_per_hour"))
        .count();
    assert_eq!(told, 1, "the agent hears of it once");
}

/// An agent's out-of-office, in each shape loop protection knows, is kept as a note: never
/// relayed, never the case's response.
#[tokio::test(flavor = "multi_thread")]
async fn an_agents_auto_reply_is_never_relayed_nor_the_cases_response() {
    let sandbox = agents_desk().await;
    let shapes = [
        ("X-Autoreply: yes\r\n", "Re: {subject}"),
        ("Auto-Submitted: auto-replied\r\n", "Re: {subject}"),
        ("Precedence: auto_reply\r\n", "Re: {subject}"),
        ("", "Out of Office: {subject}"),
        ("", "Automatic reply: {subject}"),
    ];
    for n in 0..shapes.len() {
        sandbox.drop_mail(&format!("{n}.eml"), &crate::support::customer_mail(n, &format!("Request {n}")));
    }
    run_once(&sandbox);
    let mut replies = 0;
    for name in sandbox.files_in("var/outbox") {
        let raw = std::fs::read(sandbox.path("var/outbox").join(&name)).unwrap();
        let got = supportd::mail::parse(&raw).unwrap();
        if !got.to.iter().any(|p| p.address.as_str() == AGENT) {
            continue;
        }
        let n: usize = got.subject.split("Request ").nth(1).and_then(|s| s.trim().parse().ok()).unwrap();
        let (extra, subject) = shapes[n];
        let subject = subject.replace("{subject}", &got.subject);
        sandbox
            .drop_mail(&format!("ooo-{n}.eml"), &answer(&got, &format!("Alice Smith <{AGENT}>"), extra, &subject, n));
        replies += 1;
    }
    assert_eq!(replies, shapes.len(), "each case notified the agent");
    run_once(&sandbox);
    let relays = "SELECT COUNT(*) FROM outbox WHERE kind IN ('relay', 'resolution')";
    assert_eq!(sandbox.count(relays).await, 0, "no out-of-office reached a customer");
    let kept = "SELECT COUNT(*) FROM messages WHERE flags LIKE '%automated: %'";
    assert_eq!(sandbox.count(kept).await, shapes.len() as i64, "each is kept on its case");
    let answered = "SELECT COUNT(*) FROM cases WHERE first_response_at IS NOT NULL";
    assert_eq!(sandbox.count(answered).await, 0, "none counts as the case's response");
}

/// The CRM's `#report` how-to shares the caps too: with the hour's allowance spent on a
/// forged sender's acknowledgement, it is held back and her held request says so.
#[tokio::test(flavor = "multi_thread")]
async fn the_crms_how_to_shares_the_caps() {
    let sandbox = sandbox("anyone", Backend::Sqlite).await;
    sandbox.edit_config(|c| c.replace(&format!("stranger_mail_per_hour = {ALL}"), "stranger_mail_per_hour = 1"));
    sandbox.drop_mail("1.eml", &forged(1, "someone@one.example"));
    run_once(&sandbox);
    let request = "From: Carol CRM <carol@example.com>\r\nTo: support@example.com\r\nSubject: Report\r\n\
                   Message-ID: <carol-1@example.com>\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\n\
                   #report 2026-11\r\n\r\nCarol\r\n";
    sandbox.drop_mail("2.eml", request.as_bytes());
    run_once(&sandbox);
    let sent = "SELECT COUNT(*) FROM outbox WHERE kind IN ('ack', 'report_howto') AND status = 'sent'";
    assert_eq!(sandbox.count(sent).await, 1, "the acknowledgement only");
    let held_back = "SELECT COUNT(*) FROM outbox WHERE kind = 'report_howto' AND status = 'limited'";
    assert_eq!(sandbox.count(held_back).await, 1);
    let noted = "SELECT COUNT(*) FROM held_mail WHERE kind = 'report_request' \
                 AND reason LIKE '%; the how-to was held back: %'";
    assert_eq!(sandbox.count(noted).await, 1, "the held request says so");
}

/// Two transactions deciding at once (two mailboxes' batches, two instances on one
/// PostgreSQL): the second counts only after the first has committed what it admitted, so
/// together they stay within the cap.
#[tokio::test(flavor = "multi_thread")]
async fn transactions_deciding_at_once_share_the_cap_on_postgres() {
    use sea_orm::ConnectionTrait;
    use supportd::outbound::strangers;
    let sandbox = sandbox("anyone", Backend::Postgres).await;
    let now = at("2026-12-07T10:00:00Z");
    let desk = desk(&sandbox, now).await;
    let first = supportd::storage::begin_write(&desk.db).await.unwrap();
    for n in 0..ALL {
        let to = format!("s{n}@d{n}.example").parse().unwrap();
        let admitted = strangers::admit(&first, &desk.config, &to, now).await.unwrap();
        let stranger = admitted.expect("under the cap");
        let insert = format!(
            "INSERT INTO outbox (kind, message_id, envelope_from, envelope_to, subject, raw, status, attempts, \
             next_attempt_at, created_at, stranger_to, stranger_domain) VALUES ('ack', '<{n}@test>', \
             'support@example.com', '{to}', 's', '', 'queued', 0, '{now}', '{now}', '{}', '{}')",
            stranger.address,
            stranger.domain,
            now = now.format("%Y-%m-%d %H:%M:%S+00"),
        );
        first.execute_unprepared(&insert).await.unwrap();
    }
    let (db, config) = (desk.db.clone(), desk.config.clone());
    let second = tokio::spawn(async move {
        let tx = supportd::storage::begin_write(&db).await.unwrap();
        let late = "late@elsewhere.example".parse().unwrap();
        let verdict = strangers::admit(&tx, &config, &late, now).await.unwrap();
        tx.rollback().await.unwrap();
        verdict
    });
    // The second must count while the first is still open: it waits on the first's lock, or
    // (were there none) it has decided already.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let waiting =
        "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()";
    while !second.is_finished() && sandbox.count(waiting).await == 0 {
        assert!(std::time::Instant::now() < deadline, "the second transaction neither waited nor decided");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    first.commit().await.unwrap();
    let verdict = second.await.unwrap();
    let why = verdict.expect_err("the second transaction saw the first's mail: the cap was full");
    assert!(why.contains("stranger_mail_per_hour"), "{why}");
}
