//! The web port cannot stop the mail: thousands of idle and slow connections are closed by
//! the server within its timeouts (or to make room for new ones) while mail is ingested and
//! `/healthz` answers; hyper's own answers to malformed requests carry the guard's headers;
//! who may read without a token is the TCP peer's word, not a header's.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

use crate::support::http::{get, get_via_proxy};
use crate::support::sandbox::Daemon;
use crate::support::{Backend, Sandbox, customer_mail};

/// The descriptors a daemon has under systemd's default (`LimitNOFILE` unset).
const SYSTEMD_DEFAULT_NOFILE: libc::rlim_t = 1024;

/// Raises this process's soft limit on open files to `want` (within the hard limit): the
/// test holds thousands of sockets.
fn allow_open_files(want: libc::rlim_t) {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit on this process with a valid struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_cur < want {
            limit.rlim_cur = want.min(limit.rlim_max);
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
    }
    assert!(limit.rlim_cur >= want, "the hard limit on open files ({}) is below {want}", limit.rlim_max);
}

/// `supportd run` with the soft limit on open files systemd gives a unit by default.
fn run_with_default_file_limit(sandbox: &Sandbox, env: &[(&str, &str)]) -> Daemon {
    let mut run = sandbox.cmd(&["run"]);
    run.envs(env.iter().copied());
    // SAFETY: only setrlimit(2), async-signal-safe, between fork and exec.
    unsafe {
        run.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: SYSTEMD_DEFAULT_NOFILE, rlim_max: SYSTEMD_DEFAULT_NOFILE };
            match libc::setrlimit(libc::RLIMIT_NOFILE, &limit) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            }
        });
    }
    Daemon::spawn(run)
}

/// How a test connection behaves once open.
#[derive(Clone, Copy, Debug)]
enum Idler {
    Silent,
    HalfAHeader,
    KeptAlive,
}

fn open(addr: &str, kind: Idler) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    match kind {
        Idler::Silent => {}
        Idler::HalfAHeader => stream.write_all(b"GET /api/cases HTTP/1.1\r\nHost: local").unwrap(),
        Idler::KeptAlive => stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap(),
    }
    stream
}

/// Reads until the server closes the connection, or panics at `deadline`. A server that
/// closes with our bytes unread resets the connection instead: closed all the same.
fn closed_by(stream: &mut TcpStream, deadline: Instant, what: &str) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "{what}: still open at the deadline; read {:?}", String::from_utf8_lossy(&got));
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return got,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("{what}: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_thousand_idle_and_slow_connections_neither_stop_the_mail_nor_stay_open() {
    const CONNECTIONS: usize = 2000;
    allow_open_files(CONNECTIONS as libc::rlim_t + 1024);
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let timeout = Duration::from_secs(3);
    let mut daemon = run_with_default_file_limit(&sandbox, &[("SUPPORTD_HTTP__HEADER_READ_TIMEOUT", "3s")]);
    let addr = daemon.web_address();
    daemon.wait_for("supportd ready", Duration::from_secs(60));

    let kinds = [Idler::Silent, Idler::HalfAHeader, Idler::KeptAlive];
    let mut idle: Vec<(Idler, TcpStream)> =
        (0..CONNECTIONS).map(|i| kinds[i % 3]).map(|kind| (kind, open(&addr, kind))).collect();
    let all_open = Instant::now();

    // Every slot is taken (256 by default), yet a new client is served: the oldest idle
    // connection makes room.
    let health = get(&addr, "/healthz", None);
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    let asked = all_open.elapsed();
    sandbox.drop_mail("1.eml", &customer_mail(1, "Printer offline"));
    let ingested = Instant::now() + Duration::from_secs(60);
    while sandbox.count("SELECT count(*) FROM cases").await < 1 {
        assert!(Instant::now() < ingested, "the mail was not ingested:\n{}", daemon.seen.join("\n"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "/healthz answered {asked:?} after {CONNECTIONS} connections opened; the mail took {:?}",
        all_open.elapsed()
    );

    // Each is closed by the server within the header timeout of its opening (or of its
    // answer), with a margin for a machine shared with other tests.
    let deadline = all_open + timeout + Duration::from_secs(10);
    for (i, (kind, stream)) in idle.iter_mut().enumerate() {
        let got = closed_by(stream, deadline, &format!("connection {i} ({kind:?})"));
        if let Idler::KeptAlive = kind
            && !got.is_empty()
        {
            let text = String::from_utf8_lossy(&got);
            assert!(text.starts_with("HTTP/1.1 200 OK\r\n") && text.ends_with("\r\n\r\nok\n"), "{text}");
        }
    }
    println!("all {CONNECTIONS} closed by the server {:?} after the last opened", all_open.elapsed());
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(20)).expect("exits").success());
    let log = daemon.seen.join("\n");
    assert!(!log.contains("Too many open files"), "{log}");
}

/// A request over a raw socket; what came back before the server closed.
fn raw(addr: &str, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(bytes).unwrap();
    let got = closed_by(&mut stream, Instant::now() + Duration::from_secs(30), "a raw request");
    String::from_utf8_lossy(&got).into_owned()
}

fn carries_the_guard_headers(head: &str) {
    let lower = head.to_ascii_lowercase();
    for header in [
        "content-security-policy: default-src 'none';",
        "x-content-type-options: nosniff",
        "referrer-policy: no-referrer",
        "cache-control: no-store",
    ] {
        assert!(lower.contains(header), "{header} in {head:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hypers_own_answers_carry_the_guard_headers_and_headers_do_not_make_a_proxy() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let mut daemon = sandbox.spawn_daemon();
    let addr = daemon.web_address();

    let bad_line = raw(&addr, b"GET /healthz HTTP/1.1 extra\r\nHost: localhost\r\n\r\n");
    assert!(bad_line.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{bad_line}");
    carries_the_guard_headers(&bad_line);
    // A head of exactly [http] max_header_bytes (16 KiB) that has not ended: all of it read,
    // so the server's close sends the answer rather than a reset.
    let mut oversized = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Filler: ".to_vec();
    oversized.resize(16 * 1024, b'a');
    let too_large = raw(&addr, &oversized);
    assert!(too_large.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{too_large}");
    carries_the_guard_headers(&too_large);
    // After an answer of ours on a kept-alive connection: ours intact, hyper's with headers.
    let both = raw(&addr, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\nNOT HTTP\r\n\r\n");
    let (ours, theirs) = both.split_once("ok\n").unwrap_or_else(|| panic!("{both}"));
    assert!(ours.starts_with("HTTP/1.1 200 OK\r\n") && ours.ends_with("\r\n\r\n"), "{both}");
    carries_the_guard_headers(ours);
    assert_eq!(ours.matches("content-security-policy").count(), 1, "ours is left as it was: {ours}");
    assert!(theirs.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{both}");
    carries_the_guard_headers(theirs);

    // A proxy's headers neither grant nor refuse: a local peer is served as local.
    assert_eq!(get_via_proxy(&addr, "/api/cases").status, 200);
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(20)).expect("exits").success());

    // A peer listed in trusted_proxies is a proxy: without the token it is refused, even
    // with Host: localhost and no forwarding header (a plain TCP forwarder adds none).
    let mut run = sandbox.cmd(&["run"]);
    run.env("SUPPORTD_HTTP__TRUSTED_PROXIES", "[\"127.0.0.0/8\"]");
    let mut proxied = Daemon::spawn(run);
    let addr = proxied.web_address();
    let refused = get(&addr, "/api/cases", None);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("needs [http] token"), "{}", refused.body);
    assert!(refused.header("content-security-policy").is_some());
    assert_eq!(get(&addr, "/healthz", None).status, 200, "health needs no token");
}

/// With every slot held by clients that send nothing, and a header timeout far away, a new
/// client is still served: the oldest idle connection is closed to make room, the newest
/// kept.
#[tokio::test(flavor = "multi_thread")]
async fn at_the_cap_the_oldest_idle_connection_makes_room_for_health() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let mut run = sandbox.cmd(&["run"]);
    run.env("SUPPORTD_HTTP__MAX_CONNECTIONS", "8").env("SUPPORTD_HTTP__HEADER_READ_TIMEOUT", "10m");
    let mut daemon = Daemon::spawn(run);
    let addr = daemon.web_address();
    let mut held: Vec<TcpStream> = (0..8).map(|_| open(&addr, Idler::Silent)).collect();
    // Accepted in the order they came, so all eight hold their slots before this one.
    let health = get(&addr, "/healthz", None);
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    closed_by(&mut held[0], Instant::now() + Duration::from_secs(30), "the oldest idle connection");
    let newest = &mut held[7];
    newest.set_nonblocking(true).unwrap();
    let still_open = newest.read(&mut [0u8; 16]).map_err(|e| e.kind());
    assert_eq!(still_open, Err(ErrorKind::WouldBlock), "the newest is kept");
}

/// A burst of clients larger than the cap is served whole: a connection whose request is on
/// its way is not closed to make room (it would read as a reset), the burst waits its turn.
#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_clients_over_the_cap_each_gets_its_answer() {
    let sandbox = Sandbox::new(Backend::Sqlite).await;
    let mut run = sandbox.cmd(&["run"]);
    run.env("SUPPORTD_HTTP__MAX_CONNECTIONS", "4");
    let mut daemon = Daemon::spawn(run);
    let addr = daemon.web_address();
    let clients: Vec<_> = (0..100)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || get(&addr, "/healthz", None).status)
        })
        .collect();
    let answers: Vec<u16> = clients.into_iter().map(|c| c.join().expect("no client was reset")).collect();
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
}
