//! Where the shared real-mail corpus is: `SUPPORTD_CORPUS`, else `../shared/corpus` beside
//! this clone. Without it the corpus tests have nothing to read and return early; under
//! `CI=true` that would be a pass that checked nothing, so there they fail instead (and
//! `.ci/run` refuses to start without the corpus).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The corpus folder, or `None` (outside CI) when there is none to read.
pub fn corpus() -> Option<PathBuf> {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let ci = std::env::var("CI").as_deref() == Ok("true");
    match locate(std::env::var_os("SUPPORTD_CORPUS"), &beside, ci) {
        Ok(found) => found,
        Err(why) => panic!("{why}"),
    }
}

/// A corpus is a folder with `labels.csv`. One named by `SUPPORTD_CORPUS` must be one.
fn locate(named: Option<OsString>, beside: &Path, ci: bool) -> Result<Option<PathBuf>, String> {
    let is_corpus = |dir: &Path| dir.join("labels.csv").is_file();
    if let Some(named) = named {
        let dir = PathBuf::from(named);
        return if is_corpus(&dir) {
            Ok(Some(dir))
        } else {
            Err(format!("SUPPORTD_CORPUS={} holds no labels.csv", dir.display()))
        };
    }
    if is_corpus(beside) {
        return Ok(Some(beside.to_path_buf()));
    }
    if ci {
        return Err(format!(
            "CI=true, but there is no corpus at {} and SUPPORTD_CORPUS is not set: the corpus tests \
             would pass without reading a message",
            beside.display()
        ));
    }
    eprintln!("no corpus at {} (nor SUPPORTD_CORPUS): the corpus tests have nothing to read here", beside.display());
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_corpus_fails_under_ci_and_is_skipped_elsewhere() {
        let empty = tempfile::tempdir().unwrap();
        let nowhere = empty.path().join("corpus");
        assert!(locate(None, &nowhere, true).unwrap_err().contains("CI=true"));
        assert_eq!(locate(None, &nowhere, false), Ok(None));
        let named = Some(OsString::from(nowhere.as_os_str()));
        assert!(locate(named.clone(), &nowhere, false).unwrap_err().contains("holds no labels.csv"));

        std::fs::create_dir(&nowhere).unwrap();
        std::fs::write(nowhere.join("labels.csv"), "path,kind\n").unwrap();
        assert_eq!(locate(None, &nowhere, true), Ok(Some(nowhere.clone())));
        assert_eq!(locate(named, empty.path(), true), Ok(Some(nowhere.clone())));
    }
}
