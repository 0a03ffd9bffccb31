//! Classifies Fashion-MNIST test images on a Cortex-M4F with a trained ResNet-8 whose
//! weights stay in flash (`resnet_core::infer::Network` reads them in place). Prints, over
//! semihosting, one line per image (`image I: class K, logits BITS...` with each logit's
//! `f32` bits in hex), then the flash, heap and stack it used, and exits.
//!
//! Build with `RESNET8_WEIGHTS` (a ResNet-8 checkpoint or weights file) and
//! `RESNET8_IMAGES` (28×28 `u8` pixels, one image after the other) set to files.
#![no_std]
#![no_main]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

use alloc::vec::Vec;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use linked_list_allocator::LockedHeap;
use resnet_core::infer::Network;
use resnet_core::models::ResNet8;

static WEIGHTS: &[u8] = include_bytes!(env!("RESNET8_WEIGHTS"));
static IMAGES: &[u8] = include_bytes!(env!("RESNET8_IMAGES"));

/// Pixels of one image.
const PIXELS: usize = 28 * 28;
/// Bytes of RAM for the heap; the stack has what is left of the 256 KiB.
const HEAP: usize = 192 * 1024;
/// What the stack is painted with, to find how deep it went.
const PAINT: u32 = 0xDEAD_BEEF;

#[entry]
fn main() -> ! {
    unsafe { ALLOCATOR.heap.lock().init(core::ptr::addr_of_mut!(HEAP_MEMORY) as *mut u8, HEAP) };
    paint_stack();
    let code = match classify() {
        Ok(()) => {
            report_memory();
            debug::EXIT_SUCCESS
        }
        Err(e) => {
            hprintln!("error: {}", e);
            debug::EXIT_FAILURE
        }
    };
    debug::exit(code);
    loop {}
}

fn classify() -> Result<(), resnet_core::Error> {
    let net = Network::<ResNet8<1, 10>>::from_bytes(WEIGHTS)?;
    for (i, image) in IMAGES.chunks_exact(PIXELS).enumerate() {
        let pixels: Vec<f32> = image.iter().map(|&p| p as f32 / 255.0).collect();
        let logits = net.logits(&pixels, [1, 1, 28, 28])?;
        let class = resnet_core::train::predictions(&logits, 10)[0];
        let mut line = alloc::format!("image {i}: class {class}, logits");
        for l in &logits {
            line.push_str(&alloc::format!(" {:08x}", l.to_bits()));
        }
        hprintln!("{}", line);
    }
    Ok(())
}

extern "C" {
    static __sidata: u8;
    static __sdata: u8;
    static __edata: u8;
    static __ebss: u8;
    static _stack_start: u8;
}

/// Flash is the vector table, code and read-only data from address 0, then the initial
/// values of `.data`.
fn report_memory() {
    let at = |s: &u8| s as *const u8 as usize;
    let (flash, ram_static, stack_top, bss_end) = unsafe {
        (
            at(&__sidata) + (at(&__edata) - at(&__sdata)),
            at(&__ebss) - 0x2000_0000,
            at(&_stack_start),
            at(&__ebss),
        )
    };
    hprintln!("flash {} bytes (weights {} bytes)", flash, WEIGHTS.len());
    hprintln!("ram static {} bytes (heap arena {} bytes)", ram_static, HEAP);
    hprintln!("peak heap {} bytes", ALLOCATOR.peak.load(Ordering::SeqCst));
    hprintln!("peak stack {} bytes", stack_top - first_unpainted(bss_end));
}

static mut HEAP_MEMORY: [u8; HEAP] = [0; HEAP];

/// Fills the free stack (below the current frame, above the statics) with [`PAINT`].
fn paint_stack() {
    let sp = cortex_m::register::msp::read() as usize;
    let bottom = core::ptr::addr_of!(__ebss) as usize;
    let bottom = bottom.next_multiple_of(4);
    let mut p = bottom;
    while p + 256 < sp {
        unsafe { (p as *mut u32).write_volatile(PAINT) };
        p += 4;
    }
}

/// The lowest address the stack has written.
fn first_unpainted(bss_end: usize) -> usize {
    let mut p = bss_end.next_multiple_of(4);
    while unsafe { (p as *const u32).read_volatile() } == PAINT {
        p += 4;
    }
    p
}

/// The heap, counting its peak use.
struct Counting {
    heap: LockedHeap,
    used: AtomicUsize,
    peak: AtomicUsize,
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = self.heap.alloc(layout);
        if !p.is_null() {
            let used = self.used.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            self.peak.fetch_max(used, Ordering::SeqCst);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.heap.dealloc(ptr, layout);
        self.used.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOCATOR: Counting =
    Counting { heap: LockedHeap::empty(), used: AtomicUsize::new(0), peak: AtomicUsize::new(0) };

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}
