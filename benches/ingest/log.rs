//! What a `supportd --log-format json run --once` said: the figures come from its log.

use std::process::Command;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_supportd");

pub struct Log {
    lines: Vec<serde_json::Value>,
}

impl Log {
    /// Runs `run --once` with JSON logs on `config`; panics with its log if it fails.
    pub fn run_once(config: &std::path::Path, save_as: &str) -> Log {
        let out = Command::new(BIN)
            .arg("--config")
            .arg(config)
            .args(["--log-format", "json", "run", "--once"])
            .env("RUST_LOG", std::env::var("BENCH_RUST_LOG").unwrap_or_else(|_| "info".into()))
            .stdout(std::process::Stdio::null())
            .output()
            .expect("run supportd");
        let stderr = String::from_utf8_lossy(&out.stderr);
        std::fs::write(std::env::temp_dir().join(format!("supportd-bench-{save_as}.log")), stderr.as_bytes()).ok();
        assert!(out.status.success(), "{stderr}");
        Log { lines: stderr.lines().filter_map(|l| serde_json::from_str(l).ok()).collect() }
    }

    /// The lines whose message is one of `what`.
    pub fn logged(&self, what: &[&str]) -> Vec<&serde_json::Value> {
        self.lines.iter().filter(|l| l["fields"]["message"].as_str().is_some_and(|m| what.contains(&m))).collect()
    }

    /// The daemon's own VmHWM: wait4's ru_maxrss would also count this (large) benchmark
    /// process, whose memory the child shares until it executes supportd.
    pub fn peak_rss_mb(&self) -> f64 {
        let done = self.logged(&["run --once done"]);
        let kb = done.first().and_then(|l| l["fields"]["peak_rss_kb"].as_u64()).expect("peak RSS logged");
        kb as f64 / 1024.0
    }

    /// Mails the outbox sent, and how long from the first to the last.
    pub fn sent(&self) -> (usize, Duration) {
        let sent = self.logged(&["sent"]);
        match (sent.first(), sent.last()) {
            (Some(first), Some(last)) => {
                (sent.len(), (timestamp(last) - timestamp(first)).to_std().unwrap_or_default())
            }
            _ => (0, Duration::ZERO),
        }
    }
}

pub fn timestamp(line: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    line["timestamp"].as_str().expect("a timestamp").parse().expect("an RFC 3339 timestamp")
}

/// Mails per second over `span`; the first mail's own time is not in the span, hence `n - 1`.
pub fn per_second(n: usize, span: Duration) -> f64 {
    if n < 2 || span.is_zero() { f64::NAN } else { (n - 1) as f64 / span.as_secs_f64() }
}
