//! Parse the command line, set up logging, hand over; nothing else.

use clap::Parser;
use supportd::cli::{self, Cli};

fn main() {
    // Before any thread exists: see `cli::malloc`.
    cli::malloc::tune_for_large_mail();
    let cli = Cli::parse();
    cli::logging::init(cli.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build();
    let exit = match runtime {
        Ok(runtime) => runtime.block_on(cli::dispatch(cli)),
        Err(e) => {
            eprintln!("supportd: cannot start the async runtime: {e}");
            cli::Exit::OsErr
        }
    };
    std::process::exit(exit.code());
}
