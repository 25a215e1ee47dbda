//! `#report` by email: a company's CRM (or its `csm_email`) writes to the support address
//! with `#report` on the first line (`#report 2026-11`, `#report 2026-11-01..2026-11-30`,
//! `#report SLUG 2026-11`) and receives the company's report for that period (the month
//! before when none is named). The request is verified like an agent's reply: the company's
//! token in the address written to (mail supportd sends the CRM carries it in its
//! Reply-To), or the receiving server's `Authentication-Results`, as `[agent_desk] verify`
//! says. Anyone else, or a request for another company, gets nothing: the request is held
//! with the reason, for the desk to see (`supportd held list`), and logged.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use tracing::{info, warn};

use super::{Period, ReportError, company_report, queue_report};
use crate::config::{CompanyConfig, Config};
use crate::desk::Desk;
use crate::domain::EmailAddress;
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

/// The companies `sender` is the CRM or CSM of (addresses compared without case).
fn companies_of<'c>(config: &'c Config, sender: &EmailAddress) -> Vec<&'c CompanyConfig> {
    let is = |a: &Option<EmailAddress>| a.as_ref().is_some_and(|a| a.as_str().eq_ignore_ascii_case(sender.as_str()));
    config.companies.iter().filter(|c| is(&c.crm_email) || is(&c.csm_email)).collect()
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
    let theirs = companies_of(cfg, sender);
    let company = match (&request.company, theirs.as_slice()) {
        (_, []) => return Ok(Answer::Refused(format!("{sender} is no company's CRM or customer success manager"))),
        (Some(slug), _) => match theirs.iter().find(|c| &c.slug == slug) {
            Some(c) => *c,
            None => return Ok(Answer::Refused(format!("{sender} may not have the report of {slug:?}"))),
        },
        (None, [one]) => *one,
        (None, _) => {
            return Ok(Answer::Refused(format!("{sender} looks after several companies: name one (#report SLUG)")));
        }
    };
    let Some(row) = company::Entity::find().filter(company::Column::Slug.eq(&company.slug)).one(txn).await? else {
        return Ok(Answer::Refused(format!("{} is not stored yet", company.slug)));
    };
    if let Err(why) = crate::agents::verify(&cfg.agent_desk, row.report_token.as_deref(), msg) {
        return Ok(Answer::Refused(format!("the request could not be verified: {why}")));
    }
    if let Some(answer) = ledger(txn, row.id, &msg.dedup_key, now).await? {
        return Ok(answer);
    }
    let period = request
        .period
        .unwrap_or_else(|| Period::previous_month(now.with_timezone(&cfg.calendar.time_zone).date_naive()));
    let report = company_report(&desk.db, cfg, &row, &period, now).await?;
    let name = msg.from.name.as_deref();
    queue_report(txn, cfg, &desk.templates, &row, &report, &[(name, sender)], now).await?;
    info!(company = %row.slug, period = %period.key(), to = %sender, "report sent on request");
    Ok(Answer::Sent { company: row.slug, period })
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
