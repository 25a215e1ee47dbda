//! `daemon.toml`: the serde model, validation that reports every problem with its key path,
//! and the resolution of relative paths from the config file's folder.

mod advice;
mod agent_desk;
mod model;
mod plaintext;
mod problems;
mod raw;
mod routes;
mod secret;
mod teams;
mod validate;

use std::path::{Path, PathBuf};

pub use model::*;
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
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::from_toml(&text, &path, &base)
    }

    pub fn from_toml(text: &str, path: &Path, base: &Path) -> Result<Config, ConfigError> {
        let raw: raw::RawConfig = toml::from_str(text)
            .map_err(|e| ConfigError::Syntax { path: path.into(), message: e.to_string().trim_end().to_owned() })?;
        let templates_dir = raw.templates_dir(base);
        validate::validate(raw, path, base).map_err(|(problems, warnings)| ConfigError::Invalid {
            path: path.into(),
            problems,
            warnings,
            templates_dir,
        })
    }
}

#[cfg(test)]
mod tests;
