//! OAuth2 (issue 28), against a Dovecot that takes XOAUTH2 on IMAP and submission and a token
//! endpoint that rotates refresh tokens strictly (the old one is refused once used): a mailbox
//! and the relay log in with `supportd oauth login` (the device flow, answered by the test
//! endpoint), mail comes in over IMAP and the acknowledgement goes out over submission; the
//! tokens are sealed at rest; a token that expires while the daemon runs is refreshed, and the
//! rotated one survives a SIGKILL right after the refresh; a refused refresh raises one alarm
//! naming its fix.

use std::time::Duration;

use supportd::desk::Desk;

use crate::support::oauth2::{APP_USER, CLIENT_ID, CLIENT_SECRET, OAuth2Servers};
use crate::support::{Backend, Sandbox, customer_mail};

/// The sandbox's desk with the mailbox `m365` and the relay on OAuth2 against `servers`; on
/// PostgreSQL with a key file of its own, as several instances would share it.
async fn sandbox(servers: &OAuth2Servers, backend: Backend) -> Sandbox {
    let sandbox = relay_only(servers, backend).await;
    let oauth2 = oauth2_table(servers);
    sandbox.edit_config(|c| {
        format!(
            "{c}\n[[mailbox]]\nname = \"m365\"\nkind = \"imap\"\naddress = \"help@example.com\"\nhost = \"127.0.0.1\"\n\
             port = {}\nsecurity = \"plain\"\nusername = \"{APP_USER}\"\npoll_interval = \"1s\"\nauth = \"oauth2\"\n\n\
             [mailbox.oauth2]\n{oauth2}",
            servers.imap_port
        )
    });
    sandbox
}

fn oauth2_table(servers: &OAuth2Servers) -> String {
    let device_url = servers.token_url.replace("/token", "/devicecode");
    format!(
        "provider = \"custom\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\n\
         token_url = \"{}\"\ndevice_url = \"{device_url}\"\nauthorize_url = \"{}\"\n",
        servers.token_url,
        servers.token_url.replace("/token", "/authorize")
    )
}

/// Only the relay on OAuth2.
async fn relay_only(servers: &OAuth2Servers, backend: Backend) -> Sandbox {
    let sandbox = Sandbox::new(backend).await;
    if backend == Backend::Postgres {
        std::fs::write(sandbox.path("oauth.key"), "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n").expect("key file");
        sandbox.edit_config(|c| format!("{c}\n[oauth]\nkey_file = \"oauth.key\"\n"));
    }
    let oauth2 = oauth2_table(servers);
    sandbox.set_outbound(&format!(
        "[outbound]\nkind = \"smtp\"\nfrom = \"Support <support@example.com>\"\nhost = \"127.0.0.1\"\nport = {}\n\
         security = \"plain\"\nusername = \"{APP_USER}\"\nauth = \"oauth2\"\n\n[outbound.oauth2]\n{oauth2}",
        servers.submission_port
    ));
    sandbox
}

/// What `supportd ARGS` printed on stdout; it must succeed.
fn ok(sandbox: &Sandbox, args: &[&str]) -> String {
    let out = sandbox.run(args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "supportd {args:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Both accounts logged in through the device flow.
fn log_in(sandbox: &Sandbox) {
    for name in ["m365", "outbound"] {
        let said = ok(sandbox, &["oauth", "login", name]);
        assert!(said.contains("enter the code TEST-CODE"), "the person is told where and what: {said}");
        assert!(said.contains(&format!("Logged in: {name} as {APP_USER}")), "{said}");
    }
}

/// What is stored of the tokens, every column as text.
async fn stored_tokens(sandbox: &Sandbox) -> String {
    let sql =
        "SELECT account || ' ' || COALESCE(refresh_token, '') || ' ' || COALESCE(access_token, '') FROM oauth_tokens";
    sandbox.texts(sql).await.join("\n")
}

async fn mail_in_and_ack_out(backend: Backend) {
    let servers = OAuth2Servers::start();
    let sandbox = sandbox(&servers, backend).await;
    let status = ok(&sandbox, &["oauth", "status"]);
    assert!(status.contains("no: run supportd oauth login m365"), "{status}");
    log_in(&sandbox);

    servers.deliver(APP_USER, &customer_mail(1, "Printer offline"));
    ok(&sandbox, &["run", "--once"]);
    assert_eq!(sandbox.cases().len(), 1, "the mail came in over IMAP XOAUTH2");
    let sent = servers.sink_messages();
    assert_eq!(sent.len(), 1, "the acknowledgement went out over submission XOAUTH2: {sent:?}");
    assert!(sent[0].contains("[Case #000001]"), "{}", sent[0]);

    // Sealed at rest: no token the endpoint handed out is stored as it is.
    let live = servers.refresh_tokens();
    assert_eq!(live.len(), 2, "one refresh token per account");
    let stored = stored_tokens(&sandbox).await;
    assert!(stored.contains("v1:"), "{stored}");
    for token in &live {
        assert!(!stored.contains(token.as_str()), "a refresh token in clear: {stored}");
    }
    if backend == Backend::Sqlite {
        let file = std::fs::read(sandbox.path("var/supportd.db")).expect("the database file");
        for token in &live {
            assert!(!file.windows(token.len()).any(|w| w == token.as_bytes()), "the database file holds a token");
        }
        let key = sandbox.path("var/oauth.key");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).expect("the made key").permissions().mode() & 0o777, 0o600);
    }
    let status = ok(&sandbox, &["oauth", "status", "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&status).unwrap_or_else(|e| panic!("{e}: {status}"));
    assert_eq!(rows.len(), 2, "{status}");
    assert!(rows.iter().all(|r| r["logged_in"] == true && r["access_expires_at"].is_string()), "{status}");
    assert!(rows.iter().all(|r| r["last_error"].is_null()), "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mailbox_and_the_relay_log_in_with_oauth2_on_sqlite() {
    mail_in_and_ack_out(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mailbox_and_the_relay_log_in_with_oauth2_on_postgres() {
    mail_in_and_ack_out(Backend::Postgres).await;
}

/// An access token past its time is refreshed before use; each refresh rotates the refresh
/// token and the endpoint refuses the old one. The daemon is killed right after a refresh it
/// answered; started again with its access token expired, it refreshes with the token it stored.
#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_refresh_token_is_stored_before_use_and_survives_a_sigkill() {
    let servers = OAuth2Servers::start();
    let sandbox = sandbox(&servers, Backend::Sqlite).await;
    log_in(&sandbox);
    expire_access(&sandbox, "mailbox:m365").await;
    let refreshes = |servers: &OAuth2Servers| {
        servers.requests().iter().filter(|r| r["grant_type"] == "refresh_token" && r["status"] == 200).count()
    };
    let before = refreshes(&servers);
    let mut daemon = sandbox.spawn_daemon();
    daemon.wait_for("IMAP connected", Duration::from_secs(60));
    assert!(refreshes(&servers) > before, "the expiring token was refreshed before use");
    servers.deliver(APP_USER, &customer_mail(1, "Before the kill"));
    daemon.wait_for("opened case", Duration::from_secs(60));
    daemon.signal(libc::SIGKILL);
    daemon.wait_exit(Duration::from_secs(10)).expect("killed");

    let refused_old = servers.requests().iter().any(|r| r["grant_type"] == "refresh_token" && r["status"] == 400);
    assert!(!refused_old, "no refresh token was ever offered twice: {:?}", servers.requests());
    expire_access(&sandbox, "mailbox:m365").await;
    let mut daemon = sandbox.spawn_daemon();
    daemon.wait_for("IMAP connected", Duration::from_secs(60));
    servers.deliver(APP_USER, &customer_mail(2, "After the kill"));
    daemon.wait_for("opened case", Duration::from_secs(60));
    daemon.signal(libc::SIGTERM);
    daemon.wait_exit(Duration::from_secs(10)).expect("exits");
    assert_eq!(sandbox.cases().len(), 2);
    let requests = servers.requests();
    let refreshes: Vec<_> = requests.iter().filter(|r| r["grant_type"] == "refresh_token").collect();
    assert_eq!(refreshes.len(), 2, "one refresh per start: {requests:?}");
    assert!(refreshes.iter().all(|r| r["status"] == 200), "every refresh used the newest token: {requests:?}");
}

/// A Microsoft token is 1.5–2.5 KB: sent on the AUTH line, a server that caps its command
/// line refuses it; sent after the 334 it passes.
#[tokio::test(flavor = "multi_thread")]
async fn a_two_kilobyte_token_is_accepted_by_submission() {
    let servers = OAuth2Servers::start();
    let sandbox = relay_only(&servers, Backend::Sqlite).await;
    let desk = desk(&sandbox).await;
    let key = supportd::oauth::load_key(desk.config.oauth_key.as_ref().expect("a key")).expect("the key");
    let long = servers.mint_token(APP_USER, 3600, 2048);
    assert!(long.len() >= 2048);
    let granted =
        supportd::oauth::endpoint::Granted { access_token: long, refresh_token: None, expires_in: 3600, scope: None };
    supportd::oauth::store::save_login(&desk.db, &key, "outbound", &granted, "", chrono::Utc::now()).await.unwrap();
    sandbox.drop_mail("one.eml", &customer_mail(1, "Long token"));
    ok(&sandbox, &["run", "--once"]);
    assert_eq!(servers.sink_messages().len(), 1, "the ack went out with the long token");
    assert!(servers.requests().is_empty(), "no refresh: the stored token was used");
}

async fn desk(sandbox: &Sandbox) -> Desk {
    let config = supportd::config::Config::load(&sandbox.path("daemon.toml")).unwrap();
    let templates = supportd::templates::Templates::load(&config.templates_dir).unwrap();
    supportd::app::open_desk(config, templates).await.unwrap()
}

/// `invalid_grant` (consent revoked) and `invalid_client` (the secret expired) each raise one
/// alarm that names its own fix; a new login clears it with one recovery.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_refresh_raises_one_alarm_naming_the_fix_and_a_login_clears_it() {
    let servers = OAuth2Servers::start();
    let sandbox = sandbox(&servers, Backend::Sqlite).await;
    sandbox.edit_config(|c| c.replace("[health]\n", "[health]\nnotify = [\"ops@example.com\"]\n"));
    log_in(&sandbox);
    for (control, fix) in [
        ("invalid_grant", "m365: consent revoked or expired (invalid_grant: AADSTS65001"),
        ("invalid_client", "m365: the client secret is expired or wrong"),
    ] {
        servers.control(control);
        expire_access(&sandbox, "mailbox:m365").await;
        let out = sandbox.run(&["run", "--once"]);
        assert!(!out.status.success() || sandbox.cases().is_empty(), "the mailbox could not log in");
        let desk = desk(&sandbox).await;
        for _ in 0..3 {
            supportd::health::alarm_tick(&desk).await.unwrap();
        }
        let open =
            sandbox.texts("SELECT detail FROM health_alarms WHERE subject = 'oauth:m365' AND cleared_at IS NULL").await;
        assert_eq!(open.len(), 1, "one alarm however often the check runs: {open:?}");
        assert!(format!("{open:?}").contains(fix), "{open:?}");
        let status = ok(&sandbox, &["oauth", "status"]);
        assert!(status.contains(&format!("({control}: ")), "oauth status names the last error: {status}");
        // A running daemon is not ready, and says which account and why.
        let mut daemon = sandbox.spawn_daemon();
        let ready = crate::support::http::get(&daemon.web_address(), "/readyz", None);
        assert_eq!(ready.status, 503, "{}", ready.body);
        assert!(
            ready.body.contains(&format!("m365 cannot authenticate: {}", &fix["m365: ".len()..])),
            "{}",
            ready.body
        );
        // It tries again, but does not ask the provider again so soon: only a person can mend it.
        daemon.wait_for_count("IMAP connection failed", 2, Duration::from_secs(30));
        daemon.signal(libc::SIGTERM);
        daemon.wait_exit(Duration::from_secs(10)).expect("exits");
        let asked = servers.requests().iter().filter(|r| r["error"] == control).count();
        assert_eq!(asked, 1, "the refusal was asked for once: {:?}", servers.requests());
        servers.clear_control();
        log_in(&sandbox);
        supportd::health::alarm_tick(&desk).await.unwrap();
        let open = sandbox
            .count("SELECT COUNT(*) FROM health_alarms WHERE subject = 'oauth:m365' AND cleared_at IS NULL")
            .await;
        assert_eq!(open, 0, "the login cleared it");
    }
    let raised = sandbox
        .count("SELECT COUNT(*) FROM outbox WHERE kind = 'health' AND subject = 'supportd alarm: oauth:m365'")
        .await;
    let recovered = sandbox
        .count("SELECT COUNT(*) FROM outbox WHERE kind = 'health' AND subject = 'supportd recovered: oauth:m365'")
        .await;
    assert_eq!((raised, recovered), (2, 2), "one alarm and one recovery each");
}

/// `GET url` (http only), without following: the status line and the `Location` header.
fn get(url: &str) -> (String, Option<String>) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("an http:// address");
    let (addr, path) = rest.split_once('/').expect("a path");
    let mut stream = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    write!(stream, "GET /{path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("send");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read the answer");
    let status = raw.lines().next().unwrap_or_default().to_owned();
    let location = raw.lines().find_map(|l| l.strip_prefix("Location: ").or_else(|| l.strip_prefix("location: ")));
    (status, location.map(str::to_owned))
}

/// `oauth login --redirect`: the person opens the printed address; the provider sends the
/// browser back to the loopback with a code, which is exchanged with the PKCE verifier (the
/// endpoint checks it) for tokens that log the mailbox in.
#[tokio::test(flavor = "multi_thread")]
async fn the_authorization_code_flow_logs_in_through_the_loopback() {
    use std::io::BufRead;
    let servers = OAuth2Servers::start();
    let sandbox = sandbox(&servers, Backend::Sqlite).await;
    let mut login = sandbox.cmd(&["oauth", "login", "m365", "--redirect"]);
    let piped = std::process::Stdio::piped;
    let mut child = login.stdout(piped()).stderr(piped()).spawn().expect("supportd oauth login");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let authorize = servers.token_url.replace("/token", "/authorize?");
    let url = lines
        .by_ref()
        .map(|l| l.expect("a line"))
        .find(|l| l.starts_with(&authorize))
        .expect("the address to open is printed");
    assert!(
        url.contains("code_challenge_method=S256") && url.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A"),
        "{url}"
    );
    let (status, back) = get(&url);
    assert!(status.contains("302"), "the provider consents at once: {status}");
    let back = back.expect("a redirect to the loopback");
    let (status, _) = get(&back);
    assert!(status.contains("200"), "the page says it can be closed: {status}");
    let rest: Vec<String> = lines.map(|l| l.expect("a line")).collect();
    let out = child.wait_with_output().expect("exits");
    assert!(out.status.success(), "{rest:?} {}", String::from_utf8_lossy(&out.stderr));
    assert!(rest.iter().any(|l| l.starts_with("Logged in: m365 as alice@example.com")), "{rest:?}");
    let exchanged =
        servers.requests().iter().filter(|r| r["grant_type"] == "authorization_code" && r["status"] == 200).count();
    assert_eq!(exchanged, 1);

    servers.deliver(APP_USER, &customer_mail(1, "Logged in by redirect"));
    ok(&sandbox, &["oauth", "login", "outbound"]);
    ok(&sandbox, &["run", "--once"]);
    assert_eq!(sandbox.cases().len(), 1, "the mailbox reads with the token the code bought");
}

/// Two daemons on one PostgreSQL database start with a stale token: one refreshes under the
/// lease, the other waits for it and uses the new token; the endpoint sees one refresh.
#[tokio::test(flavor = "multi_thread")]
async fn two_daemons_on_one_database_refresh_once_between_them() {
    let servers = OAuth2Servers::start();
    let sandbox = sandbox(&servers, Backend::Postgres).await;
    log_in(&sandbox);
    expire_access(&sandbox, "mailbox:m365").await;
    let before = servers.requests().len();
    let mut first = sandbox.spawn_daemon();
    let mut second = sandbox.spawn_daemon();
    first.wait_for("IMAP connected", Duration::from_secs(60));
    second.wait_for("IMAP connected", Duration::from_secs(60));
    let asked: Vec<_> = servers.requests().into_iter().skip(before).collect();
    assert_eq!(asked.len(), 1, "one refresh between them: {asked:?}");
    assert_eq!((asked[0]["grant_type"].as_str(), asked[0]["status"].as_i64()), (Some("refresh_token"), Some(200)));
    let metrics = crate::support::http::get(&first.web_address(), "/metrics", None).body;
    let expiry = metrics
        .lines()
        .find_map(|l| l.strip_prefix("supportd_oauth_access_expires_timestamp_seconds{account=\"m365\"} "))
        .unwrap_or_else(|| panic!("the token's expiry is exported: {metrics}"));
    let expiry: f64 = expiry.parse().expect("a number");
    assert!(expiry > chrono::Utc::now().timestamp() as f64 + 3000.0, "the refreshed token lives an hour: {expiry}");
    for mut daemon in [first, second] {
        daemon.signal(libc::SIGTERM);
        assert!(daemon.wait_exit(Duration::from_secs(10)).expect("exits").success());
    }
}

/// Makes `account`'s access token stale, as time would: the next connection refreshes it.
async fn expire_access(sandbox: &Sandbox, account: &str) {
    sandbox.sql(&format!("UPDATE oauth_tokens SET access_expires_at = NULL WHERE account = '{account}'")).await;
}
