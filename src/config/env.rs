//! Overrides from the environment, so that a container needs no edited file:
//! `SUPPORTD_<TABLE>__<KEY>=value` sets `key` of `[table]`, each `__` going one level down
//! and a number picking an entry of an array of tables (`SUPPORTD_MAILBOX__0__HOST` is the
//! first `[[mailbox]]`'s `host`). Names are matched in lower case. A value takes the type of
//! the one it replaces (a string stays a string: `SUPPORTD_AGENTS__EXCERPT_BYTES=300` is
//! `"300"`); a new key's value is read as TOML when it parses as such, else as a string.
//! Only variables with a `__` are overrides: `SUPPORTD_NOW` and the like are not.

use toml::{Table, Value};

use super::Problems;

const PREFIX: &str = "SUPPORTD_";

/// One key set from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The variable, as problems name it.
    pub var: String,
    path: Vec<Step>,
    value: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The overrides among `vars` (the process's environment, in practice), in name order.
pub fn overrides(vars: impl Iterator<Item = (String, String)>) -> Vec<Override> {
    let mut found: Vec<Override> = vars
        .filter_map(|(var, value)| {
            let rest = var.strip_prefix(PREFIX)?;
            rest.contains("__").then(|| {
                let path = rest.split("__").map(step).collect();
                Override { var: var.clone(), path, value }
            })
        })
        .collect();
    found.sort_by(|a, b| a.var.cmp(&b.var));
    found
}

impl Override {
    /// The key it sets as problems name it: `mailbox[0].password`, `outbound.host`.
    pub fn key(&self) -> String {
        let mut key = String::new();
        for step in &self.path {
            match step {
                Step::Key(k) if key.is_empty() => key.push_str(k),
                Step::Key(k) => key.push_str(&format!(".{k}")),
                Step::Index(i) => key.push_str(&format!("[{i}]")),
            }
        }
        key
    }
}

fn step(segment: &str) -> Step {
    match segment.parse::<usize>() {
        Ok(i) => Step::Index(i),
        Err(_) => Step::Key(segment.to_ascii_lowercase()),
    }
}

/// Writes each override into `doc`; a problem, named by its variable, for each that cannot be.
/// Returns the keys only the environment has (the file had no such key), named as problems
/// name them: the file holds no password the environment gave.
pub fn apply(doc: &mut Table, overrides: &[Override], problems: &mut Problems) -> Vec<String> {
    let mut added = Vec::new();
    for o in overrides {
        match set(doc, &o.path, &o.value) {
            Ok(true) => added.push(o.key()),
            Ok(false) => {}
            Err(why) => problems.push(&o.var, why),
        }
    }
    added
}

/// Whether the key is new: not in the file.
fn set(doc: &mut Table, path: &[Step], text: &str) -> Result<bool, String> {
    let (Step::Key(first), rest) = path.split_first().ok_or("names no key")? else {
        return Err("starts with a number; name a table first (SUPPORTD_MAILBOX__0__HOST)".into());
    };
    let mut slot = doc.entry(first.clone()).or_insert_with(|| new_level(rest));
    for (i, s) in rest.iter().enumerate() {
        slot = descend(slot, s, &rest[i + 1..])?;
    }
    if matches!(slot, Value::Table(t) if !t.is_empty()) {
        return Err("names a table, not a key".into());
    }
    // What `new_level` left for a key the file does not have.
    let added = matches!(slot, Value::Table(_));
    // A secret is text whatever it looks like: `123456` is a password, not a number.
    let secret = matches!(path.last(), Some(Step::Key(k)) if k.contains("password") || k.contains("token"));
    *slot = if secret { Value::String(text.to_owned()) } else { typed(slot, text)? };
    Ok(added)
}

/// The value `step` names below `slot`, made (empty) when missing; an array grows by one.
fn descend<'v>(slot: &'v mut Value, step: &Step, below: &[Step]) -> Result<&'v mut Value, String> {
    match (step, slot) {
        (Step::Key(k), Value::Table(t)) => Ok(t.entry(k.clone()).or_insert_with(|| new_level(below))),
        (Step::Index(n), Value::Array(a)) => {
            if *n == a.len() {
                a.push(new_level(below));
            }
            let len = a.len();
            a.get_mut(*n).ok_or_else(|| format!("there are only {len} entries, so no [{n}]"))
        }
        (Step::Key(k), other) => Err(format!("{k:?} is below a value of type {}, not a table", other.type_str())),
        (Step::Index(n), other) => Err(format!("[{n}] is below a value of type {}, not an array", other.type_str())),
    }
}

/// An empty table, or an empty array when the next step is a number.
fn new_level(below: &[Step]) -> Value {
    match below.first() {
        Some(Step::Index(_)) => Value::Array(Vec::new()),
        Some(Step::Key(_)) => Value::Table(Table::new()),
        // The key itself: a placeholder `typed` replaces.
        None => Value::Table(Table::new()),
    }
}

/// `text` as a value of the type `old` has (none yet: TOML if it reads as such, else text).
fn typed(old: &Value, text: &str) -> Result<Value, String> {
    let toml = || -> Result<Value, String> {
        let doc: Table = toml::from_str(&format!("v = {text}")).map_err(|e| e.message().to_owned())?;
        doc.get("v").cloned().ok_or_else(|| "no value".to_owned())
    };
    match old {
        Value::String(_) => Ok(Value::String(text.to_owned())),
        Value::Integer(_) => {
            text.trim().parse().map(Value::Integer).map_err(|_| format!("expected an integer, got {text:?}"))
        }
        Value::Float(_) => {
            text.trim().parse().map(Value::Float).map_err(|_| format!("expected a number, got {text:?}"))
        }
        Value::Boolean(_) => match text.trim() {
            "true" => Ok(Value::Boolean(true)),
            "false" => Ok(Value::Boolean(false)),
            _ => Err(format!("expected true or false, got {text:?}")),
        },
        Value::Array(_) => toml().map_err(|e| format!("expected a TOML array such as [\"a\", \"b\"]: {e}")),
        Value::Datetime(_) => toml(),
        // A key not in the file (the placeholder table).
        Value::Table(_) => Ok(toml().unwrap_or_else(|_| Value::String(text.to_owned()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(file: &str, vars: &[(&str, &str)]) -> (Table, Vec<String>) {
        let mut doc: Table = toml::from_str(file).unwrap();
        let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        let mut problems = Problems::default();
        apply(&mut doc, &overrides(vars), &mut problems);
        (doc, problems.iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn an_override_names_its_key_as_problems_do() {
        let found = overrides(
            [("SUPPORTD_MAILBOX__0__PASSWORD", "x"), ("SUPPORTD_OUTBOUND__HOST", "y")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        let keys: Vec<String> = found.iter().map(Override::key).collect();
        assert_eq!(keys, ["mailbox[0].password", "outbound.host"]);
        let mut doc: Table = toml::from_str("[outbound]\nhost = \"a\"").unwrap();
        let added = apply(&mut doc, &found, &mut Problems::default());
        assert_eq!(added, ["mailbox[0].password"], "only what the file did not have");
    }

    #[test]
    fn keys_tables_and_array_entries_are_named_by_double_underscores() {
        let file = "[database]\nurl = \"sqlite://a\"\n[agents]\nexcerpt_bytes = \"64KB\"\nmail_limit_per_hour = 30\n\
                    [[mailbox]]\nname = \"support\"\nport = 993\n";
        let (doc, problems) = applied(
            file,
            &[
                ("SUPPORTD_DATABASE__URL", "postgres://db/test"),
                ("SUPPORTD_AGENTS__EXCERPT_BYTES", "300"),
                ("SUPPORTD_AGENTS__MAIL_LIMIT_PER_HOUR", "5"),
                ("SUPPORTD_MAILBOX__0__PORT", "143"),
                ("SUPPORTD_MAILBOX__0__PASSWORD_ENV", "IMAP_PASSWORD"),
                ("SUPPORTD_HTTP__LISTEN", "0.0.0.0:8025"),
                ("SUPPORTD_OUTBOUND__PASSWORD", "123456"),
                ("SUPPORTD_NOW", "2026-12-01T09:00:00Z"),
                ("PATH", "/usr/bin"),
            ],
        );
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(doc["database"]["url"].as_str(), Some("postgres://db/test"));
        assert_eq!(doc["agents"]["excerpt_bytes"].as_str(), Some("300"), "a string stays a string");
        assert_eq!(doc["agents"]["mail_limit_per_hour"].as_integer(), Some(5));
        assert_eq!(doc["mailbox"][0]["port"].as_integer(), Some(143));
        assert_eq!(doc["mailbox"][0]["password_env"].as_str(), Some("IMAP_PASSWORD"));
        assert_eq!(doc["http"]["listen"].as_str(), Some("0.0.0.0:8025"), "a new table and key");
        assert!(!doc.contains_key("now"), "SUPPORTD_NOW is no override");
        assert_eq!(doc["outbound"]["password"].as_str(), Some("123456"), "a secret stays text");
    }

    #[test]
    fn what_cannot_be_set_is_a_problem_named_by_its_variable() {
        let file = "[agents]\nmail_limit_per_hour = 30\n[[mailbox]]\nname = \"support\"\n";
        let (_, problems) = applied(
            file,
            &[
                ("SUPPORTD_AGENTS__MAIL_LIMIT_PER_HOUR", "lots"),
                ("SUPPORTD_MAILBOX__3__HOST", "x"),
                ("SUPPORTD_AGENTS__MAIL_LIMIT_PER_HOUR__X", "1"),
                ("SUPPORTD_0__X", "1"),
            ],
        );
        assert_eq!(
            problems,
            [
                "SUPPORTD_0__X: starts with a number; name a table first (SUPPORTD_MAILBOX__0__HOST)",
                "SUPPORTD_AGENTS__MAIL_LIMIT_PER_HOUR: expected an integer, got \"lots\"",
                "SUPPORTD_AGENTS__MAIL_LIMIT_PER_HOUR__X: \"x\" is below a value of type integer, not a table",
                "SUPPORTD_MAILBOX__3__HOST: there are only 1 entries, so no [3]",
            ]
        );
    }
}
