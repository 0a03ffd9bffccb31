//! The two gates around each inference, for `counter/`'s QEMU plugin: the entry addresses
//! of [`inference_start`] and [`inference_end`] (in the ELF's symbol table) bound the
//! instructions one inference executes.
//!
//! The volatile stores keep the calls and tell the two functions apart (were their bodies
//! the same, LLVM could merge them into one address); the `asm!` keeps memory accesses from
//! moving across them.

/// The last gate passed: `2 * image` at the start of an inference, `2 * image + 1` at its end.
static mut GATE: usize = 0;

/// Called right before an image's inference (its first instruction opens the window).
#[inline(never)]
#[no_mangle]
pub extern "C" fn inference_start(image: usize) {
    unsafe {
        core::ptr::addr_of_mut!(GATE).write_volatile(2 * image);
        core::arch::asm!("", options(nostack, preserves_flags));
    }
}

/// Called right after an image's inference (its first instruction closes the window).
#[inline(never)]
#[no_mangle]
pub extern "C" fn inference_end(image: usize) {
    unsafe {
        core::arch::asm!("", options(nostack, preserves_flags));
        core::ptr::addr_of_mut!(GATE).write_volatile(2 * image + 1);
    }
}
