//! `supportd report cases|sla|budget|escalations`: the desk's work for a customer or the
//! support lead, on the terminal, in a file, or piped on (`report cases --format csv | …`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::load::{ReadDesk, fail, open, open_read_only};
use super::output::{Stdout, errln, outln};
use super::{Exit, ReportCommand, ReportScope};
use crate::app::AppError;
use crate::desk::Desk;
use crate::domain::EmailAddress;
use crate::reports::{self, Format, Period, ReportError, Scope};
use crate::storage::entities::company;

pub async fn report(config: &Path, command: ReportCommand) -> Exit {
    if let ReportCommand::Send { company, month, to } = command {
        return match open(config).await {
            Ok(desk) => send(&desk, &company, &month, to.as_ref()).await,
            Err(code) => code,
        };
    }
    let desk = match open_read_only(config).await {
        Ok(desk) => desk,
        Err(code) => return code,
    };
    let done = match command {
        ReportCommand::Cases { scope, out: o } => {
            let scope = scope.into();
            to_output(o.output.as_deref(), async |out| cases(&desk, &scope, o.format, o.excel, out).await).await
        }
        ReportCommand::Budget { scope, timesheet, out: o } => {
            let scope = scope.into();
            let (format, excel) = (o.format, o.excel);
            to_output(o.output.as_deref(), async |out| match timesheet {
                true => reports::write_timesheet(&desk.db, &desk.config, &scope, format, excel, out).await.map(|_| ()),
                false => {
                    let lines = reports::budget_lines(&desk.db, &desk.config, &scope).await?;
                    reports::write_budget(&lines, format, excel, out)
                }
            })
            .await
        }
        ReportCommand::Send { .. } => unreachable!("sent above"),
        ReportCommand::Escalations { company, from, to, out: o } => {
            let scope = Scope { company, from, to, statuses: Vec::new(), channels: Vec::new() };
            to_output(o.output.as_deref(), async |out| {
                let lines = reports::escalation_figures(&desk.db, &desk.config, &scope, desk.now()).await?;
                reports::write_escalations(&lines, o.format, o.excel, out)
            })
            .await
        }
        ReportCommand::Sla { scope, out: o } => {
            let scope = scope.into();
            to_output(o.output.as_deref(), async |out| {
                let lines = reports::sla_figures(&desk.db, &desk.config, &scope, desk.now()).await?;
                reports::write_sla(&lines, o.format, o.excel, out)
            })
            .await
        }
    };
    match done {
        Ok(()) => Exit::Ok,
        Err(e) => {
            errln!("error: {e}");
            match e {
                ReportError::NoCompany(_) => Exit::Usage,
                ReportError::Io(_) | ReportError::Csv(_) => Exit::IoErr,
                ReportError::Mail(_) => Exit::Software,
                ReportError::Database(db) if crate::storage::is_unavailable(&db) => Exit::TempFail,
                ReportError::Database(_) => Exit::Software,
            }
        }
    }
}

async fn cases(
    desk: &ReadDesk,
    scope: &Scope,
    format: Format,
    excel: bool,
    out: &mut (dyn Write + Send),
) -> Result<(), ReportError> {
    let count = reports::write_cases(&desk.db, &desk.config, scope, format, excel, out, desk.now()).await?;
    tracing::debug!(count, "cases reported");
    Ok(())
}

/// Runs `write` into standard output, or into `path`: written beside it first and renamed
/// when complete, so a failed report never leaves half a file where a whole one was.
async fn to_output(
    path: Option<&Path>,
    write: impl AsyncFnOnce(&mut (dyn Write + Send)) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    let Some(path) = path else {
        let mut out = BufWriter::new(Stdout);
        write(&mut out).await?;
        return Ok(out.flush()?);
    };
    let part = PathBuf::from(format!("{}.part", path.display()));
    let mut out = BufWriter::new(File::create(&part)?);
    let written = async {
        write(&mut out).await?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok::<_, ReportError>(std::fs::rename(&part, path)?)
    }
    .await;
    if written.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    written
}

impl From<ReportScope> for Scope {
    fn from(s: ReportScope) -> Scope {
        Scope { company: s.company, from: s.from, to: s.to, statuses: s.status, channels: s.channel }
    }
}

/// `report send`: the company's report, queued in one transaction.
async fn send(desk: &Desk, slug: &str, period: &Period, to: Option<&EmailAddress>) -> Exit {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let found = company::Entity::find().filter(company::Column::Slug.eq(slug)).one(&desk.db).await;
    let c = match found {
        Ok(Some(c)) => c,
        Ok(None) => {
            errln!("error: no [[company]] has slug {slug:?}");
            return Exit::Usage;
        }
        Err(e) => return fail(&AppError::Database(e)),
    };
    let crm: Option<EmailAddress> = c.crm_email.as_deref().and_then(|e| e.parse().ok());
    let Some(address) = to.cloned().or(crm) else {
        errln!("error: {slug} has no crm_email: name a recipient with --to");
        return Exit::Usage;
    };
    let name = if to.is_some() { None } else { c.crm_name.as_deref() };
    let queued = async {
        let report = reports::company_report(&desk.db, &desk.config, &c, period, desk.now()).await?;
        let txn = crate::storage::begin_write(&desk.db).await?;
        let recipients = [(name, &address)];
        reports::queue_report(&txn, &desk.config, &desk.templates, &c, &report, &recipients, desk.now()).await?;
        txn.commit().await?;
        Ok::<_, ReportError>(report.cases)
    };
    match queued.await {
        Ok(cases) => {
            let plural = if cases == 1 { "" } else { "s" };
            outln!("queued the {} report of {slug} ({cases} case{plural}) to {address}", period.label());
            Exit::Ok
        }
        Err(ReportError::Database(e)) => fail(&AppError::Database(e)),
        Err(e) => {
            errln!("error: {e}");
            Exit::Software
        }
    }
}
