//! The open connections, oldest first, and where each stands: between requests (nothing of
//! ours unsent, so closing it loses nothing) or serving one. When every slot is taken, the
//! server closes the oldest connection that waits for a request, so that clients holding
//! connections open cannot keep `/healthz` (or anyone) out.

use std::collections::BTreeMap;
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
    /// When the connection was accepted, in the same milliseconds.
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

    /// Accepted less than `grace` ago and no request read yet: a client whose request is on
    /// its way. Closing it would reset a connection that did nothing wrong.
    pub fn fresh(&self, grace: Duration) -> bool {
        let age = self.epoch.elapsed().saturating_sub(Duration::from_millis(self.opened_at.load(SeqCst)));
        self.served.load(SeqCst) == 0 && age < grace
    }

    /// Serving one request for longer than `limit` (a client that does not read its answer).
    pub fn stalled(&self, limit: Duration) -> bool {
        let since = Duration::from_millis(self.busy_since.load(SeqCst));
        !self.between_requests() && self.epoch.elapsed().saturating_sub(since) > limit
    }
}

/// How long a new connection may take to send its first request before it can be closed to
/// make room: a burst of clients each gets its answer, a client holding a slot without
/// asking anything does not keep it.
pub const FIRST_REQUEST_GRACE: Duration = Duration::from_secs(1);

pub struct Registry {
    open: Mutex<BTreeMap<u64, Arc<Conn>>>,
    next: AtomicU64,
    epoch: Instant,
}

impl Registry {
    pub fn new() -> Registry {
        Registry { open: Mutex::default(), next: AtomicU64::new(0), epoch: Instant::now() }
    }

    /// Registers a new connection; it stays until its `Registered` is dropped.
    pub fn open(self: &Arc<Self>) -> Registered {
        let id = self.next.fetch_add(1, SeqCst);
        let opened_at = self.epoch.elapsed().as_millis() as u64;
        let conn = Arc::new(Conn {
            id,
            served: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            busy_since: AtomicU64::new(0),
            opened_at: AtomicU64::new(opened_at),
            epoch: self.epoch,
            evicted: CancellationToken::new(),
        });
        self.lock().insert(id, conn.clone());
        Registered { registry: self.clone(), conn }
    }

    /// Closes the oldest connection that waits for a request (but not one accepted within
    /// `FIRST_REQUEST_GRACE` that has yet to send its first); failing that, the oldest one
    /// stalled past `stalled_after`. False when there is neither.
    pub fn evict_one(&self, stalled_after: Duration) -> bool {
        let open = self.lock();
        let live = || open.values().filter(|c| !c.evicted.is_cancelled());
        let idle = |c: &&Arc<Conn>| c.between_requests() && !c.fresh(FIRST_REQUEST_GRACE);
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
    use super::*;

    /// A registry whose clock began 100 s ago: what it opens now is past the grace once its
    /// `opened_at` is set back to the epoch.
    fn registry_100_s_old() -> Arc<Registry> {
        let epoch = Instant::now().checked_sub(Duration::from_secs(100)).expect("the clock is past 100 s");
        Arc::new(Registry { open: Mutex::default(), next: AtomicU64::new(0), epoch })
    }

    fn opened_long_ago(registry: &Arc<Registry>) -> Registered {
        let registered = registry.open();
        registered.conn.opened_at.store(0, SeqCst);
        registered
    }

    #[test]
    fn the_oldest_connection_between_requests_makes_room_and_one_in_hand_does_not() {
        let registry = registry_100_s_old();
        let (first, second, third) = (opened_long_ago(&registry), opened_long_ago(&registry), registry.open());
        first.conn.begin();
        assert!(!first.conn.between_requests(), "a request in hand");
        // Third has served a request and waits for the next: kept alive, idle.
        third.conn.begin();
        third.conn.finish();
        third.conn.flushed();
        assert!(registry.evict_one(Duration::from_secs(60)));
        assert!(!first.conn.evicted.is_cancelled() && second.conn.evicted.is_cancelled());
        assert!(registry.evict_one(Duration::from_secs(60)));
        assert!(third.conn.evicted.is_cancelled());
        assert!(!registry.evict_one(Duration::from_secs(60)), "the one serving is kept");
        drop((second, third));
        assert_eq!(registry.lock().len(), 1);
    }

    #[test]
    fn a_new_connection_has_a_grace_to_send_its_first_request() {
        let registry = registry_100_s_old();
        let new = registry.open();
        assert!(new.conn.fresh(FIRST_REQUEST_GRACE));
        assert!(!registry.evict_one(Duration::from_secs(60)), "a client whose request is on its way is not reset");
        let silent = opened_long_ago(&registry);
        assert!(!silent.conn.fresh(FIRST_REQUEST_GRACE), "past the grace without a request");
        assert!(registry.evict_one(Duration::from_secs(60)));
        assert!(silent.conn.evicted.is_cancelled() && !new.conn.evicted.is_cancelled());
    }

    #[test]
    fn a_request_in_hand_past_the_stall_limit_makes_room_when_none_waits() {
        let registry = registry_100_s_old();
        let (slow, fresh) = (registry.open(), registry.open());
        slow.conn.begin();
        fresh.conn.begin();
        // The slow one's request began at the epoch, 100 s ago.
        slow.conn.busy_since.store(0, SeqCst);
        assert!(registry.evict_one(Duration::from_secs(60)));
        assert!(slow.conn.evicted.is_cancelled() && !fresh.conn.evicted.is_cancelled());
        assert!(!registry.evict_one(Duration::from_secs(60)));
    }

    #[test]
    fn a_response_counts_as_written_only_once_flushed_after_its_body_ended() {
        let registry = Arc::new(Registry::new());
        let one = registry.open();
        one.conn.begin();
        one.conn.flushed();
        assert!(!one.conn.between_requests(), "the body is still being written");
        one.conn.finish();
        assert!(!one.conn.between_requests(), "its last bytes may still be in hyper's buffer");
        one.conn.flushed();
        assert!(one.conn.between_requests());
    }
}
