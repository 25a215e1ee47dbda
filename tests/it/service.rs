//! supportd under systemd: `Type=notify` readiness, status, watchdog and stopping through a
//! real `$NOTIFY_SOCKET`, and the shipped unit as `systemd-analyze` reads it.

use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::time::Duration;

use crate::support::sandbox::{BIN, Daemon};
use crate::support::{Backend, Sandbox, customer_mail};

const UNIT: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/supportd.service"));

/// The service manager's side: every datagram until one holds `line`, or a panic after a
/// minute (the socket's read timeout, not a sleep).
fn receive_until(socket: &UnixDatagram, line: &str, heard: &mut Vec<String>) {
    receive_matching(socket, |l| l == line, heard);
}

fn receive_matching(socket: &UnixDatagram, matches: impl Fn(&str) -> bool, heard: &mut Vec<String>) {
    let mut buf = vec![0u8; 4096];
    while !heard.iter().any(|m| m.lines().any(&matches)) {
        let n = socket.recv(&mut buf).unwrap_or_else(|e| panic!("not heard from supportd ({e}); heard {heard:?}"));
        heard.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_service_manager_hears_ready_watchdog_and_stopping() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let path = sandbox.path("notify.sock");
    let socket = UnixDatagram::bind(&path).expect("bind the notify socket");
    socket.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut run = sandbox.cmd(&["run"]);
    // A watchdog of 0.4 s: supportd pings every 0.2 s.
    run.env("NOTIFY_SOCKET", &path)
        .env("WATCHDOG_USEC", "400000")
        .env_remove("WATCHDOG_PID")
        .env("SUPPORTD_HEALTH__CHECK_INTERVAL", "1s");
    let mut daemon = Daemon::spawn(run);
    let mut heard = Vec::new();
    receive_until(&socket, "READY=1", &mut heard);
    let ready = heard.iter().find(|m| m.contains("READY=1")).unwrap();
    assert!(ready.lines().any(|l| l == "STATUS=reading 1 mailbox(es)"), "{ready:?}");
    // READY comes after the migrations and the tasks: the log says so first.
    daemon.wait_for("supportd ready", Duration::from_secs(10));
    receive_until(&socket, "WATCHDOG=1", &mut heard);
    // The desk's standing, once its mailbox fetched: the outbox holds the acknowledgement
    // until the sender takes it, so its depth is 0 or 1.
    sandbox.drop_mail("1.eml", &customer_mail(1, "Printer offline"));
    receive_matching(&socket, |l| l.starts_with("STATUS=1 of 1 mailbox(es) fetching; outbox: "), &mut heard);
    assert!(!heard.iter().any(|m| m.contains("STOPPING=1")), "{heard:?}");
    daemon.signal(libc::SIGTERM);
    receive_until(&socket, "STOPPING=1", &mut heard);
    let status = daemon.wait_exit(Duration::from_secs(10)).expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
}

/// The unit as systemd would load it (with this build's binary in place of the installed
/// one), and how exposed its hardening leaves the service: printed, and held to "OK".
#[test]
fn the_shipped_unit_verifies_and_its_exposure_is_low() {
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("supportd.service");
    std::fs::write(&unit, UNIT.replace("/usr/local/bin/supportd", BIN)).unwrap();
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .expect("systemd-analyze (Debian package systemd) is needed to check deploy/supportd.service");
    let said = String::from_utf8_lossy(&verify.stderr);
    assert!(verify.status.success() && said.trim().is_empty(), "systemd-analyze verify: {said}");
    assert!(UNIT.contains("Type=notify") && UNIT.contains("StateDirectory=supportd"));

    let security = Command::new("systemd-analyze").args(["security", "--offline=true"]).arg(&unit).output().unwrap();
    let report = String::from_utf8_lossy(&security.stdout);
    let overall = report.lines().find(|l| l.contains("Overall exposure level")).unwrap_or_else(|| panic!("{report}"));
    println!("{overall}");
    let level: f64 = overall.split(':').nth(1).and_then(|s| s.split_whitespace().next()).unwrap().parse().unwrap();
    assert!(level <= 2.0, "exposure {level}: {overall}");
}

/// The sysusers.d entry creates the user the unit runs as, with the state directory as home.
#[test]
fn the_sysusers_entry_is_the_units_user() {
    let entry = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/sysusers.d/supportd.conf"));
    let line = entry.lines().find(|l| l.starts_with("u ")).expect("a u line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields[1], "supportd");
    assert!(line.ends_with("/var/lib/supportd"), "{line}");
    assert!(UNIT.contains("User=supportd") && UNIT.contains("ReadWritePaths=/var/lib/supportd"));
}

/// SIGHUP checks the new templates first: broken ones leave the running ones (logged) and
/// the next acknowledgement goes out as before; good ones take over without a restart.
#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_good_templates_and_keeps_the_running_ones_when_broken() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let mut daemon = sandbox.spawn_daemon();
    daemon.wait_for("supportd ready", Duration::from_secs(60));
    let ack = sandbox.path("templates/ack.txt.hbs");
    let shipped = std::fs::read_to_string(&ack).unwrap();
    std::fs::write(&ack, "{{#if}} broken").unwrap();
    daemon.signal(libc::SIGHUP);
    daemon.wait_for("the running ones stay", Duration::from_secs(30));
    sandbox.drop_mail("1.eml", &customer_mail(1, "Printer offline"));
    daemon.wait_for_count(" sent", 1, Duration::from_secs(30));
    let first = sandbox.outbox_messages();
    assert_eq!(first.len(), 1, "one acknowledgement");
    assert!(first[0].contains("Printer offline") && !first[0].contains("broken"), "{}", first[0]);

    std::fs::write(&ack, format!("RELOADED-MARKER\n{shipped}")).unwrap();
    daemon.signal(libc::SIGHUP);
    daemon.wait_for("configuration and templates reloaded", Duration::from_secs(30));
    daemon.wait_for_count("supportd ready", 2, Duration::from_secs(30));
    sandbox.drop_mail("2.eml", &customer_mail(2, "Scanner offline"));
    daemon.wait_for_count(" sent", 2, Duration::from_secs(30));
    let second: Vec<String> = sandbox.outbox_messages().into_iter().filter(|m| m.contains("Scanner offline")).collect();
    assert_eq!(second.len(), 1);
    assert!(second[0].contains("RELOADED-MARKER"), "{}", second[0]);
    daemon.signal(libc::SIGTERM);
    let status = daemon.wait_exit(Duration::from_secs(10)).expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
}

/// A reload that cannot take effect leaves the daemon running on what it had: a database
/// it cannot reach, a web port another process holds.
#[tokio::test(flavor = "multi_thread")]
async fn a_reload_that_cannot_take_effect_keeps_the_running_configuration() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let mut run = sandbox.cmd(&["run"]);
    // The file's [http] listen, not the tests' environment, so that the reload can change it.
    run.env_remove("SUPPORTD_HTTP__LISTEN");
    sandbox.edit_config(|c| c.replace("listen = \"127.0.0.1:8025\"", "listen = \"127.0.0.1:0\""));
    let mut daemon = Daemon::spawn(run);
    daemon.wait_for("supportd ready", Duration::from_secs(60));

    let file = std::fs::read_to_string(sandbox.path("daemon.toml")).unwrap();
    let unreachable = "url = \"postgres://supportd@127.0.0.1:1/nowhere\"";
    sandbox.edit_config(|c| c.replace("url = \"sqlite://var/supportd.db?mode=rwc\"", unreachable));
    daemon.signal(libc::SIGHUP);
    daemon.wait_for("cannot be opened: the running one stays", Duration::from_secs(60));

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    std::fs::write(
        sandbox.path("daemon.toml"),
        file.replace("listen = \"127.0.0.1:0\"", &format!("listen = \"127.0.0.1:{port}\"")),
    )
    .unwrap();
    daemon.signal(libc::SIGHUP);
    daemon.wait_for("going back to the one before", Duration::from_secs(60));
    daemon.wait_for("the configuration before restored", Duration::from_secs(10));

    sandbox.drop_mail("1.eml", &customer_mail(1, "Printer offline"));
    daemon.wait_for("opened case", Duration::from_secs(30));
    daemon.signal(libc::SIGTERM);
    let status = daemon.wait_exit(Duration::from_secs(10)).expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
}

/// SIGHUPs that come faster than reloads fold into one (the newest configuration wins), and
/// a SIGTERM among them still stops the daemon: the signal handler never waits on a reload.
#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_sighups_folds_into_reloads_and_sigterm_still_stops_the_daemon() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let mut daemon = sandbox.spawn_daemon();
    daemon.wait_for("supportd ready", Duration::from_secs(60));
    for _ in 0..5 {
        daemon.signal(libc::SIGHUP);
    }
    daemon.wait_for("configuration and templates reloaded", Duration::from_secs(30));
    daemon.signal(libc::SIGTERM);
    let status = daemon.wait_exit(Duration::from_secs(30)).expect("exits after SIGTERM among the reloads");
    assert!(status.success(), "{status:?}");
}
