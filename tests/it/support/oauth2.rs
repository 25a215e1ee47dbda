//! Dovecot taking OAuth2 bearer tokens (IMAP and SMTP submission, XOAUTH2 and OAUTHBEARER; it
//! checks the HS256 JWTs itself), the SMTP sink that submission relays to, and a token endpoint
//! signing with the same key: ../shared/recipes/mail-servers.md section 7, started by
//! oauth2-test-server.sh in a temp dir. It needs the Debian packages dovecot-imapd,
//! dovecot-lmtpd, dovecot-submissiond, python3-aiosmtpd and openssl; without them `start`
//! panics with the script's words rather than skip, so a CI machine missing one fails loudly.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const SERVERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/support/oauth2-test-server.sh");
const TOKEN_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/support/oauth2-token.py");
/// Debian's interpreter, as the script uses: the pyenv python3 on PATH lacks python3-aiosmtpd.
const PYTHON: &str = "/usr/bin/python3";

/// The one client the token endpoint accepts (its default `--client`), in the form or by Basic.
pub const CLIENT_ID: &str = "supportd";
pub const CLIENT_SECRET: &str = "supportd-secret";
/// Whom a client_credentials token is for (the endpoint's default `--user`).
pub const APP_USER: &str = "alice@example.com";
/// The one PLAIN/LOGIN user. OAuth2 users have no account: any address with a valid token logs in.
pub const PASSWORD_USER: &str = "bob@example.com";
pub const PASSWORD: &str = "secret";

/// The script reads these from its environment; cleared, so that a developer's shell cannot
/// change the servers a test gets.
const SCRIPT_OPTIONS: [&str; 7] = [
    "OAUTH2_ISSUER",
    "OAUTH2_SCOPE",
    "OAUTH2_AUDIENCE",
    "SUBMISSION_RELAY_PORT",
    "NO_TOKEN_SERVER",
    "JWT_KEY",
    "DOVECOT_RUN_USER",
];

pub struct OAuth2Servers {
    /// First, so that the processes are gone before the directory is removed.
    _running: Running,
    pub dir: tempfile::TempDir,
    pub imap_port: u16,
    pub imaps_port: u16,
    pub submission_port: u16,
    pub submissions_port: u16,
    /// `http://127.0.0.1:PORT/token`.
    pub token_url: String,
    /// The token endpoint's files: control, refresh.json, requests.jsonl.
    pub token_dir: PathBuf,
    /// What submission relayed: NNNNNN.eml and its envelope NNNNNN.json.
    pub sink_dir: PathBuf,
    /// The self-signed certificate of IMAPS and submissions (name `localhost`, IP 127.0.0.1).
    pub ca_file: PathBuf,
    /// The HS256 key, standard base64, that Dovecot checks tokens with.
    pub jwt_key_file: PathBuf,
    /// The `iss` Dovecot accepts.
    pub issuer: String,
    scope: String,
    audience: String,
}

/// The started processes; `DIR/stop` kills Dovecot's process group, then the sink and the token
/// endpoint by PID (the ports close some 10 ms later).
struct Running {
    stop: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        // No panic here: a drop during a failing test's unwinding would abort the whole binary.
        match Command::new(&self.stop).status() {
            Ok(status) if status.success() => {}
            other => eprintln!("{}: {other:?}; the OAuth2 test servers may still run", self.stop.display()),
        }
    }
}

impl OAuth2Servers {
    pub fn start() -> OAuth2Servers {
        Self::start_with(&[])
    }

    /// With the script's environment options, e.g. `("OAUTH2_SCOPE", "mail")`,
    /// `("OAUTH2_AUDIENCE", "supportd")`, `("OAUTH2_ISSUER", ..)`, `("JWT_KEY", base64)`.
    pub fn start_with(options: &[(&str, &str)]) -> OAuth2Servers {
        let mut failure = String::new();
        for _ in 0..3 {
            let dir = tempfile::Builder::new().prefix("supportd-oauth2").tempdir().expect("tempdir");
            let out = run_script(dir.path(), options);
            if out.status.success() {
                return OAuth2Servers::from_env(dir);
            }
            failure = format!(
                "{}\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            // The script binds port 0 for each port and closes it again before Dovecot binds:
            // another process may take one in between. Any other failure is for a person to see.
            if !failure.contains("Address already in use") {
                break;
            }
        }
        panic!(
            "the OAuth2 test servers did not start (they need the Debian packages dovecot-imapd, \
             dovecot-lmtpd, dovecot-submissiond, python3-aiosmtpd and openssl): {SERVERS} said\n{failure}"
        );
    }

    fn from_env(dir: tempfile::TempDir) -> OAuth2Servers {
        // Made first: should a line below panic, the servers still stop.
        let running = Running { stop: dir.path().join("stop") };
        let text = std::fs::read_to_string(dir.path().join("env")).expect("the script writes DIR/env");
        let env: HashMap<&str, &str> =
            text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k, v.trim_matches('\''))).collect();
        let var =
            |key: &str| env.get(key).map(|v| v.to_string()).unwrap_or_else(|| panic!("no {key} in DIR/env:\n{text}"));
        let port = |key: &str| var(key).parse().unwrap_or_else(|_| panic!("{key} is no port in DIR/env:\n{text}"));
        OAuth2Servers {
            imap_port: port("IMAP_PORT"),
            imaps_port: port("IMAPS_PORT"),
            submission_port: port("SUBMISSION_PORT"),
            submissions_port: port("SUBMISSIONS_PORT"),
            token_url: var("TOKEN_URL"),
            token_dir: var("TOKEN_DIR").into(),
            sink_dir: var("SINK_DIR").into(),
            ca_file: var("DOVECOT_CA").into(),
            jwt_key_file: var("JWT_KEY_FILE").into(),
            issuer: var("OAUTH2_ISSUER"),
            scope: var("OAUTH2_SCOPE"),
            audience: var("OAUTH2_AUDIENCE"),
            _running: running,
            dir,
        }
    }

    /// One line for the token endpoint's control file, read on every request: `invalid_grant`,
    /// `invalid_client`, `500`, `slow SECONDS`, `expires_in SECONDS`. Injected failures consume
    /// no grant.
    pub fn control(&self, line: &str) {
        write_atomically(&self.token_dir.join("control"), line.as_bytes());
    }

    /// The token endpoint answers normally again.
    pub fn clear_control(&self) {
        match std::fs::remove_file(self.token_dir.join("control")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => panic!("remove the control file: {e}"),
            _ => {}
        }
    }

    /// Every /token request so far, oldest first: `{grant_type, status, error, client_id, email}`.
    /// A request's line is written before its answer is sent.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.token_dir.join("requests.jsonl")).unwrap_or_default();
        // Only whole lines: a request in flight may be halfway through writing its own.
        let whole = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        whole.lines().map(|l| serde_json::from_str(l).expect("a JSON line in requests.jsonl")).collect()
    }

    /// Registers a refresh token as a grant of `email`, as if consented to earlier; rotated (and
    /// so dead) once used.
    pub fn seed_refresh_token(&self, token: &str, email: &str, scope: &str, client_id: &str) {
        let mut grants = self.refresh_grants();
        grants.insert(token.to_owned(), serde_json::json!({"email": email, "scope": scope, "client_id": client_id}));
        let text = serde_json::to_vec_pretty(&grants).expect("JSON");
        write_atomically(&self.token_dir.join("refresh.json"), &text);
    }

    /// The refresh tokens that work now (the endpoint drops each one it rotates).
    pub fn refresh_tokens(&self) -> Vec<String> {
        self.refresh_grants().keys().cloned().collect()
    }

    fn refresh_grants(&self) -> serde_json::Map<String, serde_json::Value> {
        let text = std::fs::read(self.token_dir.join("refresh.json")).expect("the endpoint writes refresh.json");
        serde_json::from_slice(&text).expect("refresh.json is a JSON object")
    }

    /// POSTs `form` (client credentials included, if wanted) to the token endpoint: its status
    /// and JSON answer.
    pub fn token_request(&self, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
        let rest = self.token_url.strip_prefix("http://").expect("an http:// token URL");
        let (addr, path) = rest.split_once('/').expect("a token URL with a path");
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        stream.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
        write!(
            stream,
            "POST /{path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send the token request");
        let mut raw = String::new();
        stream.read_to_string(&mut raw).expect("read the token answer");
        let (head, json) = raw.split_once("\r\n\r\n").expect("a head and a body");
        let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status");
        (status, serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {raw}")))
    }

    /// Puts `raw` into `user`'s INBOX (the full address: OAuth2 users' mailboxes are named so).
    /// `doveadm save` rather than LMTP: no protocol to speak, and lettre cannot speak LMTP.
    pub fn deliver(&self, user: &str, raw: &[u8]) {
        let mut child = Command::new("doveadm")
            .arg("-c")
            .arg(self.dir.path().join("dovecot.conf"))
            .args(["save", "-u", user, "-m", "INBOX"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("doveadm (Debian package dovecot-core)");
        // doveadm writes only when it fails, and then exits: writing to it cannot block on its full
        // output pipe, and a write it cut short is told by its stderr.
        let written = child.stdin.take().expect("piped stdin").write_all(raw);
        let out = child.wait_with_output().expect("doveadm save");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && written.is_ok(), "doveadm save -u {user}: {written:?} {stderr}");
    }

    /// Every message submission relayed to the sink, in order of arrival (their names sort so).
    pub fn sink_messages(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.sink_dir)
            .expect("the sink's directory")
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names.iter().map(|p| std::fs::read_to_string(p).expect("read a relayed message")).collect()
    }

    /// The sink's control line, as for `TestSmtp::set_control` (e.g. `RCPT 451 4.3.0 try later`);
    /// submission passes its answers through.
    pub fn sink_control(&self, line: &str) {
        write_atomically(&self.sink_dir.join("control"), line.as_bytes());
        let _ = std::fs::remove_file(self.sink_dir.join("control.count"));
    }

    /// Dovecot's log; with `auth_verbose` it says why a token was refused ("Token has expired",
    /// "Incorrect JWT signature", "Username 'x' did not match 'y'", ...).
    pub fn dovecot_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/dovecot.log")).unwrap_or_default()
    }

    /// An access token for `email` that these servers accept until `lifetime_secs` from now
    /// (negative: already expired), minted by oauth2-token.py with the servers' key, issuer,
    /// audience and scope. `pad_to_bytes` > its length pads it with a `pad` claim to that length
    /// or one more (an unpadded base64 length is never 4k+1), or up to 15 more when it asks for
    /// under 15 bytes of padding; 0 leaves it as minted, about 310 bytes.
    pub fn mint_token(&self, email: &str, lifetime_secs: i64, pad_to_bytes: usize) -> String {
        let token = self.mint(email, lifetime_secs, None);
        if token.len() >= pad_to_bytes {
            return token;
        }
        let claims = token.split('.').nth(1).expect("a JWT's claims").len();
        let wanted_claims = claims + (pad_to_bytes - token.len());
        // JSON bytes that encode to at least `wanted_claims` characters; `, "pad": ""` is what
        // Python's json.dumps adds around the padding.
        let wanted_json = 3 * (wanted_claims - 1) / 4 + 1;
        let pad = wanted_json.saturating_sub(claims * 3 / 4 + r#", "pad": """#.len());
        let padded = self.mint(email, lifetime_secs, Some(pad));
        assert!(padded.len() >= pad_to_bytes, "a token of {} bytes, not {pad_to_bytes}", padded.len());
        padded
    }

    fn mint(&self, email: &str, lifetime_secs: i64, pad: Option<usize>) -> String {
        let mut cmd = Command::new(PYTHON);
        cmd.arg(TOKEN_SCRIPT).arg("mint").arg("--key-file").arg(&self.jwt_key_file);
        cmd.args(["--issuer", &self.issuer, "--email", email]).arg(format!("--expires-in={lifetime_secs}"));
        // As the endpoint's own tokens: it is started with --aud "${OAUTH2_AUDIENCE:-mail}" and --scope.
        cmd.arg(format!("--aud={}", if self.audience.is_empty() { "mail" } else { &self.audience }));
        cmd.arg(format!("--scope={}", self.scope));
        if let Some(n) = pad {
            cmd.arg(format!("--claim=pad={}", "x".repeat(n)));
        }
        let out = cmd.output().unwrap_or_else(|e| panic!("{PYTHON} {TOKEN_SCRIPT} mint: {e}"));
        assert!(out.status.success(), "oauth2-token.py mint: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("an ASCII JWT").trim().to_owned()
    }
}

fn run_script(dir: &Path, options: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(SERVERS).arg(dir).arg(format!("{PASSWORD_USER}:{PASSWORD}"));
    for name in SCRIPT_OPTIONS {
        cmd.env_remove(name);
    }
    // Its servers write their output to files in DIR/log, so the pipes close when it exits.
    cmd.envs(options.iter().copied()).stdin(Stdio::null()).output().expect("bash")
}

/// Readers (the token endpoint, the sink) open the file anew on every request: the rename makes
/// sure they see all of it or none.
fn write_atomically(path: &Path, contents: &[u8]) {
    let tmp = path.with_extension("harness-tmp");
    std::fs::write(&tmp, contents).unwrap_or_else(|e| panic!("write {}: {e}", tmp.display()));
    std::fs::rename(&tmp, path).unwrap_or_else(|e| panic!("rename to {}: {e}", path.display()));
}

/// The harness checks itself: the endpoint's grants and failures, and that a minted token opens
/// IMAP and submission (spoken by hand, so that these tests need nothing of supportd).
#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::sync::Arc;

    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};

    use super::*;

    #[test]
    fn the_token_endpoint_rotates_a_seeded_refresh_token() {
        let servers = OAuth2Servers::start();
        servers.seed_refresh_token("seeded-1", "carol@example.com", "mail", CLIENT_ID);
        let client = [("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)];
        let refresh = |token| {
            servers.token_request(&[("grant_type", "refresh_token"), ("refresh_token", token), client[0], client[1]])
        };

        servers.control("invalid_grant");
        let (status, answer) = refresh("seeded-1");
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_grant")), "{answer}");
        servers.clear_control();

        let (status, answer) = refresh("seeded-1");
        assert_eq!(status, 200, "an injected failure consumes nothing: {answer}");
        let rotated = answer["refresh_token"].as_str().expect("a new refresh token").to_owned();
        assert_ne!(rotated, "seeded-1");
        let access = claims(answer["access_token"].as_str().expect("an access token"));
        assert_eq!((access["email"].as_str(), access["scope"].as_str()), (Some("carol@example.com"), Some("mail")));

        let (status, answer) = refresh("seeded-1");
        assert_eq!((status, answer["error"].as_str()), (400, Some("invalid_grant")), "rotated, so dead: {answer}");
        assert_eq!(servers.refresh_tokens(), [rotated]);

        let (status, answer) = servers.token_request(&[("grant_type", "client_credentials"), client[0], client[1]]);
        assert_eq!((status, answer.get("refresh_token")), (200, None), "{answer}");
        assert_eq!(claims(answer["access_token"].as_str().expect("an access token"))["email"], APP_USER);

        let seen: Vec<_> = servers.requests().iter().map(|r| (r["status"].as_u64(), r["email"].clone())).collect();
        let (carol, app) = (serde_json::json!("carol@example.com"), serde_json::json!(APP_USER));
        let none = serde_json::Value::Null;
        assert_eq!(seen, [(Some(400), carol.clone()), (Some(200), carol), (Some(400), none), (Some(200), app)]);
    }

    #[test]
    fn a_minted_token_opens_the_inbox_over_imap_and_imaps() {
        let servers = OAuth2Servers::start();
        let user = "dave@example.com";
        servers.deliver(user, b"Subject: waiting\r\n\r\nFor Dave.\r\n");

        let token = servers.mint_token(user, 600, 0);
        assert_eq!(imap_inbox(Conversation::plain(servers.imap_port), user, &token), Ok(1));
        let imaps = Conversation::tls(servers.imaps_port, &servers.ca_file);
        assert_eq!(imap_inbox(imaps, user, &token), Ok(1));
        let long = servers.mint_token(user, 600, 1921);
        assert!((1921..=1922).contains(&long.len()), "{} bytes", long.len());
        assert_eq!(imap_inbox(Conversation::plain(servers.imap_port), user, &long), Ok(1), "a Microsoft-sized token");

        let expired = servers.mint_token(user, -60, 0);
        let refused = imap_inbox(Conversation::plain(servers.imap_port), user, &expired).expect_err("refused");
        assert!(refused.contains("AUTHENTICATIONFAILED"), "{refused}");
        assert!(servers.dovecot_log().contains("Token has expired"), "{}", servers.dovecot_log());
    }

    #[test]
    fn a_minted_token_sends_through_submission_into_the_sink() {
        let servers = OAuth2Servers::start();
        let user = "erin@example.com";
        let token = servers.mint_token(user, 600, 0);

        let plain = Conversation::plain(servers.submission_port);
        assert!(submit(plain, user, &token, "Subject: plain\r\n\r\nBody.\r\n").is_ok_and(|r| r.starts_with("250")));
        let tls = Conversation::tls(servers.submissions_port, &servers.ca_file);
        assert!(submit(tls, user, &token, "Subject: tls\r\n\r\nBody.\r\n").is_ok_and(|r| r.starts_with("250")));
        servers.sink_control("RCPT 451 4.3.0 try later");
        let refused = submit(Conversation::plain(servers.submission_port), user, &token, "Subject: later\r\n\r\n.\r\n");
        assert!(refused.as_ref().is_err_and(|r| r.starts_with("451")), "the sink's answer passes through: {refused:?}");

        let relayed = servers.sink_messages();
        assert_eq!(relayed.len(), 2, "{relayed:?}");
        assert!(relayed[0].contains("with ESMTPA") && relayed[0].contains("Subject: plain"), "{}", relayed[0]);
        assert!(relayed[1].contains("with ESMTPSA") && relayed[1].contains("Subject: tls"), "{}", relayed[1]);
    }

    fn claims(jwt: &str) -> serde_json::Value {
        let part = jwt.split('.').nth(1).expect("a JWT's claims");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON claims")
    }

    fn xoauth2(user: &str, token: &str) -> String {
        STANDARD.encode(format!("user={user}\x01auth=Bearer {token}\x01\x01"))
    }

    /// Logs in over IMAP with XOAUTH2 and selects the INBOX: its message count, or the refusal.
    fn imap_inbox(mut imap: Conversation, user: &str, token: &str) -> Result<u32, String> {
        imap.line();
        imap.send(&format!("a AUTHENTICATE XOAUTH2 {}", xoauth2(user, token)));
        loop {
            let line = imap.line();
            if line.starts_with('+') {
                // Dovecot's error challenge: the failure comes once it is answered (RFC 7628 3.2.3).
                imap.send("");
            } else if line.starts_with("a OK") {
                break;
            } else if line.starts_with("a ") {
                return Err(line);
            }
        }
        imap.send("b SELECT INBOX");
        let mut exists = None;
        loop {
            let line = imap.line();
            if let Some(n) = line.strip_prefix("* ").and_then(|l| l.strip_suffix(" EXISTS")) {
                exists = n.parse().ok();
            }
            if line.starts_with("b ") {
                return exists.ok_or(line);
            }
        }
    }

    /// Sends `message` with AUTH XOAUTH2: the answer to its end of data, or the first refusal.
    fn submit(mut smtp: Conversation, user: &str, token: &str, message: &str) -> Result<String, String> {
        smtp.reply();
        let auth = format!("AUTH XOAUTH2 {}", xoauth2(user, token));
        let mail = format!("MAIL FROM:<{user}>");
        for command in ["EHLO client.test", &auth, &mail, "RCPT TO:<customer@example.org>", "DATA"] {
            smtp.send(command);
            let reply = smtp.reply();
            if !reply.starts_with(['2', '3']) {
                return Err(reply);
            }
        }
        smtp.send(&format!("{message}."));
        Ok(smtp.reply())
    }

    trait Stream: Read + Write {}
    impl<S: Read + Write> Stream for S {}

    /// A line-by-line exchange with a server on a loopback port, in the clear or over TLS.
    struct Conversation(BufReader<Box<dyn Stream>>);

    impl Conversation {
        fn plain(port: u16) -> Conversation {
            Conversation(BufReader::new(Box::new(connect(port))))
        }

        /// Implicit TLS, trusting only `ca_file` and checking the name `localhost`, as supportd does.
        fn tls(port: u16, ca_file: &Path) -> Conversation {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(ca_file).expect("the CA file") {
                roots.add(cert.expect("a PEM certificate")).expect("a trusted root");
            }
            let config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
            let name = ServerName::try_from("localhost").expect("a DNS name");
            let client = rustls::ClientConnection::new(Arc::new(config), name).expect("a TLS client");
            Conversation(BufReader::new(Box::new(rustls::StreamOwned::new(client, connect(port)))))
        }

        fn send(&mut self, line: &str) {
            let stream = self.0.get_mut();
            stream.write_all(format!("{line}\r\n").as_bytes()).and_then(|()| stream.flush()).expect("send");
        }

        fn line(&mut self) -> String {
            let mut line = String::new();
            assert_ne!(self.0.read_line(&mut line).expect("read"), 0, "the server closed the connection");
            line.trim_end().to_owned()
        }

        /// An SMTP reply's last line (`250-` lines continue it).
        fn reply(&mut self) -> String {
            loop {
                let line = self.line();
                if line.as_bytes().get(3) != Some(&b'-') {
                    return line;
                }
            }
        }
    }

    fn connect(port: u16) -> TcpStream {
        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("connect to {port}: {e}"));
        tcp.set_read_timeout(Some(Duration::from_secs(30))).expect("a read timeout");
        tcp
    }
}
