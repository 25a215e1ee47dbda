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
    let given = [raw.password.is_some(), raw.password_env.is_some(), raw.password_file.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        problems.push(key, "give only one of password, password_env, password_file");
        return None;
    }
    if let Some(p) = &raw.password {
        return Some(Secret(p.clone()));
    }
    if let Some(var) = &raw.password_env {
        return match std::env::var(var) {
            Ok(v) => Some(Secret(v)),
            Err(_) => {
                problems.push(format!("{key}.password_env"), format!("environment variable {var} is not set"));
                None
            }
        };
    }
    if let Some(file) = &raw.password_file {
        let path = base.join(file);
        return match std::fs::read_to_string(&path) {
            Ok(v) => Some(Secret(v.trim_end_matches(['\r', '\n']).to_owned())),
            Err(e) => {
                problems.push(format!("{key}.password_file"), format!("cannot read {}: {e}", path.display()));
                None
            }
        };
    }
    None
}
