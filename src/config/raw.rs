//! The serde model of `daemon.toml`, deliberately loose (strings and integers) so that one
//! pass of validation can report every mistake at once instead of stopping at the first.
//! Each table keeps the keys it does not know in `unknown`, which validation reports.

use std::collections::BTreeMap;

use serde::Deserialize;

pub type Unknown = BTreeMap<String, toml::Value>;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawConfig {
    pub database: RawDatabase,
    pub templates: RawTemplates,
    pub intake: RawIntake,
    #[serde(rename = "mailbox")]
    pub mailboxes: Vec<RawMailbox>,
    pub outbound: RawOutbound,
    pub business_hours: RawBusinessHours,
    pub sla: RawSla,
    #[serde(rename = "agent")]
    pub agents: Vec<RawAgent>,
    #[serde(rename = "agents")]
    pub agent_desk: RawAgentDesk,
    #[serde(rename = "company")]
    pub companies: Vec<RawCompany>,
    #[serde(rename = "route")]
    pub routes: Vec<super::routes::RawRoute>,
    #[serde(rename = "team")]
    pub teams: Vec<super::teams::RawTeam>,
    pub scheduler: RawScheduler,
    pub budget: RawBudget,
    pub http: super::http::RawHttp,
    pub health: super::health::RawHealth,
    pub oauth: super::oauth::RawOAuthKeys,
    #[serde(flatten)]
    pub unknown: Unknown,
}

impl RawConfig {
    /// `[templates] dir`, resolved from the config file's folder.
    pub fn templates_dir(&self, base: &std::path::Path) -> std::path::PathBuf {
        base.join(self.templates.dir.as_deref().unwrap_or("templates"))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawDatabase {
    pub url: Option<String>,
    pub max_connections: Option<i64>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawTemplates {
    pub dir: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawIntake {
    pub case_tag: Option<String>,
    pub max_message_size: Option<String>,
    pub quarantine_keep_bytes: Option<String>,
    pub reopen_window_days: Option<i64>,
    pub no_reply_patterns: Option<Vec<String>>,
    pub ack_limit_per_hour: Option<i64>,
    pub error_categories: Option<Vec<String>>,
    pub who_may_open: Option<String>,
    pub local_part_case: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawMailbox {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub address: Option<String>,
    // maildir
    pub path: Option<String>,
    // imap
    pub host: Option<String>,
    pub port: Option<i64>,
    pub security: Option<String>,
    /// `security = "plain"` to a host other than this machine, on purpose.
    pub allow_plaintext: Option<bool>,
    pub username: Option<String>,
    #[serde(flatten)]
    pub secret: RawSecret,
    /// `"password"` (the default) or `"oauth2"`, with the `oauth2` table.
    pub auth: Option<String>,
    pub oauth2: Option<super::oauth::RawOAuth2>,
    pub folder: Option<String>,
    pub after_processing: Option<String>,
    pub move_to: Option<String>,
    pub ca_file: Option<String>,
    pub batch_size: Option<i64>,
    pub timeout: Option<String>,
    pub poll_interval: Option<String>,
    // defaults for mail arriving here
    pub default_type: Option<String>,
    pub default_severity: Option<String>,
    pub default_company: Option<String>,
    pub who_may_open: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

/// A password given in the file, in an environment variable, or in a file of its own.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawSecret {
    pub password: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawOutbound {
    pub kind: Option<String>,
    pub from: Option<String>,
    pub path: Option<String>,
    pub host: Option<String>,
    pub port: Option<i64>,
    pub security: Option<String>,
    /// `security = "plain"` to a host other than this machine, on purpose.
    pub allow_plaintext: Option<bool>,
    pub username: Option<String>,
    #[serde(flatten)]
    pub secret: RawSecret,
    pub auth: Option<String>,
    pub oauth2: Option<super::oauth::RawOAuth2>,
    pub ca_file: Option<String>,
    pub timeout: Option<String>,
    pub max_attempts: Option<i64>,
    pub poll_interval: Option<String>,
    pub retry_initial: Option<String>,
    pub retry_max: Option<String>,
    pub stranger_mail_per_hour: Option<i64>,
    pub stranger_mail_per_domain_per_hour: Option<i64>,
    pub company_domain_mail_per_hour: Option<i64>,
    pub lease: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawBusinessHours {
    pub time_zone: Option<String>,
    pub weekly: Option<BTreeMap<String, Vec<String>>>,
    pub holidays: Option<Vec<String>>,
    pub holiday_files: Option<Vec<String>>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawSla {
    #[serde(rename = "S1")]
    pub s1: Option<RawTarget>,
    #[serde(rename = "S2")]
    pub s2: Option<RawTarget>,
    #[serde(rename = "S3")]
    pub s3: Option<RawTarget>,
    #[serde(rename = "S4")]
    pub s4: Option<RawTarget>,
    pub resolve_exempt_types: Option<Vec<String>>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawTarget {
    pub respond: Option<String>,
    /// `"none"` or omitted on S4: no resolution target.
    pub resolve: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawAgent {
    pub name: Option<String>,
    pub email: Option<String>,
    pub aliases: Option<Vec<String>>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawAgentDesk {
    pub notify: Option<String>,
    pub verify: Option<String>,
    pub authserv_id: Option<String>,
    pub received_above_results: Option<i64>,
    pub reply_marker: Option<String>,
    pub relay_name: Option<String>,
    pub expose_address: Option<bool>,
    pub excerpt_bytes: Option<String>,
    pub mail_limit_per_hour: Option<i64>,
    pub relays_per_case_per_hour: Option<i64>,
    pub held_notify: Option<super::routes::OneOrMany>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawCompany {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub domains: Option<Vec<String>>,
    pub time_zone: Option<String>,
    pub crm_name: Option<String>,
    pub crm_email: Option<String>,
    pub members: Option<Vec<String>>,
    pub notes: Option<String>,
    pub budget_hours: Option<f64>,
    pub csm_email: Option<String>,
    pub standard_rate: Option<f64>,
    pub consultancy_rate: Option<f64>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawScheduler {
    pub escalations: Option<String>,
    pub auto_close: Option<String>,
    pub warn_at: Option<Vec<String>>,
    pub escalation_email: Option<String>,
    pub warning_recipients: Option<Vec<String>>,
    pub breach_recipients: Option<Vec<String>>,
    pub auto_close_after_days: Option<i64>,
    pub monthly_report: Option<String>,
    pub monthly_report_when_quiet: Option<bool>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawBudget {
    pub currency: Option<String>,
    pub standard_rate: Option<f64>,
    pub consultancy_rate: Option<f64>,
    pub warn_at: Option<Vec<String>>,
    #[serde(flatten)]
    pub unknown: Unknown,
}
