use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Logs go to stderr (stdout carries command output); `RUST_LOG` filters, default `info`.
/// A closed stderr drops the logs and nothing else: tracing-subscriber would report the
/// failed write with `eprintln!`, on the same closed stderr, which panics (SIGPIPE is
/// ignored) and would take the daemon's task or the command with it.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    // async-imap traces every line it sends, an XOAUTH2 bearer token among them: never below
    // debug, whatever RUST_LOG asks.
    let filter = filter.add_directive("async_imap=debug".parse().expect("a constant directive"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .log_internal_errors(false);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(true).init(),
    }
    // A panic is caught per message (ingest::pipeline) or ends its task; either way it belongs
    // in the log, inside the message's span and in the log's own format (JSON stays JSON).
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| l.to_string()).unwrap_or_default();
        // "panicked", as Rust's own hook says: the tests look for that word.
        tracing::error!("panicked at {at}: {}", info.payload_as_str().unwrap_or("(no message)"));
    }));
}
