//! How fast the outbox delivers what a backlog queued, through a real SMTP receiver: rows a
//! `run --once` sent with the file transport are queued again and sent to aiosmtpd. A sample
//! of them (BENCH_SMTP_MAILS, 500 by default); the time for all of it is projected from the
//! rate. Measured: ~80 mails per second over one kept connection with `TCP_NODELAY`, where
//! lettre's own transport managed ~20 (each mail's final "\r\n.\r\n" waited for a delayed
//! ACK) and the whole queue of a 10,000-message backlog (18,000 mails) took 15 minutes.

use std::path::Path;

use sea_orm::{ConnectionTrait, Database};

use super::log::{Log, per_second};
use super::smtp::TestSmtp;

/// Sends part of `dir`'s outbox (`queued` mails in all) again through SMTP; prints mails per
/// second and what that makes of the whole queue.
pub fn report_smtp(rt: &tokio::runtime::Runtime, dir: &Path, db_url: &str, queued: usize) {
    let sample: usize = std::env::var("BENCH_SMTP_MAILS").ok().and_then(|s| s.parse().ok()).unwrap_or(500);
    let sink = TestSmtp::start();
    rt.block_on(async {
        let db = Database::connect(db_url).await.expect("the benchmark's database");
        let again = format!(
            "UPDATE outbox SET status = 'queued', attempts = 0, sent_at = NULL, claimed_until = NULL, \
             last_error = NULL, next_attempt_at = created_at WHERE id <= {sample}"
        );
        db.execute_unprepared(&again).await.expect("queue the outbox again");
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
    let rate = per_second(sent, span);
    println!(
        "  outbox over SMTP (aiosmtpd on loopback): {sent} of the {queued} mails in {span:.1?}, {rate:.0} mails/s \
         (the receiver got {received}); all {queued} would take {:.0} s",
        queued as f64 / rate
    );
}
