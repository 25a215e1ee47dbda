//! `[[route]]`: who hears of a new case, and who gets it. Each rule matches on the case's
//! type, severity, company and mailbox (a key left out matches anything; a list matches any
//! of its values); the first rule that matches wins, and without one every agent hears.

use serde::Deserialize;

use super::model::{AgentConfig, CompanyConfig, MailboxConfig};
use super::raw::Unknown;
use super::{Problem, Problems};
use crate::domain::{CaseType, EmailAddress, LocalPartCase, Severity};

#[derive(Debug, Clone)]
pub struct Route {
    pub types: Vec<CaseType>,
    pub severities: Vec<Severity>,
    /// Company slugs.
    pub companies: Vec<String>,
    /// Mailbox names.
    pub mailboxes: Vec<String>,
    pub notify: RouteNotify,
    /// The agent the case is assigned to when it opens.
    pub assign: Option<EmailAddress>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteNotify {
    /// Every active agent.
    All,
    /// These agents (by address), those of them who are active.
    Agents(Vec<EmailAddress>),
}

/// What a new case is routed by.
pub struct Routed<'a> {
    pub case_type: CaseType,
    pub severity: Severity,
    pub company: Option<&'a str>,
    pub mailbox: &'a str,
}

impl Route {
    pub fn matches(&self, c: &Routed<'_>) -> bool {
        let any = |list: &[String], value: Option<&str>| {
            list.is_empty() || value.is_some_and(|v| list.iter().any(|x| x == v))
        };
        (self.types.is_empty() || self.types.contains(&c.case_type))
            && (self.severities.is_empty() || self.severities.contains(&c.severity))
            && any(&self.companies, c.company)
            && any(&self.mailboxes, Some(c.mailbox))
    }
}

/// The first rule that matches.
pub fn route_for<'r>(routes: &'r [Route], c: &Routed<'_>) -> Option<&'r Route> {
    routes.iter().find(|r| r.matches(c))
}

/// One value or a list of them: `type = "Bug"` or `type = ["Bug", "Request"]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub(super) fn values(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(v) => vec![v.as_str()],
            OneOrMany::Many(vs) => vs.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawRoute {
    #[serde(rename = "type")]
    pub case_type: Option<OneOrMany>,
    pub severity: Option<OneOrMany>,
    pub company: Option<OneOrMany>,
    pub mailbox: Option<OneOrMany>,
    pub notify: Option<OneOrMany>,
    pub assign: Option<String>,
    #[serde(flatten)]
    pub unknown: Unknown,
}

pub struct Known<'a> {
    pub companies: &'a [CompanyConfig],
    pub mailboxes: &'a [MailboxConfig],
    pub agents: &'a [AgentConfig],
}

pub fn routes(p: &mut Problems, warnings: &mut Vec<Problem>, raw: &[RawRoute], known: &Known<'_>) -> Vec<Route> {
    raw.iter().enumerate().map(|(i, r)| route(p, warnings, &format!("route[{i}]"), r, known)).collect()
}

fn values(v: &Option<OneOrMany>) -> Vec<&str> {
    v.as_ref().map(OneOrMany::values).unwrap_or_default()
}

fn route(p: &mut Problems, warnings: &mut Vec<Problem>, key: &str, r: &RawRoute, known: &Known<'_>) -> Route {
    p.unknown_keys(key, &r.unknown);
    let mut parsed = |name: &str, v: &Option<OneOrMany>, ok: &dyn Fn(&str) -> Result<(), String>| {
        values(v)
            .into_iter()
            .filter(|x| ok(x).map_err(|e| p.push(format!("{key}.{name}"), e)).is_ok())
            .map(str::to_owned)
            .collect::<Vec<String>>()
    };
    let types = parsed("type", &r.case_type, &|t| t.parse::<CaseType>().map(|_| ()).map_err(|e| e.to_string()));
    let severities = parsed("severity", &r.severity, &|s| s.parse::<Severity>().map(|_| ()).map_err(|e| e.to_string()));
    let companies = parsed("company", &r.company, &|c| {
        known.companies.iter().any(|k| k.slug == c).then_some(()).ok_or(format!("no [[company]] has slug {c:?}"))
    });
    let mailboxes = parsed("mailbox", &r.mailbox, &|m| {
        known.mailboxes.iter().any(|k| k.name == m).then_some(()).ok_or(format!("no [[mailbox]] is named {m:?}"))
    });
    let mut agent = |name: &str, value: &str| -> Option<EmailAddress> {
        let address = value.parse::<EmailAddress>().map_err(|e| p.push(format!("{key}.{name}"), e.to_string())).ok()?;
        if !known.agents.iter().any(|a| LocalPartCase::Insensitive.same(&a.email, &address)) {
            warnings.push(Problem {
                key: format!("{key}.{name}"),
                message: format!("{address} is no [[agent]] here; it works only once added with `supportd agents add`"),
            });
        }
        Some(address)
    };
    let notify = match values(&r.notify).as_slice() {
        [] | ["all"] => RouteNotify::All,
        list => RouteNotify::Agents(list.iter().filter_map(|a| agent("notify", a)).collect()),
    };
    let assign = r.assign.as_deref().and_then(|a| agent("assign", a));
    Route {
        types: types.iter().filter_map(|t| t.parse().ok()).collect(),
        severities: severities.iter().filter_map(|s| s.parse().ok()).collect(),
        companies,
        mailboxes,
        notify,
        assign,
    }
}
