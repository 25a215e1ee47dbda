//! A real SMTP receiver (aiosmtpd, Debian `python3-aiosmtpd`) on a loopback port, from
//! ../shared/recipes/smtp-sink.py: each accepted message is a file; a control file makes it
//! answer 4xx/5xx; it can be stopped and started again on the same port.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/support/smtp-sink.py");

pub struct TestSmtp {
    dir: tempfile::TempDir,
    child: Option<Child>,
    pub port: u16,
    /// STARTTLS required and AUTH with this user:password, when set.
    secure: Option<String>,
    implicit_tls: bool,
}

impl TestSmtp {
    pub fn start() -> TestSmtp {
        Self::start_with(None, false)
    }

    /// A receiver that requires STARTTLS (its certificate is `ca_file()`) and AUTH.
    pub fn start_secure(user: &str, password: &str) -> TestSmtp {
        Self::start_with(Some(format!("{user}:{password}")), false)
    }

    /// A receiver speaking TLS from the first byte (SMTPS), with AUTH.
    pub fn start_implicit_tls(user: &str, password: &str) -> TestSmtp {
        Self::start_with(Some(format!("{user}:{password}")), true)
    }

    fn start_with(secure: Option<String>, implicit_tls: bool) -> TestSmtp {
        let dir = tempfile::Builder::new().prefix("supportd-smtp").tempdir().expect("tempdir");
        if secure.is_some() {
            super::cert::self_signed(dir.path());
        }
        let mut sink = TestSmtp { dir, child: None, port: 0, secure, implicit_tls };
        sink.spawn();
        sink
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// The receiver's files ending in `.ext`, in order of arrival (their names sort so).
    fn files(&self, ext: &str) -> Vec<PathBuf> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.out_dir())
            .map(|d| {
                d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == ext)).collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The envelopes of received messages (`tls`, `auth`, `mail_from`, `rcpt_tos`).
    pub fn envelopes(&self) -> Vec<serde_json::Value> {
        let names = self.files("json");
        names.iter().map(|p| serde_json::from_slice(&std::fs::read(p).expect("read envelope")).expect("JSON")).collect()
    }

    fn spawn(&mut self) {
        // Debian's interpreter: the pyenv python3 on PATH does not see python3-aiosmtpd.
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(SCRIPT).arg("--dir").arg(self.out_dir()).args(["--port", &self.port.to_string()]);
        if let Some(auth) = &self.secure {
            cmd.arg("--tls-cert").arg(self.ca_file()).arg("--tls-key").arg(self.dir.path().join("key.pem"));
            cmd.args(["--require-tls", "--auth", auth]);
            if self.implicit_tls {
                cmd.arg("--implicit-tls");
            }
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("/usr/bin/python3 with aiosmtpd (Debian package python3-aiosmtpd) is needed");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("READY line");
        let port = line.strip_prefix("READY ").and_then(|p| p.trim().parse().ok());
        self.port = port.unwrap_or_else(|| panic!("the SMTP sink did not start: {line:?}"));
        self.child = Some(child);
    }

    fn out_dir(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// Stops it: connections are refused until `restart`.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// e.g. `RCPT 550 5.1.1 no such user`, `FAILN 2 DATA 451 4.3.0 try later`; "" accepts all.
    pub fn set_control(&self, line: &str) {
        std::fs::create_dir_all(self.out_dir()).expect("out dir");
        std::fs::write(self.out_dir().join("control"), line).expect("control file");
        let _ = std::fs::remove_file(self.out_dir().join("control.count"));
    }

    /// Every message received so far, in order of arrival.
    pub fn messages(&self) -> Vec<String> {
        let names = self.files("eml");
        names.iter().map(|p| std::fs::read_to_string(p).expect("read message")).collect()
    }

    /// Every message whose envelope delivered it to `rcpt` (To or Cc alike), in order of
    /// arrival: what that mailbox received.
    pub fn delivered_to(&self, rcpt: &str) -> Vec<String> {
        let names = self.files("eml");
        names
            .iter()
            .filter(|eml| {
                let envelope: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(eml.with_extension("json")).expect("read envelope"))
                        .expect("JSON");
                envelope["rcpt_tos"]
                    .as_array()
                    .expect("rcpt_tos")
                    .iter()
                    .any(|r| r.as_str().is_some_and(|r| r.trim_matches(['<', '>']).eq_ignore_ascii_case(rcpt)))
            })
            .map(|eml| std::fs::read_to_string(eml).expect("read message"))
            .collect()
    }

    /// The outbound section for daemon.toml, with quick retries for tests.
    pub fn outbound_toml(&self) -> String {
        format!(
            "[outbound]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\n\
             from = \"Support <support@example.com>\"\ntimeout = \"5s\"\npoll_interval = \"200ms\"\n\
             retry_initial = \"200ms\"\nretry_max = \"1s\"\nlease = \"2s\"\nmax_attempts = 50\n",
            self.port
        )
    }
}

impl Drop for TestSmtp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The value of a header in a raw message (first occurrence, unfolded).
pub fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next().unwrap_or(raw);
    let mut lines = head.split("\r\n").peekable();
    while let Some(line) = lines.next() {
        if let Some((n, v)) = line.split_once(':')
            && n.eq_ignore_ascii_case(name)
        {
            let mut value = v.trim().to_owned();
            while let Some(next) = lines.peek().filter(|l| l.starts_with([' ', '\t'])) {
                value.push(' ');
                value.push_str(next.trim());
                lines.next();
            }
            return Some(value);
        }
    }
    None
}
