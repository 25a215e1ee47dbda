//! `supportd health`: asks the running daemon's `/healthz` at `[http] listen`, for a
//! container's HEALTHCHECK (a slim image has no curl). One request, bounded in time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use super::Exit;
use super::output::{errln, outln};
use crate::config::Config;

const WAIT: Duration = Duration::from_secs(5);

pub fn health(path: &Path) -> Exit {
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            errln!("error: {e}");
            return Exit::Config;
        }
    };
    let Some(mut addr) = config.http.listen else {
        errln!("error: [http] listen is \"\": the daemon serves no /healthz to ask");
        return Exit::Config;
    };
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() { [127, 0, 0, 1].into() } else { std::net::Ipv6Addr::LOCALHOST.into() });
    }
    match probe(addr) {
        Ok(200) => {
            outln!("ok");
            Exit::Ok
        }
        Ok(status) => {
            errln!("error: {addr}/healthz answered {status}");
            Exit::Unavailable
        }
        Err(e) => {
            errln!("error: {addr} does not answer: {e}");
            Exit::Unavailable
        }
    }
}

/// The status of `GET /healthz`.
fn probe(addr: SocketAddr) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT)?;
    stream.set_read_timeout(Some(WAIT))?;
    stream.set_write_timeout(Some(WAIT))?;
    stream.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head)?;
    let line = String::from_utf8_lossy(&head[..n]);
    let status = line.split_whitespace().nth(1).and_then(|s| s.parse().ok());
    status.ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {line:?}")))
}
