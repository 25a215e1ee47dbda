//! Memory benchmark (figures printed, not asserted): the peak RSS of the release `supportd`
//! taking one 24 MB message of each shape (plain text, HTML, base64 attachment, many small
//! parts, quoted-printable) by each path (`ingest FILE`, `ingest < FILE`, a Maildir pass and
//! an IMAP pass with `run --once`), beside the goal of 100 MB + 4 × the message.
//! Run with `cargo bench --bench memory` (BENCH_MB for another size, BENCH_SHAPES and
//! BENCH_PATHS, comma-separated words of the names printed, for fewer; BENCH_SUPPORTD=PATH
//! to measure another build of the binary, an earlier one for a before-and-after).

#[path = "../tests/it/support/cert.rs"]
mod cert;
#[path = "../tests/it/support/dovecot.rs"]
#[allow(dead_code)]
mod dovecot;
#[path = "memory/shapes.rs"]
mod shapes;

use std::process::Command;

use dovecot::TestMailServer;

const BUILT: &str = env!("CARGO_BIN_EXE_supportd");
const REPO: &str = env!("CARGO_MANIFEST_DIR");
const MB: usize = 1024 * 1024;
const PATHS: [&str; 4] = ["ingest FILE", "ingest < FILE", "Maildir", "IMAP"];

fn bin() -> String {
    std::env::var("BENCH_SUPPORTD").unwrap_or_else(|_| BUILT.into())
}

fn main() {
    let size_mb: usize = std::env::var("BENCH_MB").ok().and_then(|s| s.parse().ok()).unwrap_or(24);
    let chosen = |var: &str, name: &str| {
        std::env::var(var).map_or(true, |list| list.split(',').any(|w| name.contains(w.trim())))
    };
    let goal = 100.0 + 4.0 * size_mb as f64;
    let paths: Vec<&str> = PATHS.into_iter().filter(|p| chosen("BENCH_PATHS", p)).collect();
    let imap = paths.contains(&"IMAP").then(TestMailServer::start);
    println!("peak RSS of supportd for one {size_mb} MB message (goal: under {goal:.0} MB = 100 MB + 4 × the message)");
    println!("{:<18} {}", "shape", paths.iter().map(|p| format!("{p:>14}")).collect::<String>());
    for shape in shapes::SHAPES.into_iter().filter(|s| chosen("BENCH_SHAPES", s)) {
        let message = shapes::message(shape, size_mb * MB);
        let mut row = format!("{shape:<18} ");
        for path in &paths {
            let mb = peak_rss_mb(path, &message, imap.as_ref());
            row.push_str(&format!("{:>11.0} MB{}", mb, if mb < goal { " " } else { "!" }));
        }
        println!("{row}");
    }
    println!("(! marks a figure over the goal)");
}

/// The peak RSS of the one `supportd` process that takes `message` by `path`, in a fresh desk.
/// It runs under `/usr/bin/time`, whose own child is measured, not this process (wait4 on a
/// fork of this one would count this process's memory too).
fn peak_rss_mb(path: &str, message: &[u8], imap: Option<&TestMailServer>) -> f64 {
    let dir = desk(imap);
    let file = dir.path().join("big.eml");
    let rss = dir.path().join("rss");
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-f").arg("%M").arg("-o").arg(&rss).arg(bin()).arg("--config").arg(dir.path().join("daemon.toml"));
    match path {
        "ingest FILE" => {
            std::fs::write(&file, message).expect("write the message");
            cmd.arg("ingest").arg(&file);
        }
        "ingest < FILE" => {
            std::fs::write(&file, message).expect("write the message");
            cmd.arg("ingest").stdin(std::fs::File::open(&file).expect("open the message"));
        }
        "Maildir" => {
            let inbox = dir.path().join("var/inbox");
            std::fs::write(inbox.join("tmp/big"), message).expect("write the message");
            std::fs::rename(inbox.join("tmp/big"), inbox.join("new/1700000000.M1.big")).expect("deliver");
            cmd.args(["run", "--once"]);
        }
        "IMAP" => {
            let server = imap.expect("Dovecot for the IMAP path");
            // The INBOX holds this message alone: the last shape's is gone.
            server.doveadm(&["expunge", "-u", dovecot::USER, "mailbox", "INBOX", "all"]);
            server.deliver_to_maildir(&[message.to_vec()]);
            cmd.args(["run", "--once"]);
        }
        other => panic!("no path {other:?}"),
    }
    let done = cmd.env("RUST_LOG", "info").output().expect("run supportd");
    let said = format!("{}{}", String::from_utf8_lossy(&done.stdout), String::from_utf8_lossy(&done.stderr));
    assert!(done.status.success() && said.contains("opened case"), "{path}: the message opened no case:\n{said}");
    let kb: u64 = std::fs::read_to_string(&rss).expect("time's output").trim().parse().expect("a number of KiB");
    kb as f64 / 1024.0
}

/// A fresh folder with the repository's daemon.toml and templates, migrated; with `imap`, its
/// mailbox too (the Maildir one stays, empty).
fn desk(imap: Option<&TestMailServer>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = Command::new("cp").arg("-r").arg(format!("{REPO}/templates")).arg(dir.path()).status().unwrap();
    assert!(copy.success());
    let mut config = std::fs::read_to_string(format!("{REPO}/daemon.toml")).unwrap();
    if let Some(server) = imap {
        config.push_str(&server.mailbox_toml("plain", ""));
    }
    std::fs::write(dir.path().join("daemon.toml"), config).unwrap();
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(dir.path().join("var/inbox").join(sub)).expect("maildir");
    }
    let migrate =
        Command::new(bin()).arg("--config").arg(dir.path().join("daemon.toml")).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    dir
}
