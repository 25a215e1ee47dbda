use std::path::Path;

use crate::app::{self, AppError};
use crate::config::{Config, ConfigError, Problems};
use crate::desk::Desk;
use crate::templates::Templates;

use super::Exit;
use super::output::errln;

/// Loads the configuration and compiles the templates, printing every problem found.
pub fn load_checked(path: &Path) -> Result<(Config, Templates), Exit> {
    let config = Config::load(path).map_err(|e| {
        match &e {
            ConfigError::Invalid { path, problems } => print_problems(&path.display().to_string(), problems),
            other => errln!("error: {other}"),
        }
        Exit::Config
    })?;
    let templates = Templates::load(&config.templates_dir).map_err(|problems| {
        print_problems(&config.templates_dir.display().to_string(), &problems);
        Exit::Config
    })?;
    Ok((config, templates))
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

pub fn fail(e: &AppError) -> Exit {
    tracing::error!(error = %e, "failed");
    errln!("error: {e}");
    if e.is_unavailable() { Exit::TempFail } else { Exit::Software }
}
