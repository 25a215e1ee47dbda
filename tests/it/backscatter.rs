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

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

/// The shipped daemon.toml with the caps lowered to 10 an hour and 4 per domain, and health
/// alarms to ops@example.com.
async fn sandbox(who_may_open: &str) -> Sandbox {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
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

fn held_back(kind: &str) -> u64 {
    metrics().stranger_mail_held_back.get_or_create(&Kind { kind: kind.to_owned() }).get()
}

async fn count(sandbox: &Sandbox, sql: &str) -> i64 {
    sandbox.count(sql).await
}

/// Every mail that goes out, by its outbox row: none names the forger or quotes the whole
/// subject, and no domain gets more than its cap.
async fn assert_replies_are_clean(sandbox: &Sandbox, kind: &str) {
    let sent = sandbox.outbox_messages();
    assert!(!sent.is_empty());
    for raw in &sent {
        assert!(!raw.contains(NAME_MARKER), "a reply carries the forger's display name: {raw}");
        assert!(!raw.contains(SUBJECT_TAIL), "a reply quotes the forger's whole subject: {raw}");
    }
    let per_domain = format!(
        "SELECT COUNT(*) FROM (SELECT stranger_domain, COUNT(*) AS n FROM outbox WHERE kind = '{kind}' \
         AND status != 'limited' GROUP BY stranger_domain HAVING COUNT(*) > {PER_DOMAIN}) AS over"
    );
    assert_eq!(count(sandbox, &per_domain).await, 0, "no domain gets more than {PER_DOMAIN}");
    let unmarked =
        format!("SELECT COUNT(*) FROM outbox WHERE kind = '{kind}' AND stranger_to IS NULL AND status != 'limited'");
    assert_eq!(count(sandbox, &unmarked).await, 0, "every reply to a stranger is counted by the caps");
}

#[tokio::test(flavor = "multi_thread")]
async fn five_hundred_forged_senders_get_at_most_the_caps_of_acknowledgements_and_one_alarm() {
    let sandbox = sandbox("anyone").await;
    let t0 = at("2026-12-07T10:00:00Z");
    let app = desk(&sandbox, t0).await;
    flood(&sandbox);
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

/// A key member is no stranger: her acknowledgements are not capped (nor counted).
#[tokio::test(flavor = "multi_thread")]
async fn a_key_members_acknowledgements_are_not_capped() {
    let sandbox = sandbox("anyone").await;
    sandbox.edit_config(|c| {
        let example = "# members = [\"jane@acme.example\", \"*@it.acme.example\"]";
        assert!(c.contains(example), "daemon.toml shows the members key");
        c.replace(example, "members = [\"*@acme.example\"]")
    });
    for n in 0..(PER_DOMAIN as usize + 2) {
        sandbox.drop_mail(&format!("{n}.eml"), &crate::support::customer_mail(n, &format!("Request {n}")));
    }
    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let acks = "SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND status = 'sent' AND stranger_to IS NULL";
    assert_eq!(count(&sandbox, acks).await, PER_DOMAIN + 2, "every member is acknowledged");
    let greeted = sandbox.outbox_messages().iter().filter(|m| m.contains("Hello Customer ")).count();
    assert_eq!(greeted as i64, PER_DOMAIN + 2, "a member is greeted by her name");
}

/// Under `members`, the polite "who may open cases" replies share the caps; the held
/// messages say their reply was held back.
#[tokio::test(flavor = "multi_thread")]
async fn not_member_replies_to_forged_senders_are_capped_and_the_held_mail_says_so() {
    let sandbox = sandbox("members").await;
    let app = desk(&sandbox, at("2026-12-07T10:00:00Z")).await;
    for n in 0..60 {
        let from = match n {
            0..20 => format!("victim+{n}@one.example"),
            _ => format!("forger{n}@d{}.example", n % 7),
        };
        sandbox.drop_mail(&format!("{n:03}.eml"), &forged(n, &from));
    }
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
