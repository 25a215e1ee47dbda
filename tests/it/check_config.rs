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

/// `security = "plain"` to a host other than this machine would send the password in clear
/// text: refused with the key path, for IMAP and SMTP alike, by `check-config` and `run`;
/// `allow_plaintext = true` accepts it with a warning. Passwords that group or others can
/// read (a `password_file`, or the config file holding an inline one) are warned about.
#[tokio::test(flavor = "multi_thread")]
async fn plain_imap_and_smtp_to_a_remote_host_are_refused_unless_allowed() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let imap = "[[mailbox]]\nname = \"imap\"\nkind = \"imap\"\naddress = \"help@example.com\"\n\
                host = \"imap.example.com\"\nsecurity = \"plain\"\nusername = \"u\"\npassword_file = \"imap.pw\"\n";
    let smtp = "[outbound]\nkind = \"smtp\"\nhost = \"smtp.example.com\"\nsecurity = \"plain\"\n\
                from = \"Support <support@example.com>\"\nusername = \"u\"\npassword = \"p\"\n";
    std::fs::write(sandbox.path("imap.pw"), "s3cret\n").unwrap();
    sandbox.set_outbound(smtp);
    sandbox.edit_config(|c| format!("{c}\n{imap}"));
    for args in [&["check-config"][..], &["run", "--once"][..]] {
        let out = sandbox.run(args);
        assert_eq!(out.status.code(), Some(78), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        for (key, host) in [("mailbox[1].security", "imap.example.com"), ("outbound.security", "smtp.example.com")] {
            let said = format!("{key}: \"plain\" would send the password and the mail to {host} unencrypted");
            assert!(err.contains(&said), "{args:?}: {said} in {err}");
        }
        assert!(err.contains("2 problem(s)"), "{err}");
    }

    sandbox.edit_config(|c| c.replace("security = \"plain\"\n", "security = \"plain\"\nallow_plaintext = true\n"));
    let mode = |rel: &str, mode: u32| std::fs::set_permissions(sandbox.path(rel), PermissionsExt::from_mode(mode));
    mode("imap.pw", 0o640).unwrap();
    mode("daemon.toml", 0o644).unwrap();
    let out = sandbox.run(&["check-config"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    for warning in [
        "warning: mailbox[1].allow_plaintext: security = \"plain\" to imap.example.com: the password and the mail \
         cross the network unencrypted",
        "warning: outbound.allow_plaintext: security = \"plain\" to smtp.example.com",
        "warning: mailbox[1].password_file: ",
        "warning: outbound.password: ",
    ] {
        assert!(err.contains(warning), "{warning} in {err}");
    }
    assert!(err.contains("imap.pw is readable by group or others (mode 640)"), "{err}");

    mode("imap.pw", 0o600).unwrap();
    mode("daemon.toml", 0o600).unwrap();
    let err = String::from_utf8_lossy(&sandbox.run(&["check-config"]).stderr).into_owned();
    assert!(!err.contains("password_file:") && !err.contains("password:"), "private files: no warning: {err}");
}
