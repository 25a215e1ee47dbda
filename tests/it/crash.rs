//! SIGKILL at random points while 500 messages are ingested from Dovecot, ten times, then a
//! restart: exactly 500 messages stored, no duplicates, none left unprocessed.

use std::time::Duration;

use crate::support::{Backend, Sandbox, TestMailServer, customer_mail};

/// A small deterministic generator; the seed is printed so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_ingest_loses_and_duplicates_nothing() {
    const N: usize = 500;
    let server = TestMailServer::start();
    let messages: Vec<Vec<u8>> = (0..N).map(|n| customer_mail(n, &format!("Crash test {n}"))).collect();
    server.deliver_to_maildir(&messages);
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    // Small batches put more kills between a commit and the batch's \Seen.
    sandbox.edit_config(|c| c + &server.mailbox_toml("plain", "batch_size = 25"));

    let seed = std::env::var("CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    println!("CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    for round in 0..10 {
        let mut daemon = sandbox.spawn_daemon();
        daemon.wait_for("IMAP connected", Duration::from_secs(60));
        let stored = sandbox.count("SELECT COUNT(*) FROM messages").await as usize;
        if stored < N {
            // Kill after a random number of new cases, i.e. somewhere inside the next one.
            let k = 1 + rng.below(40.min((N - stored) as u64)) as usize;
            daemon.wait_for_count("opened case", k, Duration::from_secs(60));
        }
        daemon.signal(libc::SIGKILL);
        daemon.wait_exit(Duration::from_secs(10)).expect("killed");
        println!("round {round}: {stored} stored before");
    }

    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(sandbox.count("SELECT COUNT(*) FROM messages").await, N as i64, "exactly {N} stored");
    assert_eq!(sandbox.count("SELECT COUNT(DISTINCT dedup_key) FROM messages").await, N as i64, "no duplicates");
    assert_eq!(sandbox.count("SELECT COUNT(*) FROM cases").await, N as i64);
    assert_eq!(sandbox.count("SELECT MAX(number) FROM cases").await, N as i64, "no gaps in case numbers");
    assert_eq!(sandbox.count("SELECT COUNT(*) FROM outbox").await, N as i64, "one acknowledgement each");
    let unseen: Vec<_> = server.messages("INBOX").into_iter().filter(|(_, f)| !f.contains("\\Seen")).collect();
    assert!(unseen.is_empty(), "left unprocessed: {unseen:?}");
}
