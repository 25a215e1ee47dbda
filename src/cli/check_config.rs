use std::path::Path;

use super::Exit;
use super::load::load_checked;
use super::output::{errln, outln};
use crate::config::Config;
use crate::desk::clock_from_env;

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
            print_schedules(&config);
            Exit::Ok
        }
        Err(code) => code,
    }
}

/// Each cron key with the expression as written, how a classic one is read, and its next three
/// runs in the calendar's zone: a weekday off by one shows here, not on the first Monday.
fn print_schedules(config: &Config) {
    let zone = config.calendar.time_zone;
    let now = clock_from_env().map(|c| c.now()).unwrap_or_else(|_| chrono::Utc::now());
    let s = &config.scheduler;
    let keys = [
        ("scheduler.escalations", Some(&s.escalations)),
        ("scheduler.auto_close", Some(&s.auto_close)),
        ("scheduler.monthly_report", s.monthly_report.as_ref()),
    ];
    for (key, schedule) in keys {
        let Some(schedule) = schedule else {
            outln!("{key} = \"off\"");
            continue;
        };
        let read_as = if schedule.read_as() == schedule.written().trim() {
            String::new()
        } else {
            format!(" (read as \"{}\")", schedule.read_as())
        };
        let runs: Vec<String> =
            schedule.next_runs(zone, now, 3).iter().map(|t| t.format("%a %Y-%m-%d %H:%M").to_string()).collect();
        outln!("{key} = {:?}{read_as}: next {} ({zone})", schedule.written(), runs.join(", "));
    }
}
