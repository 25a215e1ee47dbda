//! The allocator's behaviour on large mail.
//!
//! glibc serves large allocations with mmap, but after freeing one it raises that threshold
//! (up to 32 MiB), so from then on message-sized buffers come from its heap arenas, whose freed
//! space fragments and is rarely given back: RSS ratchets up with every large message of a
//! backlog (ten 20 MB messages from Maildir: 301 MB peak; with a fixed threshold, 181 MB).
//! Setting the threshold explicitly turns the adjustment off, so large buffers go back to the
//! system when freed. Ordinary mail is far below it and never pays an mmap.
//!
//! And each thread that meets a busy arena gets one of its own (up to 8 per core): a message
//! decoded on one thread and written by the database's on another left its freed buffers
//! in an arena the next large buffer did not come from (a 24 MB base64 attachment by a
//! Maildir pass: 219 MB peak; with one arena, 145 MB). The daemon's threads spend their time
//! waiting on mail and the database, not on the allocator's lock. Both are set before the
//! runtime starts its threads.

/// Allocations of at least this many bytes are mmapped and unmapped when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 1024 * 1024;
/// Arenas shared by all threads.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS: libc::c_int = 1;

pub fn tune_for_large_mail() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt takes the allocator's lock itself and only changes a tuning parameter.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_ARENA_MAX, ARENAS);
    }
}
