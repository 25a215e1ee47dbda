//! A private Dovecot (IMAP + IMAPS) on random loopback ports, as in
//! ../shared/recipes/mail-servers.md: its own config, base_dir and certificate; one
//! unprivileged user for every service; killed as a process group.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_imap::Session;
use tokio::net::TcpStream;

pub const USER: &str = "support";
pub const PASSWORD: &str = "secret";

pub struct TestMailServer {
    dir: tempfile::TempDir,
    child: Option<Child>,
    pub imap_port: u16,
    pub imaps_port: u16,
    extra_config: String,
}

/// As root the mail is owned by `nobody`; otherwise everything runs as the current user.
fn run_as() -> (String, String, u32) {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    if uid == 0 {
        return ("nobody".into(), "nogroup".into(), 65534);
    }
    let user = String::from_utf8(Command::new("id").arg("-un").output().expect("id").stdout).unwrap();
    let group = String::from_utf8(Command::new("id").arg("-gn").output().expect("id").stdout).unwrap();
    (user.trim().to_owned(), group.trim().to_owned(), uid)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

impl TestMailServer {
    pub fn start() -> TestMailServer {
        Self::start_with("")
    }

    /// `extra_config` is appended to dovecot.conf (e.g. an `imap_capability` without MOVE).
    pub fn start_with(extra_config: &str) -> TestMailServer {
        let dir = tempfile::Builder::new().prefix("supportd-dovecot").tempdir().expect("tempdir");
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        for sub in ["run", "state", "log", "mail"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        super::cert::self_signed(dir.path());
        std::fs::write(dir.path().join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n")).expect("passwd");
        let mut server =
            TestMailServer { dir, child: None, imap_port: 0, imaps_port: 0, extra_config: extra_config.to_owned() };
        for _ in 0..5 {
            server.imap_port = free_port();
            server.imaps_port = free_port();
            if server.spawn() {
                return server;
            }
        }
        panic!("Dovecot did not start:\n{}", server.log());
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("dovecot.conf")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/dovecot.log")).unwrap_or_default()
    }

    fn write_config(&self) {
        let (user, group, uid) = run_as();
        let d = self.dir.path().display();
        let conf = format!(
            "instance_name = supportd-test-{port}\nbase_dir = {d}/run\nstate_dir = {d}/state\nprotocols = imap\n\
             listen = 127.0.0.1\nlog_path = {d}/log/dovecot.log\n\
             default_internal_user = {user}\ndefault_internal_group = {group}\ndefault_login_user = {user}\n\
             first_valid_uid = {uid}\nlast_valid_uid = {uid}\n\
             ssl = yes\nssl_cert = <{d}/cert.pem\nssl_key = <{d}/key.pem\nssl_min_protocol = TLSv1.2\n\
             disable_plaintext_auth = no\nauth_mechanisms = plain login\nauth_failure_delay = 0\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={uid} gid={uid} home={d}/mail/%u\n}}\n\
             mail_location = maildir:~/Maildir\n\
             namespace inbox {{\n  inbox = yes\n  separator = /\n  mailbox Processed {{\n    auto = subscribe\n  }}\n}}\n\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
               inet_listener imaps {{\n    address = 127.0.0.1\n    port = {tls_port}\n    ssl = yes\n  }}\n}}\n\
             service anvil {{\n  chroot =\n}}\nservice auth-worker {{\n  user = $default_internal_user\n}}\n\
             service stats {{\n  unix_listener stats-reader {{\n    user = {user}\n  }}\n  unix_listener stats-writer {{\n    user = {user}\n  }}\n}}\n\
             {extra}\n",
            port = self.imap_port,
            tls_port = self.imaps_port,
            extra = self.extra_config,
        );
        std::fs::write(self.conf(), conf).expect("dovecot.conf");
        // SAFETY: getuid has no preconditions.
        if unsafe { libc::getuid() } != 0 {
            return;
        }
        let chown = Command::new("chown").args(["-R", &user]).arg(self.dir.path()).status().expect("chown");
        assert!(chown.success());
    }

    /// Starts Dovecot and waits for its greeting; false when it exited (a port was taken).
    fn spawn(&mut self) -> bool {
        self.write_config();
        let _ = std::fs::remove_file(self.dir.path().join("run/master.pid"));
        let out = std::fs::File::create(self.dir.path().join("log/stdout.log")).expect("log file");
        let mut child = Command::new("dovecot")
            .arg("-c")
            .arg(self.conf())
            .arg("-F")
            .stdout(out.try_clone().expect("dup"))
            .stderr(out)
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("dovecot (Debian package dovecot-imapd) is needed for the IMAP tests");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return false; // exited, and so reaped
            }
            if greets(self.imap_port) {
                self.child = Some(child);
                return true;
            }
            // Readiness of a foreign process: nothing to await but its port.
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// Kills the whole process group at once (a SIGTERM to the master leaves the ports open
    /// for seconds) and reaps it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill(2) on the process group we created.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
        }
    }

    /// Starts again on the same ports, with the same mail.
    pub fn restart(&mut self) {
        self.stop();
        assert!(self.spawn(), "Dovecot did not restart:\n{}", self.log());
    }

    pub fn doveadm(&self, args: &[&str]) -> Output {
        let out = Command::new("doveadm").arg("-c").arg(self.conf()).args(args).output().expect("doveadm");
        assert!(out.status.success(), "doveadm {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// (uid, flags) of every message in `folder`.
    pub fn messages(&self, folder: &str) -> Vec<(u32, String)> {
        let out = self.doveadm(&["fetch", "-u", USER, "uid flags", "mailbox", folder, "ALL"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut rows = Vec::new();
        let mut uid = None;
        for line in text.lines() {
            if let Some(u) = line.strip_prefix("uid: ") {
                uid = u.trim().parse().ok();
            } else if let (Some(f), Some(u)) = (line.strip_prefix("flags:"), uid) {
                rows.push((u, f.trim().to_owned()));
            }
        }
        rows
    }

    pub fn set_uid_validity(&self, folder: &str, value: u32) {
        self.doveadm(&["mailbox", "update", "-u", USER, "--uid-validity", &value.to_string(), folder]);
    }

    /// A logged-in plain IMAP session, as a customer's mail server delivering would use.
    pub async fn client(&self) -> Session<TcpStream> {
        let tcp = TcpStream::connect(("127.0.0.1", self.imap_port)).await.expect("connect");
        tcp.set_nodelay(true).ok();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.expect("greeting").expect("greeting");
        client.login(USER, PASSWORD).await.map_err(|(e, _)| e).expect("login")
    }

    pub async fn append(&self, messages: &[Vec<u8>]) {
        let mut s = self.client().await;
        for raw in messages {
            if let Err(e) = s.append("INBOX", None, None, raw).await {
                panic!("APPEND failed: {e:?}\n{}", self.log());
            }
        }
        s.logout().await.ok();
    }

    /// Delivers straight into the INBOX Maildir (tmp/, then rename into new/), as an MTA
    /// does; much faster than APPEND for large mailboxes, and works while Dovecot is frozen.
    pub fn deliver_to_maildir(&self, messages: &[Vec<u8>]) {
        static DELIVERED: AtomicUsize = AtomicUsize::new(0);
        let maildir = self.dir.path().join("mail").join(USER).join("Maildir");
        if !maildir.join("new").is_dir() {
            // Dovecot creates the Maildir on first access.
            self.doveadm(&["mailbox", "status", "-u", USER, "messages", "INBOX"]);
        }
        let (_, _, uid) = run_as();
        for raw in messages {
            let n = DELIVERED.fetch_add(1, Ordering::Relaxed);
            let name = format!("{}.M{n}P{}.bench", 1_700_000_000 + n, std::process::id());
            let tmp = maildir.join("tmp").join(&name);
            std::fs::write(&tmp, raw).expect("write message");
            // SAFETY: getuid has no preconditions.
            if unsafe { libc::getuid() } == 0 {
                std::os::unix::fs::chown(&tmp, Some(uid), Some(uid)).expect("chown");
            }
            std::fs::rename(&tmp, maildir.join("new").join(&name)).expect("deliver");
        }
    }

    /// Stops every process of this instance with SIGSTOP (they all share the master's process
    /// group): the kernel still accepts connections on its ports, but nothing answers, as with
    /// a hung server. Dropping the guard resumes them, so a failing test leaves none stopped.
    pub fn freeze(&self) -> Frozen<'_> {
        let group = self.group().expect("Dovecot is running");
        // SAFETY: kill(2) on the process group we created.
        assert_eq!(unsafe { libc::kill(-group, libc::SIGSTOP) }, 0, "SIGSTOP");
        Frozen { _server: self, group }
    }

    fn group(&self) -> Option<i32> {
        self.child.as_ref().map(|c| c.id() as i32)
    }

    /// Waits until Dovecot's log holds `count` lines containing `needle`; the log file is the
    /// only word a foreign process gives, so it is read again every 20 ms.
    pub fn wait_for_log(&self, needle: &str, count: usize, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let lines: Vec<String> = self.log().lines().filter(|l| l.contains(needle)).map(str::to_owned).collect();
            if lines.len() >= count {
                return lines;
            }
            assert!(Instant::now() < deadline, "no {count}× {needle:?} in Dovecot's log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The mailbox section for daemon.toml.
    pub fn mailbox_toml(&self, security: &str, extra: &str) -> String {
        let port = if security == "tls" { self.imaps_port } else { self.imap_port };
        format!(
            "\n[[mailbox]]\nname = \"imap\"\nkind = \"imap\"\naddress = \"support@example.com\"\nhost = \"127.0.0.1\"\n\
             port = {port}\nsecurity = \"{security}\"\nusername = \"{USER}\"\npassword = \"{PASSWORD}\"\n\
             ca_file = \"{}\"\npoll_interval = \"1s\"\n{extra}\n",
            self.ca_file().display()
        )
    }
}

fn greets(port: u16) -> bool {
    use std::io::Read;
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    s.set_read_timeout(Some(Duration::from_secs(2))).ok();
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).is_ok() && &buf == b"* OK"
}

/// A frozen Dovecot (see [`TestMailServer::freeze`]); resumed on drop.
pub struct Frozen<'a> {
    _server: &'a TestMailServer,
    group: i32,
}

impl Drop for Frozen<'_> {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the process group of the server this guard borrows.
        unsafe { libc::kill(-self.group, libc::SIGCONT) };
    }
}

impl Drop for TestMailServer {
    fn drop(&mut self) {
        self.stop();
    }
}
