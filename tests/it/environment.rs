//! Configuration from the environment (`SUPPORTD_<TABLE>__<KEY>`): what a container sets
//! instead of editing daemon.toml.

use crate::support::{Backend, Sandbox, customer_mail};

/// `SUPPORTD_DATABASE__URL` moves the desk to another database, the file untouched.
#[tokio::test(flavor = "multi_thread")]
async fn an_environment_variable_overrides_the_database_url_without_editing_the_file() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let file = std::fs::read(sandbox.path("daemon.toml")).unwrap();
    let other = format!("sqlite://{}?mode=rwc", sandbox.path("var/elsewhere.db").display());
    sandbox.drop_mail("1.eml", &customer_mail(1, "Printer offline"));
    let run = |args: &[&str], url: Option<&str>| {
        let mut cmd = sandbox.cmd(args);
        if let Some(url) = url {
            cmd.env("SUPPORTD_DATABASE__URL", url);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    let (_, log) = run(&["run", "--once"], Some(&other));
    assert!(
        log.contains("configuration key set from the environment") && log.contains("SUPPORTD_DATABASE__URL"),
        "{log}"
    );
    let count = |url: Option<&str>| {
        let (json, _) = run(&["cases", "list", "--format", "json"], url);
        serde_json::from_str::<Vec<serde_json::Value>>(&json).unwrap().len()
    };
    assert_eq!(count(Some(&other)), 1, "the case is in the database the environment named");
    assert_eq!(count(None), 0, "and not in the file's");
    assert!(sandbox.path("var/elsewhere.db").exists());
    assert_eq!(std::fs::read(sandbox.path("daemon.toml")).unwrap(), file, "no file edited");
}

/// A value that cannot be used is refused like a bad line, naming the variable (exit 78).
#[tokio::test(flavor = "multi_thread")]
async fn a_bad_override_is_named_by_its_variable() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let out = sandbox.cmd(&["check-config"]).env("SUPPORTD_AGENTS__MAIL_LIMIT_PER_HOUR", "lots").output().unwrap();
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SUPPORTD_AGENTS__MAIL_LIMIT_PER_HOUR: expected an integer, got \"lots\""), "{err}");
    let out = sandbox.cmd(&["check-config"]).env("SUPPORTD_INTAKE__MAX_MESSAGE_SIZE", "huge").output().unwrap();
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("intake.max_message_size"), "validation names the key the variable set: {err}");
}
