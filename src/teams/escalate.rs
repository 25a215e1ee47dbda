//! `#escalate TEAM [reason]` and `#deescalate [TEAM]`: checked against the case before
//! anything is applied (`target`, `ending`), then applied in the caller's transaction
//! (`escalate`, `deescalate`): the escalation row, its event and the brief commit together.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};

use super::{ACCOUNT, Brief, queue_brief, record};
use crate::agents::Ctx;
use crate::cases::{Actor, record_event};
use crate::config::{CompanyConfig, Config, TeamConfig};
use crate::domain::EmailAddress;
use crate::outbound::MailError;
use crate::storage::Tx;
use crate::storage::entities::{agent, case, company, escalation, team};

/// Where an escalation goes.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Team(&'a TeamConfig),
    /// `#escalate account` with no account team: the company's CRM.
    Crm {
        name: &'a str,
        address: &'a EmailAddress,
    },
}

impl Target<'_> {
    pub fn name(&self) -> &str {
        match self {
            Target::Team(t) => &t.name,
            Target::Crm { .. } => ACCOUNT,
        }
    }
}

/// Where `#escalate name` goes on a case of `company` that is with `current` teams now;
/// `Err` says why it cannot, naming the teams there are.
fn target<'a>(
    config: &'a Config,
    company: Option<&'a CompanyConfig>,
    current: &[escalation::Model],
    name: &str,
) -> Result<Target<'a>, String> {
    let name = name.to_ascii_lowercase();
    if let Some(already) = current.iter().find(|e| e.team == name) {
        let since = crate::outbound::format_due(already.started_at, config.calendar.time_zone);
        return Err(format!("the case is already with {name} (since {since}); #deescalate {name} first"));
    }
    if let Some(team) = config.team(&name) {
        return Ok(Target::Team(team));
    }
    if name == ACCOUNT {
        let crm =
            company.and_then(|co| Some((co.crm_name.as_deref().unwrap_or("Account manager"), co.crm_email.as_ref()?)));
        return match crm {
            Some((name, address)) => Ok(Target::Crm { name, address }),
            None => Err("no [[team]] is named \"account\" and the case's company has no crm_email".into()),
        };
    }
    let teams: Vec<&str> = config.teams.iter().map(|t| t.name.as_str()).collect();
    Err(match teams.is_empty() {
        true => format!("no [[team]] is named {name:?}: none is configured"),
        false => format!("no [[team]] is named {name:?} (teams: {})", teams.join(", ")),
    })
}

/// The current escalations `#deescalate [team]` ends: the named one, or all of them.
fn ending(current: &[escalation::Model], team: Option<&str>) -> Result<Vec<escalation::Model>, String> {
    let with: Vec<&str> = current.iter().map(|e| e.team.as_str()).collect();
    let ended: Vec<escalation::Model> =
        current.iter().filter(|e| team.is_none_or(|t| e.team.eq_ignore_ascii_case(t))).cloned().collect();
    if !ended.is_empty() {
        return Ok(ended);
    }
    Err(match team {
        Some(t) if !with.is_empty() => format!("this case is not with {t} (it is with {})", with.join(", ")),
        _ => "this case is not escalated".into(),
    })
}

/// What a reply's `#escalate` and `#deescalate` lines ask, in their order.
pub struct Asked {
    /// Team names and reasons (empty when none was given).
    pub escalate: Vec<(String, String)>,
    /// The team to end, or all.
    pub deescalate: Vec<Option<String>>,
}

/// What the reply will do: checked whole before anything is applied.
pub struct Planned<'a> {
    pub escalate: Vec<(Target<'a>, Option<String>)>,
    pub end: Vec<escalation::Model>,
}

/// `#deescalate` first, so that `#deescalate hosting` then `#escalate hosting` starts
/// afresh; each team once; problems are added to `problems`, one line per command.
pub fn plan<'a>(
    config: &'a Config,
    company: Option<&'a CompanyConfig>,
    current: &[escalation::Model],
    asked: Asked,
    problems: &mut Vec<String>,
) -> Planned<'a> {
    let mut end: Vec<escalation::Model> = Vec::new();
    for team in asked.deescalate {
        match ending(current, team.as_deref()) {
            Ok(rows) => end.extend(rows.into_iter().filter(|r| !end.iter().any(|e| e.id == r.id)).collect::<Vec<_>>()),
            Err(why) => {
                problems.push(format!("#deescalate{}: {why}", team.map(|t| format!(" {t}")).unwrap_or_default()))
            }
        }
    }
    let still: Vec<escalation::Model> = current.iter().filter(|c| !end.iter().any(|e| e.id == c.id)).cloned().collect();
    let mut escalate: Vec<(Target<'a>, Option<String>)> = Vec::new();
    for (team, reason) in asked.escalate {
        match target(config, company, &still, &team) {
            Ok(t) if escalate.iter().any(|(p, _)| p.name() == t.name()) => {}
            Ok(t) => escalate.push((t, Some(reason).filter(|r| !r.is_empty()))),
            Err(why) => problems.push(format!("#escalate {team}: {why}")),
        }
    }
    Planned { escalate, end }
}

/// One escalation as a reply or `cases escalate` asks for it.
pub struct Escalation<'a> {
    pub case: &'a case::Model,
    pub target: Target<'a>,
    pub reason: Option<&'a str>,
    pub by: &'a agent::Model,
    pub actor: &'a Actor,
    pub support: &'a EmailAddress,
}

pub async fn escalate(txn: &Tx, ctx: &Ctx<'_>, e: Escalation<'_>) -> Result<(), MailError> {
    let (c, now) = (e.case, ctx.now);
    let name = e.target.name();
    record::open(txn, c.id, name, e.actor, e.reason, now).await?;
    record_event(txn, c.id, now, e.actor, "escalated", (None, Some(name.to_owned())), e.reason.map(str::to_owned));
    // The CRM's answers are verified by the company's token, as their `#report` is.
    let (to, title, in_sentence, token, team) = match e.target {
        Target::Team(t) => (&t.address, t.title.as_str(), t.in_sentence(), Some(token_of(txn, &t.name).await?), true),
        Target::Crm { name, address } => (address, name, name.to_owned(), crm_token(txn, c).await?, false),
    };
    let token = token.as_deref();
    let (by, reason, support) = (e.by, e.reason, e.support);
    let brief = Brief { case: c, to, title, in_sentence, token, team, by, reason, support };
    queue_brief(txn, ctx, brief).await
}

pub async fn deescalate(
    txn: &Tx,
    rows: Vec<escalation::Model>,
    c: &case::Model,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for row in rows {
        if record::end(txn, &row, actor, None, now).await? {
            record_event(txn, c.id, now, actor, "escalation_ended", (Some(row.team), None), None);
        }
    }
    Ok(())
}

async fn crm_token(txn: &Tx, c: &case::Model) -> Result<Option<String>, DbErr> {
    let Some(id) = c.company_id else { return Ok(None) };
    Ok(company::Entity::find_by_id(id).one(txn).await?.and_then(|co| co.report_token))
}

/// Made at start (`sync_teams`) for every configured team.
async fn token_of(txn: &Tx, name: &str) -> Result<String, DbErr> {
    let row = team::Entity::find().filter(team::Column::Name.eq(name)).one(txn).await?;
    row.map(|t| t.token)
        .ok_or_else(|| DbErr::RecordNotFound(format!("team {name:?} has no stored token; restart supportd")))
}
