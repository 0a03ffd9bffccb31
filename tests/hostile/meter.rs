//! A global allocator that counts, per thread, the bytes live and their peak, so a test can
//! measure what one call allocates at most while other tests run on other threads.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts each thread's live bytes and their peak, then defers to the system allocator.
pub struct Meter;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn add(bytes: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + bytes;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call is passed through to `System` unchanged; only counters change.
unsafe impl GlobalAlloc for Meter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: as the caller's contract for `alloc`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: as the caller's contract for `alloc_zeroed`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: as the caller's contract for `dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as isize - layout.size() as isize);
        // SAFETY: as the caller's contract for `realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` and returns its result with the most bytes it had allocated at once (on this
/// thread, beyond what was live before).
pub fn peak_of<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let result = f();
    let peak = PEAK.with(Cell::get);
    (result, (peak - start).max(0) as usize)
}

/// What a parser may allocate for an input of `bytes` bytes (after decompression): a few
/// times the data, plus a fixed allowance for buffers and decoder state.
pub fn budget(bytes: usize) -> usize {
    4 * bytes + (4 << 20)
}

#[test]
fn the_meter_sees_a_large_allocation_and_its_release() {
    let (len, peak) = peak_of(|| {
        let v = vec![1u8; 10 << 20];
        v.iter().map(|&b| b as usize).sum::<usize>()
    });
    assert_eq!(len, 10 << 20);
    assert!((10 << 20..11 << 20).contains(&peak), "{peak}");
    let ((), after) = peak_of(|| {});
    assert!(after < 1024, "{after}");
}
