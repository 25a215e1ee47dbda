//! Turns the loose serde model into `Config`, collecting every problem on the way.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;

use super::cron::CronSchedule;
use super::model::*;
use super::raw::*;
use super::{Problem, Problems, secret};
use crate::domain::{BusinessDuration, CaseTag, CaseType, EmailAddress, LocalPartCase, Severity};

/// `[database] max_connections` unless set: the web server may hold `WEB_DB_READERS` of them,
/// and each mailbox's intake, the sender and the scheduler want one of the rest.
pub const DEFAULT_POOL: i64 = 10;
use crate::sla::{BusinessCalendar, Opening, SlaPolicy, Target};

/// The configuration, or every problem found together with the warnings.
pub fn validate(
    raw: RawConfig,
    path: &Path,
    base: &Path,
    from_env: &[String],
) -> Result<Config, (Problems, Vec<Problem>)> {
    let mut p = Problems::default();
    p.unknown_keys("", &raw.unknown);
    let database = database(&mut p, &raw.database, base);
    p.unknown_keys("templates", &raw.templates.unknown);
    let templates_dir = raw.templates_dir(base);
    let intake = intake(&mut p, &raw.intake);
    let companies = companies(&mut p, &raw.companies);
    let mailboxes = mailboxes(&mut p, &raw.mailboxes, base, &companies);
    let outbound = outbound(&mut p, &raw.outbound, base);
    let calendar = calendar(&mut p, &raw.business_hours, base);
    let sla = sla(&mut p, &raw.sla);
    let agents = agents(&mut p, &raw.agents);
    let scheduler = scheduler(&mut p, &raw.scheduler);
    let budget = budget(&mut p, &raw.budget);
    let mut warnings = Vec::new();
    let agent_desk = super::agent_desk::agent_desk(&mut p, &mut warnings, &raw.agent_desk, &mailboxes);
    let known = super::routes::Known { companies: &companies, mailboxes: &mailboxes, agents: &agents };
    let routes = super::routes::routes(&mut p, &mut warnings, &raw.routes, &known);
    let ours = super::teams::Ours {
        mailboxes: &mailboxes,
        outbound_from: outbound.as_ref().map(|o| &o.from),
        agents: &agents,
        agents_address: match &agent_desk.notify {
            super::Notify::Team(address) => Some(address),
            _ => None,
        },
        case: intake.local_part_case,
    };
    let teams = super::teams::teams(&mut p, &raw.teams, &ours);
    let http = super::http::http(&mut p, &raw.http, base);
    let health = super::health::health(&mut p, &raw.health);
    let oauth_used =
        raw.mailboxes.iter().map(|m| &m.auth).chain([&raw.outbound.auth]).any(|a| a.as_deref() == Some("oauth2"));
    let sqlite = database.url.starts_with("sqlite:");
    let oauth_key = super::oauth::keys(&mut p, &raw.oauth, oauth_used, sqlite, base);
    super::plaintext::check(&mut p, &mut warnings, &raw, super::plaintext::Files { config: path, base, from_env });
    super::advice::check(&mut warnings, &raw);
    if !p.is_empty() {
        return Err((p, warnings));
    }
    Ok(Config {
        path: path.to_path_buf(),
        database,
        templates_dir,
        intake,
        mailboxes,
        outbound: outbound.expect("no problems means outbound parsed"),
        calendar,
        sla,
        agents,
        companies,
        routes,
        teams,
        scheduler: scheduler.expect("no problems means scheduler parsed"),
        budget,
        agent_desk,
        http,
        health,
        oauth_key,
        warnings,
    })
}

fn database(p: &mut Problems, raw: &RawDatabase, base: &Path) -> DatabaseConfig {
    p.unknown_keys("database", &raw.unknown);
    let url = raw.url.clone().unwrap_or_else(|| "sqlite://var/supportd.db?mode=rwc".into());
    let url = if url.starts_with("sqlite:") {
        resolve_sqlite_url(&url, base)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        url
    } else {
        p.push("database.url", format!("expected sqlite://… or postgres://…, got {url:?}"));
        url
    };
    let max_connections = p.in_range("database.max_connections", raw.max_connections, 1, 1000, DEFAULT_POOL) as u32;
    DatabaseConfig { url, max_connections }
}

/// `sqlite://var/x.db` is relative to the config file's folder; a file is created when missing.
fn resolve_sqlite_url(url: &str, base: &Path) -> String {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (file, query) = rest.split_once('?').unwrap_or((rest, ""));
    if file == ":memory:" || file.is_empty() {
        return url.to_owned();
    }
    let file = base.join(file);
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".into()
    } else {
        format!("{query}&mode=rwc")
    };
    format!("sqlite://{}?{query}", file.display())
}

fn intake(p: &mut Problems, raw: &RawIntake) -> IntakeConfig {
    p.unknown_keys("intake", &raw.unknown);
    let max_message_size = size(p, "intake.max_message_size", raw.max_message_size.as_deref(), 25 * 1024 * 1024);
    // The default keeps 1 MiB, or the whole limit when that is smaller; only an explicit
    // value above the limit is a mistake.
    let quarantine_keep_bytes = size(
        p,
        "intake.quarantine_keep_bytes",
        raw.quarantine_keep_bytes.as_deref(),
        (1024 * 1024).min(max_message_size.max(1)),
    );
    if quarantine_keep_bytes > max_message_size && max_message_size > 0 {
        p.push(
            "intake.quarantine_keep_bytes",
            format!("must not exceed intake.max_message_size ({quarantine_keep_bytes} > {max_message_size} bytes)"),
        );
    }
    let default_no_reply =
        ["noreply@*", "no-reply@*", "donotreply@*", "do-not-reply@*", "mailer-daemon@*", "postmaster@*"];
    IntakeConfig {
        case_tag: p.parse("intake.case_tag", raw.case_tag.as_deref(), CaseTag::default()),
        max_message_size,
        quarantine_keep_bytes,
        reopen_window_days: p.in_range("intake.reopen_window_days", raw.reopen_window_days, 0, 3650, 14) as u32,
        no_reply_patterns: raw
            .no_reply_patterns
            .clone()
            .unwrap_or_else(|| default_no_reply.iter().map(|s| s.to_string()).collect()),
        ack_limit_per_hour: p.in_range("intake.ack_limit_per_hour", raw.ack_limit_per_hour, 1, 10_000, 10) as u32,
        error_categories: raw.error_categories.clone().unwrap_or_default(),
        who_may_open: p.parse("intake.who_may_open", raw.who_may_open.as_deref(), WhoMayOpen::Anyone),
        local_part_case: p.parse("intake.local_part_case", raw.local_part_case.as_deref(), LocalPartCase::Insensitive),
    }
}

/// A size such as `25MB`; 0 (and the problem noted) when it is not one.
fn size(p: &mut Problems, key: &str, value: Option<&str>, default: u64) -> u64 {
    let Some(s) = value else { return default };
    parse_size(s).unwrap_or_else(|why| {
        p.push(key, why);
        0
    })
}

/// The largest `max_message_size`: a message is held in memory whole and kept in the
/// database with its raw bytes, so more than this is a typo, not a policy.
const MAX_MESSAGE_SIZE: u64 = 1024 * 1024 * 1024;

/// `25MB`, `512KB`, `1G`, plain bytes: above zero and at most `MAX_MESSAGE_SIZE`.
pub(super) fn parse_size(text: &str) -> Result<u64, String> {
    let malformed = || format!("expected a size such as 25MB or 512KB, got {text:?}");
    let too_large = || format!("{text:?} is too large: at most 1GB");
    let s = text.trim().to_ascii_uppercase();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let factor = match unit.trim() {
        "" | "B" => 1,
        "KB" | "K" => 1024,
        "MB" | "M" => 1024 * 1024,
        "GB" | "G" => 1024 * 1024 * 1024,
        _ => return Err(malformed()),
    };
    // All digits, so a parse error can only be overflow.
    let n: u64 = digits.parse().map_err(|_| if digits.is_empty() { malformed() } else { too_large() })?;
    match n.checked_mul(factor) {
        Some(0) => Err(malformed()),
        Some(v) if v <= MAX_MESSAGE_SIZE => Ok(v),
        _ => Err(too_large()),
    }
}

/// The longest poll, retry, lease or timeout interval. Longer is a typo, and the retry
/// loops multiply intervals (by up to 64), which must stay far from `Duration`'s limit.
const MAX_INTERVAL: Duration = Duration::from_secs(24 * 3600);

pub(super) fn interval(p: &mut Problems, key: &str, value: Option<&str>, default: Duration) -> Duration {
    let Some(text) = value else { return default };
    parse_interval(text).unwrap_or_else(|why| {
        p.push(key, why);
        default
    })
}

/// `500ms`, `30s`, `5m`, `1h`: above zero and at most `MAX_INTERVAL`, every step checked.
fn parse_interval(text: &str) -> Result<Duration, String> {
    let malformed = || format!("expected a duration such as 500ms, 30s, 5m or 1h, got {text:?}");
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !c.is_ascii_digit()).ok_or_else(malformed)?;
    let (digits, unit) = trimmed.split_at(split);
    let millis_per = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(malformed()),
    };
    let too_long = || format!("{text:?} is too long: at most 24h");
    // All digits (checked above), so a parse error can only be overflow.
    let n: u64 = digits.parse().map_err(|_| if digits.is_empty() { malformed() } else { too_long() })?;
    let millis = n.checked_mul(millis_per).ok_or_else(too_long)?;
    match Duration::from_millis(millis) {
        Duration::ZERO => Err(format!("expected a duration above zero, got {text:?}")),
        d if d > MAX_INTERVAL => Err(too_long()),
        d => Ok(d),
    }
}

fn security(p: &mut Problems, key: &str, value: Option<&str>, default: Security) -> Security {
    match value {
        None => default,
        Some("tls") => Security::Tls,
        Some("starttls") => Security::StartTls,
        Some("plain") => Security::Plain,
        Some(other) => {
            p.push(key, format!("expected tls, starttls or plain, got {other:?}"));
            default
        }
    }
}

fn port(p: &mut Problems, key: &str, value: Option<i64>, default: u16) -> u16 {
    p.in_range(key, value, 1, 65535, i64::from(default)) as u16
}

fn mailboxes(p: &mut Problems, raw: &[RawMailbox], base: &Path, companies: &[CompanyConfig]) -> Vec<MailboxConfig> {
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for (i, m) in raw.iter().enumerate() {
        let key = format!("mailbox[{i}]");
        p.unknown_keys(&key, &m.unknown);
        let name = m.name.clone().unwrap_or_else(|| {
            p.push(format!("{key}.name"), "missing (required)");
            String::new()
        });
        if let Some(first) = seen.insert(name.clone(), i) {
            p.push(format!("{key}.name"), format!("{name:?} is already the name of mailbox[{first}]"));
        }
        if name == "outbound" && m.auth.as_deref() == Some("oauth2") {
            p.push(
                format!("{key}.name"),
                "\"outbound\" names the relay's OAuth2 login (supportd oauth login outbound)",
            );
        }
        let source = match m.kind.as_deref() {
            Some("maildir") => {
                let path = m.path.as_deref().unwrap_or_else(|| {
                    p.push(format!("{key}.path"), "missing (required for kind = \"maildir\")");
                    ""
                });
                Some(MailboxSource::Maildir { path: base.join(path) })
            }
            Some("imap") => imap(p, &key, m, base).map(MailboxSource::Imap),
            other => {
                p.push(format!("{key}.kind"), format!("expected \"imap\" or \"maildir\", got {other:?}"));
                None
            }
        };
        let default_company = m.default_company.clone();
        if let Some(slug) = &default_company
            && !companies.iter().any(|c| &c.slug == slug)
        {
            p.push(format!("{key}.default_company"), format!("no [[company]] has slug {slug:?}"));
        }
        let address = p.require::<EmailAddress>(&format!("{key}.address"), m.address.as_deref());
        let mailbox = MailboxConfig {
            name,
            address: address.unwrap_or_else(|| "invalid@invalid".parse().expect("constant address")),
            source: source.unwrap_or(MailboxSource::Maildir { path: base.into() }),
            poll_interval: interval(
                p,
                &format!("{key}.poll_interval"),
                m.poll_interval.as_deref(),
                Duration::from_secs(10),
            ),
            default_type: p.parse(&format!("{key}.default_type"), m.default_type.as_deref(), CaseType::Query),
            default_severity: p.parse(&format!("{key}.default_severity"), m.default_severity.as_deref(), Severity::S3),
            default_company,
            who_may_open: m
                .who_may_open
                .as_deref()
                .map(|w| p.parse(&format!("{key}.who_may_open"), Some(w), WhoMayOpen::Anyone)),
        };
        out.push(mailbox);
    }
    out
}

fn imap(p: &mut Problems, key: &str, m: &RawMailbox, base: &Path) -> Option<ImapConfig> {
    let host = m.host.clone();
    if host.is_none() {
        p.push(format!("{key}.host"), "missing (required for kind = \"imap\")");
    }
    let username = m.username.clone();
    if username.is_none() {
        p.push(format!("{key}.username"), "missing (required for kind = \"imap\")");
    }
    let sec = security(p, &format!("{key}.security"), m.security.as_deref(), Security::Tls);
    let default_port = if sec == Security::Tls { 993 } else { 143 };
    let auth = match super::oauth::auth_kind(p, key, m.auth.as_deref()) {
        super::oauth::AuthKind::OAuth2 => {
            let account = format!("mailbox:{}", m.name.as_deref().unwrap_or_default());
            let user = username.as_deref().unwrap_or_default();
            let cfg = super::oauth::oauth2(p, key, m.oauth2.as_ref(), account, user, crate::oauth::Use::Imap, base);
            cfg.map(|c| MailAuth::OAuth2(Box::new(c)))
        }
        super::oauth::AuthKind::Password => {
            let password = secret::resolve(p, key, &m.secret, base);
            if password.is_none()
                && m.secret.password.is_none()
                && m.secret.password_env.is_none()
                && m.secret.password_file.is_none()
            {
                p.push(format!("{key}.password_env"), "missing: give password_env, password_file or password");
            }
            password.map(MailAuth::Password)
        }
    };
    let after_processing = match (m.after_processing.as_deref(), &m.move_to) {
        (None | Some("seen"), _) => AfterProcessing::MarkSeen,
        (Some("move"), Some(folder)) => AfterProcessing::MoveTo(folder.clone()),
        (Some("move"), None) => {
            p.push(format!("{key}.move_to"), "missing (required when after_processing = \"move\")");
            AfterProcessing::MarkSeen
        }
        (Some(other), _) => {
            p.push(format!("{key}.after_processing"), format!("expected \"seen\" or \"move\", got {other:?}"));
            AfterProcessing::MarkSeen
        }
    };
    Some(ImapConfig {
        host: host?,
        port: port(p, &format!("{key}.port"), m.port, default_port),
        security: sec,
        username: username?,
        auth: auth?,
        folder: m.folder.clone().unwrap_or_else(|| "INBOX".into()),
        after_processing,
        ca_file: m.ca_file.as_ref().map(|f| base.join(f)),
        batch_size: p.in_range(&format!("{key}.batch_size"), m.batch_size, 1, 10_000, 500) as u32,
        timeout: interval(p, &format!("{key}.timeout"), m.timeout.as_deref(), Duration::from_secs(60)),
    })
}

fn outbound(p: &mut Problems, raw: &RawOutbound, base: &Path) -> Option<OutboundConfig> {
    p.unknown_keys("outbound", &raw.unknown);
    let (from_name, from) = match raw.from.as_deref() {
        None => {
            p.push("outbound.from", "missing (required)");
            (None, None)
        }
        Some(text) => split_display_name(text).map(|(n, a)| (n, Some(a))).unwrap_or_else(|e| {
            p.push("outbound.from", e);
            (None, None)
        }),
    };
    let transport = match raw.kind.as_deref() {
        Some("file") => Some(Transport::File { path: base.join(raw.path.as_deref().unwrap_or("var/outbox")) }),
        Some("smtp") => smtp(p, raw, base).map(Transport::Smtp),
        other => {
            p.push("outbound.kind", format!("expected \"smtp\" or \"file\", got {other:?}"));
            None
        }
    };
    let max_attempts = p.in_range("outbound.max_attempts", raw.max_attempts, 1, 1000, 50) as u32;
    let poll_interval = interval(p, "outbound.poll_interval", raw.poll_interval.as_deref(), Duration::from_secs(5));
    let retry_initial = interval(p, "outbound.retry_initial", raw.retry_initial.as_deref(), Duration::from_secs(10));
    let retry_max = interval(p, "outbound.retry_max", raw.retry_max.as_deref(), Duration::from_secs(30 * 60));
    let lease = interval(p, "outbound.lease", raw.lease.as_deref(), Duration::from_secs(120));
    if retry_max < retry_initial {
        p.push("outbound.retry_max", "must not be shorter than outbound.retry_initial");
    }
    let strangers = ("outbound.stranger_mail_per_hour", "outbound.stranger_mail_per_domain_per_hour");
    let stranger_mail_per_hour = p.in_range(strangers.0, raw.stranger_mail_per_hour, 1, 1_000_000, 100) as u32;
    let per_domain = p.in_range(strangers.1, raw.stranger_mail_per_domain_per_hour, 1, 1_000_000, 20) as u32;
    let company_key = "outbound.company_domain_mail_per_hour";
    let company_domain_mail_per_hour =
        p.in_range(company_key, raw.company_domain_mail_per_hour, 1, 1_000_000, 50) as u32;
    Some(OutboundConfig {
        from_name,
        from: from?,
        transport: transport?,
        max_attempts,
        poll_interval,
        retry_initial,
        retry_max,
        lease,
        stranger_mail_per_hour,
        stranger_mail_per_domain_per_hour: per_domain,
        company_domain_mail_per_hour,
    })
}

/// `Support <support@example.com>` or a bare address.
pub fn split_display_name(text: &str) -> Result<(Option<String>, EmailAddress), String> {
    let text = text.trim();
    if let (Some(open), true) = (text.rfind('<'), text.ends_with('>')) {
        let name = text[..open].trim().trim_matches('"').trim();
        let address = text[open + 1..text.len() - 1].parse::<EmailAddress>().map_err(|e| e.to_string())?;
        return Ok(((!name.is_empty()).then(|| name.to_owned()), address));
    }
    text.parse::<EmailAddress>().map(|a| (None, a)).map_err(|e| e.to_string())
}

fn smtp(p: &mut Problems, raw: &RawOutbound, base: &Path) -> Option<SmtpConfig> {
    let sec = security(p, "outbound.security", raw.security.as_deref(), Security::StartTls);
    let default_port = match sec {
        Security::Tls => 465,
        Security::StartTls => 587,
        Security::Plain => 25,
    };
    let host = raw.host.clone();
    if host.is_none() {
        p.push("outbound.host", "missing (required for kind = \"smtp\")");
    }
    let oauth2 = match super::oauth::auth_kind(p, "outbound", raw.auth.as_deref()) {
        super::oauth::AuthKind::OAuth2 => {
            let Some(user) = raw.username.as_deref() else {
                p.push("outbound.username", "missing (required for auth = \"oauth2\"): the mailbox the token is for");
                return None;
            };
            let account = "outbound".to_owned();
            Some(Box::new(super::oauth::oauth2(
                p,
                "outbound",
                raw.oauth2.as_ref(),
                account,
                user,
                crate::oauth::Use::Smtp,
                base,
            )?))
        }
        super::oauth::AuthKind::Password => None,
    };
    Some(SmtpConfig {
        oauth2,
        host: host?,
        port: port(p, "outbound.port", raw.port, default_port),
        security: sec,
        username: raw.username.clone(),
        password: secret::resolve(p, "outbound", &raw.secret, base),
        ca_file: raw.ca_file.as_ref().map(|f| base.join(f)),
        timeout: interval(p, "outbound.timeout", raw.timeout.as_deref(), Duration::from_secs(60)),
    })
}

fn time_zone(p: &mut Problems, key: &str, value: Option<&str>) -> Option<Tz> {
    let name = value?;
    name.parse::<Tz>().map_err(|_| p.push(key, format!("unknown IANA time zone {name:?} (e.g. Europe/London)"))).ok()
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn calendar(p: &mut Problems, raw: &RawBusinessHours, base: &Path) -> BusinessCalendar {
    p.unknown_keys("business_hours", &raw.unknown);
    let tz = time_zone(p, "business_hours.time_zone", raw.time_zone.as_deref().or(Some("UTC"))).unwrap_or(Tz::UTC);
    let mut cal = BusinessCalendar::office_hours(tz);
    if let Some(weekly) = &raw.weekly {
        cal.weekly = Default::default();
        for (day, ranges) in weekly {
            let key = format!("business_hours.weekly.{day}");
            let Some(index) = WEEKDAYS.iter().position(|d| d.eq_ignore_ascii_case(day)) else {
                p.push(key, "unknown weekday (expected mon, tue, wed, thu, fri, sat or sun)");
                continue;
            };
            for (j, range) in ranges.iter().enumerate() {
                match parse_opening(range) {
                    Some(o) => cal.weekly[index].push(o),
                    None => p.push(
                        format!("{key}[{j}]"),
                        format!("expected a range such as \"09:00-17:00\", got {range:?}"),
                    ),
                }
            }
            cal.weekly[index].sort_by_key(|o| o.start);
            if cal.weekly[index].windows(2).any(|w| w[0].end > w[1].start) {
                p.push(key, "opening ranges overlap");
            }
        }
        if cal.weekly.iter().all(Vec::is_empty) {
            p.push("business_hours.weekly", "the calendar never opens: give at least one range");
        }
    }
    for (i, day) in raw.holidays.iter().flatten().enumerate() {
        match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
            Ok(d) => {
                cal.holidays.insert(d);
            }
            Err(_) => p.push(
                format!("business_hours.holidays[{i}]"),
                format!("expected a date such as 2026-12-25, got {day:?}"),
            ),
        }
    }
    for (i, file) in raw.holiday_files.iter().flatten().enumerate() {
        holiday_file(p, &format!("business_hours.holiday_files[{i}]"), &base.join(file), &mut cal);
    }
    cal
}

/// A holiday file (one per year, say): a date per line (`2026-12-25`), text after it and
/// `#` comments ignored.
fn holiday_file(p: &mut Problems, key: &str, path: &Path, cal: &mut BusinessCalendar) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return p.push(key, format!("cannot read {}: {e}", path.display())),
    };
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        let Some(date) = line.split_whitespace().next() else { continue };
        match NaiveDate::parse_from_str(date, "%Y-%m-%d") {
            Ok(d) => {
                cal.holidays.insert(d);
            }
            Err(_) => {
                p.push(key, format!("{}:{}: expected a date such as 2026-12-25, got {date:?}", path.display(), n + 1))
            }
        }
    }
}

fn parse_opening(range: &str) -> Option<Opening> {
    let (a, b) = range.split_once('-')?;
    let start = NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
    let end = match b.trim() {
        "24:00" => NaiveTime::from_hms_opt(23, 59, 59)?,
        t => NaiveTime::parse_from_str(t, "%H:%M").ok()?,
    };
    (start < end).then_some(Opening { start, end })
}

fn sla(p: &mut Problems, raw: &RawSla) -> SlaPolicy {
    p.unknown_keys("sla", &raw.unknown);
    let sections = [(&raw.s1, Severity::S1), (&raw.s2, Severity::S2), (&raw.s3, Severity::S3), (&raw.s4, Severity::S4)];
    let targets = sections.map(|(section, severity)| {
        let default = SlaPolicy::default_target(severity);
        let Some(t) = section else { return default };
        let key = format!("sla.{severity}");
        p.unknown_keys(&key, &t.unknown);
        let respond = p.parse(&format!("{key}.respond"), t.respond.as_deref(), default.respond);
        let resolve = match t.resolve.as_deref() {
            None => default.resolve,
            Some("none") => None,
            Some(s) => Some(p.parse(&format!("{key}.resolve"), Some(s), BusinessDuration::Days(1))),
        };
        Target { respond, resolve }
    });
    let exempt = match &raw.resolve_exempt_types {
        None => vec![CaseType::Bug, CaseType::Request],
        Some(list) => list
            .iter()
            .enumerate()
            .filter_map(|(i, t)| p.require(&format!("sla.resolve_exempt_types[{i}]"), Some(t)))
            .collect(),
    };
    SlaPolicy::new(targets, exempt)
}

fn agents(p: &mut Problems, raw: &[RawAgent]) -> Vec<AgentConfig> {
    let mut out = Vec::new();
    for (i, a) in raw.iter().enumerate() {
        let key = format!("agent[{i}]");
        p.unknown_keys(&key, &a.unknown);
        let email = p.address(&format!("{key}.email"), a.email.as_deref());
        let aliases = a
            .aliases
            .iter()
            .flatten()
            .enumerate()
            .filter_map(|(j, s)| p.address(&format!("{key}.aliases[{j}]"), Some(s)))
            .collect();
        if let Some(email) = email {
            let name = a.name.clone().unwrap_or_else(|| email.local_part().to_owned());
            out.push(AgentConfig { name, email, aliases });
        }
    }
    out
}

/// The default slug of a company name: lower-case ASCII words joined by dashes.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

fn companies(p: &mut Problems, raw: &[RawCompany]) -> Vec<CompanyConfig> {
    let mut owners: HashMap<String, usize> = HashMap::new();
    let mut slugs: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, c) in raw.iter().enumerate() {
        let key = format!("company[{i}]");
        p.unknown_keys(&key, &c.unknown);
        let Some(name) = c.name.clone() else {
            p.push(format!("{key}.name"), "missing (required)");
            continue;
        };
        let slug = c.slug.clone().unwrap_or_else(|| slugify(&name));
        if slug.is_empty() || !slug.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-') {
            p.push(format!("{key}.slug"), format!("expected lower-case letters, digits and dashes, got {slug:?}"));
        }
        if let Some(first) = slugs.insert(slug.clone(), i) {
            p.push(format!("{key}.slug"), format!("{slug:?} is already the slug of company[{first}]"));
        }
        let mut domains = Vec::new();
        for (j, d) in c.domains.iter().flatten().enumerate() {
            let domain = d.trim().trim_start_matches('@');
            // Compared in IDNA ASCII (`EmailAddress::at_domain`); kept as written.
            let Some(ascii) = crate::domain::ascii_domain(domain) else {
                let why = format!("{domain:?} does not map to ASCII cleanly (IDNA UTS-46), so it would match no one");
                p.push(format!("{key}.domains[{j}]"), why);
                continue;
            };
            if let Some(first) = owners.insert(ascii, i) {
                p.push(format!("{key}.domains[{j}]"), format!("{domain:?} already belongs to company[{first}]"));
            }
            domains.push(if domain.is_ascii() { domain.to_ascii_lowercase() } else { domain.to_owned() });
        }
        out.push(CompanyConfig {
            name,
            slug,
            domains,
            time_zone: time_zone(p, &format!("{key}.time_zone"), c.time_zone.as_deref()),
            crm_name: c.crm_name.clone(),
            crm_email: c.crm_email.as_deref().and_then(|e| p.address(&format!("{key}.crm_email"), Some(e))),
            csm_email: c.csm_email.as_deref().and_then(|e| p.address(&format!("{key}.csm_email"), Some(e))),
            members: members(p, &key, c.members.as_deref().unwrap_or_default()),
            notes: c.notes.clone().unwrap_or_default(),
            budget_hours: non_negative(p, &format!("{key}.budget_hours"), c.budget_hours).unwrap_or(0.0),
            standard_rate: non_negative(p, &format!("{key}.standard_rate"), c.standard_rate),
            consultancy_rate: non_negative(p, &format!("{key}.consultancy_rate"), c.consultancy_rate),
        });
    }
    out
}

/// `jane@acme.example` or `*@acme.example`, kept as written and compared by
/// `EmailAddress::key` (`cases::config_member`): one that could match no one is refused.
fn members(p: &mut Problems, key: &str, raw: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for (j, m) in raw.iter().enumerate() {
        let member = m.trim().to_owned();
        let ok = match member.strip_prefix("*@") {
            Some(domain) => crate::domain::ascii_domain(domain).is_some(),
            None => member.parse::<EmailAddress>().is_ok_and(|a| crate::domain::ascii_domain(a.domain()).is_some()),
        };
        if ok {
            out.push(member);
        } else {
            p.push(
                format!("{key}.members[{j}]"),
                format!(
                    "expected an address or \"*@domain\", got {m:?} (a domain must map to ASCII cleanly: IDNA UTS-46)"
                ),
            );
        }
    }
    out
}

fn non_negative(p: &mut Problems, key: &str, value: Option<f64>) -> Option<f64> {
    match value {
        Some(v) if !(v >= 0.0 && v.is_finite()) => {
            p.push(key, format!("expected a number ≥ 0, got {v}"));
            None
        }
        v => v,
    }
}

/// A cron expression, with the key it came from named when it does not parse.
fn parse_cron(expr: &str) -> Result<CronSchedule, String> {
    CronSchedule::parse(expr).map_err(|e| e.to_string())
}

fn scheduler(p: &mut Problems, raw: &RawScheduler) -> Option<SchedulerConfig> {
    p.unknown_keys("scheduler", &raw.unknown);
    let mut cron_at = |key: &str, value: Option<&str>, default: &str| {
        parse_cron(value.unwrap_or(default)).map_err(|e| p.push(key, e)).ok()
    };
    let escalations = cron_at("scheduler.escalations", raw.escalations.as_deref(), "0 * * * * *");
    let auto_close = cron_at("scheduler.auto_close", raw.auto_close.as_deref(), "0 0 * * * *");
    let monthly_report = match raw.monthly_report.as_deref().map(str::trim) {
        Some("off") => None,
        given => cron_at("scheduler.monthly_report", given, "0 0 8 1 * *"),
    };
    let defaults = ["75%".to_owned(), "15m".to_owned()];
    let mut warn_at = Vec::new();
    for (i, w) in raw.warn_at.as_deref().unwrap_or(&defaults).iter().enumerate() {
        let key = format!("scheduler.warn_at[{i}]");
        match w.strip_suffix('%').map(|n| n.trim().parse::<u8>()) {
            Some(Ok(n)) if (1..100).contains(&n) => warn_at.push(WarnPoint::Elapsed(n)),
            Some(_) => p.push(key, format!("expected a percentage 1%..99%, got {w:?}")),
            None => {
                if let Some(d) = p.require::<BusinessDuration>(&key, Some(w)) {
                    warn_at.push(WarnPoint::Left(d));
                }
            }
        }
    }
    let escalation_email =
        raw.escalation_email.as_deref().and_then(|e| p.require("scheduler.escalation_email", Some(e)));
    let auto_close_after_days =
        p.in_range("scheduler.auto_close_after_days", raw.auto_close_after_days, 1, 3650, 7) as u32;
    let warning_recipients =
        recipients(p, "scheduler.warning_recipients", raw.warning_recipients.as_deref(), &["agents", "crm"]);
    let breach_recipients = recipients(
        p,
        "scheduler.breach_recipients",
        raw.breach_recipients.as_deref(),
        &["agents", "crm", "escalation"],
    );
    Some(SchedulerConfig {
        escalations: escalations?,
        auto_close: auto_close?,
        warn_at,
        escalation_email,
        warning_recipients,
        breach_recipients,
        auto_close_after_days,
        monthly_report,
        monthly_report_when_quiet: raw.monthly_report_when_quiet.unwrap_or(false),
    })
}

fn recipients(p: &mut Problems, key: &str, given: Option<&[String]>, default: &[&str]) -> Vec<Recipient> {
    let words: Vec<String> =
        given.map(<[String]>::to_vec).unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect());
    words
        .iter()
        .enumerate()
        .filter_map(|(i, w)| match w.as_str() {
            "agents" => Some(Recipient::Agents),
            "crm" => Some(Recipient::Crm),
            "escalation" => Some(Recipient::Escalation),
            "team" => Some(Recipient::Team),
            other => match other.parse() {
                Ok(a) => Some(Recipient::Address(a)),
                Err(_) => {
                    p.push(
                        format!("{key}[{i}]"),
                        format!("expected agents, crm, escalation, team or an email address, got {other:?}"),
                    );
                    None
                }
            },
        })
        .collect()
}

fn budget(p: &mut Problems, raw: &RawBudget) -> BudgetConfig {
    p.unknown_keys("budget", &raw.unknown);
    let standard_rate = non_negative(p, "budget.standard_rate", raw.standard_rate).unwrap_or(100.0);
    let consultancy_rate = non_negative(p, "budget.consultancy_rate", raw.consultancy_rate).unwrap_or(150.0);
    if standard_rate == 0.0 {
        p.push("budget.standard_rate", "must be above 0: consultancy hours are counted in standard hours");
    }
    let mut warn_at = Vec::new();
    let defaults = ["25%".to_owned(), "10%".to_owned(), "0%".to_owned()];
    for (i, w) in raw.warn_at.as_deref().unwrap_or(&defaults).iter().enumerate() {
        match w.trim().strip_suffix('%').map(|n| n.trim().parse::<u8>()) {
            Some(Ok(n)) if n <= 100 => warn_at.push(n),
            _ => p.push(
                format!("budget.warn_at[{i}]"),
                format!("{w:?}: expected a percentage of the budget left, 0% to 100% (\"25%\")"),
            ),
        }
    }
    warn_at.sort_unstable_by(|a, b| b.cmp(a));
    warn_at.dedup();
    BudgetConfig {
        currency: raw.currency.clone().unwrap_or_else(|| "EUR".into()),
        standard_rate,
        consultancy_rate,
        warn_at,
    }
}
