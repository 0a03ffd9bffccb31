//! A `#![no_std]` static library over resnet-core without default features: the static
//! shape table, and classification of images by a trained checkpoint or weights file
//! (`resnet_logits`) or by an int8 model with no heap (`resnet_int8_logits`), for a C
//! program (`classify.c`). Its own panic handler and allocator: if
//! anything in the dependency tree pulled in `std`, the build would fail with "duplicate
//! lang item".
#![no_std]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::fmt::Write;
use core::sync::atomic::{AtomicUsize, Ordering};

use resnet_core::prelude::*;
use resnet_core::quant::{Int8Error, Int8Model};
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

/// Classifies `n` images of `c`×`h`×`w` pixels in [0, 1] (row-major) with the model whose
/// checkpoint or weights file is `weights` (`weights_len` bytes): writes `n` × classes
/// logits to `out` (room for `out_len`). Returns the number of logits written, or -1 with
/// the reason in [`resnet_last_error`].
///
/// # Safety
/// The pointers must be valid for the lengths given.
#[no_mangle]
pub unsafe extern "C" fn resnet_logits(
    weights: *const u8,
    weights_len: usize,
    images: *const f32,
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    out: *mut f32,
    out_len: usize,
) -> isize {
    let weights = core::slice::from_raw_parts(weights, weights_len);
    let pixels = n.saturating_mul(c).saturating_mul(h).saturating_mul(w);
    let images = core::slice::from_raw_parts(images, pixels);
    let result = resnet_core::infer::logits(weights, images, [n, c, h, w]).and_then(|logits| {
        if logits.len() > out_len {
            return Err(resnet_core::Error::Config {
                field: "output buffer",
                reason: "too small for the logits".into(),
            });
        }
        core::slice::from_raw_parts_mut(out, logits.len()).copy_from_slice(&logits);
        Ok(logits.len())
    });
    returned(result)
}

/// Bytes of activation arena the int8 model `model` (`model_len` bytes) needs, or -1 with
/// the reason in [`resnet_last_error`] (an f32 file, a corrupt or mis-scaled one...).
///
/// # Safety
/// `model` must be valid for `model_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn resnet_int8_arena_len(model: *const u8, model_len: usize) -> isize {
    let model = core::slice::from_raw_parts(model, model_len);
    returned(Int8Model::parse(model).map(|m| m.header.arena_len))
}

/// Classifies `n` images of `c`×`h`×`w` pixels in [0, 1] (row-major) with the int8 model
/// `model`, working in the caller's `arena` (at least [`resnet_int8_arena_len`] bytes;
/// nothing is allocated): writes `n` × classes logits to `out` (room for `out_len`).
/// Returns the number of logits written, or -1 with the reason in [`resnet_last_error`].
///
/// # Safety
/// The pointers must be valid for the lengths given.
#[no_mangle]
pub unsafe extern "C" fn resnet_int8_logits(
    model: *const u8,
    model_len: usize,
    arena: *mut i8,
    arena_len: usize,
    images: *const f32,
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    out: *mut f32,
    out_len: usize,
) -> isize {
    let model = core::slice::from_raw_parts(model, model_len);
    let arena = core::slice::from_raw_parts_mut(arena, arena_len);
    let image_len = c.saturating_mul(h).saturating_mul(w);
    let images = core::slice::from_raw_parts(images, n.saturating_mul(image_len));
    let out = core::slice::from_raw_parts_mut(out, out_len);
    returned(Int8Model::parse(model).and_then(|model| {
        let [mc, mh, mw] = model.header.input;
        if [c, h, w] != [mc, mh, mw] {
            return Err(Int8Error::Input { expected: mc * mh * mw, found: image_len });
        }
        let classes = model.header.classes;
        if n.saturating_mul(classes) > out_len {
            return Err(Int8Error::Logits { expected: n.saturating_mul(classes), found: out_len });
        }
        for (image, logits) in images.chunks_exact(image_len).zip(out.chunks_exact_mut(classes)) {
            model.logits(image, arena, logits)?;
        }
        Ok(n * classes)
    }))
}

/// A call's count for C, or -1 with the error's one-line reason kept for
/// [`resnet_last_error`].
fn returned<E: core::fmt::Display>(result: Result<usize, E>) -> isize {
    match result {
        Ok(count) => count as isize,
        Err(e) => {
            // SAFETY: single-threaded use, as the C program's; no reference outlives this call.
            let message = unsafe { &mut *LAST_ERROR.0.get() };
            message.1 = 0;
            let _ = write!(message, "{e}");
            -1
        }
    }
}

/// Copies the last error's message, NUL-terminated, into `buf` (`cap` bytes); returns its
/// length.
///
/// # Safety
/// `buf` must be valid for `cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn resnet_last_error(buf: *mut u8, cap: usize) -> usize {
    let last = &*LAST_ERROR.0.get();
    let message = &last.0[..last.1];
    let len = message.len().min(cap.saturating_sub(1));
    let buf = core::slice::from_raw_parts_mut(buf, cap);
    buf[..len].copy_from_slice(&message[..len]);
    if let Some(end) = buf.get_mut(len) {
        *end = 0;
    }
    len
}

/// The last error's message, in a fixed buffer so that it holds no allocation (single-
/// threaded use, as the C program's).
struct LastError(UnsafeCell<Message>);

/// Bytes and length of a message, cut at 512 bytes.
struct Message([u8; 512], usize);

impl Write for Message {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.0.len() - self.1;
        let n = s.len().min(room);
        self.0[self.1..self.1 + n].copy_from_slice(&s.as_bytes()[..n]);
        self.1 += n;
        Ok(())
    }
}

unsafe impl Sync for LastError {}

static LAST_ERROR: LastError = LastError(UnsafeCell::new(Message([0; 512], 0)));

/// Peak bytes allocated at once, for the C program to report.
#[no_mangle]
pub extern "C" fn resnet_peak_heap() -> usize {
    ALLOCATOR.peak.load(Ordering::SeqCst)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

/// The host's prebuilt `alloc` refers to the unwinder's personality routine; with
/// `panic = "abort"` nothing unwinds, so it is never called.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

/// Bytes of the fixed arena.
const ARENA: usize = 64 << 20;

/// A bump allocator over a fixed arena that starts over whenever everything it handed out
/// has been freed (after each call, here).
struct Arena {
    memory: UnsafeCell<[u8; ARENA]>,
    next: AtomicUsize,
    live: AtomicUsize,
    peak: AtomicUsize,
}

unsafe impl Sync for Arena {}

unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = self.memory.get() as usize;
        let mut start = 0;
        let claimed = self.next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |next| {
            start = (base + next).next_multiple_of(layout.align()) - base;
            let end = start.checked_add(layout.size())?;
            (end <= ARENA).then_some(end)
        });
        match claimed {
            Ok(_) => {
                self.live.fetch_add(1, Ordering::SeqCst);
                self.peak.fetch_max(start + layout.size(), Ordering::SeqCst);
                (base + start) as *mut u8
            }
            Err(_) => core::ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {
        if self.live.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.next.store(0, Ordering::SeqCst);
        }
    }
}

#[global_allocator]
static ALLOCATOR: Arena = Arena {
    memory: UnsafeCell::new([0; ARENA]),
    next: AtomicUsize::new(0),
    live: AtomicUsize::new(0),
    peak: AtomicUsize::new(0),
};
