//! Classifies Fashion-MNIST test images on a Cortex-M4F with a ResNet-8 quantized to int8
//! (`resnet-tui export --format postcard --quantize int8`), read in place from flash by
//! `resnet_core::quant::Int8Model`, its activations in one static arena, with no heap: the
//! allocator refuses every request. Prints, over semihosting, one line per image (`image I:
//! class K, logits BITS...`, each logit's `f32` bits in hex), then the flash, RAM and stack
//! it used, and exits; a refused model prints `error: ...` and exits with failure.
//!
//! Build with `RESNET8_INT8` (an int8 ResNet-8 for 1×28×28 images) and `RESNET8_IMAGES`
//! (28×28 `u8` pixels, one image after the other) set to files.
#![no_std]
#![no_main]

use core::alloc::{GlobalAlloc, Layout};

use cortex_m_rt::entry;
use cortex_m_semihosting::{hprint, hprintln};
use resnet_core::quant::{Int8Error, Int8Model};
use resnet_firmware::finish::finish;
use resnet_firmware::gates::{inference_end, inference_start};
use resnet_firmware::memory;

static MODEL: &[u8] = include_bytes!(env!("RESNET8_INT8"));
static IMAGES: &[u8] = include_bytes!(env!("RESNET8_IMAGES"));

/// Pixels of one image.
const PIXELS: usize = 28 * 28;
/// Classes.
const CLASSES: usize = 10;
/// Bytes of activations: ResNet-8's plan at 28×28 (two 28×28×16 tensors).
const ARENA: usize = 2 * 28 * 28 * 16;

static mut ARENA_MEMORY: [i8; ARENA] = [0; ARENA];

#[entry]
fn main() -> ! {
    memory::paint_stack();
    finish(classify(), || {
        memory::report("model", MODEL.len(), "arena", ARENA, IMAGES.len());
        hprintln!("heap 0 bytes (no allocator)");
    })
}

fn classify() -> Result<(), Int8Error> {
    let model = Int8Model::parse(MODEL)?;
    let arena = unsafe { &mut *core::ptr::addr_of_mut!(ARENA_MEMORY) };
    for (i, image) in IMAGES.chunks_exact(PIXELS).enumerate() {
        for (q, &p) in model.input(arena)?.iter_mut().zip(image) {
            *q = model.quantize_input(p as f32 / 255.0);
        }
        let mut logits = [0.0f32; CLASSES];
        inference_start(i);
        model.run(arena, &mut logits)?;
        inference_end(i);
        let class = (0..CLASSES).fold(0, |best, c| if logits[c] > logits[best] { c } else { best });
        hprint!("image {}: class {}, logits", i, class);
        for l in logits {
            hprint!(" {:08x}", l.to_bits());
        }
        hprintln!();
    }
    Ok(())
}

/// No heap: every allocation fails (and would end the run), so none happens.
struct NoHeap;

unsafe impl GlobalAlloc for NoHeap {
    unsafe fn alloc(&self, _: Layout) -> *mut u8 {
        core::ptr::null_mut()
    }

    unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
}

#[global_allocator]
static ALLOCATOR: NoHeap = NoHeap;
