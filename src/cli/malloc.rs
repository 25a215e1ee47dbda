//! The allocator's behaviour on large mail.
//!
//! glibc serves large allocations with mmap, but after freeing one it raises that threshold
//! (up to 32 MiB), so from then on message-sized buffers come from its heap arenas, whose freed
//! space fragments and is rarely given back: RSS ratchets up with every large message of a
//! backlog (ten 20 MB messages from Maildir: 301 MB peak; with a fixed threshold, 181 MB).
//! Setting the threshold explicitly turns the adjustment off, so large buffers go back to the
//! system when freed. Ordinary mail is far below it and never pays an mmap.

/// Allocations of at least this many bytes are mmapped and unmapped when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 1024 * 1024;

pub fn return_large_buffers_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt takes the allocator's lock itself and only changes a tuning parameter.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}
