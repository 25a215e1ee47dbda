//! The read-only web server of `supportd run`: health, Prometheus metrics that move as mail
//! comes and goes, the cases as JSON, and the token off loopback.

use std::time::Duration;

use crate::support::http::{get, wait_for};
use crate::support::sandbox::Daemon;
use crate::support::{Backend, Sandbox, TestMailServer, customer_mail};

/// Each sample line of the exposition (either format): `name{labels} value`.
pub fn samples(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {l:?}"));
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number in {l:?}"));
            assert!(series.starts_with("supportd_"), "{l:?}");
            assert_eq!(series.contains('{'), series.ends_with('}'), "{l:?}");
            (series.to_owned(), value)
        })
        .collect()
}

pub fn value(samples: &[(String, f64)], series: &str) -> Option<f64> {
    samples.iter().find(|(s, _)| s == series).map(|(_, v)| *v)
}

#[tokio::test(flavor = "multi_thread")]
async fn health_metrics_and_json_answer_and_the_counters_move_with_the_mail() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let mut daemon = sandbox.spawn_daemon();
    let addr = daemon.web_address();
    let health = get(&addr, "/healthz", None);
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    let csp = health.header("content-security-policy").expect("a Content-Security-Policy");
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");

    let before = samples(&get(&addr, "/metrics", None).body);
    assert_eq!(value(&before, "supportd_messages_ingested_total{mailbox=\"support\",outcome=\"opened\"}"), None);
    assert!(before.iter().any(|(s, _)| s.starts_with("supportd_build_info{")), "{before:?}");

    sandbox.drop_mail("1.eml", &customer_mail(1, "Printer offline"));
    daemon.wait_for(" sent", Duration::from_secs(30));
    // Prometheus asks for OpenMetrics and gets it; curl and promtool get the classic text
    // format, which promtool passes.
    let prometheus = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let open = crate::support::http::get_accepting(&addr, "/metrics", prometheus);
    assert!(open.header("content-type").is_some_and(|t| t.starts_with("application/openmetrics-text")));
    assert!(open.body.ends_with("# EOF\n"), "{}", open.body);
    let reply = get(&addr, "/metrics", None);
    assert!(reply.header("content-type").is_some_and(|t| t.starts_with("text/plain; version=0.0.4")));
    promtool_passes(&reply.body);
    let after = samples(&reply.body);
    // The same series in both (a second scrape may have moved a clock's figure).
    let series = |s: Vec<(String, f64)>| s.into_iter().map(|(n, _)| n).collect::<std::collections::BTreeSet<_>>();
    assert_eq!(series(after.clone()), series(samples(&open.body)), "the same series in both formats");
    for (series, want) in [
        ("supportd_messages_ingested_total{mailbox=\"support\",outcome=\"opened\"}", 1.0),
        ("supportd_mail_sent_total{kind=\"ack\"}", 1.0),
        ("supportd_open_cases{severity=\"S3\",status=\"new\"}", 1.0),
        ("supportd_outbox_mail{status=\"sent\"}", 1.0),
        ("supportd_ingest_lag_seconds_count", 1.0),
        ("supportd_cases_breached{target=\"respond\"}", 0.0),
        ("supportd_held_mail", 0.0),
    ] {
        assert_eq!(value(&after, series), Some(want), "{series} in {after:?}");
    }
    assert!(value(&after, "supportd_mailbox_last_fetch_timestamp_seconds{mailbox=\"support\"}").unwrap() > 1.7e9);

    let cases: serde_json::Value = serde_json::from_str(&get(&addr, "/api/cases", None).body).unwrap();
    assert_eq!(cases.as_array().map(Vec::len), Some(1), "{cases}");
    let one = get(&addr, "/api/cases/000001", None);
    let case: serde_json::Value = serde_json::from_str(&one.body).unwrap();
    assert_eq!(
        (one.status, case["number"].as_str(), case["summary"].as_str()),
        (200, Some("000001"), Some("Printer offline"))
    );
    assert_eq!(get(&addr, "/api/cases/999999", None).status, 404);
    assert_eq!(get(&addr, "/api/cases/nope", None).status, 400);
    let sla: serde_json::Value = serde_json::from_str(&get(&addr, "/api/sla", None).body).unwrap();
    assert_eq!(sla[0]["number"], "000001", "{sla}");
    assert_eq!(get(&addr, "/nothing-here", None).status, 404);
    // DNS rebinding: a page whose name resolves to 127.0.0.1 asks with its own Host.
    let rebound = crate::support::http::get_with_host(&addr, "/api/cases", "evil.example");
    assert_eq!(rebound.status, 421, "{}", rebound.body);
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(10)).expect("exits").success());
}

/// Off loopback the pages need the token: check-config refuses a listen address without
/// one, and with one a request without it gets 401.
#[tokio::test(flavor = "multi_thread")]
async fn off_loopback_the_token_is_required() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let refused = sandbox.cmd(&["check-config"]).env("SUPPORTD_HTTP__LISTEN", "0.0.0.0:8025").output().unwrap();
    assert_eq!(refused.status.code(), Some(78));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("http.listen: 0.0.0.0:8025 is reachable from other machines"), "{err}");

    std::fs::write(sandbox.path("http.token"), "s3cret-token\n").unwrap();
    let mut run = sandbox.cmd(&["run"]);
    run.env("SUPPORTD_HTTP__LISTEN", "0.0.0.0:0").env("SUPPORTD_HTTP__TOKEN_FILE", "http.token");
    let mut daemon = Daemon::spawn(run);
    let port = daemon.web_address().rsplit_once(':').unwrap().1.to_owned();
    let addr = format!("127.0.0.1:{port}");
    let denied = get(&addr, "/api/cases", None);
    assert_eq!(denied.status, 401);
    assert!(denied.header("www-authenticate").is_some_and(|h| h.starts_with("Basic")));
    assert_eq!(get(&addr, "/metrics", Some("Bearer wrong")).status, 401);
    for page in ["/", "/cases/000001", "/style.css", "/readyz"] {
        assert_eq!(get(&addr, page, None).status, 401, "{page}");
    }
    assert_eq!(get(&addr, "/api/cases", Some("Bearer s3cret-token")).status, 200);
    let live = get(&addr, "/", Some("Bearer s3cret-token"));
    assert!(live.status == 200 && live.body.contains("Support desk: 0 open"), "{}", live.body);
    // With the token, a proxied request is one like any other.
    assert_eq!(crate::support::http::get_via_proxy(&addr, "/healthz").status, 200);
    // A browser's basic auth, any user name: "lead:s3cret-token".
    assert_eq!(get(&addr, "/api/sla", Some("Basic bGVhZDpzM2NyZXQtdG9rZW4=")).status, 200);
    assert_eq!(get(&addr, "/healthz", None).status, 200, "health needs no token");
}

/// `/readyz` is ready once every mailbox fetched, unready (naming the mailbox and its
/// error) when Dovecot has been gone past the limit, and ready again when it is back.
#[tokio::test(flavor = "multi_thread")]
async fn readyz_follows_the_imap_server() {
    let mut server = TestMailServer::start();
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.edit_config(|c| c + &server.mailbox_toml("plain", ""));
    let mut run = sandbox.cmd(&["run"]);
    run.env("SUPPORTD_HEALTH__MAILBOX_SILENT_AFTER", "2s");
    let mut daemon = Daemon::spawn(run);
    let addr = daemon.web_address();
    wait_for(&addr, "/readyz", Duration::from_secs(30), |r| r.status == 200 && r.body == "ready\n");
    server.stop();
    let unready = wait_for(&addr, "/readyz", Duration::from_secs(30), |r| r.status == 503);
    assert!(unready.body.contains("mailbox imap: no successful fetch for"), "{}", unready.body);
    assert!(unready.body.contains("last error:"), "the error is named: {}", unready.body);
    assert!(!unready.body.contains("mailbox support"), "the Maildir is fine: {}", unready.body);
    assert_eq!(get(&addr, "/healthz", None).status, 200, "the process still answers");
    server.restart();
    wait_for(&addr, "/readyz", Duration::from_secs(90), |r| r.status == 200);
}

/// `supportd health` (the container's HEALTHCHECK) is 0 while the daemon answers, 69 after.
#[tokio::test(flavor = "multi_thread")]
async fn supportd_health_asks_the_running_daemon() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let mut daemon = sandbox.spawn_daemon();
    let addr = daemon.web_address();
    let ask = || sandbox.cmd(&["health"]).env("SUPPORTD_HTTP__LISTEN", &addr).output().unwrap();
    let up = ask();
    assert_eq!((up.status.code(), String::from_utf8_lossy(&up.stdout).trim()), (Some(0), "ok"));
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(10)).expect("exits").success());
    let down = ask();
    assert_eq!(down.status.code(), Some(69), "{}", String::from_utf8_lossy(&down.stderr));
    assert!(String::from_utf8_lossy(&down.stderr).contains("does not answer"));
}

/// The Containerfile as a container runtime reads it: two stages, a non-root user, the state
/// as a volume, the health check through `supportd health`. (No runtime runs here to build it.)
#[test]
fn the_containerfile_runs_as_a_user_with_its_state_on_a_volume() {
    let file = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/Containerfile"));
    let instructions: Vec<&str> =
        file.lines().filter(|l| !l.starts_with('#') && !l.starts_with(' ') && !l.trim().is_empty()).collect();
    let first = |word: &str| instructions.iter().find(|l| l.starts_with(word)).copied();
    assert_eq!(instructions.iter().filter(|l| l.starts_with("FROM ")).count(), 2, "multi-stage");
    assert_eq!(first("USER "), Some("USER supportd"));
    assert_eq!(first("VOLUME "), Some("VOLUME [\"/var/lib/supportd\"]"));
    assert!(first("HEALTHCHECK ").is_some_and(|h| h.ends_with("CMD [\"supportd\", \"health\"]")));
    assert!(file.contains("COPY --from=build /src/target/release/supportd /usr/local/bin/supportd"));
    assert!(file.contains("ln -s /var/lib/supportd /etc/supportd/var"), "var/ of daemon.toml is the volume");
}

/// `/api/cases` a page at a time: `limit`, the next page in a `Link` header, `status`, and a
/// parameter it does not know refused (400) rather than ignored.
#[tokio::test(flavor = "multi_thread")]
async fn api_cases_is_read_a_page_at_a_time() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    for n in 1..=3 {
        sandbox.drop_mail(&format!("{n}.eml"), &customer_mail(n, &format!("Problem {n}")));
    }
    let out = sandbox.run(&["run", "--once"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut daemon = sandbox.spawn_daemon();
    let addr = daemon.web_address();
    let numbers = |reply: &crate::support::http::Reply| -> Vec<String> {
        let cases: Vec<serde_json::Value> = serde_json::from_str(&reply.body).unwrap();
        cases.iter().map(|c| c["number"].as_str().unwrap().to_owned()).collect()
    };
    let first = get(&addr, "/api/cases?limit=2", None);
    assert_eq!(numbers(&first), ["000001", "000002"]);
    let link = first.header("link").expect("a next page");
    assert_eq!(link, "<?after=000002&limit=2>; rel=\"next\"", "a query, resolved against the page asked");
    let path = format!("/api/cases{}", link.trim_start_matches('<').split('>').next().unwrap());
    let second = get(&addr, &path, None);
    assert_eq!(numbers(&second), ["000003"]);
    assert!(second.header("link").is_none(), "the last page");
    assert_eq!(numbers(&get(&addr, "/api/cases?status=new", None)).len(), 3);
    assert!(numbers(&get(&addr, "/api/cases?status=closed,resolved", None)).is_empty());
    for bad in ["/api/cases?limit=0", "/api/cases?limit=100000", "/api/cases?status=done", "/api/cases?sort=x"] {
        assert_eq!(get(&addr, bad, None).status, 400, "{bad}");
    }
}

/// `promtool check metrics` (Debian's `prometheus` package, which `.ci/run` installs) reads
/// the exposition without an error or a lint.
fn promtool_passes(body: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package) runs");
    child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "promtool: {said}\n{body}");
}
