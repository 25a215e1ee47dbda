//! `check-config` prints every problem with its key path and exits 78; `run` refuses such a
//! configuration too.

use crate::support::{Backend, Sandbox};

#[tokio::test(flavor = "multi_thread")]
async fn the_repository_config_is_valid() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let out = sandbox.run(&["check-config"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `verify = "none"` is allowed but warned about; a team address with token-only
/// verification cannot work and is refused.
#[tokio::test(flavor = "multi_thread")]
async fn agent_verification_none_warns_and_team_with_tokens_is_refused() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.edit_config(|c| c.replace("verify = \"token\"", "verify = \"none\""));
    let out = sandbox.run(&["check-config"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: agents.verify: \"none\": anyone who writes with an agent's From address"), "{err}");
    sandbox.edit_config(|c| {
        c.replace("verify = \"none\"", "verify = \"token\"")
            .replace("notify = \"none\"", "notify = \"team@example.com\"")
    });
    let out = sandbox.run(&["check-config"]);
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("agents.notify: a team address cannot carry"));
}

/// An IMAP mailbox's `timeout` must be a duration; check-config names the key.
#[tokio::test(flavor = "multi_thread")]
async fn a_bad_imap_timeout_is_named() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let imap = "[[mailbox]]\nname = \"imap\"\nkind = \"imap\"\naddress = \"help@example.com\"\nhost = \"127.0.0.1\"\n\
                username = \"u\"\npassword = \"p\"\n";
    sandbox.edit_config(|c| format!("{c}\n{imap}timeout = \"soon\"\n"));
    let out = sandbox.run(&["check-config"]);
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mailbox[1].timeout: expected a duration such as 500ms, 30s, 5m or 1h, got \"soon\""),
        "{err}"
    );
    sandbox.edit_config(|c| c.replace("timeout = \"soon\"", "timeout = \"90s\""));
    let out = sandbox.run(&["check-config"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn three_mistakes_are_all_reported_with_key_paths() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.edit_config(|c| {
        c.replace("time_zone = \"Europe/London\"", "time_zone = \"Europe/Londn\"")
            .replace("escalations = \"0 * * * * *\"", "escalations = \"every minute\"")
            .replace("default_severity = \"S3\"", "default_severity = \"S7\"")
    });
    for args in [&["check-config"][..], &["run", "--once"][..]] {
        let out = sandbox.run(args);
        assert_eq!(out.status.code(), Some(78), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("business_hours.time_zone: unknown IANA time zone \"Europe/Londn\""), "{err}");
        assert!(err.contains("scheduler.escalations: invalid cron expression \"every minute\""), "{err}");
        assert!(err.contains("mailbox[0].default_severity: expected a severity"), "{err}");
        assert!(err.contains("3 problem(s)"), "{err}");
    }
    assert!(!sandbox.path("var/supportd.db").exists(), "run touched nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_template_error_names_file_and_line() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    std::fs::write(sandbox.path("templates/ack.txt.hbs"), "Hello\n{{#if case_number}}\nunclosed\n").unwrap();
    std::fs::write(sandbox.path("templates/ack.html.hbs"), "<p>{{no_such_variable}}</p>\n").unwrap();
    let out = sandbox.run(&["check-config"]);
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("templates/ack.txt.hbs:"), "{err}");
    assert!(err.contains("templates/ack.html.hbs"), "{err}");
}
