//! The validated configuration: every value parsed, every path absolute.

use std::path::PathBuf;
use std::time::Duration;

use crate::domain::{CaseTag, CaseType, EmailAddress, LocalPartCase, Severity};
pub use crate::sla::WarnPoint;
use crate::sla::{BusinessCalendar, SlaPolicy};

use super::{CronSchedule, Secret};

#[derive(Debug, Clone)]
pub struct Config {
    /// The config file itself; relative paths inside it were resolved from its folder.
    pub path: PathBuf,
    pub database: DatabaseConfig,
    pub templates_dir: PathBuf,
    pub intake: IntakeConfig,
    pub mailboxes: Vec<MailboxConfig>,
    pub outbound: OutboundConfig,
    pub calendar: BusinessCalendar,
    pub sla: SlaPolicy,
    pub agents: Vec<AgentConfig>,
    pub companies: Vec<CompanyConfig>,
    /// `[[route]]`: who hears of a new case and who gets it; the first match wins.
    pub routes: Vec<super::Route>,
    /// `[[team]]`: who a case can be escalated to.
    pub teams: Vec<super::TeamConfig>,
    pub scheduler: SchedulerConfig,
    pub budget: BudgetConfig,
    pub agent_desk: AgentDesk,
    pub http: super::HttpConfig,
    pub health: super::HealthConfig,
    /// Where the key sealing OAuth2 tokens comes from; `None` when no account uses OAuth2.
    pub oauth_key: Option<super::KeySource>,
    /// Accepted, but worth saying: printed by `check-config`, logged by `run`.
    pub warnings: Vec<super::Problem>,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone)]
pub struct IntakeConfig {
    /// How case numbers are marked in subjects (`[Case #{number}]`).
    pub case_tag: CaseTag,
    pub max_message_size: u64,
    /// How much of a message over `max_message_size` the quarantine keeps (its first bytes).
    pub quarantine_keep_bytes: u64,
    pub reopen_window_days: u32,
    pub no_reply_patterns: Vec<String>,
    pub ack_limit_per_hour: u32,
    pub error_categories: Vec<String>,
    /// Who may open a case by writing in (a mailbox may say otherwise).
    pub who_may_open: WhoMayOpen,
    /// How every trust decision compares local parts (`EmailAddress::key`).
    pub local_part_case: LocalPartCase,
}

/// Who may open a new case. Replies on a case from its parties are never refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhoMayOpen {
    Anyone,
    /// Senders of a configured company: by one of its `domains`, or one of its members.
    Companies,
    /// A company's key members only (`[[company]] members`, `supportd members add`).
    Members,
}

impl std::str::FromStr for WhoMayOpen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "anyone" => Ok(WhoMayOpen::Anyone),
            "companies" => Ok(WhoMayOpen::Companies),
            "members" => Ok(WhoMayOpen::Members),
            other => Err(format!("expected \"anyone\", \"companies\" or \"members\", got {other:?}")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct MailboxConfig {
    pub name: String,
    /// The support address for mail to this mailbox (From of acks, Reply-To).
    pub address: EmailAddress,
    pub source: MailboxSource,
    pub poll_interval: Duration,
    pub default_type: CaseType,
    pub default_severity: Severity,
    /// Slug of the company that mail from unknown senders is filed under, if any.
    pub default_company: Option<String>,
    /// This mailbox's own `who_may_open`, else `[intake]`'s.
    pub who_may_open: Option<WhoMayOpen>,
}

#[derive(Debug, Clone)]
pub enum MailboxSource {
    Maildir { path: PathBuf },
    Imap(ImapConfig),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Implicit TLS (IMAPS 993, SMTPS 465).
    Tls,
    StartTls,
    /// Cleartext; only when asked for explicitly (loopback tests).
    Plain,
}

#[derive(Debug, Clone)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub auth: MailAuth,
    pub folder: String,
    pub after_processing: AfterProcessing,
    pub ca_file: Option<PathBuf>,
    pub batch_size: u32,
    /// How long any one IMAP command (and each message of a FETCH) may wait for its answer.
    pub timeout: Duration,
}

/// How a mailbox logs in.
#[derive(Debug, Clone, PartialEq)]
pub enum MailAuth {
    Password(Secret),
    OAuth2(Box<crate::oauth::OAuth2Config>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterProcessing {
    MarkSeen,
    MoveTo(String),
}

#[derive(Debug, Clone)]
pub struct OutboundConfig {
    pub from_name: Option<String>,
    pub from: EmailAddress,
    pub transport: Transport,
    pub max_attempts: u32,
    pub poll_interval: Duration,
    /// The first retry waits this long; each next one twice as long, up to `retry_max`.
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// How long a claimed row stays reserved for its sender; after a crash it is retried then.
    pub lease: Duration,
    /// Mail to people who are not parties of a case yet (`outbound::strangers`), in any hour:
    /// at most this many in all, and this many to any one recipient domain.
    pub stranger_mail_per_hour: u32,
    pub stranger_mail_per_domain_per_hour: u32,
    /// Such mail to one domain of a `[[company]]` (its `domains` and `*@domain` members) in
    /// any hour: a pool of its own, apart from the others', so that forgery elsewhere cannot
    /// use up what a customer's own people are acknowledged from.
    pub company_domain_mail_per_hour: u32,
}

#[derive(Debug, Clone)]
pub enum Transport {
    /// Writes each message to `<path>/<row id>.eml`: the embedded default's spool.
    File {
        path: PathBuf,
    },
    Smtp(SmtpConfig),
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Set when `auth = "oauth2"`: `username` is its SASL user, `password` unused.
    pub oauth2: Option<Box<crate::oauth::OAuth2Config>>,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub name: String,
    pub email: EmailAddress,
    pub aliases: Vec<EmailAddress>,
}

/// `[agents]`: how agents hear of cases and how their replies are trusted.
#[derive(Debug, Clone)]
pub struct AgentDesk {
    pub notify: Notify,
    pub verify: Verify,
    /// The authserv-id of the receiving server whose `Authentication-Results` is trusted.
    pub authserv_id: Option<String>,
    /// How many `Received:` lines our own servers write above that server's results (0: it
    /// prepends them above its own `Received:`); anything below the next one is the sender's.
    pub received_above_results: usize,
    /// First line of every notification; an agent's reply is cut above it.
    pub reply_marker: String,
    /// Display name of relayed replies; `{name}` is the agent's name.
    pub relay_name: String,
    /// Put the agent's own address in the relay's Reply-To (next to the support address).
    pub expose_address: bool,
    /// How much of a customer's message a notification quotes; the rest stays on the case.
    pub excerpt_bytes: usize,
    /// At most this many notifications and refusals to one address in any hour.
    pub mail_limit_per_hour: u32,
    /// At most this many agents' replies relayed to a case's customer in any hour: two
    /// auto-responders that write no `Auto-Submitted` stop there.
    pub relays_per_case_per_hour: u32,
    /// Who gets the hourly digest of people's held mail instead of the agents (empty: the
    /// agents, as `notify` says).
    pub held_notify: Vec<EmailAddress>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notify {
    /// One notification per active agent, each Reply-To carrying that agent's token.
    EachAgent,
    Team(EmailAddress),
    /// No notifications (agents watch the mailbox or `supportd cases list` instead).
    Nobody,
}

/// What proves that a reply from an agent's address was written by that agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Trust the From address (check-config warns).
    None,
    /// The agent's secret token in the support address replied to (`support+<token>@…`).
    Token,
    /// The receiving server's `Authentication-Results`: dkim or dmarc pass for the agent's domain.
    AuthResults,
    /// Both.
    All,
    /// Either.
    Any,
}

impl Verify {
    pub fn uses_auth_results(self) -> bool {
        matches!(self, Verify::AuthResults | Verify::All | Verify::Any)
    }

    pub fn uses_token(self) -> bool {
        matches!(self, Verify::Token | Verify::All | Verify::Any)
    }
}

#[derive(Debug, Clone)]
pub struct CompanyConfig {
    pub name: String,
    pub slug: String,
    pub domains: Vec<String>,
    pub time_zone: Option<chrono_tz::Tz>,
    pub crm_name: Option<String>,
    pub crm_email: Option<EmailAddress>,
    /// The Customer Success Manager, who may request the company's report like its CRM.
    pub csm_email: Option<EmailAddress>,
    /// Key members who may open cases: addresses and `*@domain` patterns, lower-case.
    pub members: Vec<String>,
    pub notes: String,
    pub budget_hours: f64,
    pub standard_rate: Option<f64>,
    pub consultancy_rate: Option<f64>,
}

impl CompanyConfig {
    /// The company's own domains, as written: its `domains` and those of its `*@domain`
    /// members.
    pub fn own_domains(&self) -> Vec<String> {
        let wildcards = self.members.iter().filter_map(|m| m.strip_prefix("*@"));
        self.domains.iter().map(String::as_str).chain(wildcards).map(str::to_owned).collect()
    }
}

#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    pub escalations: CronSchedule,
    pub auto_close: CronSchedule,
    /// Points before a lapse at which to warn: a share of the target, or business time left.
    pub warn_at: Vec<WarnPoint>,
    pub escalation_email: Option<EmailAddress>,
    /// Who hears of a warning before a lapse, and of a breach.
    pub warning_recipients: Vec<Recipient>,
    pub breach_recipients: Vec<Recipient>,
    pub auto_close_after_days: u32,
    /// When each CRM gets their company's report of the month before; `None` when `"off"`.
    pub monthly_report: Option<CronSchedule>,
    /// Send it for a month without cases or time too.
    pub monthly_report_when_quiet: bool,
}

/// One recipient rule of an alert level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// The assigned agent, or every active agent when the case is unassigned.
    Agents,
    /// The company's Client Relationship Manager.
    Crm,
    /// `[scheduler] escalation_email`.
    Escalation,
    /// The teams the case is escalated to now (`#escalate`).
    Team,
    Address(EmailAddress),
}

#[derive(Debug, Clone)]
pub struct BudgetConfig {
    pub currency: String,
    pub standard_rate: f64,
    pub consultancy_rate: f64,
    /// Alert the CRM and the agents when a company's remaining budget falls to these
    /// percentages of what it bought, highest first.
    pub warn_at: Vec<u8>,
}

impl Config {
    pub fn mailbox(&self, name: &str) -> Option<&MailboxConfig> {
        self.mailboxes.iter().find(|m| m.name == name)
    }

    pub fn team(&self, name: &str) -> Option<&super::TeamConfig> {
        self.teams.iter().find(|t| t.name == name)
    }

    pub fn company(&self, slug: &str) -> Option<&CompanyConfig> {
        self.companies.iter().find(|c| c.slug == slug)
    }

    /// The zone a customer's times are shown in: her company's `time_zone`, else the support
    /// calendar's.
    pub fn zone_of(&self, company: Option<&CompanyConfig>) -> chrono_tz::Tz {
        company.and_then(|c| c.time_zone).unwrap_or(self.calendar.time_zone)
    }

    /// The address mail that belongs to no mailbox (reports, budget alerts) comes from and is
    /// answered at: the first mailbox's, else the outbound sender.
    pub fn support_address(&self) -> &EmailAddress {
        self.mailboxes.first().map_or(&self.outbound.from, |m| &m.address)
    }

    /// Our own addresses, which are never answered: every support address and the outbound sender.
    pub fn own_addresses(&self) -> Vec<EmailAddress> {
        self.mailboxes.iter().map(|m| m.address.clone()).chain(std::iter::once(self.outbound.from.clone())).collect()
    }
    /// Every account that logs in with OAuth2: the mailboxes', then the relay's.
    pub fn oauth_accounts(&self) -> Vec<&crate::oauth::OAuth2Config> {
        let mailboxes = self.mailboxes.iter().filter_map(|m| match &m.source {
            MailboxSource::Imap(ImapConfig { auth: MailAuth::OAuth2(oauth), .. }) => Some(oauth.as_ref()),
            _ => None,
        });
        let relay = match &self.outbound.transport {
            Transport::Smtp(smtp) => smtp.oauth2.as_deref(),
            Transport::File { .. } => None,
        };
        mailboxes.chain(relay).collect()
    }

    /// Whether `address` is one of ours (a support address, the sender), `+tag` or not.
    pub fn is_own_address(&self, address: &EmailAddress) -> bool {
        let folded = crate::outbound::strangers::folded_for_caps(address).0;
        self.own_addresses().iter().any(|own| crate::outbound::strangers::folded_for_caps(own).0 == folded)
    }

    /// The domains of every `[[company]]`, its `domains` and those of its `*@domain` members,
    /// in IDNA ASCII (as `outbound::strangers` keys recipients).
    pub fn company_mail_domains(&self) -> Vec<String> {
        let of = |c: &CompanyConfig| {
            c.own_domains().iter().filter_map(|d| crate::domain::ascii_domain(d)).collect::<Vec<_>>()
        };
        let mut domains: Vec<String> = self.companies.iter().flat_map(of).collect();
        domains.sort();
        domains.dedup();
        domains
    }
}
