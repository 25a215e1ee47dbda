//! SIGKILL while 200 acknowledgements are being sent, then restarts: every one arrives, and
//! duplicates number at most one per kill (the documented window between the server's 250
//! and the row marked sent).

use std::collections::HashMap;
use std::time::Duration;

use crate::support::smtp::header;
use crate::support::{Backend, Sandbox, TestSmtp, customer_mail};

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_while_sending_loses_nothing_and_repeats_at_most_one_per_kill() {
    const N: usize = 200;
    const KILLS: usize = 4;
    let sink = TestSmtp::start();
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    // A short lease, so a restarted sender takes over a killed one's claim at once.
    sandbox.set_outbound(&sink.outbound_toml().replace("lease = \"2s\"", "lease = \"1ms\""));
    sandbox.edit_config(|c| c.replace("ack_limit_per_hour = 10", "ack_limit_per_hour = 1000"));
    sandbox.uncap_stranger_mail();
    for n in 0..N {
        sandbox.drop_mail(&format!("{n:03}.eml"), &customer_mail(n, &format!("Ack storm {n}")));
    }
    for kill in 0..KILLS {
        let mut daemon = sandbox.spawn_daemon();
        daemon.wait_for("supportd ready", Duration::from_secs(60));
        // Somewhere in the middle of sending: after 10..40 more deliveries.
        daemon.wait_for_count("sender: sent", 10 + kill * 10, Duration::from_secs(60));
        daemon.signal(libc::SIGKILL);
        daemon.wait_exit(Duration::from_secs(10)).expect("killed");
    }
    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let mut per_id: HashMap<String, usize> = HashMap::new();
    for m in sink.messages() {
        *per_id.entry(header(&m, "Message-ID").unwrap()).or_default() += 1;
    }
    assert_eq!(per_id.len(), N, "every acknowledgement arrived");
    let duplicates: usize = per_id.values().map(|n| n - 1).sum();
    assert!(duplicates <= KILLS, "{duplicates} duplicates after {KILLS} kills");
    assert!(sandbox.outbox_rows().iter().all(|r| r["status"] == "sent"));
}
