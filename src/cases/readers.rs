//! Who on the customer's side reads what we send on a case, and the thread as the case's
//! contact has seen it. A relay or a resolution goes to the contact, with everyone else of
//! the customer's side who is on the case in Cc: the addresses remembered from Cc lines and
//! the company's people who wrote on it. It threads for the contact: `In-Reply-To` her latest
//! message (else our last mail to her) and `References` only what reached her, her messages
//! and ours to her, never a colleague's message or a bounce she never saw.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::config::CompanyConfig;
use crate::domain::{EmailAddress, LocalPartCase};
use crate::outbound::outbox;
use crate::storage::Tx;
use crate::storage::entities::{case, case_participant, contact, message};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub name: Option<String>,
    pub address: EmailAddress,
}

#[derive(Debug, Clone)]
pub struct Readers {
    /// The case's contact.
    pub to: Reader,
    /// Remembered Cc's, then the company's people who wrote on the case, each once.
    pub cc: Vec<Reader>,
    /// The contact's latest message, or our last mail to her.
    pub in_reply_to: Option<String>,
    /// Her messages and ours to her, oldest first.
    pub references: Vec<String>,
}

/// A message on the case written by a person (bounces and auto-replies left out).
struct Written {
    from: String,
    name: Option<String>,
    message_id: Option<String>,
    at: DateTime<Utc>,
}

/// The readers of case `c`; `None` when it has no contact with a usable address. `own`
/// (the support addresses) never reads.
pub async fn readers(
    txn: &Tx,
    c: &case::Model,
    company: Option<&CompanyConfig>,
    own: &[EmailAddress],
) -> Result<Option<Readers>, DbErr> {
    let Some(contact) = (match c.contact_id {
        Some(id) => contact::Entity::find_by_id(id).one(txn).await?,
        None => None,
    }) else {
        return Ok(None);
    };
    let Ok(address) = contact.email.parse::<EmailAddress>() else { return Ok(None) };
    let to = Reader { name: contact.name, address };
    // The message being answered may have been stored earlier in this transaction.
    txn.flush_for_case(c.id).await?;
    let written = written(txn, c.id).await?;
    let remembered = case_participant::Entity::find()
        .filter(case_participant::Column::CaseId.eq(c.id))
        .order_by_asc(case_participant::Column::Id)
        .all(txn)
        .await?;
    let cc = others(&to, remembered, &written, company, own);
    let seen = seen_by(txn, c.id, &to.address, &written).await?;
    Ok(Some(Readers { to, cc, in_reply_to: seen.in_reply_to, references: seen.references }))
}

/// Everyone else of the customer's side, each once: the remembered Cc's, then the company's
/// people who wrote on the case. Never us or the company's CRM.
fn others(
    to: &Reader,
    remembered: Vec<case_participant::Model>,
    written: &[Written],
    company: Option<&CompanyConfig>,
    own: &[EmailAddress],
) -> Vec<Reader> {
    let crm = company.and_then(|co| co.crm_email.as_ref());
    let of_company = |a: &str| {
        let Ok(address) = a.parse::<EmailAddress>() else { return false };
        company.is_some_and(|co| co.domains.iter().any(|d| address.at_domain(d)))
    };
    let wrote = written.iter().filter(|w| of_company(&w.from)).map(|w| (w.name.clone(), w.from.clone()));
    let mut cc: Vec<Reader> = Vec::new();
    for (name, email) in remembered.into_iter().map(|p| (p.name, p.email)).chain(wrote) {
        let Ok(address) = email.parse::<EmailAddress>() else { continue };
        let mut excluded = std::iter::once(&to.address).chain(cc.iter().map(|r| &r.address)).chain(own).chain(crm);
        if !excluded.any(|a| same(a, &address)) {
            // A display name that holds an address ("jane@acme.example" <x@acme.example>)
            // would show the contact someone else: such a name is left out.
            let name = name.filter(|n| !n.contains('@'));
            cc.push(Reader { name, address });
        }
    }
    cc
}

/// The customer-side messages on the case written by people, oldest first. A follow-up
/// stored with a `no_ack_reason` is automated (a bounce, an out-of-office); the message that
/// opened the case may carry one only because its acknowledgement was refused.
async fn written(txn: &Tx, case_id: i64) -> Result<Vec<Written>, DbErr> {
    use message::Column as M;
    type Row = (i64, String, Option<String>, Option<String>, DateTime<Utc>, Option<String>);
    let rows: Vec<Row> = message::Entity::find()
        .select_only()
        .columns([M::Id, M::FromAddr, M::FromName, M::MessageId, M::ReceivedAt, M::NoAckReason])
        .filter(M::CaseId.eq(case_id))
        .filter(M::Direction.eq("in"))
        // The CRM's and the teams' notes: ours, never the customer's side.
        .filter(M::Internal.eq(false))
        .order_by_asc(M::ReceivedAt)
        .order_by_asc(M::Id)
        .into_tuple()
        .all(txn)
        .await?;
    let opening = rows.iter().map(|r| r.0).min();
    Ok(rows
        .into_iter()
        .filter(|(id, .., automated)| automated.is_none() || Some(*id) == opening)
        .map(|(_, from, name, message_id, at, _)| Written { from, name, message_id, at })
        .collect())
}

struct Seen {
    in_reply_to: Option<String>,
    references: Vec<String>,
}

/// What reached `reader`: her own messages and the mail we sent her on the case (the ack
/// included; not what failed or was never sent).
async fn seen_by(txn: &Tx, case_id: i64, reader: &EmailAddress, written: &[Written]) -> Result<Seen, DbErr> {
    use crate::storage::entities::outbox::{Column as O, Entity as Outbox};
    use outbox::{FAILED, LIMITED};
    let hers: Vec<(DateTime<Utc>, String)> = written
        .iter()
        .filter(|w| READERS.same_as(reader, &w.from))
        .filter_map(|w| Some((w.at, w.message_id.clone()?)))
        .collect();
    let ours: Vec<(DateTime<Utc>, String)> = Outbox::find()
        .select_only()
        .columns([O::CreatedAt, O::MessageId, O::EnvelopeTo])
        .filter(O::CaseId.eq(case_id))
        .filter(O::Status.is_not_in([FAILED, LIMITED]))
        .order_by_asc(O::CreatedAt)
        .order_by_asc(O::Id)
        .into_tuple::<(DateTime<Utc>, String, String)>()
        .all(txn)
        .await?
        .into_iter()
        .filter(|(.., to)| to.split(',').any(|a| READERS.same_as(reader, a.trim())))
        .map(|(at, id, _)| (at, id))
        .collect();
    let in_reply_to = hers.last().or(ours.last()).map(|(_, id)| id.clone());
    let mut all: Vec<(DateTime<Utc>, String)> = hers.into_iter().chain(ours).collect();
    all.sort_by_key(|(at, _)| *at);
    let mut listed = std::collections::HashSet::new();
    let references = all.into_iter().map(|(_, id)| id).filter(|id| listed.insert(id.clone())).collect();
    Ok(Seen { in_reply_to, references })
}

/// Readers are told apart by `EmailAddress::key` with local parts compared without case
/// (people write `Jane@` and `jane@`): who is copied is decided once per case, and an
/// address without a key (a look-alike domain) is never taken for another.
const READERS: LocalPartCase = LocalPartCase::Insensitive;

fn same(a: &EmailAddress, b: &EmailAddress) -> bool {
    READERS.same(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(a: &str) -> EmailAddress {
        a.parse().unwrap()
    }

    fn wrote(from: &str) -> Written {
        Written { from: from.into(), name: None, message_id: Some(format!("{from}-1")), at: Utc::now() }
    }

    fn remembered(email: &str) -> case_participant::Model {
        case_participant::Model { id: 0, case_id: 1, email: email.into(), name: None, role: "cc".into() }
    }

    #[test]
    fn her_side_is_the_remembered_ccs_and_the_companys_writers_once_each() {
        let acme = CompanyConfig {
            name: "Acme".into(),
            slug: "acme".into(),
            domains: vec!["acme.example".into()],
            time_zone: None,
            crm_name: None,
            crm_email: Some(addr("carol@example.com")),
            csm_email: None,
            members: Vec::new(),
            notes: String::new(),
            budget_hours: 0.0,
            standard_rate: None,
            consultancy_rate: None,
        };
        let to = Reader { name: None, address: addr("jane@acme.example") };
        let own = [addr("support@example.com")];
        let cc = ["pat@partner.example", "carol@example.com", "support@example.com", "Colin@acme.example"];
        let written = ["jane@acme.example", "colin@acme.example", "bob@acme.example", "eve@evil.example"].map(wrote);
        let others = others(&to, cc.into_iter().map(remembered).collect(), &written, Some(&acme), &own);
        let got: Vec<&str> = others.iter().map(|r| r.address.as_str()).collect();
        // Not her, not the CRM or us, Colin once, and not a writer outside the company.
        assert_eq!(got, ["pat@partner.example", "Colin@acme.example", "bob@acme.example"]);
        let no_company = super::others(&to, Vec::new(), &written, None, &own);
        assert!(no_company.is_empty(), "without a company only the remembered Cc's: {no_company:?}");
        let posing = Written { name: Some("jane@acme.example".into()), ..wrote("m12@acme.example") };
        let honest = Written { name: Some("Bob Jones".into()), ..wrote("bob@acme.example") };
        let named = super::others(&to, Vec::new(), &[posing, honest], Some(&acme), &own);
        let names: Vec<Option<&str>> = named.iter().map(|r| r.name.as_deref()).collect();
        assert_eq!(names, [None, Some("Bob Jones")], "a name that holds an address is left out");
    }
}
