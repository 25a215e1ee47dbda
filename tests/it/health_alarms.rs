//! Health alarms by mail (`[health] notify`): one mail when a part of the desk turns sick,
//! naming why, and one when it recovers; through the real Dovecot and SMTP receiver.

use std::time::Duration;

use crate::support::dovecot::PASSWORD;
use crate::support::sandbox::Daemon;
use crate::support::smtp::header;
use crate::support::{Backend, Sandbox, TestMailServer, TestSmtp, customer_mail};

/// Alarms to ops@example.com, a check and a scheduler tick every second, and the limit of
/// the part under test (`limit`, a `[health]` key) at two seconds; the others keep their
/// minutes, so that a slow machine raises no alarm the test is not about.
fn daemon(sandbox: &Sandbox, limit: &str) -> Daemon {
    Daemon::spawn(command(sandbox, limit))
}

fn command(sandbox: &Sandbox, limit: &str) -> std::process::Command {
    let mut run = sandbox.cmd(&["run"]);
    run.env("SUPPORTD_HEALTH__NOTIFY", "[\"ops@example.com\"]")
        .env("SUPPORTD_HEALTH__CHECK_INTERVAL", "1s")
        .env("SUPPORTD_SCHEDULER__ESCALATIONS", "* * * * * *");
    if !limit.is_empty() {
        run.env(format!("SUPPORTD_HEALTH__{}", limit.to_ascii_uppercase()), "2s");
    }
    run
}

/// A relay that refuses the first recipient for good: the acknowledgement of a new case
/// fails, and the daemon has raised (and sent) the `failed_mail` alarm.
fn refused_acknowledgement(sandbox: &Sandbox, smtp: &TestSmtp) -> Daemon {
    sandbox.set_outbound(&smtp.outbound_toml());
    smtp.set_control("FAILN 1 RCPT 550 5.1.1 no such user");
    let mut daemon = daemon(sandbox, "");
    sandbox.drop_mail("1.eml", &customer_mail(1, "Printer offline"));
    daemon.wait_for("health alarm raised subject=failed_mail", Duration::from_secs(60));
    daemon.wait_for(" sent", Duration::from_secs(30));
    daemon
}

fn text(raw: &str) -> String {
    supportd::mail::parse(raw.as_bytes()).unwrap().text_body
}

fn to_ops(smtp: &TestSmtp, subject: &str) -> Vec<String> {
    smtp.delivered_to("ops@example.com")
        .into_iter()
        .filter(|raw| header(raw, "Subject").is_some_and(|s| s.starts_with(subject)))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_imap_password_raises_one_alarm_naming_it_and_the_fix_one_recovery() {
    let server = TestMailServer::start();
    let smtp = TestSmtp::start();
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.set_outbound(&smtp.outbound_toml());
    let good = format!("password = \"{PASSWORD}\"");
    let mailbox = server.mailbox_toml("plain", "");
    assert!(mailbox.contains(&good));
    sandbox.edit_config(|c| c + &mailbox.replace(&good, "password = \"wrong\""));
    let mut daemon = daemon(&sandbox, "mailbox_silent_after");
    daemon.wait_for("health alarm raised subject=mailbox:imap", Duration::from_secs(60));
    daemon.wait_for(" sent", Duration::from_secs(30));
    let alarms = to_ops(&smtp, "supportd alarm: mailbox:imap");
    assert_eq!(alarms.len(), 1);
    let text = text(&alarms[0]);
    assert!(
        text.contains("the mailbox imap has not fetched once") && text.contains("login as support failed"),
        "{text}"
    );
    assert!(text.to_ascii_lowercase().contains("authentication"), "the reason is named: {text}");

    // A restart knows nothing of the mailbox yet: it neither clears the alarm nor repeats it.
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(10)).expect("exits").success());
    let mut daemon = self::daemon(&sandbox, "mailbox_silent_after");
    daemon.wait_for_count("IMAP connection failed", 2, Duration::from_secs(30));
    assert!(to_ops(&smtp, "supportd recovered:").is_empty(), "no recovery while the password is wrong");
    assert!(!daemon.seen.iter().any(|l| l.contains("health alarm")), "{:?}", daemon.seen);

    sandbox.edit_config(|c| c.replace("password = \"wrong\"", &good));
    daemon.signal(libc::SIGHUP);
    daemon.wait_for("health alarm cleared subject=mailbox:imap", Duration::from_secs(60));
    // This daemon's first mail: the alarm went out from the one before.
    daemon.wait_for(" sent", Duration::from_secs(30));
    let recovered = to_ops(&smtp, "supportd recovered: mailbox:imap");
    assert_eq!(recovered.len(), 1);
    assert_eq!(to_ops(&smtp, "supportd alarm:").len(), 1, "one alarm for the whole incident");
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(10)).expect("exits").success());
}

/// Mail that cannot leave: the alarm waits in the outbox with it (the ledger says it was
/// raised once), and both go out, with the recovery, once the relay takes mail again.
#[tokio::test(flavor = "multi_thread")]
async fn a_stuck_outbox_raises_one_alarm_and_its_recovery_one_mail() {
    let smtp = TestSmtp::start();
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let working = smtp.outbound_toml();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    sandbox.set_outbound(&working.replace(&format!("port = {}", smtp.port), &format!("port = {closed}")));
    let mut daemon = daemon(&sandbox, "outbox_stuck_after");
    sandbox.drop_mail("1.eml", &customer_mail(1, "Printer offline"));
    daemon.wait_for("health alarm raised subject=outbox", Duration::from_secs(60));
    let rows = sandbox.outbox_rows();
    let alarms: Vec<_> = rows.iter().filter(|r| r["kind"] == "health").collect();
    assert_eq!(alarms.len(), 1, "{rows:?}");
    assert!(alarms[0]["subject"].as_str().unwrap().starts_with("supportd alarm: outbox"), "{alarms:?}");

    sandbox.set_outbound(&working);
    daemon.signal(libc::SIGHUP);
    daemon.wait_for("health alarm cleared subject=outbox", Duration::from_secs(60));
    daemon.wait_for_count(" sent", 3, Duration::from_secs(30));
    let alarm = to_ops(&smtp, "supportd alarm: outbox");
    assert_eq!(alarm.len(), 1);
    let text = text(&alarm[0]);
    assert!(text.contains("mail(s) unsent; the oldest has waited") && text.contains("the last error"), "{text}");
    assert_eq!(to_ops(&smtp, "supportd recovered: outbox").len(), 1);
    assert_eq!(smtp.delivered_to("customer1@acme.example").len(), 1, "the acknowledgement went too");
}

/// A customer's address the relay refuses for good: the acknowledgement fails, ops hear of
/// it once (whom, and what the relay said), and once more when it is sent again.
#[tokio::test(flavor = "multi_thread")]
async fn mail_that_fails_for_good_raises_one_alarm_and_sending_it_again_clears_it() {
    let smtp = TestSmtp::start();
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let mut daemon = refused_acknowledgement(&sandbox, &smtp);
    let alarm = to_ops(&smtp, "supportd alarm: failed_mail");
    assert_eq!(alarm.len(), 1);
    let said = text(&alarm[0]);
    assert!(said.contains("1 mail(s) failed permanently in the last 24 h"), "{said}");
    assert!(said.contains("(ack) to customer1@acme.example") && said.contains("550): 5.1.1 no such user"), "{said}");

    let failed = sandbox.outbox_rows().into_iter().find(|r| r["status"] == "failed").expect("the failed ack");
    let out = sandbox.run(&["outbox", "retry", &failed["id"].to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    daemon.wait_for("health alarm cleared subject=failed_mail", Duration::from_secs(60));
    daemon.wait_for_count(" sent", 3, Duration::from_secs(30));
    assert_eq!(to_ops(&smtp, "supportd recovered: failed_mail").len(), 1);
    assert_eq!(to_ops(&smtp, "supportd alarm:").len(), 1, "one alarm for the incident");
    assert_eq!(smtp.delivered_to("customer1@acme.example").len(), 1, "the acknowledgement went the second time");
}

/// More quarantined messages than `quarantine_limit`: one alarm saying how many; a higher
/// limit (SIGHUP) clears it.
#[tokio::test(flavor = "multi_thread")]
async fn a_quarantine_past_its_limit_raises_one_alarm_and_a_higher_limit_clears_it() {
    let smtp = TestSmtp::start();
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.set_outbound(&smtp.outbound_toml());
    sandbox.edit_config(|c| c.replace("quarantine_limit = 20", "quarantine_limit = 1"));
    let mut daemon = daemon(&sandbox, "");
    for n in 0..2 {
        let no_sender = format!("Subject: who am I\r\nMessage-ID: <nosender-{n}@x.example>\r\n\r\nNo From.\r\n");
        sandbox.drop_mail(&format!("{n}.eml"), no_sender.as_bytes());
    }
    daemon.wait_for("health alarm raised subject=quarantine", Duration::from_secs(60));
    daemon.wait_for(" sent", Duration::from_secs(30));
    let alarm = to_ops(&smtp, "supportd alarm: quarantine");
    assert_eq!(alarm.len(), 1);
    assert!(text(&alarm[0]).contains("2 messages are in quarantine (the limit is 1)"), "{}", text(&alarm[0]));

    sandbox.edit_config(|c| c.replace("quarantine_limit = 1", "quarantine_limit = 5"));
    daemon.signal(libc::SIGHUP);
    daemon.wait_for("health alarm cleared subject=quarantine", Duration::from_secs(60));
    daemon.wait_for_count(" sent", 2, Duration::from_secs(30));
    assert_eq!(to_ops(&smtp, "supportd recovered: quarantine").len(), 1);
    assert_eq!(to_ops(&smtp, "supportd alarm:").len(), 1);
}

/// A tick stuck on a lock (another session holds the budget table) is late: the alarm task,
/// which does not wait on the scheduler, says so once; the tick that finishes when the lock
/// goes clears it.
#[tokio::test(flavor = "multi_thread")]
async fn a_scheduler_stuck_in_a_tick_raises_one_alarm_and_its_next_tick_clears_it() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let smtp = TestSmtp::start();
    let sandbox = Sandbox::new(Backend::Postgres).await;
    sandbox.set_outbound(&smtp.outbound_toml());
    let mut daemon = daemon(&sandbox, "scheduler_late_after");
    daemon.wait_for("web server listening", Duration::from_secs(60));
    let db = sea_orm::Database::connect(&sandbox.db.url).await.unwrap();
    let lock = db.begin().await.unwrap();
    lock.execute_unprepared("LOCK TABLE budget_purchases IN ACCESS EXCLUSIVE MODE").await.unwrap();
    daemon.wait_for("health alarm raised subject=scheduler@", Duration::from_secs(60));
    daemon.wait_for(" sent", Duration::from_secs(30));
    let alarm = to_ops(&smtp, "supportd alarm: scheduler@");
    assert_eq!(alarm.len(), 1);
    let said = text(&alarm[0]);
    assert!(said.contains("the scheduler on ") && said.contains("late for a tick (the limit is 2 s)"), "{said}");

    lock.rollback().await.unwrap();
    daemon.wait_for("health alarm cleared subject=scheduler@", Duration::from_secs(60));
    daemon.wait_for_count(" sent", 2, Duration::from_secs(30));
    assert_eq!(to_ops(&smtp, "supportd recovered: scheduler@").len(), 1);
    assert_eq!(to_ops(&smtp, "supportd alarm:").len(), 1);
    db.close().await.ok();
}

/// A day without a new failure clears the alarm, but the recovery says the mail that failed
/// was never sent: "well" is no promise of delivery.
#[tokio::test(flavor = "multi_thread")]
async fn a_failure_a_day_old_clears_the_alarm_and_the_recovery_says_the_mail_never_went() {
    let smtp = TestSmtp::start();
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let mut daemon = refused_acknowledgement(&sandbox, &smtp);
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(10)).expect("exits").success());

    let mut run = command(&sandbox, "");
    run.env("SUPPORTD_NOW", (chrono::Utc::now() + chrono::Duration::hours(25)).to_rfc3339());
    let mut daemon = Daemon::spawn(run);
    daemon.wait_for("health alarm cleared subject=failed_mail", Duration::from_secs(60));
    daemon.wait_for(" sent", Duration::from_secs(30));
    let recovered = to_ops(&smtp, "supportd recovered: failed_mail");
    assert_eq!(recovered.len(), 1);
    let said = text(&recovered[0]);
    assert!(said.contains("but 1 mail(s) that failed earlier were never sent"), "{said}");
}
