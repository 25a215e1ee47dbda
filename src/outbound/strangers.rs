//! The brake on backscatter: mail to people who are not parties of a case yet — the
//! acknowledgement of a new case from a sender we do not know, the "who may open cases"
//! reply, the `#report` how-to — goes to whatever address a message claims, so a forger
//! chooses who receives it. Such mail shares one hourly cap (`[outbound]
//! stranger_mail_per_hour`, 100) and one per recipient domain
//! (`stranger_mail_per_domain_per_hour`, 20); mail to a `[[company]]`'s own domains is counted
//! apart, per domain (`company_domain_mail_per_hour`, 50), so that a flood forged elsewhere
//! cannot silence the acknowledgements its `*@domain` members are owed; one person
//! (`name+tag@` folded into `name@`) gets at most `[intake] ack_limit_per_hour` of it.
//!
//! The count is read from the outbox (rows carry their folded recipient, migration 15) plus
//! what this transaction staged, so it holds across restarts and for several instances on
//! one database. What is over the cap is not queued: it is kept in the outbox as `limited`
//! with the reason (never sent; `supportd outbox list` shows it), the caller notes it on the
//! case or the held message, `supportd_stranger_mail_held_back_total` counts it, and the
//! health check `stranger_mail` raises one alarm while any was held back within the hour.

use chrono::{DateTime, Duration, Utc};
use sea_orm::DbErr;

use super::compose::Composed;
use super::{MailError, outbox};
use crate::config::Config;
use crate::domain::EmailAddress;
use crate::storage::Tx;

/// The outbox kinds of mail to strangers: what the `stranger_mail` alarm looks for among
/// held-back rows.
pub const KINDS: [&str; 3] = ["ack", "not_member", "report_howto"];

/// The window every cap counts over.
pub const WINDOW: Duration = Duration::hours(1);

/// A recipient as the caps count them: the address folded and its domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stranger {
    pub address: String,
    pub domain: String,
}

impl Stranger {
    pub fn of(address: &EmailAddress) -> Stranger {
        let (address, domain) = folded_for_caps(address);
        Stranger { address, domain }
    }
}

/// `Victim+7@One.Example` as `victim@one.example`: one mailbox, however tagged, compared as
/// every address is (`EmailAddress::key`, local part without case: for a cap, folding more
/// only holds back more). An address without a key is never sent to (`outbound::sendable`);
/// it folds by Unicode lower case so that it is still counted.
pub fn folded_for_caps(address: &EmailAddress) -> (String, String) {
    let key = address
        .key(crate::domain::LocalPartCase::Insensitive)
        .map_or_else(|| address.as_str().to_lowercase(), |k| k.as_str().to_owned());
    let (local, domain) = key.rsplit_once('@').unwrap_or((key.as_str(), ""));
    let local = local.split_once('+').map_or(local, |(base, _)| base);
    (format!("{local}@{domain}"), domain.to_owned())
}

/// Whether mail to `to` may go now: `Ok` with how the row is to be marked, or `Err` with why
/// it is held back ("held back: …").
pub async fn admit(
    tx: &Tx,
    config: &Config,
    to: &EmailAddress,
    now: DateTime<Utc>,
) -> Result<Result<Stranger, String>, DbErr> {
    let stranger = Stranger::of(to);
    let company_domains = config.company_mail_domains();
    let pool = if company_domains.contains(&stranger.domain) { Pool::Company } else { Pool::Strangers };
    // Count and queue under the desk's one write lock, or two transactions (two mailboxes,
    // two instances on PostgreSQL) would each read the same count and each admit a full cap.
    crate::storage::take_write_lock(tx).await?;
    let counts = outbox::stranger_mail_since(tx, &stranger, &company_domains, now - WINDOW).await?;
    Ok(match over_cap(config, &stranger, pool, counts) {
        Some(why) => Err(format!("held back: {why}")),
        None => Ok(stranger),
    })
}

/// Which hourly pool a recipient's mail is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pool {
    /// A domain of a `[[company]]`: its own cap, apart from everyone else's.
    Company,
    /// Any other domain: one cap in all and one per domain.
    Strangers,
}

/// The cap `counts` reach for `stranger`, said as the reason to hold the mail back.
fn over_cap(config: &Config, stranger: &Stranger, pool: Pool, counts: outbox::StrangerCounts) -> Option<String> {
    let caps = &config.outbound;
    let (all, per_domain) = (caps.stranger_mail_per_hour, caps.stranger_mail_per_domain_per_hour);
    let (per_company, per_person) = (caps.company_domain_mail_per_hour, config.intake.ack_limit_per_hour);
    let domain = &stranger.domain;
    if pool == Pool::Company && counts.domain >= u64::from(per_company) {
        return Some(format!(
            "{per_company} mails to {domain}, a customer company's domain, went out in the last hour ([outbound] \
             company_domain_mail_per_hour)"
        ));
    }
    if pool == Pool::Strangers && counts.all >= u64::from(all) {
        return Some(format!(
            "{all} mails to people who are not parties of a case, at domains of no customer company, went out in \
             the last hour ([outbound] stranger_mail_per_hour)"
        ));
    }
    if pool == Pool::Strangers && counts.domain >= u64::from(per_domain) {
        return Some(format!(
            "{per_domain} mails to {domain} went out in the last hour ([outbound] stranger_mail_per_domain_per_hour)"
        ));
    }
    (counts.person >= u64::from(per_person)).then(|| {
        format!(
            "{per_person} mails to {} went out in the last hour, its +tags counted as one ([intake] \
             ack_limit_per_hour)",
            stranger.address
        )
    })
}

/// Queues `mail` to a stranger admitted by `admit`, marked so that the caps count it.
pub fn queue(
    txn: &Tx,
    kind: &'static str,
    case_id: Option<i64>,
    mail: &Composed<'_>,
    stranger: Stranger,
    now: DateTime<Utc>,
) -> Result<(), MailError> {
    let mut row = super::new_row(kind, case_id, mail)?;
    row.stranger = Some(stranger);
    outbox::enqueue(txn, row, now);
    Ok(())
}

/// Keeps `mail` in the outbox as `limited` with `reason`, never sent (not composed: only its
/// recipients and subject), and counts it. It carries no stranger mark: the caps count what
/// went out, and a flood's held rows must not be read again for every next message.
pub fn hold_back(
    txn: &Tx,
    kind: &'static str,
    case_id: Option<i64>,
    mail: &Composed<'_>,
    reason: &str,
    now: DateTime<Utc>,
) {
    super::queue_limited_mail(txn, kind, case_id, mail, reason, now);
    // Counted as it is decided: a batch rolled back and retried may count a mail twice,
    // which a rate read from this counter shrugs off.
    crate::metrics::metrics().count_stranger_mail_held_back(kind);
    tracing::info!(kind, case_id, reason, "mail to someone not yet a party of a case held back");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(address: &str) -> (String, String) {
        folded_for_caps(&address.parse().unwrap())
    }

    #[test]
    fn plus_tags_and_case_fold_into_one_recipient() {
        let victim = ("victim@one.example".to_owned(), "one.example".to_owned());
        assert_eq!(folded("victim+7@one.example"), victim);
        assert_eq!(folded("Victim+a+b@One.Example"), victim);
        assert_eq!(folded("victim@one.example"), victim);
        assert_eq!(folded("other@one.example").1, "one.example");
        assert_ne!(folded("victim7@one.example"), victim);
        let idna = ("victim@xn--bcher-kva.example".to_owned(), "xn--bcher-kva.example".to_owned());
        assert_eq!(folded("Victim+1@BÜCHER.example"), idna);
        assert_eq!(folded("victim+2@xn--bcher-kva.example"), idna);
    }
}
