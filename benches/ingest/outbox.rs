//! How fast the outbox delivers what a backlog queued, through a real SMTP receiver: the
//! rows a `run --once` sent with the file transport are queued again and sent to aiosmtpd.

use std::path::Path;

use sea_orm::{ConnectionTrait, Database};

use super::log::{Log, per_second};
use super::smtp::TestSmtp;

/// Sends `dir`'s outbox again through SMTP; prints mails per second.
pub fn report_smtp(rt: &tokio::runtime::Runtime, dir: &Path, db_url: &str) {
    let sink = TestSmtp::start();
    rt.block_on(async {
        let db = Database::connect(db_url).await.expect("the benchmark's database");
        let again = "UPDATE outbox SET status = 'queued', attempts = 0, sent_at = NULL, claimed_until = NULL, \
                     last_error = NULL, next_attempt_at = created_at";
        db.execute_unprepared(again).await.expect("queue the outbox again");
        db.close().await.ok();
    });
    let config = dir.join("daemon.toml");
    let text = std::fs::read_to_string(&config).expect("daemon.toml");
    let start = text.find("[outbound]").expect("daemon.toml has [outbound]");
    let end = text[start..].find("\n[business_hours]").map(|i| start + i + 1).expect("[business_hours] follows");
    std::fs::write(&config, format!("{}{}\n{}", &text[..start], sink.outbound_toml(), &text[end..])).expect("config");
    let log = Log::run_once(&config, "smtp");
    let (sent, span) = log.sent();
    let received = sink.messages().len();
    println!(
        "outbox over SMTP (aiosmtpd on loopback): {sent} mails in {span:.1?}, {:.0} mails/s; the receiver got {received}",
        per_second(sent, span)
    );
}
