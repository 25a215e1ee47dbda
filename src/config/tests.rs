use std::path::Path;

use super::*;
use crate::domain::{BusinessDuration, Severity};

const MINIMAL: &str = r#"
[[mailbox]]
name = "support"
kind = "maildir"
path = "var/inbox"
address = "support@example.com"

[outbound]
kind = "file"
from = "Support <support@example.com>"
"#;

fn load(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml(text, Path::new("/etc/supportd/daemon.toml"), Path::new("/etc/supportd"))
}

fn problems(text: &str) -> Vec<String> {
    match load(text) {
        Err(ConfigError::Invalid { problems, .. }) => problems.iter().map(|p| p.to_string()).collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn omitted_sections_take_the_published_defaults() {
    let c = load(MINIMAL).unwrap();
    assert_eq!(c.database.url, "sqlite:///etc/supportd/var/supportd.db?mode=rwc");
    assert_eq!(c.sla.target(Severity::S1).respond, BusinessDuration::Minutes(60));
    assert_eq!(c.sla.target(Severity::S2).resolve, Some(BusinessDuration::Days(2)));
    assert_eq!(c.sla.target(Severity::S4).resolve, None);
    assert_eq!(c.calendar.day_minutes(), 8 * 60);
    assert_eq!(c.templates_dir, Path::new("/etc/supportd/templates"));
    match &c.mailboxes[0].source {
        MailboxSource::Maildir { path } => assert_eq!(path, Path::new("/etc/supportd/var/inbox")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_repository_daemon_toml_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("daemon.toml");
    let c = Config::load(&path).unwrap();
    assert_eq!(c.companies[0].slug, "acme");
    assert_eq!(c.outbound.from_name.as_deref(), Some("Support"));
}

#[test]
fn every_problem_is_reported_with_its_key_path() {
    let text = format!(
        r#"{MINIMAL}
bogus = 1
[[mailbox]]
name = "support"
kind = "imap"
host = "imap.example.com"
port = 0
username = "u"
password = "p"
address = "not an address"

[[company]]
name = "Acme"
domains = ["acme.example"]
[[company]]
name = "Other"
domains = ["acme.example"]
time_zone = "Mars/Olympus"

[scheduler]
escalations = "61 * * * *"

[sla.S2]
respond = "four hours"
"#
    );
    let found = problems(&text);
    let expect = [
        "outbound.bogus: unknown key",
        "mailbox[1].name: \"support\" is already the name of mailbox[0]",
        "mailbox[1].port: expected 1..65535, got 0",
        "mailbox[1].address: expected an email address",
        "company[1].domains[0]: \"acme.example\" already belongs to company[0]",
        "company[1].time_zone: unknown IANA time zone \"Mars/Olympus\"",
        "scheduler.escalations: invalid cron expression \"61 * * * *\"",
        "sla.S2.respond: expected a duration",
    ];
    for e in expect {
        assert!(found.iter().any(|f| f.starts_with(e)), "missing {e:?} in {found:#?}");
    }
    assert_eq!(found.len(), expect.len(), "{found:#?}");
}

#[test]
fn classic_five_field_cron_is_accepted() {
    let c = load(&format!("{MINIMAL}\n[scheduler]\nescalations = \"*/5 * * * *\"\n")).unwrap();
    let next: Vec<_> = c.scheduler.escalations.upcoming(chrono::Utc).take(2).collect();
    assert_eq!((next[1] - next[0]).num_minutes(), 5);
}

#[test]
fn passwords_come_from_env_or_file_and_never_show() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("imap.pw"), "from-file\n").unwrap();
    let imap = |secret: &str| {
        format!(
            "{MINIMAL}\n[[mailbox]]\nname = \"imap\"\nkind = \"imap\"\nhost = \"h\"\nusername = \"u\"\naddress = \"a@example.com\"\n{secret}\n"
        )
    };
    let cfg = Config::from_toml(&imap("password_file = \"imap.pw\""), &dir.path().join("d.toml"), dir.path()).unwrap();
    let MailboxSource::Imap(i) = &cfg.mailboxes[1].source else { panic!() };
    let MailAuth::Password(password) = &i.auth else { panic!("a password mailbox") };
    assert_eq!(password.expose(), "from-file");
    assert_eq!(format!("{:?}", password), "***");

    // SAFETY: the variable name is unique to this test.
    unsafe { std::env::set_var("SUPPORTD_TEST_IMAP_PW", "from-env") };
    let cfg = load(&imap("password_env = \"SUPPORTD_TEST_IMAP_PW\"")).unwrap();
    let MailboxSource::Imap(i) = &cfg.mailboxes[1].source else { panic!() };
    let MailAuth::Password(password) = &i.auth else { panic!("a password mailbox") };
    assert_eq!(password.expose(), "from-env");

    let found = problems(&imap("password_env = \"SUPPORTD_TEST_UNSET_VARIABLE\""));
    assert_eq!(found, ["mailbox[1].password_env: environment variable SUPPORTD_TEST_UNSET_VARIABLE is not set"]);
}

#[test]
fn imap_timeout_defaults_to_a_minute_and_a_bad_one_is_named() {
    let imap = |extra: &str| {
        format!(
            "{MINIMAL}\n[[mailbox]]\nname = \"imap\"\nkind = \"imap\"\nhost = \"h\"\nusername = \"u\"\npassword = \"p\"\naddress = \"a@example.com\"\n{extra}\n"
        )
    };
    let timeout = |cfg: &Config| match &cfg.mailboxes[1].source {
        MailboxSource::Imap(i) => i.timeout,
        other => panic!("{other:?}"),
    };
    assert_eq!(timeout(&load(&imap("")).unwrap()), std::time::Duration::from_secs(60));
    assert_eq!(timeout(&load(&imap("timeout = \"2s\"")).unwrap()), std::time::Duration::from_secs(2));
    let found = problems(&imap("timeout = \"soon\""));
    assert_eq!(found, ["mailbox[1].timeout: expected a duration such as 500ms, 30s, 5m or 1h, got \"soon\""]);
}

#[test]
fn a_syntax_error_names_the_line() {
    match load("[database\nurl = 1") {
        Err(ConfigError::Syntax { message, .. }) => assert!(message.contains("line 1"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn business_hours_ranges_are_checked() {
    let found =
        problems(&format!("{MINIMAL}\n[business_hours.weekly]\nmon = [\"17:00-09:00\"]\nfunday = [\"09:00-10:00\"]\n"));
    assert!(found.iter().any(|f| f.starts_with("business_hours.weekly.mon[0]: expected a range")), "{found:?}");
    assert!(found.iter().any(|f| f.starts_with("business_hours.weekly.funday: unknown weekday")), "{found:?}");
}

#[test]
fn holiday_files_add_dates_and_report_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("2026.txt"),
        "# UK bank holidays\n2026-12-25 Christmas Day\n\n2026-12-28 Boxing Day (substitute)\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("bad.txt"), "2026-12-25\n2026-13-01\n").unwrap();
    let text = |files: &str| format!("{MINIMAL}\n[business_hours]\nholiday_files = [{files}]\n");
    let cfg = Config::from_toml(&text("\"2026.txt\""), &dir.path().join("d.toml"), dir.path()).unwrap();
    let expected: Vec<chrono::NaiveDate> = ["2026-12-25", "2026-12-28"].iter().map(|d| d.parse().unwrap()).collect();
    assert_eq!(cfg.calendar.holidays.iter().copied().collect::<Vec<_>>(), expected);
    match Config::from_toml(&text("\"bad.txt\", \"missing.txt\""), &dir.path().join("d.toml"), dir.path()) {
        Err(ConfigError::Invalid { problems, .. }) => {
            let all: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
            assert_eq!(all.len(), 2, "{all:?}");
            assert!(
                all[0].starts_with("business_hours.holiday_files[0]: ") && all[0].contains("bad.txt:2:"),
                "{all:?}"
            );
            assert!(all[1].starts_with("business_hours.holiday_files[1]: cannot read"), "{all:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn agent_verification_policies_are_checked() {
    let c = load(MINIMAL).unwrap();
    assert_eq!(c.agent_desk.verify, Verify::Token, "tokens by default: they work without a receiving server");
    assert_eq!(c.agent_desk.notify, Notify::EachAgent);
    assert!(c.warnings.is_empty());

    let team_token = format!("{MINIMAL}\n[agents]\nnotify = \"team@example.com\"\nverify = \"token\"\n");
    let p = problems(&team_token);
    assert!(p.iter().any(|p| p.starts_with("agents.notify: a team address cannot carry")), "{p:?}");

    let no_server = format!("{MINIMAL}\n[agents]\nverify = \"auth-results or token\"\n");
    assert!(problems(&no_server).iter().any(|p| p.starts_with("agents.authserv_id: required")));

    let bad = format!("{MINIMAL}\n[agents]\nverify = \"trust me\"\nrelay_name = \"Support\"\n");
    let p = problems(&bad);
    assert!(p.iter().any(|p| p.starts_with("agents.verify: expected \"token\"")), "{p:?}");
    assert!(p.iter().any(|p| p.starts_with("agents.relay_name: expected {name}")), "{p:?}");

    let hops = format!("{MINIMAL}\n[agents]\nreceived_above_results = 11\n");
    assert!(problems(&hops).iter().any(|p| p == "agents.received_above_results: expected 0..10, got 11"));
    let postfix = format!("{MINIMAL}\n[agents]\nreceived_above_results = 2\n");
    assert_eq!(load(&postfix).unwrap().agent_desk.received_above_results, 2);

    let team_either = format!(
        "{MINIMAL}\n[agents]\nnotify = \"team@example.com\"\nverify = \"auth-results or token\"\nauthserv_id = \"mx.example.com\"\n"
    );
    let c = load(&team_either).unwrap();
    assert_eq!(c.agent_desk.verify, Verify::Any);

    assert_eq!(c.agent_desk.mail_limit_per_hour, 30, "mail to one agent is limited by default");
    let unlimited = format!("{MINIMAL}\n[agents]\nmail_limit_per_hour = 0\n");
    assert!(problems(&unlimited).iter().any(|p| p.starts_with("agents.mail_limit_per_hour: expected 1..10000")));

    let to_ourselves = format!("{MINIMAL}\n[agents]\nnotify = \"support@example.com\"\nverify = \"none\"\n");
    assert!(problems(&to_ourselves).iter().any(|p| p.contains("is a support mailbox")));

    let none = load(&format!("{MINIMAL}\n[agents]\nverify = \"none\"\n")).unwrap();
    assert_eq!(none.warnings.len(), 1);
    assert!(none.warnings[0].to_string().starts_with("agents.verify: \"none\""), "{}", none.warnings[0]);
}

/// Numbers beyond their range are refused by key with the reason, never wrapped: an
/// interval that overflowed to a few seconds, or a target of billions of days, would run.
#[test]
fn out_of_range_durations_and_sizes_are_refused_by_key() {
    let text = format!(
        "{MINIMAL}poll_interval = \"99999999999999999999h\"\nretry_max = \"25h\"\nlease = \"5124095576030432m\"\n\
         [intake]\nmax_message_size = \"18014398509481984KB\"\n\
         [sla.S1]\nrespond = \"1e10h\"\nresolve = \"4294967296d\"\n\
         [scheduler]\nwarn_at = [\"99999999999999999999m\"]\n"
    );
    let found = problems(&text);
    for (key, why) in [
        ("outbound.poll_interval", "is too long: at most 24h"),
        ("outbound.retry_max", "is too long: at most 24h"),
        ("outbound.lease", "is too long: at most 24h"),
        ("intake.max_message_size", "is too large: at most 1GB"),
        ("sla.S1.respond", "expected a duration such as"),
        ("sla.S1.resolve", "is too long: at most 366 business days"),
        ("scheduler.warn_at[0]", "is too long"),
    ] {
        assert!(
            found.iter().any(|p| p.starts_with(&format!("{key}: ")) && p.contains(why)),
            "{key}: {why} in {found:#?}"
        );
    }
    assert_eq!(found.len(), 7, "{found:#?}");
}

#[test]
fn intervals_and_sizes_at_their_limits_are_accepted() {
    let text = format!("{MINIMAL}poll_interval = \"24h\"\nlease = \"1440m\"\n[intake]\nmax_message_size = \"1GB\"\n");
    let c = load(&text).expect("in range");
    assert_eq!(c.outbound.poll_interval, std::time::Duration::from_secs(24 * 3600));
    assert_eq!(c.intake.max_message_size, 1024 * 1024 * 1024);
}

#[test]
fn quarantine_keep_bytes_defaults_to_a_mebibyte_and_is_checked() {
    assert_eq!(load(MINIMAL).unwrap().intake.quarantine_keep_bytes, 1024 * 1024);
    let small = format!("[intake]\nmax_message_size = \"100KB\"\n{MINIMAL}");
    assert_eq!(load(&small).unwrap().intake.quarantine_keep_bytes, 100 * 1024, "the default never exceeds the limit");
    let with = |keep: &str| format!("[intake]\nmax_message_size = \"2MB\"\nquarantine_keep_bytes = {keep}\n{MINIMAL}");
    assert_eq!(load(&with("\"64KB\"")).unwrap().intake.quarantine_keep_bytes, 64 * 1024);
    let bad = problems(&with("\"lots\""));
    assert!(bad.iter().any(|p| p.contains("intake.quarantine_keep_bytes") && p.contains("\"lots\"")), "{bad:?}");
    let over = problems(&with("\"3MB\""));
    assert!(
        over.iter().any(|p| p.contains("intake.quarantine_keep_bytes") && p.contains("max_message_size")),
        "{over:?}"
    );
}

/// An IMAP mailbox on `host`, with `extra` keys, after MINIMAL's maildir one (so `mailbox[1]`).
fn imap_on(host: &str, extra: &str) -> String {
    format!(
        "{MINIMAL}\n[[mailbox]]\nname = \"imap\"\nkind = \"imap\"\nhost = \"{host}\"\nusername = \"u\"\n\
         password_env = \"PATH\"\naddress = \"a@example.com\"\n{extra}\n"
    )
}

/// MINIMAL with its outbound sending by SMTP to `host`.
fn smtp_on(host: &str, extra: &str) -> String {
    MINIMAL.replace("kind = \"file\"", &format!("kind = \"smtp\"\nhost = \"{host}\"\n{extra}"))
}

#[test]
fn plain_imap_or_smtp_to_a_remote_host_is_refused_by_key() {
    let found = problems(&imap_on("imap.example.com", "security = \"plain\""));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("mailbox[1].security: \"plain\" would send the password"), "{found:?}");
    assert!(found[0].contains("imap.example.com") && found[0].contains("allow_plaintext = true"), "{found:?}");
    let found = problems(&smtp_on("192.0.2.25", "security = \"plain\""));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("outbound.security: \"plain\" would send the password"), "{found:?}");
    // A name that merely looks local may resolve anywhere.
    for host in ["localhost.example.com", "127.0.0.1.example.com", "::2", "10.0.0.1"] {
        assert_eq!(problems(&imap_on(host, "security = \"plain\"")).len(), 1, "{host}");
    }
}

#[test]
fn plain_to_loopback_is_accepted_and_allow_plaintext_warns() {
    for host in ["127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST", "::1", "[::1]", "::ffff:127.0.0.1"] {
        let c = load(&imap_on(host, "security = \"plain\"")).unwrap_or_else(|e| panic!("{host}: {e}"));
        assert!(c.warnings.is_empty(), "{host}: {:?}", c.warnings);
        let c = load(&smtp_on(host, "security = \"plain\"")).unwrap_or_else(|e| panic!("{host}: {e}"));
        assert!(c.warnings.is_empty(), "{host}: {:?}", c.warnings);
    }
    let c = load(&imap_on("imap.example.com", "security = \"plain\"\nallow_plaintext = true")).unwrap();
    let warnings: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        ["mailbox[1].allow_plaintext: security = \"plain\" to imap.example.com: the password and the mail cross \
          the network unencrypted"]
    );
    let c = load(&smtp_on("smtp.example.com", "security = \"plain\"\nallow_plaintext = true")).unwrap();
    assert!(c.warnings[0].to_string().starts_with("outbound.allow_plaintext: security = \"plain\" to smtp"));
    // TLS needs no permission; false is no permission.
    assert!(load(&imap_on("imap.example.com", "allow_plaintext = true")).unwrap().warnings.is_empty());
    let refused = problems(&smtp_on("smtp.example.com", "security = \"plain\"\nallow_plaintext = false"));
    assert!(refused[0].starts_with("outbound.security:"), "{refused:?}");
}

#[test]
fn passwords_in_files_others_can_read_are_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (config, secret) = (dir.path().join("daemon.toml"), dir.path().join("imap.pw"));
    let set_mode =
        |path: &Path, mode: u32| std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    std::fs::write(&secret, "s3cret\n").unwrap();
    let with_file = imap_on("imap.example.com", "").replace("password_env = \"PATH\"", "password_file = \"imap.pw\"");
    let inline = smtp_on("smtp.example.com", "username = \"u\"\npassword = \"p\"");
    let warnings = |text: &str| -> Vec<String> {
        std::fs::write(&config, text).unwrap();
        set_mode(&config, 0o640);
        Config::load(&config).unwrap().warnings.iter().map(ToString::to_string).collect()
    };
    set_mode(&secret, 0o644);
    let found = warnings(&with_file);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("mailbox[1].password_file: ") && found[0].contains("imap.pw"), "{found:?}");
    assert!(found[0].contains("mode 644"), "{found:?}");
    set_mode(&secret, 0o600);
    assert!(warnings(&with_file).is_empty(), "the config file holds no password");
    let found = warnings(&inline);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("outbound.password: ") && found[0].contains("daemon.toml"), "{found:?}");
    assert!(found[0].contains("mode 640") && found[0].contains("password_file or password_env"), "{found:?}");
    std::fs::write(&config, &inline).unwrap();
    set_mode(&config, 0o600);
    assert!(Config::load(&config).unwrap().warnings.is_empty());
}

fn warnings(text: &str) -> Vec<String> {
    load(text).unwrap().warnings.iter().map(|w| w.to_string()).collect()
}

#[test]
fn escalation_listed_without_its_address_is_warned_about_and_the_default_is_not() {
    assert!(warnings(MINIMAL).is_empty(), "the default recipients name nobody unset");
    let listed = format!("{MINIMAL}\n[scheduler]\nwarning_recipients = [\"escalation\"]\n");
    assert_eq!(
        warnings(&listed),
        ["scheduler.warning_recipients[0]: \"escalation\" stands for scheduler.escalation_email, which is not set: \
          these alerts reach only the other recipients"]
    );
    let with_address = format!("{listed}escalation_email = \"lead@example.com\"\n");
    assert!(warnings(&with_address).is_empty());
}

#[test]
fn agent_addresses_differing_only_in_case_are_warned_about() {
    let agents = "[[agent]]\nemail = \"rob@example.com\"\naliases = [\"Robert@Example.com\"]\n\
                  [[agent]]\nemail = \"Rob@EXAMPLE.com\"\n[[agent]]\nemail = \"robert@example.com\"\n\
                  [[agent]]\nemail = \"rob@example.com\"\n";
    let said = warnings(&format!("{MINIMAL}\n{agents}"));
    assert_eq!(said.len(), 3, "{said:?}");
    assert!(said[0].starts_with("agent[1].email: Rob@example.com and agent[0].email (rob@example.com) differ only"));
    assert!(said[1].starts_with("agent[2].email: robert@example.com and agent[0].aliases[0] (Robert@example.com)"));
    assert_eq!(said[2], "agent[3].email: rob@example.com is also agent[0].email");
    let distinct = "[[agent]]\nemail = \"rob@example.com\"\n[[agent]]\nemail = \"rob@example.org\"\n";
    assert!(warnings(&format!("{MINIMAL}\n{distinct}")).is_empty());
}

/// The problems come with what could still be known: the warnings, and the templates'
/// folder, which check-config compiles in the same run.
#[test]
fn an_invalid_config_still_names_its_warnings_and_templates_folder() {
    let text =
        format!("{MINIMAL}\n[templates]\ndir = \"mail\"\n[scheduler]\nbreach_recipients = [\"escalation\", \"x\"]\n");
    match load(&text) {
        Err(ConfigError::Invalid { problems, warnings, templates_dir, .. }) => {
            assert_eq!(problems.len(), 1, "{problems}");
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert_eq!(templates_dir, Path::new("/etc/supportd/mail"));
        }
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn budget_thresholds_default_and_a_bad_one_is_named() {
    assert_eq!(load(MINIMAL).unwrap().budget.warn_at, [25, 10, 0]);
    let c = load(&format!("{MINIMAL}\n[budget]\nwarn_at = [\"5%\", \"50%\", \"5%\"]\n")).unwrap();
    assert_eq!(c.budget.warn_at, [50, 5], "highest first, once each");
    let bad = problems(&format!("{MINIMAL}\n[budget]\nwarn_at = [\"50%\", \"ten\", \"150%\"]\n"));
    assert!(bad.iter().any(|p| p.starts_with("budget.warn_at[1]") && p.contains("\"ten\"")), "{bad:?}");
    assert!(bad.iter().any(|p| p.starts_with("budget.warn_at[2]")), "{bad:?}");
}

#[test]
fn teams_are_read_with_their_titles_and_members() {
    let c = load(&format!(
        r#"{MINIMAL}
[[team]]
name = "hosting"
address = "hosting@example.com"
members = ["ops-lead@example.com"]

[[team]]
name = "account"
address = "accounts@example.com"
title = "Account management"
"#
    ))
    .unwrap();
    let hosting = c.team("hosting").unwrap();
    assert_eq!(hosting.title, "Hosting team");
    let speaks = |a: &str| hosting.speaks_for(&a.parse().unwrap(), c.intake.local_part_case);
    assert!(speaks("ops-lead@example.com"));
    assert!(speaks("hosting@example.com"));
    assert!(speaks("HOSTING@EXAMPLE.COM"), "compared as every address is");
    assert!(!speaks("accounts@example.com"));
    assert_eq!(c.team("account").unwrap().title, "Account management");
    assert!(c.team("nowhere").is_none());
}

#[test]
fn a_team_that_would_loop_or_clash_is_refused_by_key() {
    let p = problems(&format!(
        r#"{MINIMAL}
[[agent]]
name = "Alice"
email = "alice@example.com"

[[team]]
name = "hosting"
address = "support+hosting@example.com"

[[team]]
name = "engineering"
address = "eng@example.com"
members = ["alice@example.com"]

[[team]]
name = "ops"
address = "ops@example.com"

[[team]]
name = "ops"
address = "ops2@example.com"

[[team]]
name = "Site Ops"
address = "site@example.com"

[[team]]
name = "shared"
address = "ops@example.com"

[[team]]
address = "nameless@example.com"
colour = "red"
"#
    ));
    let has = |key: &str, text: &str| p.iter().any(|l| l.starts_with(key) && l.contains(text));
    assert!(has("team[0].address", "is a support address"), "{p:#?}");
    assert!(has("team[1].members[0]", "agent Alice"), "{p:#?}");
    assert!(has("team[3].name", "another [[team]] is named \"ops\""), "{p:#?}");
    assert!(has("team[4].name", "lower-case letters"), "{p:#?}");
    assert!(has("team[5]", "shares an address with team \"ops\""), "{p:#?}");
    assert!(has("team[6].name", "missing"), "{p:#?}");
    assert!(has("team[6].colour", "unknown key"), "{p:#?}");
    assert_eq!(p.len(), 7, "{p:#?}");
}

#[test]
fn held_notify_takes_one_address_or_a_list_and_names_a_bad_one() {
    let one = load(&format!("{MINIMAL}\n[agents]\nheld_notify = \"lead@example.com\"\n")).unwrap();
    assert_eq!(one.agent_desk.held_notify, ["lead@example.com".parse::<crate::domain::EmailAddress>().unwrap()]);
    let two =
        load(&format!("{MINIMAL}\n[agents]\nheld_notify = [\"lead@example.com\", \"ops@example.com\"]\n")).unwrap();
    assert_eq!(two.agent_desk.held_notify.len(), 2);
    assert!(load(MINIMAL).unwrap().agent_desk.held_notify.is_empty(), "the agents by default");
    let p = problems(&format!(
        "{MINIMAL}\n[agents]\nheld_notify = [\"lead@example.com\", \"not an address\", \"support@example.com\"]\n"
    ));
    assert!(p.iter().any(|p| p.starts_with("agents.held_notify[1]: expected an email address")), "{p:?}");
    assert!(
        p.iter().any(|p| p.starts_with("agents.held_notify[2]: support@example.com is a support mailbox")),
        "{p:?}"
    );
}

#[test]
fn addresses_that_could_match_no_one_are_refused_by_key() {
    assert_eq!(load(MINIMAL).unwrap().intake.local_part_case, crate::domain::LocalPartCase::Insensitive);
    let exact = load(&format!("[intake]\nlocal_part_case = \"exact\"\n{MINIMAL}")).unwrap();
    assert_eq!(exact.intake.local_part_case, crate::domain::LocalPartCase::Exact);
    let found = problems(&format!(
        "[intake]\nlocal_part_case = \"sometimes\"\n{MINIMAL}\n[[agent]]\nemail = \"bob@\u{212A}iwi.example\"\n\
         [[company]]\nname = \"Kiwi\"\ndomains = [\"\u{212A}iwi.example\", \"KIWI.example\"]\n\
         members = [\"*@\u{FF4B}iwi.example\", \"Jane@kiwi.example\"]\ncrm_email = \"carol@\u{212A}iwi.example\"\n"
    ));
    let named = |key: &str| found.iter().any(|p| p.starts_with(key));
    assert!(named("intake.local_part_case"), "{found:?}");
    assert!(named("agent[0].email") && named("company[0].crm_email"), "{found:?}");
    assert!(named("company[0].domains[0]") && !named("company[0].domains[1]"), "{found:?}");
    assert!(named("company[0].members[0]") && !named("company[0].members[1]"), "{found:?}");
    assert!(found.iter().all(|p| !p.contains("members[1]")), "a member is kept as written: {found:?}");
}

#[test]
fn a_pool_the_web_server_could_hold_whole_is_warned_of() {
    let c = load(MINIMAL).unwrap();
    assert_eq!(c.database.max_connections, 10, "room for the web server's four and the mail");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let small = format!("{MINIMAL}\n[database]\nmax_connections = 5\n");
    let c = load(&small).unwrap();
    assert_eq!(c.database.max_connections, 5);
    let warned: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
    assert!(
        warned.iter().any(|w| w.starts_with("database.max_connections: the web server's pages and probes may hold 4 of these 5")),
        "{warned:?}"
    );
    let no_web = format!("{small}\n[http]\nlisten = \"\"\n");
    assert!(load(&no_web).unwrap().warnings.is_empty(), "without the web server the pool is the mail's");
}

/// An IMAP mailbox on `auth = "oauth2"` with `oauth2` as its table's lines.
fn oauth_mailbox(oauth2: &str) -> String {
    format!(
        "{MINIMAL}\n[[mailbox]]\nname = \"m365\"\nkind = \"imap\"\nhost = \"outlook.office365.com\"\n\
         username = \"support@contoso.example\"\naddress = \"support@contoso.example\"\nauth = \"oauth2\"\n\
         [mailbox.oauth2]\n{oauth2}\n"
    )
}

#[test]
fn an_oauth2_mailbox_takes_its_providers_endpoints_and_scopes() {
    let cfg =
        load(&oauth_mailbox("provider = \"microsoft\"\ntenant = \"contoso.example\"\nclient_id = \"app-1\"")).unwrap();
    let MailboxSource::Imap(i) = &cfg.mailboxes[1].source else { panic!() };
    let MailAuth::OAuth2(o) = &i.auth else { panic!("an OAuth2 mailbox") };
    assert_eq!(
        (o.account.as_str(), o.user.as_str(), o.client_id.as_str()),
        ("mailbox:m365", "support@contoso.example", "app-1")
    );
    assert_eq!(o.grant, crate::oauth::Grant::DeviceCode, "Microsoft's default: a public client logs in by device code");
    assert_eq!(o.endpoints.token, "https://login.microsoftonline.com/contoso.example/oauth2/v2.0/token");
    assert_eq!(o.scopes, ["https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"]);
    assert!(o.client_secret.is_none());
    assert!(
        matches!(cfg.oauth_key, Some(KeySource::Made(_))),
        "the embedded default makes its key: {:?}",
        cfg.oauth_key
    );
}

#[test]
fn an_oauth2_account_without_what_it_needs_is_refused_by_key() {
    let found = problems(&oauth_mailbox("provider = \"microsoft\""));
    assert_eq!(found, ["mailbox[1].oauth2.client_id: missing (required for auth = \"oauth2\"): the application's id"]);
    let found = problems(&oauth_mailbox("provider = \"google\"\nclient_id = \"x\"\ngrant = \"device_code\""));
    assert!(
        found[0].starts_with("mailbox[1].oauth2.grant: Google's device flow does not allow the mail scope"),
        "{found:?}"
    );
    let found = problems(&oauth_mailbox("provider = \"custom\"\nclient_id = \"x\""));
    assert_eq!(
        found,
        [
            "mailbox[1].oauth2.token_url: missing (required for provider = \"custom\" with this grant)",
            "mailbox[1].oauth2.device_url: missing (required for provider = \"custom\" with this grant)"
        ]
    );
    let found = problems(&oauth_mailbox(
        "provider = \"custom\"\nclient_id = \"x\"\ntoken_url = \"http://idp.example/token\"\ndevice_url = \"https://idp.example/device\"",
    ));
    assert!(found[0].starts_with("mailbox[1].oauth2.token_url: expected an https:// address"), "{found:?}");
    let found = problems(&oauth_mailbox(
        "provider = \"microsoft\"\nclient_id = \"x\"\ngrant = \"client_credentials\"\ntenant = \"common\"",
    ));
    assert!(
        found.iter().any(|p| p.starts_with("mailbox[1].oauth2.grant: client credentials need the tenant itself")),
        "{found:?}"
    );
    assert!(found.iter().any(|p| p.starts_with("mailbox[1].oauth2.client_secret_file: missing")), "{found:?}");
    let found = problems(&oauth_mailbox("provider = \"microsoft\"\nclient_id = \"x\"\nclient_sekret = \"y\""));
    assert_eq!(found, ["mailbox[1].oauth2.client_sekret: unknown key"]);
    let no_table = format!(
        "{MINIMAL}\n[[mailbox]]\nname = \"m\"\nkind = \"imap\"\nhost = \"h\"\nusername = \"u\"\naddress = \"a@example.com\"\nauth = \"oauth2\"\n"
    );
    assert!(problems(&no_table)[0].starts_with("mailbox[1].oauth2: missing"), "{:?}", problems(&no_table));
}

#[test]
fn with_postgresql_the_sealing_key_must_be_given() {
    let pg = format!(
        "[database]\nurl = \"postgres://postgres@127.0.0.1/test\"\n{}",
        oauth_mailbox("provider = \"microsoft\"\nclient_id = \"x\"")
    );
    let found = problems(&pg);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("oauth.key_file: missing: OAuth2 tokens are kept sealed with a key"), "{found:?}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("short.key"), "c2hvcnQ=\n").unwrap();
    let with_key = format!("{pg}\n[oauth]\nkey_file = \"short.key\"\n");
    let found = match Config::from_toml(&with_key, &dir.path().join("d.toml"), dir.path()) {
        Err(ConfigError::Invalid { problems, .. }) => problems.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("oauth.key_file: the OAuth2 key must be 32 bytes in base64"), "{found:?}");
}

#[test]
fn a_public_mail_provider_as_a_companys_domain_is_warned_about() {
    let text = format!(
        "{MINIMAL}\n[[company]]\nname = \"Kiwi\"\ndomains = [\"kiwi.example\", \"Gmail.com\"]\nmembers = [\"*@outlook.com\"]\n"
    );
    let cfg = load(&text).unwrap();
    let warned: Vec<String> = cfg.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(warned.len(), 2, "{warned:?}");
    assert!(warned[0].starts_with("company[0].domains[1]: gmail.com is a public mail provider"), "{warned:?}");
    assert!(warned[1].starts_with("company[0].members[0]: outlook.com is a public mail provider"), "{warned:?}");
}
