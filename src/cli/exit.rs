/// Exit codes from sysexits.h, so that a mail server or systemd knows what failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    /// A command-line argument names something that does not exist.
    Usage = 64,
    /// The input cannot be processed (a quarantined message still fails).
    DataErr = 65,
    /// The input could not be read (a file given to `ingest`).
    NoInput = 66,
    /// A service does not answer (`supportd health`: the daemon's web server).
    Unavailable = 69,
    /// A bug or an unexpected state: see the log.
    Software = 70,
    /// The system refused what the process needs to start (threads, descriptors).
    OsErr = 71,
    /// The output could not be written (not a reader that left: a full disk under `> file`).
    IoErr = 74,
    /// Temporary: the database is unavailable; retry later (the mail server will).
    TempFail = 75,
    /// The configuration or templates are invalid.
    Config = 78,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }
}
