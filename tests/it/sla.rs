//! `supportd sla due` on the repository's calendar (Europe/London, Mon–Fri 09:00–17:00).

use crate::support::{Backend, Sandbox};

fn due(sandbox: &Sandbox, args: &[&str]) -> String {
    let mut all = vec!["sla", "due"];
    all.extend_from_slice(args);
    let out = sandbox.run(&all);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sla_due_prints_utc_and_the_calendar_zone() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let s1 = due(&sandbox, &["--severity", "S1", "--at", "2026-11-20T16:30:00Z"]);
    assert_eq!(s1, "2026-11-23T09:30:00Z\n2026-11-23 09:30 GMT (Europe/London)\n");
    let s2 = due(&sandbox, &["--severity", "S2", "--at", "2026-11-20T16:30:00Z", "--target", "resolve"]);
    assert_eq!(s2.lines().next(), Some("2026-11-24T16:30:00Z"), "two business days");
    let bug =
        due(&sandbox, &["--severity", "S2", "--at", "2026-11-20T16:30:00Z", "--target", "resolve", "--type", "Bug"]);
    assert_eq!(bug, "no resolution target applies to a S2 Bug\n");
    let out = sandbox.run(&["sla", "due", "--severity", "S9", "--at", "2026-11-20T16:30:00Z"]);
    assert_eq!(out.status.code(), Some(2), "a bad argument is a usage error");
}
