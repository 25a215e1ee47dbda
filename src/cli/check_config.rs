use std::path::Path;

use super::Exit;
use super::load::load_checked;
use super::output::{errln, outln};

/// Everything that can be checked without a network: values, paths, cron, time zones,
/// templates (compiled and rendered with a sample).
pub fn check_config(path: &Path) -> Exit {
    match load_checked(path) {
        Ok((config, _)) => {
            for w in &config.warnings {
                errln!("warning: {w}");
            }
            outln!(
                "{}: OK ({} mailbox(es), {} compan(y/ies), {} agent(s))",
                config.path.display(),
                config.mailboxes.len(),
                config.companies.len(),
                config.agents.len()
            );
            Exit::Ok
        }
        Err(code) => code,
    }
}
