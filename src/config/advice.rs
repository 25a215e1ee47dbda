//! Warnings about configurations that load but would not do what they seem to say: an
//! alert recipient that names an address nobody set, and agent addresses that one mail
//! server would treat as the same mailbox while supportd keeps them apart.

use std::collections::HashMap;

use super::Problem;
use super::raw::RawConfig;
use crate::domain::EmailAddress;

pub fn check(warnings: &mut Vec<Problem>, raw: &RawConfig) {
    escalation_without_address(warnings, raw);
    agents_differing_only_in_case(warnings, raw);
    pool_shared_with_the_web(warnings, raw);
    public_mail_as_company_domain(warnings, raw);
}

/// Domains where anyone can have an address: as a company's domain (or a `*@` member) they
/// make every stranger there one of the company's people, with its own pool of mail.
const PUBLIC_MAIL: [&str; 24] = [
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "ymail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "proton.me",
    "protonmail.com",
    "yandex.ru",
    "mail.ru",
    "qq.com",
    "163.com",
    "zoho.com",
    "fastmail.com",
];

fn public_mail_as_company_domain(warnings: &mut Vec<Problem>, raw: &RawConfig) {
    for (i, c) in raw.companies.iter().enumerate() {
        let domains = c.domains.iter().flatten().enumerate().map(|(j, d)| (format!("domains[{j}]"), d.as_str()));
        let wildcards = c
            .members
            .iter()
            .flatten()
            .enumerate()
            .filter_map(|(j, m)| m.trim().strip_prefix("*@").map(|d| (format!("members[{j}]"), d)));
        for (key, domain) in domains.chain(wildcards) {
            let domain = domain.trim().trim_start_matches('@').to_ascii_lowercase();
            if PUBLIC_MAIL.contains(&domain.as_str()) {
                warnings.push(Problem {
                    key: format!("company[{i}].{key}"),
                    message: format!(
                        "{domain} is a public mail provider: everyone with an address there counts as this \
                         company's, may join its cases, and has a pool of acknowledgements of its own ([outbound] \
                         company_domain_mail_per_hour); name the company's people as members instead"
                    ),
                });
            }
        }
    }
}

/// The web server may hold `WEB_DB_READERS` of the pool's connections at once; the mail
/// (every mailbox's intake, the sender, the scheduler) needs the rest, and a few at least.
fn pool_shared_with_the_web(warnings: &mut Vec<Problem>, raw: &RawConfig) {
    let web_on = raw.http.listen.as_deref().is_none_or(|l| !l.trim().is_empty());
    let pool = raw.database.max_connections.unwrap_or(super::validate::DEFAULT_POOL);
    let web = i64::from(super::WEB_DB_READERS);
    if web_on && (1..web + 4).contains(&pool) {
        warnings.push(Problem {
            key: "database.max_connections".into(),
            message: format!(
                "the web server's pages and probes may hold {web} of these {pool} connections at once, leaving the \
                 mail {}: set {} or more (or turn the web server off with [http] listen = \"\")",
                (pool - web).max(0),
                web + 4
            ),
        });
    }
}

/// `"escalation"` among the recipients means `escalation_email`; without one, that part of
/// the alert silently goes nowhere.
fn escalation_without_address(warnings: &mut Vec<Problem>, raw: &RawConfig) {
    let s = &raw.scheduler;
    if s.escalation_email.is_some() {
        return;
    }
    let lists = [("warning_recipients", &s.warning_recipients), ("breach_recipients", &s.breach_recipients)];
    for (name, list) in lists {
        for (i, word) in list.iter().flatten().enumerate() {
            if word == "escalation" {
                warnings.push(Problem {
                    key: format!("scheduler.{name}[{i}]"),
                    message: "\"escalation\" stands for scheduler.escalation_email, which is not set: \
                              these alerts reach only the other recipients"
                        .into(),
                });
            }
        }
    }
}

/// Mail servers deliver `Alice@` and `alice@` to one mailbox, but the agents table is keyed
/// by the address as written: two spellings make two agents, each notified with its own token.
fn agents_differing_only_in_case(warnings: &mut Vec<Problem>, raw: &RawConfig) {
    let mut seen: HashMap<String, (String, EmailAddress)> = HashMap::new();
    for (i, a) in raw.agents.iter().enumerate() {
        let email = a.email.iter().map(|e| (format!("agent[{i}].email"), e));
        let aliases = a.aliases.iter().flatten().enumerate().map(|(j, e)| (format!("agent[{i}].aliases[{j}]"), e));
        for (key, text) in email.chain(aliases) {
            // A bad address is a problem reported where the agent is read.
            let Ok(address) = text.parse::<EmailAddress>() else { continue };
            match seen.get(&address.as_str().to_lowercase()) {
                None => {
                    seen.insert(address.as_str().to_lowercase(), (key, address));
                }
                Some((first_key, first)) if *first == address => {
                    warnings.push(Problem { message: format!("{address} is also {first_key}"), key })
                }
                Some((first_key, first)) => warnings.push(Problem {
                    message: format!(
                        "{address} and {first_key} ({first}) differ only in case, which mail servers treat as \
                         one mailbox: write it the same way in both places"
                    ),
                    key,
                }),
            }
        }
    }
}
