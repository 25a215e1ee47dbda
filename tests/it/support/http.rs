//! A plain HTTP/1.1 GET over a socket: enough for the daemon's read-only pages, without a
//! client library.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct Reply {
    pub status: u16,
    /// Header lines, names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// `GET path` from `addr`, with `Authorization: auth` when given.
pub fn get(addr: &str, path: &str, auth: Option<&str>) -> Reply {
    let auth = auth.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    request(addr, path, addr, &auth)
}

/// `GET path` from `addr` with `Accept: accept`, as a scraper negotiates its format.
pub fn get_accepting(addr: &str, path: &str, accept: &str) -> Reply {
    request(addr, path, addr, &format!("Accept: {accept}\r\n"))
}

/// `GET path` as a reverse proxy on this machine forwards it.
pub fn get_via_proxy(addr: &str, path: &str) -> Reply {
    request(addr, path, addr, "X-Forwarded-For: 203.0.113.7\r\n")
}

/// `GET path` from `addr` naming another host, as a rebound page's browser would.
pub fn get_with_host(addr: &str, path: &str, host: &str) -> Reply {
    request(addr, path, host, "")
}

/// `extra`: header lines, each ending in CRLF.
fn request(addr: &str, path: &str, host: &str, extra: &str) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the reply");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok()).expect("a status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect::<Vec<_>>();
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { unchunk(body) } else { body.to_owned() };
    Reply { status, headers, body }
}

fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

/// Asks `path` until its reply passes `ok` (a state the daemon reaches in its own time, such
/// as readiness after a mailbox recovers), or panics after `timeout` with the last reply.
pub fn wait_for(addr: &str, path: &str, timeout: Duration, ok: impl Fn(&Reply) -> bool) -> Reply {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let reply = get(addr, path, None);
        if ok(&reply) {
            return reply;
        }
        assert!(std::time::Instant::now() < deadline, "{path} never became as wanted: {} {}", reply.status, reply.body);
        std::thread::sleep(Duration::from_millis(100));
    }
}
