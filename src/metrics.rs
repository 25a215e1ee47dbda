//! The daemon's counters for Prometheus (`/metrics`, `web::metrics`): what happened since
//! start, counted where it happens. What the database already knows (outbox depth, open
//! cases, held mail) is read at each scrape instead, so it is right across restarts and
//! several instances.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Ingested {
    pub mailbox: String,
    /// `opened`, `appended`, `from_agent`, `from_team`, `held`, `quarantined`, `duplicate`,
    /// `report_sent`, `crm_note`, `failed` (left for the next pass).
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Mailbox {
    pub mailbox: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Kind {
    /// The outbox row's kind: `ack`, `notify`, `relay`, `alert`, `escalation`, …
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Task {
    /// Where a panic was caught: `send`, `imap`, `maildir`.
    pub task: &'static str,
}

/// An OAuth2 account's refresh, by how it ended (`ok`, `invalid_grant`, `invalid_client`,
/// `transient`, `refused`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Refresh {
    pub account: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Build {
    version: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub ingested: Family<Ingested, Counter>,
    /// Seconds from the server's receipt of a message to its case committing.
    pub ingest_lag: Histogram,
    /// When each mailbox last fetched without an error (Unix seconds).
    pub last_fetch: Family<Mailbox, Gauge>,
    pub sent: Family<Kind, Counter>,
    /// Attempts that failed, whether retried or given up.
    pub send_failures: Family<Kind, Counter>,
    pub tick_seconds: Histogram,
    /// Panics caught at a task's boundary (`panics::guarded`), the work retried.
    pub panics: Family<Task, Counter>,
    /// Mail to people not yet parties of a case held back by its caps (`outbound::strangers`).
    pub stranger_mail_held_back: Family<Kind, Counter>,
    pub oauth_refreshes: Family<Refresh, Counter>,
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("supportd");
        let m = Metrics {
            ingested: Family::default(),
            ingest_lag: Histogram::new(exponential_buckets(0.5, 2.0, 14)),
            last_fetch: Family::default(),
            sent: Family::default(),
            send_failures: Family::default(),
            tick_seconds: Histogram::new(exponential_buckets(0.001, 4.0, 10)),
            panics: Family::default(),
            stranger_mail_held_back: Family::default(),
            oauth_refreshes: Family::default(),
            registry: Registry::default(),
        };
        registry.register("messages_ingested", "Messages ingested, by mailbox and outcome", m.ingested.clone());
        registry.register(
            "ingest_lag_seconds",
            "Receipt by the mail server to the case committed",
            m.ingest_lag.clone(),
        );
        registry.register(
            "mailbox_last_fetch_timestamp_seconds",
            "When each mailbox last fetched without an error",
            m.last_fetch.clone(),
        );
        registry.register("mail_sent", "Mail delivered, by kind", m.sent.clone());
        registry.register("send_failures", "Delivery attempts that failed, by kind", m.send_failures.clone());
        registry.register("scheduler_tick_seconds", "How long each scheduler tick took", m.tick_seconds.clone());
        registry.register("panics", "Panics caught at a task's boundary, the work retried", m.panics.clone());
        // Each task's counter from the start, at 0: an alert rule on `increase()` sees the
        // first panic, which it would not if the series appeared with it.
        for task in PANIC_TASKS {
            drop(m.panics.get_or_create(&Task { task }));
        }
        registry.register(
            "stranger_mail_held_back",
            "Mail to people not yet parties of a case held back by the hourly caps, by kind",
            m.stranger_mail_held_back.clone(),
        );
        registry.register(
            "oauth_refreshes",
            "OAuth2 token refreshes, by account and outcome",
            m.oauth_refreshes.clone(),
        );
        registry.register("build", "The running build", Info::new(Build { version: env!("CARGO_PKG_VERSION") }));
        Metrics { registry, ..m }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn count_ingested(&self, mailbox: &str, outcome: &'static str) {
        self.ingested.get_or_create(&Ingested { mailbox: mailbox.to_owned(), outcome }).inc();
    }

    pub fn fetched(&self, mailbox: &str, at: chrono::DateTime<chrono::Utc>) {
        self.last_fetch.get_or_create(&Mailbox { mailbox: mailbox.to_owned() }).set(at.timestamp());
    }

    pub fn count_sent(&self, kind: &str) {
        self.sent.get_or_create(&Kind { kind: kind.to_owned() }).inc();
    }

    pub fn count_stranger_mail_held_back(&self, kind: &str) {
        self.stranger_mail_held_back.get_or_create(&Kind { kind: kind.to_owned() }).inc();
    }

    pub fn count_oauth_refresh(&self, account: &str, outcome: &str) {
        self.oauth_refreshes.get_or_create(&Refresh { account: account.to_owned(), outcome: outcome.to_owned() }).inc();
    }

    pub fn count_send_failure(&self, kind: &str) {
        self.send_failures.get_or_create(&Kind { kind: kind.to_owned() }).inc();
    }

    pub fn count_panic(&self, task: &'static str) {
        self.panics.get_or_create(&Task { task }).inc();
    }
}

/// The tasks with a panic boundary (`panics::guarded`, the web server's).
pub const PANIC_TASKS: [&str; 4] = ["send", "imap", "maildir", "web"];

/// The process's one set of counters.
pub fn metrics() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_tasks_panic_counter_is_exported_before_any_panic() {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, super::metrics().registry()).unwrap();
        for task in super::PANIC_TASKS {
            assert!(text.contains(&format!("supportd_panics_total{{task=\"{task}\"}}")), "{task}:\n{text}");
        }
    }
}
