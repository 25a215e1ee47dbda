//! What agents read of a CSM's `#report` written to the support address (through Dovecot and
//! the SMTP receiver): the held reason says, in the agents' words, why it was not verified
//! (the how-to tells the CSM what to do), and `held release` says to whom the report went.

use super::Desk;
use crate::support::smtp::header;

#[tokio::test(flavor = "multi_thread")]
async fn a_released_csm_request_says_it_went_to_the_csm_and_its_reason_is_for_agents() {
    let desk = Desk::start(|c| {
        let csm = "# csm_email = \"sam@example.com\"";
        assert!(c.contains(csm), "daemon.toml shows the csm_email key");
        c.replace(csm, "csm_email = \"sam@example.com\"")
            .replace("monthly_report = \"0 0 8 1 * *\"", "monthly_report = \"off\"")
    })
    .await;
    let request = "From: Sam <sam@example.com>\r\nTo: support@example.com\r\nSubject: Report please\r\n\
                   Message-ID: <sam-report@example.com>\r\nDate: Mon, 07 Dec 2026 09:00:00 +0000\r\n\
                   Content-Type: text/plain; charset=utf-8\r\n\r\n#report 2026-11\r\n";
    desk.server.append(&[request.as_bytes().to_vec()]).await;
    desk.run();

    let out = desk.sandbox.run(&["held", "list", "--format", "json"]);
    let held: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(held.len(), 1, "{held:?}");
    let reason = held[0]["reason"].as_str().unwrap();
    assert!(reason.contains("not sent to the sender's personal address"), "{reason}");
    assert!(!reason.contains("your") && !reason.contains("case notification"), "for agents, not the CSM: {reason}");
    let howto: Vec<_> =
        desk.sent_to("sam@example.com").into_iter().filter(|(raw, _)| raw.contains(".report-howto.")).collect();
    assert_eq!(howto.len(), 1, "the how-to tells Sam what to do");

    let out = desk.sandbox.run(&["held", "release", &held[0]["id"].to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        said.trim(),
        format!("held #{} released: the 2026-11 report of acme queued to sam@example.com", held[0]["id"])
    );
    desk.run();
    let reports: Vec<String> = desk
        .sent_to("sam@example.com")
        .iter()
        .filter_map(|(raw, _)| header(raw, "Subject"))
        .filter(|s| s.starts_with("Support report for"))
        .collect();
    assert_eq!(reports, ["Support report for Acme Corporation, November 2026"]);
    let to_carol = desk.sent_to("carol@example.com");
    assert!(to_carol.iter().all(|(raw, _)| !raw.contains("Support report for")), "not to the CRM");
}
