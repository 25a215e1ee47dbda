//! The module boundaries the code promises, checked on the source: outbound, cases, agents
//! and threading read mail through `mail`, never `ingest`; and no module outside `cases`
//! (and `storage`, which defines the table) writes case rows, so every change to a case goes
//! through the cases service and its events.

use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The files under `src/` outside the given top-level modules, with their text up to their unit
/// tests (a test may build its own rows: `sla::outcome_sql` checks its SQL against cases it writes).
fn outside(modules: &[&str]) -> Vec<(String, String)> {
    let code = |text: String| text.split("\n#[cfg(test)]\nmod tests").next().unwrap_or_default().to_owned();
    rust_files(Path::new(SRC))
        .into_iter()
        .map(|p| {
            (p.strip_prefix(SRC).unwrap().to_string_lossy().into_owned(), code(std::fs::read_to_string(&p).unwrap()))
        })
        .filter(|(rel, _)| !modules.iter().any(|m| rel.starts_with(&format!("{m}/")) || rel == &format!("{m}.rs")))
        .collect()
}

#[test]
fn outbound_cases_agents_and_threading_do_not_import_ingest() {
    let files = rust_files(Path::new(SRC));
    assert!(files.len() > 50, "the source is where it should be: {}", files.len());
    let mut offenders = Vec::new();
    for file in files {
        let rel = file.strip_prefix(SRC).unwrap().to_string_lossy().into_owned();
        if !["outbound/", "cases/", "agents/", "threading/", "mail/"].iter().any(|m| rel.starts_with(m)) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        if text.contains("crate::ingest") {
            offenders.push(rel);
        }
    }
    assert!(offenders.is_empty(), "these import ingest (use crate::mail): {offenders:?}");
}

#[test]
fn only_the_cases_service_writes_case_rows() {
    let writes =
        ["case::ActiveModel", "case::Entity::insert", "case::Entity::update", "case::Entity::delete", "UPDATE cases"];
    let offenders: Vec<String> = outside(&["cases", "storage"])
        .into_iter()
        .filter(|(_, text)| writes.iter().any(|w| text.contains(w)))
        .map(|(rel, _)| rel)
        .collect();
    assert!(offenders.is_empty(), "these write case rows outside cases: {offenders:?}");
    // The check would see a write: the cases service itself has them.
    let cases: Vec<(String, String)> = rust_files(&Path::new(SRC).join("cases"))
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    assert!(cases.iter().any(|(_, t)| t.contains("case::ActiveModel")), "the patterns match real writes");
}

/// One door: a case is opened, and a customer acknowledged, only in `cases::intake`, whatever
/// the channel (ingest hands mail over; `cases open` goes through the same `new_case::open`).
#[test]
fn cases_open_and_acknowledgements_go_out_only_through_intake() {
    let calls = ["open_case(", "queue_ack(", "append_message("];
    let offenders: Vec<String> = rust_files(Path::new(SRC))
        .into_iter()
        .map(|p| (p.strip_prefix(SRC).unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .filter(|(rel, _)| !rel.starts_with("cases/"))
        .filter(|(_, text)| {
            calls.iter().any(|c| text.lines().any(|l| l.contains(c) && !l.trim_start().starts_with("pub async fn")))
        })
        .map(|(rel, _)| rel)
        .collect();
    assert!(offenders.is_empty(), "these open cases or acknowledge outside cases::intake: {offenders:?}");
    let intake = std::fs::read_to_string(Path::new(SRC).join("cases/intake/new_case.rs")).unwrap();
    assert!(calls[..2].iter().all(|c| intake.contains(c)), "the patterns match the real calls");
    let door = ["cases/intake/email.rs", "cases/intake/by_hand.rs"];
    for file in door {
        let text = std::fs::read_to_string(Path::new(SRC).join(file)).unwrap();
        assert!(text.contains("new_case::open("), "{file} opens its cases through new_case::open");
    }
}
