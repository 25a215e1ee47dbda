//! `check-config` prints every problem with its key path and exits 78; `run` refuses such a
//! configuration too.

use crate::support::{Backend, Sandbox};

/// The shipped daemon.toml is valid and draws no warning either.
#[tokio::test(flavor = "multi_thread")]
async fn the_repository_config_is_valid() {
    let sandbox = Sandbox::as_shipped(Backend::Sqlite).await;
    let out = sandbox.run(&["check-config"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("warning"), "{err}");
}

/// `"escalation"` among the recipients with no `escalation_email` would silently reach
/// nobody; two spellings of one agent address make two agents. Both are warned about, with
/// the key path, and the configuration still loads.
#[tokio::test(flavor = "multi_thread")]
async fn escalation_without_its_address_and_agents_differing_in_case_are_warned_about() {
    let sandbox = Sandbox::as_shipped(Backend::Sqlite).await;
    sandbox.edit_config(|c| {
        let c = c.replace("escalation_email = \"support-lead@example.com\"\n", "");
        let c = c.replace("# aliases = [\"a.smith@example.com\"]", "aliases = [\"A.Smith@example.com\"]");
        format!("{c}\n[[agent]]\nname = \"Alice again\"\nemail = \"Alice@Example.com\"\n\n[[agent]]\nname = \"Al\"\nemail = \"a.smith@example.com\"\n")
    });
    let out = sandbox.run(&["check-config"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "warnings only: {err}");
    for warning in [
        "warning: scheduler.breach_recipients[2]: \"escalation\" stands for scheduler.escalation_email, which is not set",
        "warning: agent[1].email: Alice@example.com and agent[0].email (alice@example.com) differ only in case",
        "warning: agent[2].email: a.smith@example.com and agent[0].aliases[0] (A.Smith@example.com) differ only in case",
    ] {
        assert!(err.contains(warning), "{warning} in {err}");
    }
    assert_eq!(err.matches("warning:").count(), 3, "{err}");
    // Given an address, "escalation" is fine.
    sandbox.edit_config(|c| c.replace("[scheduler]\n", "[scheduler]\nescalation_email = \"lead@example.com\"\n"));
    let err = String::from_utf8_lossy(&sandbox.run(&["check-config"]).stderr).into_owned();
    assert!(!err.contains("escalation"), "{err}");
}

/// One run names everything to fix: the configuration's problems and the templates' (which
/// are checked even though the configuration is invalid), in words a template editor reads
/// — not handlebars' debug text such as `Some("contact_nam")`.
#[tokio::test(flavor = "multi_thread")]
async fn config_and_template_problems_come_in_one_run_in_plain_words() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.edit_config(|c| c.replace("time_zone = \"Europe/London\"", "time_zone = \"Europe/Londn\""));
    let ack = std::fs::read_to_string(sandbox.path("templates/ack.txt.hbs")).unwrap();
    assert!(ack.contains("{{contact_name}}"), "the ack greets the contact");
    std::fs::write(sandbox.path("templates/ack.txt.hbs"), ack.replace("{{contact_name}}", "{{contact_nam}}")).unwrap();
    std::fs::write(sandbox.path("templates/alert.subject.hbs"), "{{#if case_tag}}{{case_tag}}{{/each}}\n").unwrap();
    let out = sandbox.run(&["check-config"]);
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    for said in [
        "business_hours.time_zone: unknown IANA time zone \"Europe/Londn\"",
        "templates/ack.txt.hbs:",
        "unknown variable {{contact_nam}} (did you mean {{contact_name}}?)",
        "templates/alert.subject.hbs:1:",
        "{{#if}} is closed by {{/each}}: close it with {{/if}}",
    ] {
        assert!(err.contains(said), "{said} in {err}");
    }
    for debug_text in ["Some(", "None", "strict mode", "expected escape"] {
        assert!(!err.contains(debug_text), "{debug_text} in {err}");
    }
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

/// Routes, members and who may open cases: each bad value is named by its key, and a route
/// to an address that is no agent is a warning.
#[tokio::test(flavor = "multi_thread")]
async fn bad_routes_members_and_intake_policy_are_named() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.edit_config(|c| {
        let c = c.replace("who_may_open = \"anyone\"", "who_may_open = \"friends\"").replace(
            "# members = [\"jane@acme.example\", \"*@it.acme.example\"]",
            "members = [\"jane@\", \"*@acme.example\"]",
        );
        format!("{c}\n[[route]]\ntype = \"Outage\"\ncompany = \"nosuch\"\nnotify = [\"not an address\"]\n")
    });
    let out = sandbox.run(&["check-config"]);
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "intake.who_may_open: expected \"anyone\", \"companies\" or \"members\", got \"friends\"",
        "company[0].members[0]: expected an address or \"*@domain\", got \"jane@\"",
        "route[0].type: expected a case type",
        "route[0].company: no [[company]] has slug \"nosuch\"",
        "route[0].notify:",
    ] {
        assert!(err.contains(expected), "{expected}: {err}");
    }
    assert!(err.contains("5 problem(s)"), "{err}");

    sandbox.edit_config(|c| {
        let c = c.replacen("who_may_open = \"friends\"", "who_may_open = \"members\"", 1);
        let c = c.replace("members = [\"jane@\", \"*@acme.example\"]", "members = [\"*@acme.example\"]");
        let cut = c.find("\n[[route]]").unwrap();
        format!("{}\n[[route]]\nseverity = \"S1\"\nnotify = [\"olga@example.com\"]\n", &c[..cut])
    });
    let out = sandbox.run(&["check-config"]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("route[0].notify: olga@example.com is no [[agent]] here"), "{text}");
}

/// The four teams the shipped daemon.toml documents load once uncommented; a team that would
/// loop (at a plus-address of the support mailbox, or an agent's) is refused with its key,
/// and `run` refuses it too.
#[tokio::test(flavor = "multi_thread")]
async fn documented_teams_load_and_a_team_that_would_loop_is_refused() {
    let sandbox = Sandbox::as_shipped(Backend::Sqlite).await;
    sandbox.edit_config(|c| {
        let start = c.find("# [[team]]").expect("daemon.toml documents teams");
        let end = c[start..].find("\n\n").map_or(c.len(), |e| start + e);
        let teams = c[start..end].lines().map(|l| l.strip_prefix("# ").unwrap_or(l)).collect::<Vec<_>>().join("\n");
        assert_eq!(teams.matches("[[team]]").count(), 4, "{teams}");
        format!("{}{}{}", &c[..start], teams, &c[end..])
    });
    let out = sandbox.run(&["check-config"]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");

    sandbox.edit_config(|c| {
        let c = c.replace("address = \"hosting@example.com\"", "address = \"Support+hosting@example.com\"");
        c.replace("members = [\"lead.dev@example.com\"]", "members = [\"alice@example.com\"]")
    });
    for args in [&["check-config"][..], &["run", "--once"][..]] {
        let out = sandbox.run(args);
        assert_eq!(out.status.code(), Some(78), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("team[2].address: Support+hosting@example.com is a support address"), "{err}");
        assert!(err.contains("team[0].members[0]: alice@example.com is agent Alice Smith's address"), "{err}");
    }
}

/// A password only the environment gives is not in the file, so a file others can read is
/// no reason to warn about it; one the file holds is, whatever the environment says.
#[tokio::test(flavor = "multi_thread")]
async fn a_password_only_the_environment_gives_draws_no_warning_about_the_file() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let section = "[outbound]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = 2525\nsecurity = \"plain\"\n\
                   from = \"Support <support@example.com>\"\nusername = \"u\"\n";
    sandbox.set_outbound(section);
    std::fs::set_permissions(sandbox.path("daemon.toml"), PermissionsExt::from_mode(0o644)).unwrap();
    let check = |env: bool| {
        let mut cmd = sandbox.cmd(&["check-config"]);
        if env {
            cmd.env("SUPPORTD_OUTBOUND__PASSWORD", "s3cret");
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{err}");
        err
    };
    let err = check(true);
    assert!(!err.contains("outbound.password:"), "the file holds no password: {err}");

    sandbox.set_outbound(&format!("{section}password = \"in-the-file\"\n"));
    std::fs::set_permissions(sandbox.path("daemon.toml"), PermissionsExt::from_mode(0o644)).unwrap();
    for env in [false, true] {
        let err = check(env);
        assert!(err.contains("warning: outbound.password: ") && err.contains("holds this password"), "{env}: {err}");
    }
}

/// The shipped daemon.toml's commented `holidays` line sits under `[business_hours]` itself:
/// uncommented as it stands, it loads and the calendar skips those days (below
/// `[business_hours.weekly]` it would have been read as a weekday).
#[tokio::test(flavor = "multi_thread")]
async fn the_shipped_holidays_line_works_when_uncommented() {
    let sandbox = Sandbox::as_shipped(Backend::Sqlite).await;
    let line = "# holidays = [\"2026-12-25\", \"2026-12-28\"]";
    sandbox.edit_config(|c| {
        assert!(c.contains(line), "the shipped line");
        c.replace(line, &line[2..])
    });
    let out = sandbox.run(&["check-config"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("warning"), "{err}");
    // Thursday 24 December 16:00 London, S2 (4 business hours): one hour that day, then
    // Christmas, the weekend and the 28th are closed.
    let due = sandbox.run(&["sla", "due", "--severity", "S2", "--at", "2026-12-24T16:00:00Z"]);
    let due = String::from_utf8_lossy(&due.stdout);
    assert!(due.contains("2026-12-29"), "{due}");
}

/// A classic weekday cron is shown with the key, as written, how it is read and its next three
/// runs (Monday to Friday, from a Friday); one that cannot be translated is refused by key.
#[tokio::test(flavor = "multi_thread")]
async fn cron_keys_are_shown_with_their_next_three_runs_and_a_bad_one_is_named() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.edit_config(|c| c.replace("escalations = \"0 * * * * *\"", "escalations = \"30 8 * * 1-5\""));
    // Friday 2026-12-04 12:00 in London.
    let out = sandbox.run_at("2026-12-04T12:00:00Z", &["check-config"]);
    let line = out.lines().find(|l| l.starts_with("scheduler.escalations")).unwrap_or_else(|| panic!("{out}"));
    assert_eq!(
        line,
        "scheduler.escalations = \"30 8 * * 1-5\" (read as \"0 30 8 * * 2,3,4,5,6\"): next Mon 2026-12-07 08:30, \
         Tue 2026-12-08 08:30, Wed 2026-12-09 08:30 (Europe/London)"
    );
    let monthly = "scheduler.monthly_report = \"0 0 8 1 * *\": next Fri 2027-01-01 08:00, Mon 2027-02-01 08:00, \
                   Mon 2027-03-01 08:00 (Europe/London)";
    assert!(out.lines().any(|l| l == monthly), "{out}");

    sandbox.edit_config(|c| c.replace("\"30 8 * * 1-5\"", "\"30 8 1 * 1-5\""));
    let out = sandbox.run(&["check-config"]);
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("scheduler.escalations: cron expression \"30 8 1 * 1-5\" restricts both the day of month and the day of week"),
        "{err}"
    );
}
