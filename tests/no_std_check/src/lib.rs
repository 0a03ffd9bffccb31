//! A `#![no_std]` static library using resnet-core's types and static shape table.
#![no_std]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicUsize, Ordering};

use resnet_core::prelude::*;
use resnet_core::summary::{Dims, LayerShape, ModelShape};

/// Parameter count of the chapter's ResNet-18, from the types alone.
#[no_mangle]
pub extern "C" fn resnet18_params() -> usize {
    <ResNet18<1, 10> as LayerShape>::PARAMS
}

/// Side of `b5`'s output for a square `side`×`side` image (0 if the table fails).
#[no_mangle]
pub extern "C" fn resnet18_b5_side(side: usize) -> usize {
    ResNet18::<1, 10>::table(Dims::of([1, 1, side, side])).map_or(0, |rows| rows[4].output.as_slice()[2])
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

/// A bump allocator over a fixed arena: enough for a static table.
struct Arena {
    memory: UnsafeCell<[u8; 1 << 16]>,
    next: AtomicUsize,
}

unsafe impl Sync for Arena {}

unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = self.memory.get() as usize;
        let mut start = 0;
        let claimed = self.next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |next| {
            start = (base + next).next_multiple_of(layout.align()) - base;
            let end = start.checked_add(layout.size())?;
            (end <= 1 << 16).then_some(end)
        });
        match claimed {
            Ok(_) => (base + start) as *mut u8,
            Err(_) => core::ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static ALLOCATOR: Arena = Arena { memory: UnsafeCell::new([0; 1 << 16]), next: AtomicUsize::new(0) };
