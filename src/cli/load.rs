use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::app::{self, AppError};
use crate::config::{Config, ConfigError, Problems};
use crate::desk::{Clock, Desk, clock_from_env};
use crate::storage;
use crate::templates::Templates;

use super::Exit;
use super::output::{Zone, errln};

/// Loads the configuration and compiles the templates, printing every problem found: the
/// templates are checked even when the configuration has problems (its `[templates] dir`
/// is still known), so that one run names everything to fix.
pub fn load_checked(path: &Path) -> Result<(Config, Templates), Exit> {
    let (config, templates_dir) = match Config::load(path) {
        Ok(config) => {
            let dir = config.templates_dir.clone();
            (Some(config), Some(dir))
        }
        Err(ConfigError::Invalid { path, problems, warnings, templates_dir }) => {
            print_problems(&path.display().to_string(), &problems);
            for w in &warnings {
                errln!("warning: {w}");
            }
            (None, Some(templates_dir))
        }
        Err(other) => {
            errln!("error: {other}");
            (None, None)
        }
    };
    let templates = templates_dir.and_then(|dir| {
        Templates::load(&dir).map_err(|problems| print_problems(&dir.display().to_string(), &problems)).ok()
    });
    match (config, templates) {
        (Some(config), Some(templates)) => Ok((config, templates)),
        _ => Err(Exit::Config),
    }
}

fn print_problems(what: &str, problems: &Problems) {
    errln!("error: {what} has {} problem(s):", problems.len());
    for p in problems.iter() {
        errln!("  {p}");
    }
}

/// A checked configuration and an open database, or the exit code that says why not.
pub async fn open(path: &Path) -> Result<Desk, Exit> {
    let (config, templates) = load_checked(path)?;
    app::open_desk(config, templates).await.map_err(|e| fail(&e))
}

/// What a command that only looks needs: the checked configuration, the clock, and a
/// database it cannot write to. Nothing is migrated, synced or seeded on the way.
pub struct ReadDesk {
    pub config: Config,
    pub db: DatabaseConnection,
    clock: Arc<dyn Clock>,
}

impl ReadDesk {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The zone times are shown in: the support calendar's.
    pub fn zone(&self) -> Zone {
        Zone(self.config.calendar.time_zone)
    }
}

pub async fn open_read_only(path: &Path) -> Result<ReadDesk, Exit> {
    let (config, _) = load_checked(path)?;
    let clock = clock_from_env().map_err(|e| fail(&AppError::Clock(e)))?;
    let db = storage::open_read_only(&config.database).await.map_err(|e| fail(&AppError::Storage(e)))?;
    Ok(ReadDesk { config, db, clock })
}

pub fn fail(e: &AppError) -> Exit {
    tracing::error!(error = %e, "failed");
    errln!("error: {e}");
    if e.is_unavailable() { Exit::TempFail } else { Exit::Software }
}
