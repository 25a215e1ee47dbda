//! `#report` by email: a company's CRM (or its `csm_email`) writes to the support address
//! with `#report` on the first line (`#report 2026-11`, `#report 2026-11-01..2026-11-30`,
//! `#report SLUG 2026-11`) and receives the company's report for that period (the month
//! before when none is named). The request is verified like an agent's reply: the company's
//! token in the address written to (mail supportd sends the CRM carries it in its
//! Reply-To), or the receiving server's `Authentication-Results`, as `[agents] verify`
//! says. Anyone else, or a request for another company, gets nothing: the request is held
//! with the reason, for the desk to see (`supportd held list`), and logged.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use tracing::{info, warn};

use super::{Period, ReportError, company_report, queue_report};
use crate::config::{CompanyConfig, Config};
use crate::desk::Desk;
use crate::domain::{EmailAddress, LocalPartCase};
use crate::mail::ParsedMessage;
use crate::storage::Tx;
use crate::storage::entities::company;

/// What the first line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub company: Option<String>,
    pub period: Option<Period>,
}

/// `Some` when the message's first non-blank line is a `#report` command; `Err` says what
/// in it was not understood.
pub fn parse(text: &str) -> Option<Result<Request, String>> {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let rest = first.strip_prefix("#report")?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    let mut request = Request { company: None, period: None };
    for word in rest.split_whitespace().take(3) {
        match word.parse::<Period>() {
            Ok(p) if request.period.is_none() => request.period = Some(p),
            Err(_) if request.company.is_none() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
                request.company = Some(word.to_ascii_lowercase());
            }
            _ => return Some(Err(format!("#report {}: expected [COMPANY] [2026-11]", rest.trim()))),
        }
    }
    Some(Ok(request))
}

/// What came of a request: the report queued for a company, or why it was refused.
pub enum Answer {
    Sent {
        company: String,
        period: Period,
    },
    Refused(String),
    /// The company's CRM or CSM wrote it, but not so that it can be verified: refused, and
    /// they may be told how to ask (`howto`). `example` is their request as it would pass.
    Unverified {
        why: String,
        company: Box<company::Model>,
        example: String,
    },
    /// This very message was answered before (delivered twice, or a crash before its source
    /// marked it done): nothing is sent again.
    AnsweredBefore,
}

/// At most one report on request per company in this time: a loop or a flood of requests
/// must not mail report after report.
const ONE_PER: chrono::Duration = chrono::Duration::minutes(5);

/// Whether `sender` is some company's CRM or CSM.
pub fn is_reporter(config: &Config, sender: &EmailAddress) -> bool {
    !companies_of(config, sender).is_empty()
}

/// The companies `sender` is the CRM or CSM of.
pub(super) fn companies_of<'c>(config: &'c Config, sender: &EmailAddress) -> Vec<&'c CompanyConfig> {
    let case = config.intake.local_part_case;
    config.companies.iter().filter(|c| reporter_as(c, sender, case).is_some()).collect()
}

/// Who of company `c` may ask for its report, when `sender` is one (compared as every address
/// is, `EmailAddress::key`): the address and name as configured (the CSM has no name in the
/// config). Mail to them uses these, never the sender's own display name, which anyone may write.
pub(super) fn reporter_as<'c>(
    c: &'c CompanyConfig,
    sender: &EmailAddress,
    case: LocalPartCase,
) -> Option<(&'c EmailAddress, Option<&'c str>)> {
    let is = |a: &EmailAddress| case.same(a, sender);
    match (&c.crm_email, &c.csm_email) {
        (Some(crm), _) if is(crm) => Some((crm, c.crm_name.as_deref())),
        (_, Some(csm)) if is(csm) => Some((csm, None)),
        _ => None,
    }
}

/// The company whose report `sender` asked for, or why they may not have it.
fn target<'c>(config: &'c Config, sender: &EmailAddress, request: &Request) -> Result<&'c CompanyConfig, String> {
    let theirs = companies_of(config, sender);
    match (&request.company, theirs.as_slice()) {
        (_, []) => Err(format!("{sender} is no company's CRM or customer success manager")),
        (Some(slug), _) => match theirs.iter().find(|c| &c.slug == slug) {
            Some(c) => Ok(*c),
            None => Err(format!("{sender} may not have the report of {slug:?}")),
        },
        (None, [one]) => Ok(*one),
        (None, _) => Err(format!("{sender} looks after several companies: name one (#report SLUG)")),
    }
}

/// The stored company of `c`, or why there is none.
async fn stored(txn: &Tx, c: &CompanyConfig) -> Result<Result<company::Model, String>, DbErr> {
    let row = company::Entity::find().filter(company::Column::Slug.eq(&c.slug)).one(txn).await?;
    Ok(row.ok_or_else(|| format!("{} is not stored yet", c.slug)))
}

/// Answers a request in the caller's transaction.
pub async fn answer(
    txn: &Tx,
    desk: &Desk,
    msg: &ParsedMessage,
    request: Result<Request, String>,
    now: DateTime<Utc>,
) -> Result<Answer, ReportError> {
    let cfg = &desk.config;
    let sender = &msg.from.address;
    let request = match request {
        Ok(r) => r,
        Err(why) => return Ok(Answer::Refused(why)),
    };
    let company = match target(cfg, sender, &request) {
        Ok(c) => c,
        Err(why) => return Ok(Answer::Refused(why)),
    };
    let row = match stored(txn, company).await? {
        Ok(row) => row,
        Err(why) => return Ok(Answer::Refused(why)),
    };
    let period = period_of(cfg, &request, now);
    if let Err(why) = crate::agents::verify(&cfg.agent_desk, row.report_token.as_deref(), msg) {
        let example = match &request.company {
            Some(slug) => format!("#report {slug} {}", period.key()),
            None => format!("#report {}", period.key()),
        };
        let why = format!("the request could not be verified: {why}");
        return Ok(Answer::Unverified { why, company: Box::new(row), example });
    }
    if let Some(answer) = ledger(txn, row.id, &msg.dedup_key, now).await? {
        return Ok(answer);
    }
    send(txn, desk, &row, &period, msg, now).await?;
    Ok(Answer::Sent { company: row.slug, period })
}

/// The period asked for: the month before, in the support calendar, when none is named.
fn period_of(cfg: &Config, request: &Request, now: DateTime<Utc>) -> Period {
    request.period.unwrap_or_else(|| Period::previous_month(now.with_timezone(&cfg.calendar.time_zone).date_naive()))
}

/// Queues the company's report for `period` to the sender of `msg`.
async fn send(
    txn: &Tx,
    desk: &Desk,
    row: &company::Model,
    period: &Period,
    msg: &ParsedMessage,
    now: DateTime<Utc>,
) -> Result<(), ReportError> {
    let (cfg, sender) = (&desk.config, &msg.from.address);
    let report = company_report(&desk.db, cfg, row, period, now).await?;
    let case = cfg.intake.local_part_case;
    let name = cfg.company(&row.slug).and_then(|c| reporter_as(c, sender, case)).and_then(|(_, name)| name);
    queue_report(txn, cfg, &desk.templates, row, &report, &[(name, sender)], now).await?;
    info!(company = %row.slug, period = %period.key(), to = %sender, "report sent on request");
    Ok(())
}

/// What `held release` of a held `report_request` did.
pub enum Released {
    /// The report went to the CRM who asked.
    Report { company: String, period: Period },
    /// The CRM's reply to the desk's mail went to the agents as a note.
    Note { company: String },
}

/// `supportd held release` of a held request: the agent vouches for it, so the report goes
/// to its sender as a verified request's would, and no case is opened. The sender must
/// still be the company's CRM or CSM: a report never goes to anyone else. A held reply of
/// theirs (no request) is passed on to the agents as a note. `Err` inside: why neither can be.
pub async fn release(
    txn: &Tx,
    desk: &Desk,
    raw: &[u8],
    support: &EmailAddress,
    now: DateTime<Utc>,
) -> Result<Result<Released, String>, ReportError> {
    let msg = match crate::mail::parse(raw) {
        Ok(msg) => msg,
        Err(e) => return Ok(Err(format!("the held message cannot be read: {e}"))),
    };
    let request = match parse(&msg.text_body) {
        Some(Ok(request)) => request,
        Some(Err(why)) => return Ok(Err(why)),
        None => return super::crm_reply::release(txn, desk, &msg, support, now).await,
    };
    let row = match target(&desk.config, &msg.from.address, &request) {
        Ok(company) => match stored(txn, company).await? {
            Ok(row) => row,
            Err(why) => return Ok(Err(why)),
        },
        Err(why) => return Ok(Err(why)),
    };
    let period = period_of(&desk.config, &request, now);
    if !super::record_sent(txn, row.id, "request", &msg.dedup_key, now).await? {
        return Ok(Err("this request's report was sent before".into()));
    }
    send(txn, desk, &row, &period, &msg, now).await?;
    Ok(Ok(Released::Report { company: row.slug, period }))
}

/// Records the request (its dedup key) so that it is answered once; refuses a second request
/// for the company within `ONE_PER`. `None`: go on and answer.
async fn ledger(txn: &Tx, company_id: i64, dedup_key: &str, now: DateTime<Utc>) -> Result<Option<Answer>, DbErr> {
    use crate::storage::entities::report_sent;
    let recent = report_sent::Entity::find()
        .filter(report_sent::Column::CompanyId.eq(company_id))
        .filter(report_sent::Column::Kind.eq("request"))
        .filter(report_sent::Column::SentAt.gt(now - ONE_PER))
        .one(txn)
        .await?;
    if let Some(r) = recent {
        if r.period == dedup_key {
            return Ok(Some(Answer::AnsweredBefore));
        }
        return Ok(Some(Answer::Refused(
            "a report was sent on request less than 5 minutes ago; ask again later".into(),
        )));
    }
    let first = super::record_sent(txn, company_id, "request", dedup_key, now).await?;
    Ok((!first).then_some(Answer::AnsweredBefore))
}

/// Gives every company without one its `#report` token.
pub async fn fill_report_tokens(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let missing = company::Entity::find().filter(company::Column::ReportToken.is_null()).all(db).await?;
    for c in missing {
        let token = crate::agents::new_token().map_err(|e| DbErr::Custom(format!("cannot read /dev/urandom: {e}")))?;
        let mut update: company::ActiveModel = c.into();
        update.report_token = Set(Some(token));
        update.update(db).await?;
    }
    Ok(())
}

/// Logged when refused: the desk's only word of it besides the held message.
pub fn log_refusal(sender: &EmailAddress, why: &str) {
    warn!(from = %sender, reason = %why, "a #report request was refused; nothing was sent");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_asks() {
        let month = |s: &str| Some(s.parse::<Period>().unwrap());
        assert_eq!(parse("#report\n"), Some(Ok(Request { company: None, period: None })));
        assert_eq!(parse("\n  #report 2026-11\nthanks"), Some(Ok(Request { company: None, period: month("2026-11") })));
        assert_eq!(
            parse("#report Acme 2026-11-01..2026-11-15"),
            Some(Ok(Request { company: Some("acme".into()), period: month("2026-11-01..2026-11-15") }))
        );
        assert!(matches!(parse("#report 2026-11 2026-10"), Some(Err(_))));
        assert_eq!(parse("Hello,\n#report 2026-11"), None, "only the first line");
        assert_eq!(parse("#reporting is broken"), None);
        assert_eq!(parse(""), None);
    }
}
