//! Parse the command line, set up logging, hand over; nothing else.

use clap::Parser;
use supportd::cli::{self, Cli};

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    cli::logging::init(cli.log_format);
    let exit = cli::dispatch(cli).await;
    std::process::exit(exit.code());
}
