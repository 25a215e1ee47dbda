//! Debian's headless Chromium, the browser the pages are checked in: the DOM as the
//! browser built it (after any script would have run), and screenshots kept as CI
//! artefacts. A machine without `chromium` fails these tests: they are never skipped.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::mpsc::channel;
use std::time::Duration;

/// Where screenshots go: `$SUPPORTD_ARTIFACTS`, else `artifacts/` in the clone (ignored by git).
pub fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("SUPPORTD_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts"));
    std::fs::create_dir_all(&dir).expect("create the artefacts folder");
    dir
}

/// The serialised DOM of `url` once loaded.
pub fn dump_dom(url: &str) -> String {
    let out = chromium(&["--dump-dom", url]);
    String::from_utf8(out.stdout).expect("the DOM is UTF-8")
}

/// A screenshot of `url` in a window of `size` (`1280,2400`; `390,1600` is a phone) in
/// `artifacts_dir()/name`; its path.
pub fn screenshot(url: &str, name: &str, size: &str) -> PathBuf {
    let path = artifacts_dir().join(name);
    let _ = std::fs::remove_file(&path);
    chromium(&[&format!("--screenshot={}", path.display()), &format!("--window-size={size}"), url]);
    let png = std::fs::read(&path).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", path.display()));
    assert!(png.starts_with(b"\x89PNG"), "{} is not a PNG", path.display());
    eprintln!("screenshot of {url}: {}", path.display());
    path
}

fn chromium(args: &[&str]) -> Output {
    let profile = tempfile::tempdir().expect("a profile folder");
    let child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("chromium could not start ({e}): install Debian's chromium package"));
    let pid = child.id() as i32;
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(Ok(out)) => {
            assert!(out.status.success(), "chromium {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            out
        }
        Ok(Err(e)) => panic!("chromium {args:?}: {e}"),
        Err(_) => {
            // SAFETY: kill(2) on our own child's pid, which the waiting thread still holds.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("chromium {args:?} did not finish within 2 minutes")
        }
    }
}
