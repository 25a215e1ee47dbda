//! The daemon's peak memory on large mail from Maildir: one 24 MB message, then a backlog of
//! fifty 20 MB messages (1 GB of files, written once from the same body and deleted after).
//! The goal: under 100 MB plus four times the largest message, whatever the backlog.

use std::io::Write;

use super::desk_dir;
use super::log::Log;

const MB: usize = 1024 * 1024;

pub fn report() {
    for (count, size_mb) in [(1, 24), (50, 20)] {
        let t = std::time::Instant::now();
        let peak = peak_rss_mb(count, size_mb * MB);
        let goal = 100 + 4 * size_mb;
        println!(
            "peak RSS, Maildir backlog of {count} × {size_mb} MB messages: {peak:.0} MB (goal: under {goal} MB = \
             100 MB + 4 × the largest message); run in {:.1?}",
            t.elapsed()
        );
    }
}

fn peak_rss_mb(count: usize, size: usize) -> f64 {
    let dir = desk_dir(None);
    let inbox = dir.path().join("var/inbox");
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(inbox.join(sub)).expect("maildir");
    }
    let body = attachment_body(size);
    for i in 0..count {
        let name = format!("{}.M{i}.bench", 1_700_000_000 + i);
        let tmp = inbox.join("tmp").join(&name);
        let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp).expect("create message"));
        let head = format!(
            "From: Customer {i} <large{i}@acme.example>\r\nTo: support@example.com\r\nSubject: Core dump {i}\r\n\
             Message-ID: <large-{i}@acme.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        );
        file.write_all(head.as_bytes()).and_then(|_| file.write_all(&body)).expect("write message");
        drop(file);
        std::fs::rename(&tmp, inbox.join("new").join(&name)).expect("deliver");
    }
    let log = Log::run_once(&dir.path().join("daemon.toml"), "memory");
    let stored = log.logged(&["opened case"]).len();
    assert_eq!(stored, count, "every large message became a case");
    log.peak_rss_mb()
}

/// A short text part and a base64 attachment of incompressible bytes, `size` bytes in all
/// with the headers: what large support mail mostly is (logs, dumps, screenshots).
fn attachment_body(size: usize) -> Vec<u8> {
    let head = b"Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\n\
The dump is attached.\r\n--m\r\nContent-Type: application/octet-stream; name=core.bin\r\n\
Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=core.bin\r\n\r\n";
    let tail = b"--m--\r\n";
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(head);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    // 76 characters and CRLF per line (RFC 2045), whole 4-character groups.
    while out.len() + 78 + tail.len() + 300 <= size {
        for _ in 0..76 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.push(ALPHABET[(x % 64) as usize]);
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(tail);
    out
}
