//! The process's allocator set up for a long run.
//!
//! glibc's malloc gives an allocation above its mmap threshold a mapping of its own, and
//! raises the threshold to the size of each such block freed (up to 32 MiB); blocks under
//! the new threshold then come from the heap, which keeps their pages after they are freed.
//! A run frees blocks of many sizes (checkpoints, gradient-flow reports, weight reorders),
//! so its resident memory rose in one 64 MB step at a random time long after warm-up (the
//! soak test: +14% at step 350 of 600). A fixed threshold is never raised.

/// Allocations from this size up get mappings of their own, returned when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 4 << 20;

/// Fixes glibc malloc's mmap threshold (once per process); elsewhere does nothing.
pub(crate) fn keep_memory_steady() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: mallopt changes malloc's parameters under malloc's own lock.
        ONCE.call_once(|| unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        });
    }
}
