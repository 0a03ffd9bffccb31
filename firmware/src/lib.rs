//! What the two Cortex-M4F firmwares (`src/bin/`: ResNet-8 in f32 with a heap, and in
//! int8 with none) share: the gates around each inference for the instruction counter,
//! the memory report, the end of a run, and the panic handler.
#![no_std]

pub mod finish;
pub mod gates;
pub mod memory;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    cortex_m_semihosting::debug::exit(cortex_m_semihosting::debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
