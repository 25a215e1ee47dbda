//! The command line: one file per subcommand. Each returns the process exit code
//! (sysexits.h), so the code says what failed. Arguments are parsed here, into domain
//! types: a bad one is clap's usage error (exit 2), before anything is opened; 64 is kept
//! for a well-formed argument naming something that does not exist.

mod agents;
mod budget;
mod by_hand;
mod cases;
mod check_config;
mod exit;
mod health;
mod held;
mod ingest;
mod load;
pub mod logging;
pub mod malloc;
mod manual;
mod members;
mod migrate;
mod oauth;
mod oauth_redirect;
mod outbox;
mod output;
mod quarantine;
mod report;
mod run;
mod sla;

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};

use crate::domain::{CaseNumber, CaseType, Channel, EmailAddress, Severity, Status, WorkTime};
use crate::reports::Format as ReportFormat;

pub use exit::Exit;
pub use ingest::describe;
pub use output::Format;

#[derive(Debug, Parser)]
#[command(name = "supportd", version, about = "A support desk that runs over email")]
pub struct Cli {
    /// The configuration file; relative paths inside it resolve from its folder.
    #[arg(long, global = true, env = "SUPPORTD_CONFIG", default_value = "daemon.toml")]
    pub config: PathBuf,
    /// Log format on stderr: readable text, or JSON lines for log shippers. RUST_LOG filters.
    #[arg(long, global = true, value_enum, default_value_t = logging::LogFormat::Text)]
    pub log_format: logging::LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: read the mailboxes, send the outbox, run the scheduler.
    Run {
        /// Process everything pending once (mailboxes, outbox, one scheduler tick) and exit.
        #[arg(long)]
        once: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the manual page (roff: `supportd man | man -l -`), or with --dir write one page
    /// per command there.
    Man {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Ask the running daemon's /healthz (at [http] listen): exit 0 when it answers, 69 when
    /// not. For a container's HEALTHCHECK, which has no curl.
    Health,
    /// Print shell completions: `supportd completions bash > /etc/bash_completion.d/supportd`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Validate the configuration and templates; print every problem; exit 78 if any.
    CheckConfig,
    /// Ingest messages from files, or one message from stdin (for a mail server's pipe).
    Ingest {
        /// The mailbox whose defaults apply (default: the first one).
        #[arg(long)]
        mailbox: Option<String>,
        files: Vec<PathBuf>,
    },
    /// Look at cases.
    Cases {
        #[command(subcommand)]
        command: CasesCommand,
    },
    /// Look at and manage the outgoing mail queue.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Mail that reached the desk and opened no case: automated mail that threaded to no case
    /// (bounces, auto-replies, receipts, lists) and people's mail that may not open one (a
    /// sender who is not a key member, a `#report` request not verified), kept for an agent to
    /// release or discard.
    Held {
        #[command(subcommand)]
        command: HeldCommand,
    },
    /// Mail that could not become a case, kept with its reason.
    Quarantine {
        #[command(subcommand)]
        command: QuarantineCommand,
    },
    /// A company's key members: who may open cases under `who_may_open = "members"`.
    Members {
        #[command(subcommand)]
        command: MembersCommand,
    },
    /// OAuth2 logins of the mailboxes and the relay (Microsoft 365, Google Workspace).
    Oauth {
        #[command(subcommand)]
        command: OAuthCommand,
    },
    /// The agents who answer cases by email.
    Agents {
        #[command(subcommand)]
        command: AgentsCommand,
    },
    /// Service-level targets in business hours.
    Sla {
        #[command(subcommand)]
        command: SlaCommand,
    },
    /// Reports for customers and the support lead: cases, SLA attainment, the budget.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// A company's pre-purchased support budget.
    Budget {
        #[command(subcommand)]
        command: BudgetCommand,
    },
}

/// Which cases a report covers: those created in the period (days of the support calendar's
/// zone, both included), of one company, with these statuses or channels.
#[derive(Debug, clap::Args)]
pub struct ReportScope {
    /// The company's slug.
    #[arg(long)]
    pub company: Option<String>,
    /// The first day (2026-11-01).
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// The last day, included (2026-11-30).
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Only these statuses (new, open, pending, resolved, closed; repeat or separate by commas).
    #[arg(long, value_delimiter = ',')]
    pub status: Vec<Status>,
    /// Only these channels (email, phone, chat, web).
    #[arg(long, value_delimiter = ',')]
    pub channel: Vec<Channel>,
}

#[derive(Debug, Subcommand)]
pub enum BudgetCommand {
    /// Record a top-up of HOURS standard hours for the company with slug COMPANY (re-arms
    /// the `[budget] warn_at` alerts).
    Add {
        company: String,
        hours: f64,
        #[arg(long)]
        note: Option<String>,
        /// The day it was bought (today when left out).
        #[arg(long)]
        at: Option<NaiveDate>,
    },
}

/// Where and how a report is written.
#[derive(Debug, clap::Args)]
pub struct ReportOutput {
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// CSV for Excel: a byte-order mark first, so it reads the file as UTF-8.
    #[arg(long)]
    pub excel: bool,
    /// Write to this file (complete or not at all) instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// One row per case: the twelve fields of the support terms (company, customer, number,
    /// summary, error category, status, type, severity, priority, created, last update,
    /// solution), then channel, business hours to first response and to resolution, and
    /// whether each target was met, breached or exempt.
    Cases {
        #[command(flatten)]
        scope: ReportScope,
        #[command(flatten)]
        out: ReportOutput,
    },
    /// Per company: the support budget bought, used and left (standard hours), and what the
    /// period's time cost; with --timesheet, the period's time entries.
    Budget {
        #[command(flatten)]
        scope: ReportScope,
        /// List the time entries (date, case, agent, kind, minutes, standard hours, cost).
        #[arg(long)]
        timesheet: bool,
        #[command(flatten)]
        out: ReportOutput,
    },
    /// Queue a company's report for a period (as the monthly one: summary, SLA chart, cases
    /// and timesheet as CSV) to its CRM, or to --to; the sender delivers it.
    Send {
        /// The company's slug.
        company: String,
        /// 2026-11, or 2026-11-01..2026-11-15.
        #[arg(long)]
        month: crate::reports::Period,
        #[arg(long)]
        to: Option<EmailAddress>,
    },
    /// Per team: escalations that started in the period, the cases, how many are current,
    /// and the median and 90th-percentile business hours with the team.
    Escalations {
        /// The company's slug.
        #[arg(long)]
        company: Option<String>,
        /// The first day (2026-11-01).
        #[arg(long)]
        from: Option<NaiveDate>,
        /// The last day, included (2026-11-30).
        #[arg(long)]
        to: Option<NaiveDate>,
        #[command(flatten)]
        out: ReportOutput,
    },
    /// Per company and severity: the share of responses and resolutions within target,
    /// median and 90th-percentile business hours to each, breaches.
    Sla {
        #[command(flatten)]
        scope: ReportScope,
        #[command(flatten)]
        out: ReportOutput,
    },
}

#[derive(Debug, Subcommand)]
pub enum AgentsCommand {
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Add an agent, or make a disabled one active again (keeping its name unless --name).
    Add {
        email: EmailAddress,
        #[arg(long)]
        name: Option<String>,
    },
    /// Stop notifying an agent and stop accepting their replies; survives restarts.
    Disable { email: EmailAddress },
}

#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// When a target lapses for a case received at a given time (UTC and the calendar's zone).
    Due {
        /// S1..S4.
        #[arg(long)]
        severity: Severity,
        /// When the case was received, RFC 3339 (2026-11-20T16:30:00Z).
        #[arg(long, value_parser = instant)]
        at: DateTime<Utc>,
        #[arg(long, value_enum, default_value_t = SlaTarget::Respond)]
        target: SlaTarget,
        /// Query, Request, Bug or Site refresh.
        #[arg(long = "type", default_value = "Query")]
        case_type: CaseType,
        /// The case is caused by client-side configuration (no resolution target).
        #[arg(long)]
        client_config: bool,
    },
    /// Open cases with each target's due time, business time left and state.
    Status {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SlaTarget {
    Respond,
    Resolve,
}

#[derive(Debug, Subcommand)]
pub enum OAuthCommand {
    /// Log NAME (a mailbox's name, or `outbound`) in: the device flow prints an address and a
    /// code for a person to confirm; the authorization code flow (Google's, or --redirect)
    /// prints an address whose consent comes back to this machine's loopback; client
    /// credentials fetch the application's token.
    Login {
        name: String,
        /// The authorization code flow with PKCE, whatever the account's grant.
        #[arg(long)]
        redirect: bool,
        /// The loopback port the consent comes back to (default: any free one), e.g. for an
        /// SSH tunnel from the browser's machine.
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
    /// Every OAuth2 account: logged in or not, access token expiry, last refresh, last error.
    Status {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Forget NAME's tokens.
    Logout { name: String },
}

#[derive(Debug, Subcommand)]
pub enum MembersCommand {
    /// Members from the config and those added here, of every company or of one.
    List {
        company: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Make ADDRESS a key member of the company with slug COMPANY (kept in the database).
    Add { company: String, address: EmailAddress },
    /// Remove a member added with `members add` (config members stay in the config).
    Remove { company: String, address: EmailAddress },
}

#[derive(Debug, Subcommand)]
pub enum HeldCommand {
    /// What is held now (with --all, released and discarded mail too).
    List {
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One held message: kind, reason, its headers, its text (the first 8 KiB or 200 lines)
    /// and its attachments.
    Show { id: i64 },
    /// Run intake on it again as if it had just arrived: it opens a case (or joins the one it
    /// names), automated or not, whoever sent it; the SLA clock starts now. Automated mail
    /// gets no acknowledgement.
    Release {
        id: i64,
        /// The case is this company's (a slug), whatever the sender's address says.
        #[arg(long)]
        company: Option<String>,
        /// Make the sender a key member of that company (or of their domain's company). The
        /// From of held mail is not verified: do it only for an address you know is theirs,
        /// since a key member's mail brings in whomever it copies.
        #[arg(long)]
        add_member: bool,
        /// Add it to this existing case as a message of that case (as the sender's follow-up
        /// would be) instead of opening a case. Its Cc's are never remembered; its sender is
        /// (a person, not a robot), but a sender not of the case's company is refused unless
        /// you add --make-party.
        #[arg(long, value_name = "NNNNNN", conflicts_with = "company")]
        to_case: Option<CaseNumber>,
        /// With --to-case: you vouch for a sender who is not of the case's company; they
        /// become a party of the case and receive its mail from now on.
        #[arg(long, requires = "to_case")]
        make_party: bool,
    },
    /// Keep it as discarded: it stays in `held list --all`, and nothing is sent.
    Discard { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One quarantined message: reason, kept and full size, SHA-256 and its headers.
    Show {
        id: i64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Run a quarantined message through intake again (e.g. after fixing what failed).
    Retry { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum CasesCommand {
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    Show {
        /// 000123, 123 or #000123.
        number: CaseNumber,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Open a case for a request that came by phone, chat or a web form (or an email
    /// forwarded by hand): the same numbering, SLA, routing and notifications as mail.
    Open {
        #[arg(long)]
        channel: Channel,
        /// The company's slug.
        #[arg(long)]
        company: String,
        /// The customer's address: replies and the acknowledgement go there.
        #[arg(long)]
        contact: EmailAddress,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        summary: String,
        #[arg(long = "type")]
        case_type: Option<CaseType>,
        #[arg(long)]
        severity: Option<Severity>,
        /// What the customer said, from a file (`-` for standard input).
        #[arg(long)]
        body_file: Option<PathBuf>,
        /// When the customer called or wrote (RFC 3339); the SLA clock starts here. Now when
        /// left out.
        #[arg(long, value_parser = instant)]
        received_at: Option<DateTime<Utc>>,
        /// Acknowledge by email too.
        #[arg(long, conflicts_with = "no_ack")]
        ack: bool,
        /// No acknowledgement (the default).
        #[arg(long)]
        no_ack: bool,
        /// The agent who took the request (a name or an address).
        #[arg(long = "as")]
        by: Option<String>,
    },
    /// Change a case as the `#commands` of a reply do: the same checks, events and mail to
    /// the customer (a resolution notice when it resolves a case with a solution).
    Update {
        number: CaseNumber,
        /// The agent who makes the change (a name or an address).
        #[arg(long = "as")]
        by: String,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        severity: Option<String>,
        #[arg(long = "type")]
        case_type: Option<String>,
        #[arg(long)]
        priority: Option<String>,
        #[arg(long)]
        assign: Option<String>,
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        solution: Option<String>,
        /// `--client-config` (on), or `--client-config off`.
        #[arg(long, num_args = 0..=1, default_missing_value = "on")]
        client_config: Option<String>,
        /// The company's slug or name, for a case from an unknown sender.
        #[arg(long)]
        company: Option<String>,
    },
    /// Escalate a case to a `[[team]]` (as `#escalate TEAM reason` in a reply): the team gets
    /// the case's brief, and its answers come back to the case as internal notes.
    Escalate {
        number: CaseNumber,
        /// A `[[team]]` name; `account` reaches the company's CRM when no account team is set.
        team: String,
        /// The agent who escalates (a name or an address).
        #[arg(long = "as")]
        by: String,
        /// Why, for the team.
        #[arg(long)]
        reason: Option<String>,
    },
    /// End an escalation (as `#deescalate [TEAM]`): the named team's, or all of them.
    Deescalate {
        number: CaseNumber,
        team: Option<String>,
        #[arg(long = "as")]
        by: String,
    },
    /// Log a call or chat on a case: kept on it, a first response when it had none, and with
    /// --minutes a time entry.
    Log {
        number: CaseNumber,
        #[arg(long)]
        channel: Channel,
        /// The agent who had the call (a name or an address).
        #[arg(long = "as")]
        by: String,
        #[arg(long)]
        text: String,
        /// Time spent, as for #time: 45m, 1h30m, 1.5h.
        #[arg(long)]
        minutes: Option<WorkTime>,
        /// The rate the time is billed at: a consultancy hour draws consultancy_rate /
        /// standard_rate standard hours from the budget.
        #[arg(long, value_enum, default_value_t = crate::agents::Rate::Standard)]
        rate: crate::agents::Rate,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Queue a failed message again.
    Retry { id: i64 },
}

/// An instant on the command line: RFC 3339, with its offset.
fn instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e} (expected e.g. 2026-11-20T16:30:00Z)"))
}

pub async fn dispatch(cli: Cli) -> Exit {
    let exit = match cli.command {
        Command::CheckConfig => check_config::check_config(&cli.config),
        Command::Migrate => migrate::migrate(&cli.config).await,
        Command::Man { dir } => manual::man(dir.as_deref()),
        Command::Health => health::health(&cli.config),
        Command::Completions { shell } => manual::completions(shell),
        Command::Run { once } => run::run(&cli.config, once).await,
        Command::Ingest { mailbox, files } => ingest::ingest(&cli.config, mailbox.as_deref(), &files).await,
        Command::Cases { command } => cases::cases(&cli.config, command).await,
        Command::Outbox { command } => outbox::outbox(&cli.config, command).await,
        Command::Held { command } => held::held(&cli.config, command).await,
        Command::Quarantine { command } => quarantine::quarantine(&cli.config, command).await,
        Command::Sla { command } => sla::sla(&cli.config, command).await,
        Command::Agents { command } => agents::agents(&cli.config, command).await,
        Command::Members { command } => members::members(&cli.config, command).await,
        Command::Oauth { command } => oauth::oauth(&cli.config, command).await,
        Command::Report { command } => report::report(&cli.config, command).await,
        Command::Budget { command } => budget::budget(&cli.config, command).await,
    };
    output::finish(exit)
}
