//! `daemon.toml`: the serde model, validation that reports every problem with its key path,
//! and the resolution of relative paths from the config file's folder.

mod advice;
mod agent_desk;
mod cidr;
mod cron;
mod env;
mod health;
mod http;
mod model;
mod oauth;
mod plaintext;
mod problems;
mod raw;
mod routes;
mod secret;
mod teams;
mod validate;

use std::path::{Path, PathBuf};

pub use cidr::{IpRange, IpRangeError};
pub use cron::{CronError, CronSchedule};
pub use health::HealthConfig;
pub use http::{HttpConfig, HttpLimits, MAX_PAGE_SIZE, WEB_DB_READERS};
pub use model::*;
pub use oauth::KeySource;
pub use problems::{Problem, Problems};
pub use routes::{Route, RouteNotify, Routed, route_for};
pub use secret::Secret;
pub use teams::TeamConfig;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    /// `warnings` and `templates_dir` are what could still be known, so that one run of
    /// `check-config` reports them beside the problems.
    #[error("{path} has {} problem(s):\n{problems}", problems.len())]
    Invalid { path: PathBuf, problems: Problems, warnings: Vec<Problem>, templates_dir: PathBuf },
}

impl Config {
    /// Reads and validates the file; relative paths resolve from the file's folder, because
    /// systemd starts the daemon in `/`.
    /// `SUPPORTD_<TABLE>__<KEY>` variables override the file's keys (see `env`).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut doc = parse(&text, &path)?;
        // A variable that is not Unicode cannot be one of ours (and must not stop us).
        let vars = std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        let overrides = env::overrides(vars);
        let mut problems = Problems::default();
        let only_in_env = env::apply(&mut doc, &overrides, &mut problems);
        if !problems.is_empty() {
            let templates_dir = base.join("templates");
            return Err(ConfigError::Invalid { path, problems, warnings: Vec::new(), templates_dir });
        }
        for o in &overrides {
            tracing::info!(variable = %o.var, "configuration key set from the environment");
        }
        Self::from_table(doc, &path, &base, &only_in_env)
    }

    pub fn from_toml(text: &str, path: &Path, base: &Path) -> Result<Config, ConfigError> {
        Self::from_table(parse(text, path)?, path, base, &[])
    }

    /// `from_env`: the keys only the environment set (see `env`): the file does not hold them.
    fn from_table(doc: toml::Table, path: &Path, base: &Path, from_env: &[String]) -> Result<Config, ConfigError> {
        let raw: raw::RawConfig = toml::Value::Table(doc).try_into().map_err(|e: toml::de::Error| {
            ConfigError::Syntax { path: path.into(), message: e.to_string().trim_end().to_owned() }
        })?;
        let templates_dir = raw.templates_dir(base);
        validate::validate(raw, path, base, from_env).map_err(|(problems, warnings)| ConfigError::Invalid {
            path: path.into(),
            problems,
            warnings,
            templates_dir,
        })
    }
}

fn parse(text: &str, path: &Path) -> Result<toml::Table, ConfigError> {
    toml::from_str(text)
        .map_err(|e| ConfigError::Syntax { path: path.into(), message: e.to_string().trim_end().to_owned() })
}

#[cfg(test)]
mod tests;
