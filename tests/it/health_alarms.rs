//! Health alarms by mail (`[health] notify`): one mail when a part of the desk turns sick,
//! naming why, and one when it recovers; through the real Dovecot and SMTP receiver.

use std::time::Duration;

use crate::support::dovecot::PASSWORD;
use crate::support::sandbox::Daemon;
use crate::support::smtp::header;
use crate::support::{Backend, Sandbox, TestMailServer, TestSmtp, customer_mail};

/// Alarms to ops@example.com, the limits at two seconds, a tick every second.
fn daemon(sandbox: &Sandbox) -> Daemon {
    let mut run = sandbox.cmd(&["run"]);
    run.env("SUPPORTD_HEALTH__NOTIFY", "[\"ops@example.com\"]")
        .env("SUPPORTD_HEALTH__MAILBOX_SILENT_AFTER", "2s")
        .env("SUPPORTD_HEALTH__OUTBOX_STUCK_AFTER", "2s")
        .env("SUPPORTD_SCHEDULER__ESCALATIONS", "* * * * * *");
    Daemon::spawn(run)
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
    let mut daemon = daemon(&sandbox);
    daemon.wait_for("health alarm raised", Duration::from_secs(60));
    daemon.wait_for(" sent", Duration::from_secs(30));
    let alarms = to_ops(&smtp, "supportd alarm: mailbox:imap");
    assert_eq!(alarms.len(), 1);
    let text = supportd::mail::parse(alarms[0].as_bytes()).unwrap().text_body;
    assert!(
        text.contains("the mailbox imap has not fetched once") && text.contains("login as support failed"),
        "{text}"
    );
    assert!(text.to_ascii_lowercase().contains("authentication"), "the reason is named: {text}");

    // A restart knows nothing of the mailbox yet: it neither clears the alarm nor repeats it.
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(10)).expect("exits").success());
    let mut daemon = self::daemon(&sandbox);
    daemon.wait_for_count("IMAP connection failed", 2, Duration::from_secs(30));
    assert!(to_ops(&smtp, "supportd recovered:").is_empty(), "no recovery while the password is wrong");
    assert!(!daemon.seen.iter().any(|l| l.contains("health alarm")), "{:?}", daemon.seen);

    sandbox.edit_config(|c| c.replace("password = \"wrong\"", &good));
    daemon.signal(libc::SIGHUP);
    daemon.wait_for("health alarm cleared", Duration::from_secs(60));
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
    let mut daemon = daemon(&sandbox);
    sandbox.drop_mail("1.eml", &customer_mail(1, "Printer offline"));
    daemon.wait_for("health alarm raised", Duration::from_secs(60));
    let rows = sandbox.outbox_rows();
    let alarms: Vec<_> = rows.iter().filter(|r| r["kind"] == "health").collect();
    assert_eq!(alarms.len(), 1, "{rows:?}");
    assert!(alarms[0]["subject"].as_str().unwrap().starts_with("supportd alarm: outbox"), "{alarms:?}");

    sandbox.set_outbound(&working);
    daemon.signal(libc::SIGHUP);
    daemon.wait_for("health alarm cleared", Duration::from_secs(60));
    daemon.wait_for_count(" sent", 3, Duration::from_secs(30));
    let alarm = to_ops(&smtp, "supportd alarm: outbox");
    assert_eq!(alarm.len(), 1);
    let text = supportd::mail::parse(alarm[0].as_bytes()).unwrap().text_body;
    assert!(text.contains("mail(s) unsent; the oldest has waited") && text.contains("the last error"), "{text}");
    assert_eq!(to_ops(&smtp, "supportd recovered: outbox").len(), 1);
    assert_eq!(smtp.delivered_to("customer1@acme.example").len(), 1, "the acknowledgement went too");
}
