//! Everything the commands print goes through here. A reader that leaves early
//! (`supportd cases list | head -1`) is no failure of the command: Rust ignores SIGPIPE, so
//! `println!` would panic (exit 101) on the broken pipe. Here the first broken pipe closes
//! the stream: later output is dropped, and the command finishes its work and exits with
//! its own code (`ingest a.eml b.eml | head -1` still stores both). Restoring SIGPIPE's
//! default instead would kill a command between its commit and its report, and would kill
//! the daemon on a closed stderr, so the signal stays ignored.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use super::Exit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// One output stream: closed after its first failed write.
struct Stream {
    closed: AtomicBool,
    /// Failed for another reason than the reader leaving (a full disk under `> file`).
    failed: AtomicBool,
}

static STDOUT: Stream = Stream { closed: AtomicBool::new(false), failed: AtomicBool::new(false) };
static STDERR: Stream = Stream { closed: AtomicBool::new(false), failed: AtomicBool::new(false) };

impl Stream {
    /// Writes one line; `Some(error)` the first time a write fails for another reason than
    /// a broken pipe.
    fn line(&self, mut to: impl Write, args: fmt::Arguments<'_>) -> Option<io::Error> {
        if self.closed.load(Ordering::Relaxed) {
            return None;
        }
        let e = writeln!(to, "{args}").and_then(|()| to.flush()).err()?;
        self.closed.store(true, Ordering::Relaxed);
        (e.kind() != io::ErrorKind::BrokenPipe).then(|| {
            self.failed.store(true, Ordering::Relaxed);
            e
        })
    }
}

/// A line on stdout (the `outln!` macro).
pub fn out_line(args: fmt::Arguments<'_>) {
    if let Some(e) = STDOUT.line(io::stdout().lock(), args) {
        err_line(format_args!("error: cannot write the output: {e}"));
    }
}

/// A line on stderr (the `errln!` macro); a closed stderr leaves nobody to tell.
pub fn err_line(args: fmt::Arguments<'_>) {
    let _ = STDERR.line(io::stderr().lock(), args);
}

/// Prints a line on stdout, quietly dropped once the reader has gone.
macro_rules! outln {
    ($($arg:tt)*) => { $crate::cli::output::out_line(format_args!($($arg)*)) };
}

/// Prints a line on stderr, quietly dropped once stderr is closed.
macro_rules! errln {
    ($($arg:tt)*) => { $crate::cli::output::err_line(format_args!($($arg)*)) };
}

pub(crate) use {errln, outln};

/// A command's exit code, unless stdout failed under it for another reason than a reader
/// that left: then the output is incomplete and the caller must know (EX_IOERR).
pub fn finish(exit: Exit) -> Exit {
    if exit == Exit::Ok && STDOUT.failed.load(Ordering::Relaxed) { Exit::IoErr } else { exit }
}

/// Standard output as a writer for output that streams (reports), under the same rule as
/// `outln!`: once the reader has gone, what follows is dropped and the writes succeed.
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if STDOUT.closed.load(Ordering::Relaxed) {
            return Ok(buf.len());
        }
        match io::stdout().lock().write_all(buf) {
            Ok(()) => Ok(buf.len()),
            Err(e) => {
                STDOUT.closed.store(true, Ordering::Relaxed);
                if e.kind() == io::ErrorKind::BrokenPipe {
                    return Ok(buf.len());
                }
                STDOUT.failed.store(true, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if STDOUT.closed.load(Ordering::Relaxed) {
            return Ok(());
        }
        io::stdout().lock().flush().or_else(|e| {
            STDOUT.closed.store(true, Ordering::Relaxed);
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            STDOUT.failed.store(true, Ordering::Relaxed);
            Err(e)
        })
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn json(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => outln!("{s}"),
        Err(e) => errln!("error: cannot encode JSON: {e}"),
    }
}

/// Prints `rows` as JSON, or as a table of `header` with `cells` of each row.
pub fn rows<T: Serialize>(format: Format, rows: &[T], header: &[&str], cells: impl Fn(&T) -> Vec<String>) {
    match format {
        Format::Json => json(&rows),
        Format::Table => table(header, &rows.iter().map(cells).collect::<Vec<_>>()),
    }
}

/// Prints rows under a header, each column as wide as its widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        outln!("{}", padded.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row.clone());
    }
}

/// The zone people read times in: the support calendar's. JSON keeps UTC (RFC 3339).
#[derive(Debug, Clone, Copy)]
pub struct Zone(pub chrono_tz::Tz);

impl Zone {
    /// `2026-11-23 10:00 GMT`: local time with the zone's name for it (GMT, BST, EST...).
    pub fn time(self, t: Option<chrono::DateTime<chrono::Utc>>) -> String {
        t.map(|t| t.with_timezone(&self.0).format("%Y-%m-%d %H:%M %Z").to_string()).unwrap_or_else(|| "-".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader has gone, or whose disk is full.
    struct Failing(io::ErrorKind, usize);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            self.1 += 1;
            Err(self.0.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn stream() -> Stream {
        Stream { closed: AtomicBool::new(false), failed: AtomicBool::new(false) }
    }

    #[test]
    fn times_are_shown_in_the_zone_with_its_name() {
        let t = |s: &str| Some(chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc());
        let london = Zone(chrono_tz::Europe::London);
        assert_eq!(london.time(t("2026-11-23T10:00:00Z")), "2026-11-23 10:00 GMT");
        assert_eq!(london.time(t("2026-07-01T10:00:00Z")), "2026-07-01 11:00 BST");
        assert_eq!(Zone(chrono_tz::America::New_York).time(t("2026-11-23T15:00:00Z")), "2026-11-23 10:00 EST");
        assert_eq!(london.time(None), "-");
    }

    #[test]
    fn a_broken_pipe_closes_the_stream_quietly() {
        let s = stream();
        let mut w = Failing(io::ErrorKind::BrokenPipe, 0);
        assert!(s.line(&mut w, format_args!("one")).is_none());
        assert!(s.line(&mut w, format_args!("two")).is_none());
        assert_eq!(w.1, 1, "nothing is written after the pipe broke");
        assert!(!s.failed.load(Ordering::Relaxed));
    }

    #[test]
    fn another_write_error_is_reported_once_and_fails_the_command() {
        let s = stream();
        let mut w = Failing(io::ErrorKind::StorageFull, 0);
        assert!(s.line(&mut w, format_args!("one")).is_some());
        assert!(s.line(&mut w, format_args!("two")).is_none());
        assert!(s.failed.load(Ordering::Relaxed));
    }
}
