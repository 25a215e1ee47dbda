//! The open connections, oldest first, and where each stands: between requests (nothing of
//! ours unsent, so closing it loses nothing) or serving one. When every slot is taken, the
//! server closes the oldest connection that waits for a request, so that clients holding
//! connections open cannot keep `/healthz` (or anyone) out.

use std::collections::BTreeMap;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// One connection's state, shared by its task, its IO (`wire::Wire`) and its responses'
/// bodies (`wire::Tracked`).
pub struct Conn {
    id: u64,
    /// Requests handed to the router.
    served: AtomicU64,
    /// Response bodies hyper is done with (dropped after their last frame was buffered).
    finished: AtomicU64,
    /// `served` as of the last flush at which every response had finished: hyper's buffer
    /// is empty at a flush, so each of those responses is wholly written.
    flushed: AtomicU64,
    /// When the request in hand began, in milliseconds since the registry's epoch.
    busy_since: AtomicU64,
    /// The socket, to ask whether a request is waiting in it (`asking`).
    fd: RawFd,
    /// When it was accepted, in milliseconds since the registry's epoch.
    opened_at: AtomicU64,
    epoch: Instant,
    /// Cancelled to close the connection at once (to make room).
    pub evicted: CancellationToken,
}

impl Conn {
    /// The router takes a request.
    pub fn begin(&self) {
        self.busy_since.store(self.epoch.elapsed().as_millis() as u64, SeqCst);
        self.served.fetch_add(1, SeqCst);
    }

    /// hyper dropped a response's body.
    pub fn finish(&self) {
        self.finished.fetch_add(1, SeqCst);
    }

    /// The socket was flushed with hyper's buffer empty.
    pub fn flushed(&self) {
        let served = self.served.load(SeqCst);
        if self.finished.load(SeqCst) == served {
            self.flushed.store(served, SeqCst);
        }
    }

    /// Between requests: every response written, none begun. hyper reads the next request
    /// head only after the previous response was flushed, so what it writes now is its own
    /// answer to a head it could not parse.
    pub fn between_requests(&self) -> bool {
        self.served.load(SeqCst) == self.flushed.load(SeqCst)
    }

    /// Bytes wait in the socket that hyper has not read yet: a request on its way (the
    /// first of a burst that the accept loop outran, or a kept-alive client's next one).
    /// Closing it would reset a client that did nothing wrong; a silent one has nothing there.
    pub fn asking(&self) -> bool {
        let mut waiting: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int. The descriptor is this connection's while it is
        // registered; should it be closed and reused meanwhile, the answer is only a worse
        // guess about which connection to close.
        let asked = unsafe { libc::ioctl(self.fd, libc::FIONREAD, &mut waiting) };
        asked == 0 && waiting > 0
    }

    /// Accepted at least `grace` ago: a client that connected has had time to send.
    fn older_than(&self, grace: Duration) -> bool {
        let opened = Duration::from_millis(self.opened_at.load(SeqCst));
        self.epoch.elapsed().saturating_sub(opened) >= grace
    }

    /// Serving one request for longer than `limit` (a client that does not read its answer).
    pub fn stalled(&self, limit: Duration) -> bool {
        let since = Duration::from_millis(self.busy_since.load(SeqCst));
        !self.between_requests() && self.epoch.elapsed().saturating_sub(since) > limit
    }
}

/// How long a new connection has to send its request before it can be closed to make room
/// (a client's request follows its connection by a round trip); `make_room` waits no longer
/// than `GRACE_WAIT` for it, so that a flood of new silent connections cannot keep a slot
/// from anyone.
pub const FIRST_REQUEST_GRACE: Duration = Duration::from_millis(250);
pub const GRACE_WAIT: Duration = Duration::from_secs(1);

pub struct Registry {
    open: Mutex<BTreeMap<u64, Arc<Conn>>>,
    next: AtomicU64,
    epoch: Instant,
}

impl Registry {
    pub fn new() -> Registry {
        Registry { open: Mutex::default(), next: AtomicU64::new(0), epoch: Instant::now() }
    }

    /// Registers a new connection on socket `fd`; it stays until its `Registered` is dropped.
    pub fn open(self: &Arc<Self>, fd: RawFd) -> Registered {
        let id = self.next.fetch_add(1, SeqCst);
        let opened_at = AtomicU64::new(self.epoch.elapsed().as_millis() as u64);
        let conn = Arc::new(Conn {
            id,
            served: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            busy_since: AtomicU64::new(0),
            fd,
            opened_at,
            epoch: self.epoch,
            evicted: CancellationToken::new(),
        });
        self.lock().insert(id, conn.clone());
        Registered { registry: self.clone(), conn }
    }

    /// Closes the oldest connection open for `grace` that waits for a request and has none
    /// on its way; failing that, the oldest one stalled past `stalled_after`. False when there
    /// is neither.
    pub fn evict_one(&self, grace: Duration, stalled_after: Duration) -> bool {
        let open = self.lock();
        let live = || open.values().filter(|c| !c.evicted.is_cancelled());
        let idle = |c: &&Arc<Conn>| c.between_requests() && !c.asking() && c.older_than(grace);
        let victim = live().find(idle).or_else(|| live().find(|c| c.stalled(stalled_after)));
        victim.inspect(|c| c.evicted.cancel()).is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Conn>>> {
        // A panic while holding this lock leaves the map whole (each step is one call).
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A connection's place in the registry, given up when its task ends.
pub struct Registered {
    registry: Arc<Registry>,
    pub conn: Arc<Conn>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.conn.id);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    use super::*;

    /// A connection whose socket is one end of a pair: the test writes to the other end to
    /// put a request on its way.
    struct Pair {
        registered: Registered,
        _ours: UnixStream,
        theirs: UnixStream,
    }

    fn open(registry: &Arc<Registry>) -> Pair {
        let (ours, theirs) = UnixStream::pair().expect("a socket pair");
        Pair { registered: registry.open(ours.as_raw_fd()), _ours: ours, theirs }
    }

    fn registry_100_s_old() -> Arc<Registry> {
        let epoch = Instant::now().checked_sub(Duration::from_secs(100)).expect("the clock is past 100 s");
        Arc::new(Registry { open: Mutex::default(), next: AtomicU64::new(0), epoch })
    }

    #[test]
    fn the_oldest_silent_connection_makes_room_and_one_in_hand_does_not() {
        let registry = Arc::new(Registry::new());
        let (first, second, third) = (open(&registry), open(&registry), open(&registry));
        first.registered.conn.begin();
        assert!(!first.registered.conn.between_requests(), "a request in hand");
        assert!(registry.evict_one(Duration::ZERO, Duration::from_secs(60)));
        assert!(!first.registered.conn.evicted.is_cancelled() && second.registered.conn.evicted.is_cancelled());
        assert!(registry.evict_one(Duration::ZERO, Duration::from_secs(60)));
        assert!(third.registered.conn.evicted.is_cancelled());
        assert!(!registry.evict_one(Duration::ZERO, Duration::from_secs(60)), "the one serving is kept");
        drop((second, third));
        assert_eq!(registry.lock().len(), 1);
    }

    #[test]
    fn a_connection_whose_request_is_on_its_way_is_not_closed() {
        let registry = Arc::new(Registry::new());
        let (mut older, silent) = (open(&registry), open(&registry));
        older.theirs.write_all(b"GET /healthz HTTP/1.1\r\n").expect("write");
        assert!(older.registered.conn.asking() && !silent.registered.conn.asking());
        assert!(registry.evict_one(Duration::ZERO, Duration::from_secs(60)));
        assert!(silent.registered.conn.evicted.is_cancelled(), "the silent one goes, though younger");
        assert!(!older.registered.conn.evicted.is_cancelled());
        assert!(!registry.evict_one(Duration::ZERO, Duration::from_secs(60)), "nothing silent is left");
    }

    #[test]
    fn a_new_silent_connection_has_a_grace_to_send_its_request() {
        let registry = registry_100_s_old();
        let new = open(&registry);
        assert!(!registry.evict_one(FIRST_REQUEST_GRACE, Duration::from_secs(60)), "its request may be on its way");
        new.registered.conn.opened_at.store(0, SeqCst);
        assert!(registry.evict_one(FIRST_REQUEST_GRACE, Duration::from_secs(60)), "silent past the grace");
    }

    #[test]
    fn a_request_in_hand_past_the_stall_limit_makes_room_when_none_waits() {
        let registry = registry_100_s_old();
        let (slow, fresh) = (open(&registry), open(&registry));
        slow.registered.conn.begin();
        fresh.registered.conn.begin();
        // The slow one's request began at the epoch, 100 s ago.
        slow.registered.conn.busy_since.store(0, SeqCst);
        assert!(registry.evict_one(Duration::ZERO, Duration::from_secs(60)));
        assert!(slow.registered.conn.evicted.is_cancelled() && !fresh.registered.conn.evicted.is_cancelled());
        assert!(!registry.evict_one(Duration::ZERO, Duration::from_secs(60)));
    }

    #[test]
    fn a_response_counts_as_written_only_once_flushed_after_its_body_ended() {
        let registry = Arc::new(Registry::new());
        let one = open(&registry);
        let conn = &one.registered.conn;
        conn.begin();
        conn.flushed();
        assert!(!conn.between_requests(), "the body is still being written");
        conn.finish();
        assert!(!conn.between_requests(), "its last bytes may still be in hyper's buffer");
        conn.flushed();
        assert!(conn.between_requests());
    }
}
