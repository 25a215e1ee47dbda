//! `supportd man` and `supportd completions`: the manual pages and shell completions, made
//! from the same clap definitions as `--help`, so they never drift from the commands.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use super::output::{Stdout, errln, outln};
use super::{Cli, Exit};

/// The page of `supportd` on standard output, or with `dir` one page per command there
/// (`supportd.1`, `supportd-cases.1`, `supportd-cases-show.1`, …).
pub fn man(dir: Option<&Path>) -> Exit {
    let written = match dir {
        None => clap_mangen::Man::new(Cli::command()).render(&mut Stdout),
        Some(dir) => std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(Cli::command(), dir)),
    };
    match written {
        Ok(()) => {
            if let Some(dir) = dir {
                outln!("manual pages written to {}", dir.display());
            }
            Exit::Ok
        }
        Err(e) => {
            errln!("error: cannot write the manual: {e}");
            Exit::IoErr
        }
    }
}

/// Completions for `shell` on standard output.
pub fn completions(shell: clap_complete::Shell) -> Exit {
    let mut out = std::io::BufWriter::new(Stdout);
    clap_complete::generate(shell, &mut Cli::command(), "supportd", &mut out);
    match out.flush() {
        Ok(()) => Exit::Ok,
        Err(e) => {
            errln!("error: cannot write the completions: {e}");
            Exit::IoErr
        }
    }
}
