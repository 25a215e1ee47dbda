use std::path::{Path, PathBuf};
use std::time::Duration;

use std::sync::{Arc, Mutex};

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::Exit;
use super::load::{fail, load_checked, open};
use super::output::errln;
use crate::app::{self, AppError};
use crate::config::Config;
use crate::desk::Desk;
use crate::templates::Templates;

pub async fn run(path: &Path, once: bool) -> Exit {
    if once {
        return run_once(path).await;
    }
    let shutdown = CancellationToken::new();
    let signals = match Signals::listen() {
        Ok(s) => s,
        Err(e) => {
            errln!("error: cannot listen for signals: {e}");
            return Exit::Software;
        }
    };
    let reloads = Reloads::default();
    tokio::spawn(signals.handle(path.to_path_buf(), shutdown.clone(), reloads.clone()));
    // For the whole process, not one desk's tasks: a reload's drain must not go unpinged.
    tokio::spawn(crate::service::watchdog(shutdown.clone()));
    let mut desk = match open_retrying(path, &shutdown).await {
        Ok(Some(d)) => d,
        Ok(None) => return Exit::Ok,
        Err(code) => return code,
    };
    // A reload opens the new desk while the old one runs (a database it cannot reach leaves
    // the old one running), then ends the running tasks (their work in hand finished) and
    // starts them on the new configuration: mailboxes, agents and teams may all have
    // changed. A new configuration whose port cannot be had goes back to the old one.
    let mut before: Option<Desk> = None;
    loop {
        let generation = shutdown.child_token();
        let running = app::run(desk.clone(), generation.clone());
        tokio::pin!(running);
        let next = loop {
            tokio::select! {
                done = &mut running => match done {
                    Ok(()) => return Exit::Ok,
                    Err(e @ AppError::Listen { .. }) if before.is_some() && !shutdown.is_cancelled() => {
                        error!(error = %e, "the new configuration cannot start; going back to the one before");
                        break (before.take().expect("checked"), "the configuration before restored");
                    }
                    Err(e) => return fail(&e),
                },
                (config, templates) = reloads.next() => match app::open_desk(config, templates).await {
                    // SIGTERM came while the new desk opened: nothing more starts.
                    Ok(_) if shutdown.is_cancelled() => {
                        let _ = (&mut running).await;
                        return Exit::Ok;
                    }
                    Ok(new) => {
                        generation.cancel();
                        if let Err(e) = (&mut running).await {
                            return fail(&e);
                        }
                        before = Some(desk.clone());
                        break (new, "configuration and templates reloaded");
                    }
                    Err(e) => {
                        error!(error = %e, "the new configuration cannot be opened: the running one stays");
                        crate::service::ready("reload refused: the new configuration cannot be opened");
                    }
                },
            }
        };
        let said;
        (desk, said) = next;
        info!("{said}");
    }
}

/// The newest checked configuration a SIGHUP brought, for the main loop to start. The
/// signal handler never waits on it: SIGHUPs during a reload fold into one (the newest
/// wins), and a SIGTERM is always heard.
struct Reloads<T = (Config, Templates)> {
    next: Arc<Mutex<Option<T>>>,
    ready: Arc<Notify>,
}

impl<T> Clone for Reloads<T> {
    fn clone(&self) -> Self {
        Reloads { next: self.next.clone(), ready: self.ready.clone() }
    }
}

impl<T> Default for Reloads<T> {
    fn default() -> Self {
        Reloads { next: Arc::default(), ready: Arc::default() }
    }
}

impl<T> Reloads<T> {
    fn offer(&self, next: T) {
        *self.next.lock().unwrap_or_else(|e| e.into_inner()) = Some(next);
        self.ready.notify_one();
    }

    /// The newest offer, once there is one. A wake-up whose offer an earlier call already
    /// took (two offers, one waiter) finds the slot empty and waits on.
    async fn next(&self) -> T {
        loop {
            self.ready.notified().await;
            if let Some(next) = self.next.lock().unwrap_or_else(|e| e.into_inner()).take() {
                return next;
            }
        }
    }
}

/// SIGTERM and SIGINT stop the daemon; SIGHUP reloads it.
struct Signals {
    term: Signal,
    hup: Signal,
}

impl Signals {
    fn listen() -> std::io::Result<Signals> {
        Ok(Signals { term: signal(SignalKind::terminate())?, hup: signal(SignalKind::hangup())? })
    }

    /// A SIGHUP's configuration and templates are checked before anything stops: when they
    /// are bad, the running ones stay and the problems are logged.
    async fn handle(mut self, path: PathBuf, shutdown: CancellationToken, reload: Reloads) {
        loop {
            tokio::select! {
                _ = self.term.recv() => info!("SIGTERM received"),
                _ = tokio::signal::ctrl_c() => info!("SIGINT received"),
                _ = self.hup.recv() => {
                    match load_checked(&path) {
                        Ok(next) => {
                            info!("SIGHUP received: reloading the configuration and templates");
                            crate::service::reloading();
                            reload.offer(next);
                        }
                        Err(_) => {
                            error!("SIGHUP received, but the configuration or templates have problems (above): \
                                    the running ones stay");
                            crate::service::ready("reload refused: the configuration or templates have problems");
                        }
                    }
                    continue;
                }
            }
            crate::service::stopping();
            shutdown.cancel();
            return;
        }
    }
}

/// One pass; a database that cannot be written now is a temporary failure (75), for the
/// timer that runs `--once` to retry.
async fn run_once(path: &Path) -> Exit {
    let desk = match open(path).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    match app::run_once(&desk).await {
        Ok(s) => {
            let peak_rss_kb = peak_rss_kb();
            info!(processed = s.processed, left = s.left, sent = s.sent, peak_rss_kb, "run --once done");
            if s.left > 0 { Exit::TempFail } else { Exit::Ok }
        }
        Err(e) => fail(&e),
    }
}

/// Opens the desk, waiting out a database that cannot be used now (down, read-only, full)
/// the way the mailbox tasks wait once running: a daemon that exited instead would leave
/// the mail to its service manager's restart policy. `None` when shutdown came first; a
/// configuration or other permanent error ends the daemon with its code.
async fn open_retrying(path: &Path, shutdown: &CancellationToken) -> Result<Option<Desk>, Exit> {
    let mut pause = Duration::from_secs(1);
    loop {
        let (config, templates) = load_checked(path)?;
        match app::open_desk(config, templates).await {
            Ok(desk) => return Ok(Some(desk)),
            Err(e) if e.is_unavailable() => {
                warn!(error = %e, retry_in = ?pause, "the database cannot be used now; retrying");
                crate::service::status(&format!("waiting for the database: {e}"));
            }
            Err(e) => return Err(fail(&e)),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(None),
            _ = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(Duration::from_secs(60));
    }
}

/// This process's peak resident memory (Linux's VmHWM), for the log of a one-off run: how
/// much memory a backlog took. `None` where /proc is missing.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::Reloads;

    /// Offers that come faster than the loop takes them fold into the newest, and none is
    /// lost: the wake-up left over from a folded offer does not end the waiting.
    #[tokio::test]
    async fn the_newest_offer_wins_and_a_later_one_is_still_heard() {
        let reloads: Reloads<u32> = Reloads::default();
        reloads.offer(1);
        reloads.offer(2);
        assert_eq!(reloads.next().await, 2);
        // A wake-up whose offer was already taken (as when a second offer lands between a
        // waiter's wake-up and its take): the next call must wait for a real one.
        reloads.offer(9);
        reloads.next.lock().unwrap().take();
        let waiting = tokio::spawn({
            let reloads = reloads.clone();
            async move { reloads.next().await }
        });
        reloads.offer(3);
        assert_eq!(waiting.await.unwrap(), 3, "the leftover wake-up did not swallow it");
        reloads.offer(4);
        reloads.offer(5);
        assert_eq!(reloads.next().await, 5);
    }
}
