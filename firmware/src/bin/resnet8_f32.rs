//! Classifies Fashion-MNIST test images on a Cortex-M4F with a trained ResNet-8 in `f32`
//! whose weights stay in flash (`resnet_core::infer::Network` reads them in place).
//! Prints, over semihosting, one line per image (`image I: class K, logits BITS...` with
//! each logit's `f32` bits in hex), then the flash, RAM, heap and stack it used, and exits.
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
use cortex_m_semihosting::hprintln;
use linked_list_allocator::LockedHeap;
use resnet_core::infer::Network;
use resnet_core::models::ResNet8;
use resnet_firmware::finish::finish;
use resnet_firmware::gates::{inference_end, inference_start};
use resnet_firmware::memory;

static WEIGHTS: &[u8] = include_bytes!(env!("RESNET8_WEIGHTS"));
static IMAGES: &[u8] = include_bytes!(env!("RESNET8_IMAGES"));

/// Pixels of one image.
const PIXELS: usize = 28 * 28;
/// Bytes of RAM for the heap; the stack has what is left of the 256 KiB.
const HEAP: usize = 192 * 1024;

#[entry]
fn main() -> ! {
    unsafe { ALLOCATOR.heap.lock().init(core::ptr::addr_of_mut!(HEAP_MEMORY) as *mut u8, HEAP) };
    memory::paint_stack();
    finish(classify(), || {
        memory::report("weights", WEIGHTS.len(), "heap arena", HEAP, IMAGES.len());
        hprintln!("peak heap {} bytes", ALLOCATOR.peak.load(Ordering::SeqCst));
    })
}

fn classify() -> Result<(), resnet_core::Error> {
    let net = Network::<ResNet8<1, 10>>::from_bytes(WEIGHTS)?;
    for (i, image) in IMAGES.chunks_exact(PIXELS).enumerate() {
        let pixels: Vec<f32> = image.iter().map(|&p| p as f32 / 255.0).collect();
        inference_start(i);
        let logits = net.logits(&pixels, [1, 1, 28, 28])?;
        inference_end(i);
        let class = resnet_core::train::predictions(&logits, 10)[0];
        let mut line = alloc::format!("image {i}: class {class}, logits");
        for l in &logits {
            line.push_str(&alloc::format!(" {:08x}", l.to_bits()));
        }
        hprintln!("{}", line);
    }
    Ok(())
}

static mut HEAP_MEMORY: [u8; HEAP] = [0; HEAP];

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
