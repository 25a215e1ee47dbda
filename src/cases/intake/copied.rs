//! Whom a customer's message brings onto its case besides its sender: the people it copies.
//! Anyone can write a From at a company's domain, so only a sender vouched for — a key
//! member named by their own address, an agent's release — brings in whomever they copy. A
//! sender who is the company's only by its domain (its `domains`, a `*@domain` member, a
//! case's contact who is no more than that) brings in only the company's own people: were it
//! otherwise, a forged `anyone@company` with a case's tag (or a new case filed under the
//! company) would put the forger's address on every reply the agents write. Those left out
//! are noted on the case (`cc_not_added`), so that an agent can ask the contact to copy them.

use crate::agents::Ctx;
use crate::cases::{self, Actor, CcRule};
use crate::config::CompanyConfig;
use crate::domain::EmailAddress;
use crate::storage::Tx;
use crate::storage::entities::case;

use super::IntakeError;

/// How many left-out addresses the note names.
const SHOWN: usize = 10;

/// The rule for a sender: everyone when `vouched`, else the company's own domains.
pub fn rule(vouched: bool, company: Option<&CompanyConfig>) -> CcRule {
    match company {
        Some(company) if !vouched => CcRule::AtDomains(company.own_domains()),
        _ => CcRule::All,
    }
}

/// Notes on the case whom `sender` copied and the case did not take in: not the people it
/// already writes to, our own addresses (`+tag`ged too), the agents or the CRM.
pub async fn note_left_out(
    txn: &Tx,
    ctx: &Ctx<'_>,
    case: &case::Model,
    sender: &EmailAddress,
    left_out: Vec<EmailAddress>,
) -> Result<(), IntakeError> {
    if left_out.is_empty() {
        return Ok(());
    }
    let rule = ctx.config.intake.local_part_case;
    let company = ctx.companies.of(ctx.config, case);
    let mut known: Vec<EmailAddress> = cases::party_addresses(txn, case).await?;
    known.extend(company.and_then(|c| c.crm_email.clone()));
    known.push(sender.clone());
    let ours = |a: &EmailAddress| ctx.agents.by_address(a).is_some() || ctx.config.is_own_address(a);
    let mut named: Vec<String> = Vec::new();
    for address in left_out {
        if known.iter().any(|k| rule.same(k, &address)) || ours(&address) {
            continue;
        }
        known.push(address.clone());
        named.push(address.to_string());
    }
    if named.is_empty() {
        return Ok(());
    }
    let more = match named.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let (of, slug) = company.map_or(("the company", "COMPANY"), |c| (c.name.as_str(), c.slug.as_str()));
    let detail = format!(
        "copied {}{more}, who were not added to the case and get no replies: {sender} is no key member of {of} by \
         address, and anyone can write a From at {of}'s domains, so only {of}'s own people are taken in from it. If \
         they should get replies, a key member of {of} can copy them, or make {sender} one: supportd members add \
         {slug} {sender}",
        named[..named.len().min(SHOWN)].join(", ")
    );
    cases::record_event(txn, case.id, ctx.now, &Actor::System, "cc_not_added", (None, None), Some(detail));
    Ok(())
}
