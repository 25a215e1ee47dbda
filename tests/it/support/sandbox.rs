//! A temporary copy of the repository's daemon.toml, templates/ and var/, and the built
//! binary run against it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};

use super::db::{Backend, TestDb};

pub const BIN: &str = env!("CARGO_BIN_EXE_supportd");
const REPO: &str = env!("CARGO_MANIFEST_DIR");

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub db: TestDb,
}

impl Sandbox {
    /// The repository's daemon.toml with agent notifications off, so that tests of other
    /// things count only their own mail; on PostgreSQL the database URL differs too.
    pub async fn new(backend: Backend) -> Sandbox {
        let sandbox = Sandbox::as_shipped(backend).await;
        sandbox.edit_config(|c| {
            assert!(c.contains("notify = \"each\""), "daemon.toml notifies each agent");
            c.replace("notify = \"each\"", "notify = \"none\"")
        });
        sandbox
    }

    /// The repository's own daemon.toml, unchanged on SQLite; on PostgreSQL only the
    /// database URL differs.
    pub async fn as_shipped(backend: Backend) -> Sandbox {
        let dir = tempfile::Builder::new().prefix("supportd-it").tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("var")).expect("var/");
        copy_dir(&Path::new(REPO).join("templates"), &dir.path().join("templates"));
        let db = TestDb::new(backend, dir.path()).await;
        let mut config = std::fs::read_to_string(Path::new(REPO).join("daemon.toml")).expect("daemon.toml");
        if backend == Backend::Postgres {
            let default = "url = \"sqlite://var/supportd.db?mode=rwc\"";
            assert!(config.contains(default), "daemon.toml keeps the embedded default database URL");
            config = config.replace(default, &format!("url = \"{}\"", db.url));
        }
        std::fs::write(dir.path().join("daemon.toml"), config).expect("write daemon.toml");
        Sandbox { dir, db }
    }

    /// Replaces the `[outbound]` section (up to the next section) with `section`.
    pub fn set_outbound(&self, section: &str) {
        self.edit_config(|c| {
            let start = c.find("[outbound]").expect("daemon.toml has [outbound]");
            let end = c[start..].find("\n[business_hours]").map(|i| start + i + 1).expect("[business_hours] follows");
            format!("{}{section}\n{}", &c[..start], &c[end..])
        });
    }

    /// Lifts the hourly caps on mail to strangers (`[outbound] stranger_mail_per_hour`, per
    /// domain, and per company domain), for tests of other things that acknowledge more than 20 customers of
    /// acme.example in an hour. After `set_outbound`, which replaces the section.
    pub fn uncap_stranger_mail(&self) {
        self.edit_config(|c| {
            let capped =
                |l: &&str| l.starts_with("stranger_mail_per_") || l.starts_with("company_domain_mail_per_hour");
            let kept: Vec<&str> = c.lines().filter(|l| !capped(l)).collect();
            let caps = "[outbound]\nstranger_mail_per_hour = 1000000\nstranger_mail_per_domain_per_hour = 1000000\n\
                        company_domain_mail_per_hour = 1000000";
            kept.join("\n").replacen("[outbound]", caps, 1) + "\n"
        });
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn edit_config(&self, f: impl FnOnce(String) -> String) {
        let path = self.path("daemon.toml");
        let text = std::fs::read_to_string(&path).expect("read daemon.toml");
        std::fs::write(&path, f(text)).expect("write daemon.toml");
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--config").arg(self.path("daemon.toml")).args(args).env("RUST_LOG", "info,sqlx=warn");
        // Daemons of tests running side by side each get a port of their own (logged).
        c.env("SUPPORTD_HTTP__LISTEN", "127.0.0.1:0");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run supportd")
    }

    /// Runs `args` with the clock at `now` (`SUPPORTD_NOW`), which must succeed; its output.
    pub fn run_at(&self, now: &str, args: &[&str]) -> String {
        let out = self.cmd(args).env("SUPPORTD_NOW", now).output().expect("run supportd");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// `supportd ingest` with `raw` on stdin, the way a mail server's pipe delivers it, and
    /// whether all of it was written. A writer thread, so that a command that stops reading
    /// early cannot block the test.
    pub fn pipe_ingest(&self, raw: &[u8]) -> (Output, std::io::Result<()>) {
        let mut child = self
            .cmd(&["ingest"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn supportd ingest");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let raw = raw.to_vec();
        let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &raw));
        let out = child.wait_with_output().expect("wait for supportd ingest");
        (out, writer.join().expect("writer thread"))
    }

    /// Delivers a message the way an MTA does: written to tmp/, then renamed into new/.
    pub fn drop_mail(&self, name: &str, raw: &[u8]) {
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(self.path("var/inbox").join(sub)).expect("maildir");
        }
        let tmp = self.path("var/inbox/tmp").join(name);
        std::fs::write(&tmp, raw).expect("write message");
        std::fs::rename(&tmp, self.path("var/inbox/new").join(name)).expect("deliver message");
    }

    /// Delivers `raw` as received at `received` (RFC 3339): the Maildir file's time is the
    /// receipt time.
    pub fn deliver_at(&self, name: &str, raw: &[u8], received: &str) {
        self.drop_mail(name, raw);
        let at: chrono::DateTime<chrono::Utc> = received.parse().expect("an RFC 3339 instant");
        let when = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(at.timestamp() as u64);
        let file = std::fs::File::options().write(true).open(self.path("var/inbox/new").join(name)).expect("open");
        file.set_modified(when).expect("set the receipt time");
    }

    pub fn files_in(&self, rel: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path(rel))
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The acknowledgements written by the file transport, as text.
    pub fn outbox_messages(&self) -> Vec<String> {
        self.files_in("var/outbox")
            .iter()
            .filter(|n| n.ends_with(".eml"))
            .map(|n| std::fs::read_to_string(self.path("var/outbox").join(n)).expect("read .eml"))
            .collect()
    }

    /// `supportd cases list --format json`.
    pub fn cases(&self) -> Vec<serde_json::Value> {
        let out = self.run(&["cases", "list", "--format", "json"]);
        assert!(out.status.success(), "cases list failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("cases list prints JSON")
    }

    pub fn outbox_rows(&self) -> Vec<serde_json::Value> {
        let out = self.run(&["outbox", "list", "--format", "json"]);
        assert!(out.status.success(), "outbox list failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("outbox list prints JSON")
    }

    /// Runs SQL on the sandbox's database (after `migrate`), e.g. to inject a failure.
    pub async fn sql(&self, sql: &str) {
        let db = Database::connect(&self.db.url).await.expect("connect to the test database");
        db.execute_unprepared(sql).await.expect("run SQL");
        db.close().await.ok();
    }

    /// The first column of the first row of `sql`, as an integer.
    pub async fn count(&self, sql: &str) -> i64 {
        let db = Database::connect(&self.db.url).await.expect("connect to the test database");
        let stmt = sea_orm::Statement::from_string(db.get_database_backend(), sql.to_owned());
        let row = db.query_one_raw(stmt).await.expect("query").expect("a row");
        let n = row.try_get_by_index::<i64>(0).expect("an integer");
        db.close().await.ok();
        n
    }

    /// The first column of every row of `sql`, as text (NULL as empty).
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        let db = Database::connect(&self.db.url).await.expect("connect to the test database");
        let stmt = sea_orm::Statement::from_string(db.get_database_backend(), sql.to_owned());
        let rows = db.query_all_raw(stmt).await.expect("query");
        let texts =
            rows.iter().map(|r| r.try_get_by_index::<Option<String>>(0).expect("text").unwrap_or_default()).collect();
        db.close().await.ok();
        texts
    }

    pub fn spawn_daemon(&self) -> Daemon {
        Daemon::spawn(self.cmd(&["run"]))
    }
}

impl Daemon {
    /// Starts `command` (a `supportd run`, perhaps with extra environment) and reads its log.
    pub fn spawn(mut command: Command) -> Daemon {
        let mut child = command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn supportd run");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Daemon { child: Some(child), lines, seen: Vec::new() }
    }
}

/// A running `supportd run`, read through its log.
pub struct Daemon {
    child: Option<Child>,
    lines: Receiver<String>,
    pub seen: Vec<String>,
}

impl Daemon {
    /// Waits for `count` log lines containing `needle` (counting lines already seen).
    pub fn wait_for_count(&mut self, needle: &str, count: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.seen.iter().filter(|l| l.contains(needle)).count() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => {
                    panic!("no {count}× {needle:?} in the daemon's log within {timeout:?}:\n{}", self.seen.join("\n"))
                }
            }
        }
    }

    pub fn wait_for(&mut self, needle: &str, timeout: Duration) {
        self.wait_for_count(needle, 1, timeout);
    }

    /// The address the web server says it listens on (`127.0.0.1:0` in tests: a port of
    /// its own).
    pub fn web_address(&mut self) -> String {
        self.wait_for("web server listening", Duration::from_secs(60));
        let line = self.seen.iter().find(|l| l.contains("web server listening")).unwrap();
        let at = line.find("address=").expect("the address is logged") + "address=".len();
        line[at..].split_whitespace().next().unwrap().trim_matches('"').to_owned()
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: plain kill(2) on our own child's pid.
        let pid = self.child.as_ref().expect("the daemon is running").id() as i32;
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill failed");
    }

    /// Waits for the process to exit; `None` (and the process killed) if it is still
    /// running after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take().expect("the daemon is waited for once");
        let pid = child.id() as i32;
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        match rx.recv_timeout(timeout) {
            Ok(Ok(status)) => Some(status),
            _ => {
                // SAFETY: kill(2) on our own child's pid, which the waiting thread still holds.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                None
            }
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}
