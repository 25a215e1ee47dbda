//! `supportd budget add`: a top-up of a company's pre-purchased support.

use std::path::Path;

use chrono::NaiveDate;

use super::load::{fail, open};
use super::output::{errln, outln};
use super::{BudgetCommand, Exit};
use crate::app::AppError;
use crate::budget;
use crate::desk::Desk;

pub async fn budget(config: &Path, command: BudgetCommand) -> Exit {
    match command {
        BudgetCommand::Add { company, hours, note, at } => match open(config).await {
            Ok(desk) => add(&desk, &company, hours, note, at).await,
            Err(code) => code,
        },
    }
}

async fn add(desk: &Desk, slug: &str, hours: f64, note: Option<String>, at: Option<NaiveDate>) -> Exit {
    if !hours.is_finite() || hours <= 0.0 || hours > 100_000.0 {
        errln!("error: {hours}: a top-up is a positive number of hours (at most 100000)");
        return Exit::Usage;
    }
    let Some(&company_id) = desk.company_ids.get(slug) else {
        errln!("error: no [[company]] has slug {slug:?}");
        return Exit::Usage;
    };
    let now = desk.now();
    let at = at.map_or(now, |d| crate::reports::start_of(d, desk.config.calendar.time_zone));
    let done = async {
        budget::add_purchase(&desk.db, company_id, hours, note, at, now).await?;
        budget::standing(&desk.db, company_id).await
    };
    match done.await {
        Ok(s) => {
            outln!("added {} h to {slug}: {}", budget::hours(hours), s.describe());
            Exit::Ok
        }
        Err(e) => fail(&AppError::Database(e)),
    }
}
