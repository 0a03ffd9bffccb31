//! What a firmware occupies, from the linker's symbols and stack painting: flash (code,
//! read-only data and `.data`'s initial values), static RAM (`.data` and `.bss`), and the
//! deepest the stack went.

use cortex_m_semihosting::hprintln;

/// What the free stack is painted with, to find how deep it went.
const PAINT: u32 = 0xDEAD_BEEF;

extern "C" {
    static __sidata: u8;
    static __sdata: u8;
    static __edata: u8;
    static __ebss: u8;
    static _stack_start: u8;
}

fn address(symbol: &u8) -> usize {
    symbol as *const u8 as usize
}

/// Fills the free stack (below the current frame, above the statics) with [`PAINT`]; call
/// first thing.
pub fn paint_stack() {
    let sp = cortex_m::register::msp::read() as usize;
    let mut p = unsafe { address(&__ebss) }.next_multiple_of(4);
    while p + 256 < sp {
        unsafe { (p as *mut u32).write_volatile(PAINT) };
        p += 4;
    }
}

/// Bytes of flash: the vector table, code and read-only data from address 0, then the
/// initial values of `.data`.
pub fn flash() -> usize {
    unsafe { address(&__sidata) + (address(&__edata) - address(&__sdata)) }
}

/// Bytes of static RAM: `.data` and `.bss` from the start of RAM.
pub fn ram_static() -> usize {
    unsafe { address(&__ebss) - 0x2000_0000 }
}

/// The deepest the stack went since [`paint_stack`], in bytes.
pub fn peak_stack() -> usize {
    let mut p = unsafe { address(&__ebss) }.next_multiple_of(4);
    while unsafe { (p as *const u32).read_volatile() } == PAINT {
        p += 4;
    }
    unsafe { address(&_stack_start) - p }
}

/// Prints the flash, static RAM and stack lines the embedded test reads; `images` are the
/// test images built in, flash a deployed firmware would not need.
pub fn report(payload: &str, payload_bytes: usize, arena: &str, arena_bytes: usize, images: usize) {
    hprintln!("flash {} bytes ({} {} bytes)", flash(), payload, payload_bytes);
    hprintln!("test images {} bytes of that flash", images);
    hprintln!("ram static {} bytes ({} {} bytes)", ram_static(), arena, arena_bytes);
    hprintln!("peak stack {} bytes", peak_stack());
}
