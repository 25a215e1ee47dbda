use std::fmt;
use std::path::Path;

use super::Problems;
use super::raw::RawSecret;

/// A password that never shows in logs or `Debug` output.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Resolves `password`, `password_env` or `password_file` (at most one) into a secret.
pub fn resolve(problems: &mut Problems, key: &str, raw: &RawSecret, base: &Path) -> Option<Secret> {
    let sources = Sources {
        names: ["password", "password_env", "password_file"],
        value: raw.password.as_deref(),
        env: raw.password_env.as_deref(),
        file: raw.password_file.as_deref(),
    };
    resolve_from(problems, key, sources, base)
}

/// Where a secret may come from: the value itself, an environment variable, or a file,
/// under these key names.
pub struct Sources<'a> {
    pub names: [&'static str; 3],
    pub value: Option<&'a str>,
    pub env: Option<&'a str>,
    pub file: Option<&'a str>,
}

/// The secret from at most one of its sources; `None` when none is given (or it is bad).
pub fn resolve_from(problems: &mut Problems, key: &str, s: Sources<'_>, base: &Path) -> Option<Secret> {
    let [value_key, env_key, file_key] = s.names;
    if [s.value.is_some(), s.env.is_some(), s.file.is_some()].iter().filter(|g| **g).count() > 1 {
        problems.push(key, format!("give only one of {value_key}, {env_key}, {file_key}"));
        return None;
    }
    if let Some(v) = s.value {
        return Some(Secret(v.to_owned()));
    }
    if let Some(var) = s.env {
        return match std::env::var(var) {
            Ok(v) => Some(Secret(v)),
            Err(_) => {
                problems.push(format!("{key}.{env_key}"), format!("environment variable {var} is not set"));
                None
            }
        };
    }
    let path = base.join(s.file?);
    match std::fs::read_to_string(&path) {
        Ok(v) => Some(Secret(v.trim_end_matches(['\r', '\n']).to_owned())),
        Err(e) => {
            problems.push(format!("{key}.{file_key}"), format!("cannot read {}: {e}", path.display()));
            None
        }
    }
}
