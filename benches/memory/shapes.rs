//! One large message of each shape support mail comes in: what each costs to parse and store
//! differs (a plain body is borrowed from the raw bytes, quoted-printable decoded into a new
//! string, a base64 attachment decoded into bytes, many parts each their own allocation).

use std::io::Write;

/// The shapes, by the name the benchmark prints.
pub const SHAPES: [&str; 5] = ["plain text", "HTML", "base64 attachment", "many small parts", "quoted-printable"];

/// A whole message of about `size` bytes (never more) in `shape`.
pub fn message(shape: &str, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    write!(
        out,
        "From: Customer <large@acme.example>\r\nTo: support@example.com\r\nSubject: Big {shape}\r\n\
         Message-ID: <big-{}@acme.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n",
        shape.replace(' ', "-")
    )
    .expect("writing to a Vec");
    let room = size - out.len();
    match shape {
        "plain text" => single(&mut out, "text/plain; charset=utf-8", "8bit", room, log_line),
        "HTML" => html(&mut out, room),
        "base64 attachment" => attachment(&mut out, room),
        "many small parts" => many_parts(&mut out, room),
        "quoted-printable" => single(&mut out, "text/plain; charset=utf-8", "quoted-printable", room, qp_line),
        other => panic!("no shape {other:?}"),
    }
    assert!(out.len() <= size, "{shape}: {} bytes", out.len());
    out
}

/// A pasted log: lines of text, each different.
fn log_line(i: usize) -> String {
    format!(
        "2026-11-23T10:{:02}:{:02}.{i:06}Z worker-{} ERROR job {i} failed: connection reset by peer\r\n",
        i / 60 % 60,
        i % 60,
        i % 16
    )
}

/// Quoted-printable UTF-8 text (a German log): escapes and soft line breaks throughout.
fn qp_line(i: usize) -> String {
    format!(
        "Auftrag {i}: Verbindung zur=C3=BCckgesetzt, Gr=C3=B6=C3=9Fe =3D {} Bytes, n=C3=A4chster Versu=\r\nch in 5 s\r\n",
        i * 7
    )
}

fn single(out: &mut Vec<u8>, ctype: &str, encoding: &str, room: usize, line: fn(usize) -> String) {
    let head = format!("Content-Type: {ctype}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n");
    out.extend_from_slice(head.as_bytes());
    fill(out, out.len() + room - head.len(), line);
}

/// Appends `line(i)` for i = 0, 1, … while the total stays within `end` bytes.
fn fill(out: &mut Vec<u8>, end: usize, line: fn(usize) -> String) {
    for i in 0.. {
        let l = line(i);
        if out.len() + l.len() > end {
            break;
        }
        out.extend_from_slice(l.as_bytes());
    }
}

/// An HTML body (a pasted table), with no text alternative: the text is made from it.
fn html(out: &mut Vec<u8>, room: usize) {
    let head = "Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><table>\r\n";
    let tail = "</table></body></html>\r\n";
    out.extend_from_slice(head.as_bytes());
    let end = out.len() + room - head.len() - tail.len();
    fill(out, end, |i| {
        format!("<tr><td>{i}</td><td>worker-{}</td><td><b>ERROR</b> job {i} failed &amp; retried</td></tr>\r\n", i % 16)
    });
    out.extend_from_slice(tail.as_bytes());
}

/// A short text part and a base64 attachment of incompressible bytes.
fn attachment(out: &mut Vec<u8>, room: usize) {
    let head = "Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\n\
The dump is attached.\r\n--m\r\nContent-Type: application/octet-stream; name=core.bin\r\n\
Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=core.bin\r\n\r\n";
    let tail = "--m--\r\n";
    out.extend_from_slice(head.as_bytes());
    let end = out.len() + room - head.len() - tail.len();
    base64_lines(out, end, 0x9e37_79b9_7f4a_7c15);
    out.extend_from_slice(tail.as_bytes());
}

/// Random base64 in lines of 76 characters and CRLF (RFC 2045) up to `end` bytes.
fn base64_lines(out: &mut Vec<u8>, end: usize, mut x: u64) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    while out.len() + 78 <= end {
        for _ in 0..76 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.push(ALPHABET[(x % 64) as usize]);
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// Thousands of parts of about 8 KB: small log files and screenshots, alternating.
fn many_parts(out: &mut Vec<u8>, room: usize) {
    let head = "Content-Type: multipart/mixed; boundary=p\r\n\r\n--p\r\nContent-Type: text/plain\r\n\r\n\
The logs of every node are attached.\r\n";
    let tail = "--p--\r\n";
    out.extend_from_slice(head.as_bytes());
    let end = out.len() + room - head.len() - tail.len();
    for n in 0.. {
        let part_end = out.len() + 8 * 1024;
        if part_end + 300 > end {
            break;
        }
        if n % 2 == 0 {
            write!(
                out,
                "--p\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=node-{n}.log\r\n\r\n"
            )
            .expect("writing to a Vec");
            fill(out, part_end, log_line);
        } else {
            write!(
                out,
                "--p\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\
                 Content-Disposition: attachment; filename=screen-{n}.png\r\n\r\n"
            )
            .expect("writing to a Vec");
            base64_lines(out, part_end, 0x2545_f491_4f6c_dd1d ^ n as u64);
        }
    }
    out.extend_from_slice(tail.as_bytes());
}
